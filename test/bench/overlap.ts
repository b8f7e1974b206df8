/**
 * Overlapping runs and kill -9, on a folder and on the test S3 server: prints the staggered-race
 * table and the kill rounds, each with rows expected/found, lost, duplicated and leaked.
 *
 *   npm run bench:overlap                         # 150,000 events over 6 days, both targets
 *   npm run bench:overlap -- --events 40000 --kills 20 --targets folder
 *
 * Real `closer-audit sync` processes on an export made by `closer-audit sample` (every 97th event
 * carries a planted password, in a field the redaction rules catch). Race: a first run leaves the last ~40 h in hour objects; then two
 * runs that seal and fold them start `stagger` seconds apart, then a third. Kill rounds: an
 * explicit-range rewrite of the export's last days (every day rewritten by hour and folded again) is
 * killed with SIGKILL at evenly spread points of its duration; after each kill the next run must
 * complete and leave every event exactly once. Leaked: the planted password in plain text anywhere
 * on disk the runs used (spill folders, the target, its .tmp/).
 */
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { duckdb, eventsGlob } from '../support/duckdb.js';
import { TEST_BUCKET, ensureTestBucket, mirrorToFolder, s3Env, testS3Storage } from '../support/s3.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] as string) : fallback;
};
const EVENTS = Number(arg('events', '150000'));
const DAYS = Number(arg('days', '6'));
const KILLS = Number(arg('kills', '20'));
const STAGGERS = arg('staggers', '0.5,1,1.5,2,2.5,3,4,5').split(',').map(Number);
const TARGETS = arg('targets', 'folder,s3').split(',');
/** The kill rounds rewrite the last this many days of the export. */
const KILL_DAYS = Number(arg('kill-days', '2'));
/** `race`, `kills` or both (default). */
const ONLY = arg('only', 'race,kills').split(',');
const PLANTED = 'Planted-Overlap-Passw0rd';
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

function sync(args: string[], env: Record<string, string>, killAfterMs?: number): Promise<Run> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOSER_')));
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'functions/cli/bin.js'), 'sync', ...args], {
    env: { ...clean, ...env },
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = killAfterMs === undefined ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stderr: stderr.trim(), ms: Date.now() - started });
    }),
  );
}

async function makeExport(
  dir: string,
): Promise<{ file: string; ids: Set<string>; from: string; to: string }> {
  const raw = path.join(dir, 'raw.ndjson');
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'functions/cli/bin.js'),
      'sample',
      '--events',
      String(EVENTS),
      '--days',
      String(DAYS),
      '--out',
      raw,
    ],
    { cwd: ROOT, stdio: 'ignore' },
  );
  const lines = (await fs.readFile(raw, 'utf8')).split('\n').filter(Boolean);
  const ids = new Set<string>();
  let min = Infinity;
  let max = -Infinity;
  const out = lines.map((line, i) => {
    const hit = JSON.parse(line) as {
      _id: string;
      _source: { '@timestamp': string; message: Record<string, unknown> };
    };
    ids.add(hit._id);
    const ts = Date.parse(hit._source['@timestamp'].replace('+0000', 'Z'));
    min = Math.min(min, ts);
    max = Math.max(max, ts);
    if (i % 97 === 0) hit._source.message.planted_password = PLANTED;
    return JSON.stringify(hit);
  });
  const file = path.join(dir, 'export.ndjson');
  await fs.writeFile(file, out.join('\n') + '\n');
  const hour = 3_600_000;
  return {
    file,
    ids,
    from: new Date(Math.floor(min / hour) * hour).toISOString(),
    to: new Date(Math.ceil((max + 1) / hour) * hour).toISOString(),
  };
}

interface Target {
  name: string;
  out: string;
  env: Record<string, string>;
  /** A folder DuckDB reads, holding what the target holds. */
  folder(): Promise<string>;
}

