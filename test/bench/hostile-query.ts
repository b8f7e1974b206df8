// npm run bench:hostile [-- --events N --days D --wait S --root DIR --dir DIR --only NAME]
//
// The query API under hostile but authenticated requests (issue 11). Syncs a sample feed of
// `--events` events over `--days` days into a folder (kept and reused), then sends each request
// below to a fresh query API server (test/bench/hostile-server.ts, started from the source tree
// `--root`, this one by default: pass an older checkout to measure before/after) and prints, per
// request: the HTTP status and the query's own status, the time to the answer (or when the client
// gave up, after `--wait` s), the server's peak RSS, the CPU time the server spent in the 10 s after
// the client had its answer or left, and whether the answer held a planted secret or a server path.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runSync } from '../../functions/ingest/sync.js';
import { distribute } from '../../functions/sample/generator.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { DAY_MS, floorDay } from '../../shared/event/partition.js';
import { ingestContext } from '../support/ingest.js';
import { table } from './print.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const TOKEN = 'bench-hostile-token';
const AFTER_MS = 10_000;

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '150000' },
    days: { type: 'string', default: '6' },
    wait: { type: 'string', default: '120' },
    root: { type: 'string', default: ROOT },
    dir: { type: 'string' },
    only: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(`npm run bench:hostile -- [options]
  --events N   events in the sample folder (default 150000)
  --days D     days they span, ending two days before today (default 6)
  --wait S     seconds a client waits for an answer before it leaves (default 120)
  --root DIR   the source tree whose query API is measured (default this one)
  --dir DIR    the data folder (default $TMPDIR/closer-audit-bench-hostile-<events>-<days>)
  --only TEXT  run only the requests whose name contains TEXT
`);
  process.exit(0);
}

const EVENTS = Number(flags.events);
const DAYS = Number(flags.days);
const WAIT_MS = Number(flags.wait) * 1000;
const DIR = path.resolve(flags.dir ?? path.join(os.tmpdir(), `closer-audit-bench-hostile-${EVENTS}-${DAYS}`));
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);

async function ensureData(): Promise<{ from: number; to: number }> {
  const marker = path.join(DIR, 'bench-hostile.json');
  const existing = await fs.readFile(marker, 'utf8').catch(() => null);
  if (existing) return JSON.parse(existing) as { from: number; to: number };
  await fs.rm(DIR, { recursive: true, force: true });
  await fs.mkdir(DIR, { recursive: true });
  const to = floorDay(Date.now()) - 2 * DAY_MS;
  const from = to - DAYS * DAY_MS;
  const perHour = distribute(EVENTS, from, to);
  log(`syncing ${EVENTS} sample events over ${DAYS} days into ${DIR}`);
  await runSync(
    ingestContext(DIR, new SampleSource({ perHour: (h) => perHour.get(h) ?? 0 }), {
      now: () => to + 2 * DAY_MS,
    }),
    { from, to },
  );
  await fs.writeFile(marker, JSON.stringify({ from, to }));
  return { from, to };
}

interface Probe {
  name: string;
  body: (ctx: Ctx) => Record<string, unknown>;
  /** The client leaves after this many ms (default: it waits up to --wait). */
  leaveAfterMs?: number;
}

interface Ctx {
  from: number;
  to: number;
  planted: string;
  cwd: string;
}

const sql = (text: string) => (c: Ctx) => ({
  range: { from: c.from, to: c.to },
  queries: [{ refId: 'A', type: 'sql', sql: text }],
});
const stat = (range: (c: Ctx) => unknown) => (c: Ctx) => ({
  range: range(c),
  queries: [{ refId: 'A', type: 'stat' }],
});

const PROBES: Probe[] = [
  { name: 'baseline: stat over the data', body: stat((c) => ({ from: c.from, to: c.to })) },
  { name: 'range 0 → 1e14', body: stat(() => ({ from: 0, to: 1e14 })) },
  {
    name: 'range "0" → "99999999999999999999"',
    body: stat(() => ({ from: '0', to: '99999999999999999999' })),
  },
  {
    name: 'range -1e15 → 0 (client leaves after 5 s)',
    body: stat(() => ({ from: -1e15, to: 0 })),
    leaveAfterMs: 5000,
  },
  { name: "raw SQL SELECT repeat('x', 300000000)", body: sql("SELECT repeat('x', 300000000) AS x") },
  {
    name: 'raw SQL slow count (client leaves after 2 s)',
    body: sql('SELECT count(*) FROM range(100000000000) t(a) WHERE a % 7 = 3'),
    leaveAfterMs: 2000,
  },
  {
    name: 'raw SQL reads <cwd>/.tmp/ (planted file)',
    body: (c) => sql(`SELECT * FROM read_csv('${c.cwd}/.tmp/planted.csv')`)(c),
  },
  {
    name: 'raw SQL reads state/*.json',
    body: (c) => sql(`SELECT * FROM read_json_auto('${DIR}/state/*.json')`)(c),
  },
  {
    name: 'raw SQL executedQueryString',
    body: sql('SELECT count(*) AS n FROM $__table WHERE $__timeFilter(ts)'),
  },
  {
    name: 'interval "0s"',
    body: (c) => ({
      range: { from: c.from, to: c.to },
      queries: [{ refId: 'A', type: 'timeseries', interval: '0s' }],
    }),
  },
  {
    name: '$__timeGroup(ts, 0s)',
    body: sql('SELECT $__timeGroup(ts, 0s) AS t, count(*) FROM $__table GROUP BY 1'),
  },
  {
    name: 'interval "999999999999999999d"',
    body: (c) => ({
      range: { from: c.from, to: c.to },
      queries: [{ refId: 'A', type: 'timeseries', interval: '999999999999999999d' }],
    }),
  },
];

