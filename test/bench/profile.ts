// Summaries of a V8 CPU profile (`node --cpu-prof`) or sampling heap profile (`node --heap-prof`):
// the top functions by self time (or by bytes allocated and still live), and the same by file.
//   npx tsx test/bench/profile.ts FILE.cpuprofile|FILE.heapprofile... [N]
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber?: number;
}
interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}
interface HeapNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapNode[];
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

function where(frame: CallFrame): string {
  let file = frame.url.replace(/^file:\/\//, '');
  if (file.startsWith(ROOT)) file = path.relative(ROOT, file);
  return file ? `${file}:${frame.lineNumber + 1}:${(frame.columnNumber ?? 0) + 1}` : '(native)';
}

function fileOf(frame: CallFrame): string {
  const file = frame.url.replace(/^file:\/\//, '');
  if (!file) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  const rel = file.startsWith(ROOT) ? path.relative(ROOT, file) : file;
  // node_modules/<pkg> (or <@scope/pkg>) as one entry
  const m = /^(?:.*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(rel);
  return m ? `node_modules/${m[1]}` : rel;
}

function top(map: Map<string, number>, n: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

export function summariseCpuProfile(profile: CpuProfile, n = 20): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
  const key = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
  const frameOf = (id: number) => (byId.get(id) as CpuProfile['nodes'][number]).callFrame;
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((s, v) => s + v, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const frame = frameOf(id);
    byFunction.set(key(frame), (byFunction.get(key(frame)) ?? 0) + us);
    byFile.set(fileOf(frame), (byFile.get(fileOf(frame)) ?? 0) + us);
    // Each function once per stack, however deep the recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const k = key(frameOf(at));
      if (seen.has(k) || k.startsWith('(root)')) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
  const line = ([k, us]: [string, number]) => `  ${pct(us)} ${ms(us)}  ${k.slice(0, 160)}`;
  return [
    `CPU profile: ${(total / 1e6).toFixed(1)} s sampled`,
    `top ${n} functions by self time:`,
    ...top(byFunction, n).map(line),
    `top ${n} files / packages by self time:`,
    ...top(byFile, n).map(line),
    `top ${n} functions by total time (self + callees):`,
    ...top(inclusive, n).map(line),
  ].join('\n');
}

export function summariseHeapProfile(head: HeapNode, n = 20, heapUsed?: number): string {
  const key = (frame: CallFrame) => `${frame.functionName || '(anonymous)'}  ${where(frame)}`;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  // Returns the bytes under the node; each function counted once per stack.
  const walk = (node: HeapNode, stack: Set<string>): void => {
    const k = key(node.callFrame);
    const fresh = !stack.has(k) && !k.startsWith('(root)');
    if (fresh) stack.add(k);
    if (node.selfSize > 0) {
      byFunction.set(k, (byFunction.get(k) ?? 0) + node.selfSize);
      byFile.set(fileOf(node.callFrame), (byFile.get(fileOf(node.callFrame)) ?? 0) + node.selfSize);
      for (const s of stack) inclusive.set(s, (inclusive.get(s) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const c of node.children) walk(c, stack);
    if (fresh) stack.delete(k);
  };
  walk(head, new Set());
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1).padStart(7)} MB`;
  const line = ([k, b]: [string, number]) => `  ${mb(b)}  ${k.slice(0, 160)}`;
  return [
    `heap profile: ${(total / 2 ** 20).toFixed(1)} MB sampled, allocated and not yet collected` +
      (heapUsed ? ` when heapUsed peaked at ${(heapUsed / 2 ** 20).toFixed(0)} MB` : ''),
    `top ${n} allocating functions:`,
    ...top(byFunction, n).map(line),
    `top ${n} files / packages:`,
    ...top(byFile, n).map(line),
    `top ${n} functions by bytes allocated under them (self + callees):`,
    ...top(inclusive, n).map(line),
  ].join('\n');
}

export async function summariseProfileFile(file: string, n = 20): Promise<string> {
  const json = JSON.parse(await fs.readFile(file, 'utf8')) as
    CpuProfile | { head: HeapNode; heapUsedAtSample?: number };
  return 'head' in json
    ? summariseHeapProfile(json.head, n, json.heapUsedAtSample)
    : summariseCpuProfile(json, n);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const files = args.filter((a) => !/^\d+$/.test(a));
  const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
  if (files.length === 0) {
    process.stderr.write('usage: tsx test/bench/profile.ts FILE.cpuprofile|FILE.heapprofile... [N]\n');
    process.exit(2);
  }
  for (const file of files) process.stdout.write(`${file}\n${await summariseProfileFile(file, n)}\n\n`);
}
