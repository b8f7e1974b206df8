// npm run bench:ingest [-- --events N --burst N --days D --small N --keep --skip-elasticdump
//                          --limits 1000,5000,10000 --profile cpu|heap]
//
// Loads a generated feed into the test Elasticsearch, then measures, each in its own process:
// the product's reader alone (PIT + search_after, pages discarded), the sync through the product
// code (runSync → Parquet in a local folder) at full size and at `--small` events, the same sync
// with rows dropped at the Parquet writer (a diagnostic: what Parquet encoding costs), the sync
// writing Parquet and NDJSON.gz (for bytes per event), and elasticdump exporting the same index to
// a file at each `--limit`. Prints the figures and the targets they are held against.
import { spawn, execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import type { Client } from '@elastic/elasticsearch';
import { bundle } from '../../functions/build.js';
import { DEFAULT_SEED, distribute, generateHour } from '../../functions/sample/generator.js';
import { DAY_MS } from '../../shared/event/partition.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { createCloserLikeIndex, testClient } from '../support/es.js';
import {
  benchIndex,
  burstHour,
  feedRange,
  type FeedSpec,
  type RunnerArgs,
  type RunnerResult,
} from './common.js';
import { summariseProfileFile } from './profile.js';
import { secs, table } from './print.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const ES_NODE = path.join(ROOT, 'test/elasticsearch/es-node.sh');
const ELASTICDUMP = path.join(ROOT, 'node_modules/.bin/elasticdump');
const LOAD_BATCH = 5_000;
const BURST_CHUNK = 10_000;
/** ElasticsearchSource's default page size; the runners use the default and report what they saw. */
const PRODUCT_PAGE_SIZE = 5_000;
const RSS_LIMIT = 300 * 2 ** 20;
const RSS_FLAT = 0.2;

const execFileAsync = promisify(execFile);
const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

// ------------------------------------------------------------------------------------------ flags

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    burst: { type: 'string', default: '200000' },
    days: { type: 'string', default: '30' },
    small: { type: 'string', default: '100000' },
    keep: { type: 'boolean', default: false },
    'skip-gzip': { type: 'boolean', default: false },
    'skip-elasticdump': { type: 'boolean', default: false },
    limits: { type: 'string', default: '1000,5000,10000' },
    profile: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  process.stdout.write(`npm run bench:ingest -- [options]
  --events N            events spread over the range (default 1000000)
  --burst N             extra events in one hour, mid-range (default 200000)
  --days D              length of the range in days (default 30)
  --small N             also sync a feed of N events (burst and days scaled alike, so as
                        many events per day) to compare peak RSS; 0 skips it (default 100000)
  --keep                keep the bench indices, and the node running (started with a
                        persistent path.home when the bench starts it); without it the indices
                        this run loaded are deleted. An index already loaded is reused either way.
  --skip-gzip           do not run the fetch-only and sync pair with gzip'd responses
                        (CLOSER_ES_COMPRESSION=on; the product's default is plain JSON)
  --skip-elasticdump    do not run the elasticdump peer
  --limits L,L,...      elasticdump --limit values to try (default 1000,5000,10000)
  --profile cpu|heap    also run the full-size sync once more, profiled (V8 sampling CPU
                        profiler, or the sampling heap profiler read at peak heapUsed), and
                        print its top functions (the profile file is kept; see profiling.ts)
`);
  process.exit(0);
}