/** Peak RSS (VmHWM) in MB and CPU seconds (user + system) of a process, from /proc. */
async function usage(pid: number): Promise<{ peakMb: number; cpuS: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  const stat = (await fs.readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  return { peakMb: hwm / 1024, cpuS: ticks / 100 };
}

async function startServer(cwd: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      // tsx by its path: the server runs in a scratch folder with no node_modules of its own.
      '--import',
      import.meta.resolve('tsx'),
      path.join(HERE, 'hostile-server.ts'),
      '--root',
      flags.root as string,
      '--dir',
      DIR,
      '--token',
      TOKEN,
    ],
    { cwd, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /^(http:\S+)\n/m.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before it listened`)));
  });
  return { child, url };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(p: Probe, ctx: Ctx): Promise<string[]> {
  const { child, url } = await startServer(ctx.cwd);
  const pid = child.pid as number;
  try {
    const client = new AbortController();
    const limit = p.leaveAfterMs ?? WAIT_MS;
    const timer = setTimeout(() => client.abort(), limit);
    const t0 = performance.now();
    let status = 'left';
    let text = '';
    try {
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(p.body(ctx)),
        signal: client.signal,
      });
      text = await res.text();
      status = String(res.status);
    } catch {
      status = client.signal.aborted ? `left at ${limit / 1000} s` : 'connection error';
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - t0;
    const before = await usage(pid);
    await sleep(AFTER_MS);
    const after = await usage(pid);
    let query = '';
    try {
      const parsed = JSON.parse(text) as {
        results?: Record<string, { status: number; error?: string }>;
        error?: string;
      };
      const a = parsed.results?.A;
      query = a
        ? `${a.status}${a.error ? ` ${a.error.slice(0, 60)}` : ''}`
        : (parsed.error ?? '').slice(0, 60);
    } catch {
      query = text ? `${text.length} bytes, not JSON` : '';
    }
    const leaked = [
      text.includes(ctx.planted) ? 'planted secret' : '',
      text.includes(DIR) || text.includes(ctx.cwd) ? 'server path' : '',
    ]
      .filter(Boolean)
      .join(', ');
    return [
      p.name,
      status,
      query,
      `${(ms / 1000).toFixed(2)} s`,
      `${Math.round(after.peakMb)} MB`,
      `${(after.cpuS - before.cpuS).toFixed(1)} s`,
      `${(text.length / 1e6).toFixed(2)} MB`,
      leaked || 'none',
    ];
  } finally {
    child.kill('SIGKILL');
  }
}

const range = await ensureData();
const cwd = await fs.mkdtemp(path.join(os.tmpdir(), 'closer-audit-bench-hostile-cwd-'));
const planted = `planted-secret-${randomBytes(6).toString('hex')}`;
await fs.mkdir(path.join(cwd, '.tmp'), { recursive: true });
await fs.writeFile(path.join(cwd, '.tmp', 'planted.csv'), `secret\n${planted}\n`);
await fs.mkdir(path.join(DIR, 'state'), { recursive: true });
await fs.writeFile(path.join(DIR, 'state', 'planted.json'), JSON.stringify({ secret: planted }));
const ctx: Ctx = { ...range, planted, cwd };
const rows: string[][] = [];
try {
  for (const p of PROBES) {
    if (flags.only && !p.name.includes(flags.only)) continue;
    log(p.name);
    rows.push(await probe(p, ctx));
  }
} finally {
  await fs.rm(cwd, { recursive: true, force: true });
  await fs.rm(path.join(DIR, 'state', 'planted.json'), { force: true });
}
process.stdout.write(
  `\nHostile queries: ${EVENTS} events over ${DAYS} days, query API from ${flags.root}\n` +
    `(a fresh server per request; CPU is what the server spent in the ${AFTER_MS / 1000} s after the answer or the client leaving)\n\n`,
);
process.stdout.write(
  table(
    [['request', 'HTTP', 'query status', 'time', 'peak RSS', 'CPU after', 'answer', 'leaked'], ...rows],
    [3, 4, 5, 6],
  ) + '\n',
);