async function newTarget(kind: string, work: string, n: number): Promise<Target> {
  if (kind === 'folder') {
    const out = path.join(work, `folder-${n}`);
    return { name: 'folder', out, env: {}, folder: async () => out };
  }
  const prefix = `overlap-${process.pid}-${n}`;
  return {
    name: 'S3',
    out: `s3://${TEST_BUCKET}/${prefix}`,
    env: s3Env(),
    folder: async () => {
      const dir = path.join(work, `mirror-${n}-${Date.now()}`);
      await mirrorToFolder(testS3Storage(prefix), dir);
      return dir;
    },
  };
}

async function audit(
  target: Target,
  ids: Set<string>,
): Promise<{ found: number; lost: number; duplicated: number; bothDayAndHours: number }> {
  const dir = await target.folder();
  const db = await duckdb();
  try {
    const rows = await db.rows(`SELECT event_id, count(*)::INTEGER AS n FROM ${eventsGlob(dir)} GROUP BY 1`);
    const stored = new Map(rows.map((r) => [String(r.event_id), Number(r.n)]));
    let lost = 0;
    for (const id of ids) if (!stored.has(id)) lost++;
    let found = 0;
    let duplicated = 0;
    for (const n of stored.values()) {
      found += n;
      duplicated += n - 1;
    }
    let bothDayAndHours = 0;
    for (const dt of await fs.readdir(path.join(dir, 'events')).catch(() => [] as string[])) {
      const names = await fs.readdir(path.join(dir, 'events', dt));
      if (names.includes('day.parquet') && names.some((n) => /^h\d\d\.parquet$/.test(n))) bothDayAndHours++;
    }
    return { found, lost, duplicated, bothDayAndHours };
  } finally {
    db.close();
  }
}

/** Files under the folders the runs used that hold the planted password in plain text. */
async function leaked(dirs: string[]): Promise<number> {
  let n = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if ((await fs.readFile(p)).includes(PLANTED)) n++;
    }
  };
  for (const d of dirs) await walk(d);
  return n;
}