function count(name: string, value: string | undefined): number {
  const n = Number(value?.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} ${value}: a whole number, please`);
  return n;
}

const main: FeedSpec = {
  events: count('events', flags.events),
  burst: count('burst', flags.burst),
  days: count('days', flags.days),
};
if (main.days < 1) throw new Error('--days must be at least 1');
if (main.events + main.burst === 0) throw new Error('nothing to load: --events and --burst are both 0');
const smallEvents = count('small', flags.small);
const small: FeedSpec | null =
  smallEvents > 0 && smallEvents < main.events
    ? {
        events: smallEvents,
        burst: Math.round((main.burst * smallEvents) / main.events),
        // As many events per day as the full feed: a day is one file whose row groups fill alike,
        // so the two runs differ in the number of events only, not in how densely they come.
        days: Math.max(1, Math.round((main.days * smallEvents) / main.events)),
      }
    : null;
const limits = flags.limits
  .split(',')
  .filter(Boolean)
  .map((l) => count('limits', l));
const profile = flags.profile;
if (profile !== undefined && profile !== 'cpu' && profile !== 'heap') throw new Error('--profile cpu|heap');

// ------------------------------------------------------------------------------- formatting

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const rate = (events: number, ms: number) => (events * 1000) / ms;
const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
/** CPU time of a run, user and system, ms. */
const cpuMs = (r: RunnerResult) => r.cpuUserMs + r.cpuSystemMs;

// ------------------------------------------------------------------------------- Elasticsearch

interface EsNode {
  url: string;
  /** Whether this run started the node (and so stops it, unless --keep). */
  started: boolean;
}

async function ensureNode(): Promise<EsNode> {
  const named = process.env.CLOSER_TEST_ES_URL;
  if (named) return { url: named.replace(/\/+$/, ''), started: false };
  const status = await execFileAsync('bash', [ES_NODE, 'status']).catch(() => null);
  const running = status && /^running: (\S+)/.exec(status.stdout);
  if (running?.[1]) {
    log(`using the running test node ${running[1]}`);
    return { url: running[1], started: false };
  }
  log('starting the test Elasticsearch node (test/elasticsearch/es-node.sh start)');
  const env = { ...process.env };
  // With --keep the node's data outlives `es-node.sh stop`, so a later run can reuse the index.
  if (flags.keep && !env.ES_HOME_DIR) env.ES_HOME_DIR = path.join(os.tmpdir(), 'closer-audit-bench-es-home');
  const { stdout } = await execFileAsync('bash', [ES_NODE, 'start'], { env, maxBuffer: 1 << 20 });
  const url = stdout.trim().split('\n').pop()?.trim();
  if (!url || !/^https?:\/\//.test(url)) throw new Error(`es-node.sh start printed no URL: ${stdout}`);
  return { url, started: true };
}

interface EsInfo {
  version: string;
  jvm: string;
  heapMax: number;
  /** The `GET /` document a full node returns; the test node has no rest-root module. */
  root: string;
}

async function esInfo(client: Client): Promise<EsInfo> {
  const info = await client.nodes.info({ metric: ['jvm'] });
  const node = Object.values(info.nodes)[0];
  if (!node) throw new Error('_nodes lists no node');
  const root = {
    name: node.name,
    cluster_name: info.cluster_name,
    version: {
      number: node.version,
      build_flavor: node.build_flavor,
      build_type: node.build_type,
      build_hash: node.build_hash,
    },
    tagline: 'You Know, for Search',
  };
  return {
    version: node.version,
    jvm: node.jvm?.version ?? '?',
    heapMax: node.jvm?.mem?.heap_max_in_bytes ?? 0,
    root: JSON.stringify(root),
  };
}

/** The feed, an hour at a time: the spread events, then the burst in chunks of its own seeds. */
function* feed(spec: FeedSpec): Iterable<RawHit[]> {
  const range = feedRange(spec);
  for (const [hour, c] of distribute(spec.events, range.from, range.to))
    if (c > 0) yield generateHour(hour, c);
  // Other seeds: the burst's ids must not repeat the spread events' ids for the same hour.
  for (let i = 0, left = spec.burst; left > 0; i++, left -= BURST_CHUNK) {
    yield generateHour(burstHour(spec), Math.min(BURST_CHUNK, left), { seed: `${DEFAULT_SEED}/burst-${i}` });
  }
}

interface BenchMeta {
  events: number;
  burst: number;
  days: number;
  from: number;
  complete: boolean;
}

/** Loads the index unless a complete one of the same feed is there already. Returns whether it loaded. */
async function ensureIndex(client: Client, spec: FeedSpec): Promise<boolean> {
  const index = benchIndex(spec);
  const total = spec.events + spec.burst;
  if (await client.indices.exists({ index })) {
    const mapping = await client.indices.getMapping({ index });
    const meta = mapping[index]?.mappings._meta?.bench as BenchMeta | undefined;
    const { count: docs } = await client.count({ index });
    if (meta?.complete && meta.from === feedRange(spec).from && docs === total) {
      log(`reusing index ${index} (${n(docs)} documents)`);
      return false;
    }
    log(`index ${index} is incomplete or stale (${n(docs)} documents); reloading it`);
    await client.indices.delete({ index });
  }
  log(`loading ${n(total)} events into ${index}`);
  const t0 = performance.now();
  await createCloserLikeIndex(client, index);
  await client.indices.putSettings({ index, settings: { index: { refresh_interval: '-1' } } });
  // Generation overlaps indexing: up to two bulk requests in flight while the next is built.
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  let ops: unknown[] = [];
  let sent = 0;
  let reported = 0;
  const send = async () => {
    const body = ops;
    ops = [];
    if (body.length === 0) return;
    const p = client
      .bulk({ operations: body, refresh: false })
      .then((res) => {
        if (res.errors) {
          const first = res.items.find((i) => i.index?.error)?.index?.error;
          throw new Error(`bulk load failed: ${JSON.stringify(first)}`);
        }
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    while (inflight.size >= 2) await Promise.race(inflight);
    if (failure) throw failure;
  };
  for (const hits of feed(spec)) {
    for (const hit of hits) {
      ops.push({ index: { _index: index, _id: hit._id as string } }, hit._source);
      if (ops.length >= LOAD_BATCH * 2) {
        sent += LOAD_BATCH;
        await send();
        if (sent - reported >= total / 10) {
          reported = sent;
          log(`  ${n(sent)} / ${n(total)} (${n(rate(sent, performance.now() - t0))} events/s)`);
        }
      }
    }
  }
  await send();
  await Promise.all(inflight);
  if (failure) throw failure;
  await client.indices.putSettings({ index, settings: { index: { refresh_interval: '1s' } } });
  await client.indices.refresh({ index });
  const { count: docs } = await client.count({ index });
  if (docs !== total) throw new Error(`${index} holds ${n(docs)} documents, expected ${n(total)}`);
  const meta: BenchMeta = { ...spec, from: feedRange(spec).from, complete: true };
  await client.indices.putMapping({ index, _meta: { bench: meta } });
  log(`loaded ${index} in ${secs(performance.now() - t0)}`);
  return true;
}

// ------------------------------------------------------------------------------- runners

const bundledRunners = new Map<string, Promise<string>>();
function bundledRunner(file: string): Promise<string> {
  let built = bundledRunners.get(file);
  if (!built) {
    const dir = path.join(os.tmpdir(), 'closer-audit-bench-runners', path.basename(file, '.ts'));
    built = bundle(path.join(HERE, file), dir).then(() => path.join(dir, 'index.mjs'));
    bundledRunners.set(file, built);
  }
  return built;
}

async function runRunner(
  file: 'sync-runner.ts' | 'fetch-runner.ts',
  args: RunnerArgs,
  env: Record<string, string> = {},
): Promise<RunnerResult> {
  // Measured as it ships (an esbuild bundle, as the Lambda and the installed CLI run it); a
  // profiled run keeps the TypeScript sources, so its frames map back to them.
  const entry = env.BENCH_PROFILE ? ['--import', 'tsx', path.join(HERE, file)] : [await bundledRunner(file)];
  const child = spawn(process.execPath, [...entry, JSON.stringify(args)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((resolve, reject) =>
    child.once('error', reject).once('close', resolve),
  );
  if (code !== 0) throw new Error(`${file} exited with ${code}: ${out.slice(-2000)}`);
  const last = out.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as RunnerResult;
}

function runRow(label: string, r: RunnerResult): string[] {
  return [
    label,
    n(r.events),
    secs(r.ms),
    n(rate(r.events, r.ms)),
    mb(r.rssStart),
    mb(r.maxRssBytes),
    `${secs(r.waitMs)} (${pct(r.waitMs / r.ms)})`,
    secs(cpuMs(r)),
  ];
}

function tenthsRow(label: string, r: RunnerResult): string[] {
  return [label, ...(r.rssByTenth ?? []).map((b) => (b > 0 ? mb(b) : '-'))];
}

/** Where the peak RSS was: V8 heap spaces (committed), memory outside the heap, and the rest. */
function memoryRow(label: string, r: RunnerResult): string[] {
  const p = r.atPeakRss;
  const space = (name: string) => mb(p.spaces[name] ?? 0);
  return [
    label,
    mb(p.rss),
    mb(p.heapTotal),
    mb(p.heapUsed),
    space('new_space'),
    space('old_space'),
    space('large_object_space'),
    space('code_space'),
    mb(p.external),
    mb(p.arrayBuffers),
    mb(p.rss - p.heapTotal - p.external),
  ];
}

function describeRun(label: string, r: RunnerResult): string {
  return (
    `${label}: ${n(r.events)} events in ${secs(r.ms)} (${n(rate(r.events, r.ms))} events/s), ` +
    `peak RSS ${mb(r.maxRssBytes)}, ${r.pages} pages of ≤ ${n(r.maxPageSize)}, ` +
    `waiting for pages ${secs(r.waitMs)}, CPU ${secs(cpuMs(r))}`
  );
}

interface DumpResult {
  limit: number;
  ms?: number;
  lines?: number;
  bytes?: number;
  maxRssBytes?: number | null;
  error?: string;
}

/** VmHWM of a running process (Linux), bytes; null where /proc is not there. */
async function peakRssOf(pid: number): Promise<number | null> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const m = status && /^VmHWM:\s+(\d+) kB/m.exec(status);
  return m?.[1] ? Number(m[1]) * 1024 : null;
}

async function countLines(file: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) lines++;
  }
  return lines;
}

async function runElasticdump(url: string, index: string, limit: number, file: string, root: string) {
  const result: DumpResult = { limit };
  const args = [
    `--input=${url}/${index}`,
    `--output=${file}`,
    '--type=data',
    `--limit=${limit}`,
    `--inputTransport=${path.join(HERE, 'elasticdump-input.cjs')}`,
  ];
  const t0 = performance.now();
  const child = spawn(ELASTICDUMP, args, {
    cwd: ROOT,
    env: { ...process.env, ELASTICDUMP_ROOT_RESPONSE: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (d: string) => (tail = (tail + d).slice(-4000));
  child.stdout.setEncoding('utf8').on('data', keep);
  child.stderr.setEncoding('utf8').on('data', keep);
  let peak: number | null = null;
  const poll = setInterval(() => {
    if (child.pid !== undefined)
      void peakRssOf(child.pid).then((p) => {
        if (p !== null) peak = Math.max(peak ?? 0, p);
      });
  }, 100);
  const code = await new Promise<number | null>((resolve) =>
    child
      .once('error', (err) => {
        keep(String(err));
        resolve(-1);
      })
      .once('close', resolve),
  );
  clearInterval(poll);
  result.ms = performance.now() - t0;
  result.maxRssBytes = peak;
  const lastLines = tail.trim().split('\n').slice(-6).join('\n    ');
  if (code !== 0) {
    result.error = `exit ${code}:\n    ${lastLines}`;
    return result;
  }
  if (/dump ended with error|Error Emitted/.test(tail)) {
    result.error = `reported an error:\n    ${lastLines}`;
    return result;
  }
  result.bytes = (await fs.stat(file)).size;
  result.lines = await countLines(file);
  return result;
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (e.isFile()) total += (await fs.stat(path.join(e.parentPath, e.name))).size;
  }
  return total;
}

// ------------------------------------------------------------------------------- the run

const started = performance.now();
const node = await ensureNode();
const client = testClient(node.url);
const work = await fs.mkdtemp(path.join(os.tmpdir(), 'closer-audit-bench-'));
const loadedHere: string[] = [];
try {
  await client.cluster.health({});
  const es = await esInfo(client);
  const load0 = os.loadavg();
  for (const spec of small ? [main, small] : [main]) {
    if (await ensureIndex(client, spec)) loadedHere.push(benchIndex(spec));
  }

  const range = feedRange(main);
  const now = range.to + 2 * DAY_MS;
  const index = benchIndex(main);
  const total = main.events + main.burst;
  // Plain JSON responses, as the product asks for by default (and as elasticdump does).
  const base: RunnerArgs = {
    url: node.url,
    index,
    compression: false,
    from: range.from,
    to: range.to,
    expected: total,
  };

  // The first fetch also warms the node's caches; the faster of the two is the reference.
  log('fetch-only, 1st (also warms the caches)');
  const fetch1 = await runRunner('fetch-runner.ts', base);
  log(describeRun('fetch-only 1', fetch1));

  log('sync → Parquet');
  const sync = await runRunner('sync-runner.ts', { ...base, now, out: path.join(work, 'sync-parquet') });
  log(describeRun('sync', sync));
  await fs.rm(path.join(work, 'sync-parquet'), { recursive: true, force: true });

  // Diagnostic: the same sync with rows dropped at the Parquet writer, so the figures can say how
  // much of the sync's time is Parquet encoding, and how fast the rest of the pipeline goes.
  log('sync, rows dropped at the Parquet writer (diagnostic)');
  const dropped = await runRunner('sync-runner.ts', {
    ...base,
    now,
    out: path.join(work, 'sync-dropped'),
    dropAtParquetWriter: true,
  });
  log(describeRun('sync, rows dropped at the Parquet writer', dropped));
  await fs.rm(path.join(work, 'sync-dropped'), { recursive: true, force: true });

  log('fetch-only, 2nd');
  const fetch2 = await runRunner('fetch-runner.ts', base);
  log(describeRun('fetch-only 2', fetch2));
  const fetch = rate(fetch1.events, fetch1.ms) >= rate(fetch2.events, fetch2.ms) ? fetch1 : fetch2;

  // The same pair with gzip'd responses (CLOSER_ES_COMPRESSION=on): what a slow link would choose.
  let gzip: { fetch: RunnerResult; sync: RunnerResult } | null = null;
  if (!flags['skip-gzip']) {
    const gz = { ...base, compression: true };
    log("fetch-only, gzip'd responses");
    const gzFetch = await runRunner('fetch-runner.ts', gz);
    log(describeRun('fetch-only gzip', gzFetch));
    log("sync → Parquet, gzip'd responses");
    const gzSync = await runRunner('sync-runner.ts', { ...gz, now, out: path.join(work, 'sync-gzip') });
    log(describeRun('sync gzip', gzSync));
    await fs.rm(path.join(work, 'sync-gzip'), { recursive: true, force: true });
    gzip = { fetch: gzFetch, sync: gzSync };
  }

  let syncSmall: RunnerResult | null = null;
  if (small) {
    log(`sync → Parquet, ${n(small.events + small.burst)} events`);
    const r = feedRange(small);
    syncSmall = await runRunner('sync-runner.ts', {
      ...base,
      expected: small.events + small.burst,
      index: benchIndex(small),
      from: r.from,
      to: r.to,
      now: r.to + 2 * DAY_MS,
      out: path.join(work, 'sync-small'),
    });
    log(describeRun('sync small', syncSmall));
    await fs.rm(path.join(work, 'sync-small'), { recursive: true, force: true });
  }

  log('sync → Parquet + NDJSON.gz (stored sizes)');
  const bothOut = path.join(work, 'sync-both');
  const both = await runRunner('sync-runner.ts', {
    ...base,
    now,
    out: bothOut,
    formats: ['parquet', 'ndjson'],
  });
  log(describeRun('sync both', both));
  const parquetBytes = await treeBytes(path.join(bothOut, 'events'));
  const ndjsonBytes = await treeBytes(path.join(bothOut, 'events-ndjson'));
  const storedRows = both.rows ?? both.events;
  await fs.rm(bothOut, { recursive: true, force: true });

  const dumps: DumpResult[] = [];
  if (!flags['skip-elasticdump']) {
    for (const limit of limits) {
      log(`elasticdump --limit=${limit}`);
      const file = path.join(work, `elasticdump-${limit}.ndjson`);
      const d = await runElasticdump(node.url, index, limit, file, es.root);
      await fs.rm(file, { force: true });
      if (d.error === undefined && d.lines !== total) {
        d.error = `exported ${n(d.lines ?? 0)} documents of ${n(total)}`;
      }
      if (d.error !== undefined) log(`elasticdump --limit=${limit} failed: ${d.error}`);
      else log(`elasticdump --limit=${limit}: ${secs(d.ms ?? 0)} (${n(rate(total, d.ms ?? 1))} events/s)`);
      dumps.push(d);
    }
  }

  let profileText: string | null = null;
  if (profile) {
    const file = path.join(os.tmpdir(), `closer-audit-bench-sync-${Date.now()}.${profile}profile`);
    log(`sync → Parquet, profiled (${profile}) into ${file}`);
    const prof = await runRunner(
      'sync-runner.ts',
      { ...base, now, out: path.join(work, 'sync-profiled') },
      { BENCH_PROFILE: profile, BENCH_PROFILE_FILE: file },
    );
    profileText = [
      describeRun('profiled sync (slower than unprofiled)', prof),
      file,
      await summariseProfileFile(file, 25),
    ].join('\n');
  }

  // ------------------------------------------------------------------------------- report
  const okDumps = dumps.filter((d) => d.error === undefined);
  const bestDump = okDumps.sort((a, b) => (a.ms ?? 0) - (b.ms ?? 0))[0];
  const dumpRate = bestDump ? rate(total, bestDump.ms ?? 1) : null;
  const syncRate = rate(sync.events, sync.ms);
  const fetchRate = rate(fetch.events, fetch.ms);
  const rows: string[][] = [
    ['run', 'events', 'time', 'events/s', 'RSS at start', 'peak RSS', 'waiting for ES', 'CPU'],
    runRow('fetch-only 1 (PIT + search_after, pages discarded)', fetch1),
    runRow('fetch-only 2', fetch2),
    runRow('sync → Parquet', sync),
    runRow('sync, rows dropped at the Parquet writer (diagnostic)', dropped),
    ...(gzip
      ? [
          runRow("fetch-only, gzip'd responses", gzip.fetch),
          runRow("sync → Parquet, gzip'd responses", gzip.sync),
        ]
      : []),
    ...(syncSmall ? [runRow('sync → Parquet, small feed', syncSmall)] : []),
    runRow('sync → Parquet + NDJSON.gz', both),
    ...dumps.map((d) => [
      `elasticdump --limit=${d.limit} (scroll) → file`,
      d.error === undefined ? n(d.lines ?? 0) : 'failed',
      d.ms === undefined ? '-' : secs(d.ms),
      d.error === undefined ? n(rate(total, d.ms ?? 1)) : '-',
      '',
      d.maxRssBytes ? mb(d.maxRssBytes) : '-',
      '',
      '',
    ]),
  ];

  const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
  const targets: string[][] = [['target', 'figure', 'verdict']];
  targets.push([
    'sync ≥ 70% of the fetch-only rate',
    `${pct(syncRate / fetchRate)} (${n(syncRate)} vs ${n(fetchRate)} events/s)`,
    verdict(syncRate >= 0.7 * fetchRate),
  ]);
  if (gzip) {
    const gzSync = rate(gzip.sync.events, gzip.sync.ms);
    const gzFetch = rate(gzip.fetch.events, gzip.fetch.ms);
    targets.push([
      "the same, both with gzip'd responses",
      `${pct(gzSync / gzFetch)} (${n(gzSync)} vs ${n(gzFetch)} events/s)`,
      verdict(gzSync >= 0.7 * gzFetch),
    ]);
  }
  if (bestDump && dumpRate !== null) {
    targets.push([
      'sync faster than elasticdump (its best --limit)',
      `${(syncRate / dumpRate).toFixed(2)}× (${n(syncRate)} vs ${n(dumpRate)} events/s at --limit=${bestDump.limit})`,
      verdict(syncRate > dumpRate),
    ]);
  } else {
    targets.push([
      'sync faster than elasticdump',
      flags['skip-elasticdump'] ? 'skipped' : 'elasticdump failed',
      '-',
    ]);
  }
  targets.push(['sync peak RSS < 300 MB', mb(sync.maxRssBytes), verdict(sync.maxRssBytes < RSS_LIMIT)]);
  if (syncSmall) {
    const growth = sync.maxRssBytes / syncSmall.maxRssBytes - 1;
    targets.push([
      `peak RSS flat from ${n(small?.events ?? 0)} to ${n(main.events)} events (≤ +${pct(RSS_FLAT)})`,
      `${mb(syncSmall.maxRssBytes)} → ${mb(sync.maxRssBytes)} (${growth >= 0 ? '+' : ''}${pct(growth)})`,
      verdict(growth <= RSS_FLAT),
    ]);
  }
  const tenths = sync.rssByTenth?.filter((b) => b > 0) ?? [];
  if (tenths.length >= 4) {
    // The same question inside one run, free of the short run's ramp-up: does memory climb as
    // events go by? The sampled peak of the second half against the first's.
    const half = Math.floor(tenths.length / 2);
    const first = Math.max(...tenths.slice(0, half));
    const second = Math.max(...tenths.slice(half));
    const growth = second / first - 1;
    targets.push([
      `sampled RSS within the ${n(total)}-event sync, 2nd half vs 1st (≤ +${pct(RSS_FLAT)})`,
      `${mb(first)} → ${mb(second)} (${growth >= 0 ? '+' : ''}${pct(growth)})`,
      verdict(growth <= RSS_FLAT),
    ]);
  }
  const parquetPer = parquetBytes / storedRows;
  const ndjsonPer = ndjsonBytes / storedRows;
  targets.push([
    'Parquet ≥ 40% smaller than NDJSON.gz',
    `${pct(1 - parquetPer / ndjsonPer)} smaller (${parquetPer.toFixed(1)} vs ${ndjsonPer.toFixed(1)} bytes/event)`,
    verdict(parquetPer <= 0.6 * ndjsonPer),
  ]);

  // Not targets: where the sync's time goes, from the diagnostic run.
  const droppedRate = rate(dropped.events, dropped.ms);
  const diagnostics: string[][] = [
    ['diagnostic', 'figure'],
    [
      'sync with rows dropped at the Parquet writer, against fetch-only',
      `${pct(droppedRate / fetchRate)} (${n(droppedRate)} events/s): the ceiling with Parquet encoding free`,
    ],
    ...(dumpRate !== null
      ? [
          [
            'sync with rows dropped at the Parquet writer, against elasticdump',
            `${(droppedRate / dumpRate).toFixed(2)}×`,
          ],
        ]
      : []),
    [
      "Parquet encoding's share of the sync's CPU time",
      `${pct(1 - cpuMs(dropped) / cpuMs(sync))} (${(((cpuMs(sync) - cpuMs(dropped)) * 1000) / sync.events).toFixed(1)} µs of ${((cpuMs(sync) * 1000) / sync.events).toFixed(1)} µs per event)`,
    ],
  ];

  const cpus = os.cpus();
  const head = await execFileAsync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).catch(() => null);
  const dirty = await execFileAsync('git', ['status', '--porcelain', '--', 'functions', 'shared'], {
    cwd: ROOT,
  }).catch(() => null);
  const changed = dirty ? dirty.stdout.split('\n').filter(Boolean).length : 0;
  const revision = head
    ? `${head.stdout.trim()}${changed ? ` + ${changed} uncommitted files under functions/ and shared/` : ''}`
    : 'unknown';
  const smallLine = small
    ? `; small feed ${n(small.events)} + ${n(small.burst)} = ${n(small.events + small.burst)} (${benchIndex(small)})`
    : '';
  const dumpBytes = okDumps[0]?.bytes;
  const report = [
    '',
    'closer-audit ingest benchmark',
    '',
    table([
      [
        'machine',
        `${os.availableParallelism()} CPUs (nproc), ${cpus[0]?.model ?? '?'}, ${mb(os.totalmem())} RAM`,
      ],
      ['node', `${process.version} ${process.platform}-${process.arch}`],
      ['code', revision],
      ['elasticsearch', `${es.version} (JVM ${es.jvm}, heap ${mb(es.heapMax)}), single node, ${node.url}`],
      [
        'load average',
        `${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} at end`,
      ],
      [
        'feed',
        `${n(main.events)} over ${main.days} days + ${n(main.burst)} in one hour = ${n(total)} events (${index})${smallLine}`,
      ],
      [
        'range',
        `${new Date(range.from).toISOString()} → ${new Date(range.to).toISOString()}, all days sealed`,
      ],
      [
        'page size',
        `${n(sync.maxPageSize)} hits (ElasticsearchSource default ${n(PRODUCT_PAGE_SIZE)}), sync and fetch-only alike`,
      ],
      ['responses', "plain JSON (the product's default, and elasticdump's) unless the row says gzip'd"],
    ]),
    '',
    table(rows, [1, 2, 3, 4, 5, 6, 7]),
    '',
    'memory at the highest sampled RSS (every 100 ms; V8 spaces committed; external includes ArrayBuffers):',
    table(
      [
        [
          'run',
          'RSS',
          'heap',
          'heap used',
          'new',
          'old',
          'large obj',
          'code',
          'external',
          'ArrayBuf',
          'rest',
        ],
        memoryRow('fetch-only 2', fetch2),
        memoryRow('sync → Parquet', sync),
        ...(syncSmall ? [memoryRow('sync → Parquet, small feed', syncSmall)] : []),
        memoryRow('sync → Parquet + NDJSON.gz', both),
      ],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ),
    '',
    'highest sampled RSS in each tenth of the events read:',
    table(
      [
        ['run', ...Array.from({ length: 10 }, (_, i) => `${i * 10}%`)],
        tenthsRow('sync → Parquet', sync),
        ...(syncSmall ? [tenthsRow('sync → Parquet, small feed', syncSmall)] : []),
      ],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ),
    '',
    table([
      ['stored', 'bytes', 'bytes/event'],
      ['Parquet (events/)', n(parquetBytes), parquetPer.toFixed(1)],
      ['NDJSON.gz (events-ndjson/)', n(ndjsonBytes), ndjsonPer.toFixed(1)],
      ...(dumpBytes ? [['elasticdump file (raw hits)', n(dumpBytes), (dumpBytes / total).toFixed(1)]] : []),
      ['Parquet / NDJSON.gz', (parquetPer / ndjsonPer).toFixed(3), ''],
    ]),
    `rows stored ${n(storedRows)}, quarantined ${n(both.quarantined ?? 0)}, duplicates dropped ${n(both.duplicates ?? 0)}`,
    '',
    table(targets),
    '',
    table(diagnostics),
    '',
    `bench took ${secs(performance.now() - started)}`,
    ...(profileText ? ['', profileText] : []),
    '',
  ].join('\n');
  process.stdout.write(report);
} finally {
  await fs.rm(work, { recursive: true, force: true });
  if (!flags.keep && !node.started) {
    for (const index of loadedHere) await client.indices.delete({ index }).catch(() => undefined);
  }
  await client.close();
  if (node.started && !flags.keep) {
    log('stopping the node this run started');
    await execFileAsync('bash', [ES_NODE, 'stop']).catch((err: unknown) =>
      log(`es-node.sh stop: ${String(err)}`),
    );
  } else if (flags.keep) {
    log(`kept: ${node.url}, indices ${[main, ...(small ? [small] : [])].map(benchIndex).join(', ')}`);
  }
}