async function main(): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'closer-audit-overlap-'));
  let startedS3 = false;
  if (TARGETS.includes('s3') && !process.env.CLOSER_TEST_S3_URL) {
    const out = execFileSync('bash', [path.join(ROOT, 'test/s3/s3-server.sh'), 'start'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    process.env.CLOSER_TEST_S3_URL = out.trim().split('\n').pop();
    startedS3 = true;
  }
  try {
    if (TARGETS.includes('s3')) await ensureTestBucket();
    const { file, ids, from, to } = await makeExport(work);
    console.log(
      `export: ${EVENTS.toLocaleString('en-US')} events (${ids.size.toLocaleString('en-US')} ids) over ${DAYS} days, ${from} → ${to}`,
    );
    const spill = path.join(work, 'spill');
    await fs.mkdir(spill);
    const env = (t: Target) => ({ ...t.env, TMPDIR: spill });
    let n = 0;

    console.log(
      '\nstaggered race: run 0 (--lookback 40h), then A and B (--lookback 1h) `stagger` apart, then C',
    );
    console.log(
      'target   stagger  A     B                 C     expected  found     lost  duplicated  day+hours  leaked',
    );
    for (const kind of ONLY.includes('race') ? TARGETS : []) {
      for (const stagger of STAGGERS) {
        const t = await newTarget(kind, work, n++);
        const base = ['--source', `file:${file}`, '--out', t.out];
        const r0 = await sync([...base, '--lookback', '40h'], env(t));
        if (r0.code !== 0) throw new Error(`run 0 failed: ${r0.stderr}`);
        const a = sync([...base, '--lookback', '1h'], env(t));
        await sleep(stagger * 1000);
        const b = await sync([...base, '--lookback', '1h'], env(t));
        const ra = await a;
        const rc = await sync([...base, '--lookback', '1h'], env(t));
        const au = await audit(t, ids);
        const leaks = await leaked([spill, ...(kind === 'folder' ? [t.out] : [await t.folder()])]);
        const what = (r: Run) =>
          r.code === 0 ? 'ok' : /in use by another run/.test(r.stderr) ? 'refused (busy)' : `exit ${r.code}`;
        console.log(
          `${t.name.padEnd(8)} ${`${stagger} s`.padEnd(8)} ${what(ra).padEnd(5)} ${what(b).padEnd(17)} ${what(rc).padEnd(5)} ${String(ids.size).padEnd(9)} ${String(au.found).padEnd(9)} ${String(au.lost).padEnd(5)} ${String(au.duplicated).padEnd(11)} ${String(au.bothDayAndHours).padEnd(10)} ${leaks}`,
        );
        if (ra.code !== 0 && !/in use by another run/.test(ra.stderr))
          console.log(`  A: ${ra.stderr.split('\n').pop()}`);
        if (b.code !== 0 && !/in use by another run/.test(b.stderr))
          console.log(`  B: ${b.stderr.split('\n').pop()}`);
      }
    }

    console.log(
      `\nkill -9 rounds: an explicit rewrite of the last ${KILL_DAYS} days killed at ${KILLS} points, each followed by a run to completion`,
    );
    console.log(
      'target   round  killed at  next run  expected  found     lost  duplicated  day+hours  leaked',
    );
    for (const kind of ONLY.includes('kills') ? TARGETS : []) {
      const t = await newTarget(kind, work, n++);
      const killFrom = new Date(Date.parse(to) - KILL_DAYS * 86_400_000).toISOString();
      const rewrite = [
        '--source',
        `file:${file}`,
        '--out',
        t.out,
        '--from',
        killFrom,
        '--to',
        to,
        '--lookback',
        '1h',
      ];
      // The whole export first, then the rounds rewrite its last days.
      const whole = await sync(['--source', `file:${file}`, '--out', t.out, '--lookback', '1h'], env(t));
      if (whole.code !== 0) throw new Error(`first run failed: ${whole.stderr}`);
      // The faster of two runs: kill points past the end of a run kill nothing.
      const full = Math.min((await sync(rewrite, env(t))).ms, (await sync(rewrite, env(t))).ms);
      let bad = 0;
      let killedRuns = 0;
      for (let k = 0; k < KILLS; k++) {
        const at = Math.round((0.9 * full * (k + 0.5)) / KILLS);
        const killed = await sync(rewrite, env(t), at);
        if (killed.signal) killedRuns++;
        const leaksAfterKill = await leaked([spill, ...(kind === 'folder' ? [t.out] : [])]);
        const next = await sync(['--source', `file:${file}`, '--out', t.out, '--lookback', '1h'], env(t));
        const au = await audit(t, ids);
        const leaks =
          leaksAfterKill + (await leaked([spill, ...(kind === 'folder' ? [t.out] : [await t.folder()])]));
        if (au.lost || au.duplicated || au.bothDayAndHours || leaks || next.code !== 0) bad++;
        console.log(
          `${t.name.padEnd(8)} ${String(k + 1).padEnd(6)} ${`${at} ms${killed.signal ? '' : ' (done)'}`.padEnd(10)} ${(next.code === 0 ? 'ok' : `exit ${next.code}`).padEnd(9)} ${String(ids.size).padEnd(9)} ${String(au.found).padEnd(9)} ${String(au.lost).padEnd(5)} ${String(au.duplicated).padEnd(11)} ${String(au.bothDayAndHours).padEnd(10)} ${leaks}`,
        );
        if (next.code !== 0) console.log(`  next run: ${next.stderr.split('\n').pop()}`);
      }
      console.log(
        `${t.name}: ${killedRuns} of ${KILLS} runs killed (a full rewrite took ${full} ms), ${bad} rounds with a loss, a duplicate, a leftover or a leak`,
      );
    }
  } finally {
    if (startedS3)
      execFileSync('bash', [path.join(ROOT, 'test/s3/s3-server.sh'), 'stop'], { stdio: 'ignore' });
    await fs.rm(work, { recursive: true, force: true });
  }
}

await main();
