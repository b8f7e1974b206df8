// What a scheduled run costs Closer's cluster: search requests sent and hits read per run, with the
// defaults (lookback 3 h, a run every 15 minutes), on the test node with a steady feed, with the
// read plan (per-hour counts decide which hours are read) and without it (every hour younger than
// the lookback read whole, as before issue 15). Then 0 new events, 1,000 new events and 1,000 late
// events spread over the lookback; then the freshness a 1-minute schedule gives, in real time.
// A script that prints figures, not a test:
//   npm run bench:incremental [-- --per-hour 4000 --runs 8 --freshness-minutes 4]
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { runSync } from '../../functions/ingest/sync.js';
import { generateHour } from '../../functions/sample/generator.js';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import type { HitSource } from '../../functions/sources/source.js';
import { floorHour } from '../../shared/event/partition.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { duckdb, eventsGlob } from '../support/duckdb.js';
import { createCloserLikeIndex, loadHits, testClient, uniqueIndex } from '../support/es.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { startProxy } from '../support/proxy.js';
import { tmpDir } from '../support/tmp.js';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values: flags } = parseArgs({
  options: {
    'per-hour': { type: 'string', default: '4000' },
    runs: { type: 'string', default: '8' },
    'freshness-minutes': { type: 'string', default: '4' },
    help: { type: 'boolean', default: false },
  },
});
if (flags.help) {
  process.stdout.write(
    'npm run bench:incremental [-- --per-hour N (steady feed, default 4000) --runs N (15-minute runs, default 8) --freshness-minutes N (real-time 1-minute schedule, default 4; 0 skips)]\n',
  );
  process.exit(0);
}
const PER_HOUR = Number(flags['per-hour']);
const RUNS = Number(flags.runs);
const FRESHNESS_MIN = Number(flags['freshness-minutes']);
const LOOKBACK = 3 * HOUR;
const EVERY = 15 * 60_000;
const T0 = Date.UTC(2026, 10, 10, 9, 7);
const log = (m: string) => process.stderr.write(`${m}\n`);
const n = (v: number) => v.toLocaleString('en-US');

async function ensureNode(): Promise<{ url: string; started: boolean }> {
  const named = process.env.CLOSER_TEST_ES_URL;
  if (named) return { url: named.replace(/\/+$/, ''), started: false };
  const script = path.join(ROOT, 'test/elasticsearch/es-node.sh');
  const status = await execFileAsync('bash', [script, 'status']).catch(() => null);
  const running = status && /^running: (\S+)/.exec(status.stdout);
  if (running?.[1]) return { url: running[1], started: false };
  log('starting the test Elasticsearch node (test/elasticsearch/es-node.sh start)');
  const { stdout } = await execFileAsync('bash', [script, 'start'], { maxBuffer: 1 << 20 });
  return { url: stdout.trim().split('\n').pop()?.trim() ?? '', started: true };
}

const node = await ensureNode();
const client = testClient(node.url);
const proxy = await startProxy(node.url);
const indices: string[] = [];

let batch = 0;
/** `count` events at times spread evenly over [from, to), each with its own _id. */
function events(count: number, from: number, to: number): RawHit[] {
  const tag = `b${batch++}`;
  const template = generateHour(floorHour(from), Math.min(count, 500), { seed: tag });
  return Array.from({ length: count }, (_, i) => {
    const hit = template[i % template.length] as RawHit;
    const ts = from + Math.floor(((i + 0.5) * (to - from)) / count);
    return {
      _id: `${tag}-${i}`,
      _source: { ...(hit._source as Record<string, unknown>), '@timestamp': new Date(ts).toISOString() },
    };
  });
}

interface RunFigures {
  searches: number;
  requests: number;
  hits: number;
  ms: number;
}

/** One feed, one target: runs at a simulated clock through the counting proxy. */
async function lane(planned: boolean) {
  const index = uniqueIndex(`bench-incremental-${planned ? 'plan' : 'all'}`);
  indices.push(index);
  await createCloserLikeIndex(client, index);
  const out = await tmpDir(`bench-incremental-${planned ? 'plan' : 'all'}`);
  let now = T0;
  const run = async (): Promise<RunFigures> => {
    const es = new ElasticsearchSource({ url: proxy.url, index });
    // Without the plan: a source that cannot count, so every hour of the range is read whole.
    const source: HitSource = planned
      ? es
      : {
          id: es.id,
          get description() {
            return es.description;
          },
          ordered: es.ordered,
          open: () => es.open(),
          pages: (r) => es.pages(r),
          countPerHour: (r) => es.countPerHour(r),
          close: () => es.close(),
        };
    proxy.seen.length = 0;
    const t = performance.now();
    const summary = await runSync(ingestContext(out, source, { now: () => now, lookbackMs: LOOKBACK }));
    const ms = performance.now() - t;
    await source.close();
    return {
      searches: proxy.seen.filter((r) => r.url.includes('_search')).length,
      requests: proxy.seen.length,
      hits: summary.eventsRead,
      ms,
    };
  };
  const load = (hits: RawHit[]) => loadHits(client, index, hits);
  return {
    index,
    run,
    load,
    get now() {
      return now;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** The documents of the hours a run needs: those that changed, and those it seals. */
async function hitsOfHours(index: string, hours: Set<number>): Promise<number> {
  const src = new ElasticsearchSource({ url: node.url, index });
  const from = Math.min(...hours);
  const counts = await src.countPerHour({ from, to: Math.max(...hours) + HOUR });
  await src.close();
  let total = 0;
  for (const h of hours) total += counts.get(h) ?? 0;
  return total;
}

const hoursOf = (from: number, to: number) => {
  const s = new Set<number>();
  for (let h = floorHour(from); h < to; h += HOUR) s.add(h);
  return s;
};

const rows: string[][] = [];
try {
  const lanes = { all: await lane(false), plan: await lane(true) };
  // History: the lookback and an hour more, then a first run that reads it all (not measured).
  for (const l of Object.values(lanes)) {
    await l.load(events(4 * PER_HOUR, T0 - 4 * HOUR, T0));
    await l.run();
  }
  const steady: Record<'all' | 'plan', RunFigures[]> = { all: [], plan: [] };
  const needed: number[] = [];
  for (let k = 0; k < RUNS; k++) {
    let need = 0;
    for (const [name, l] of Object.entries(lanes) as ['all' | 'plan', typeof lanes.all][]) {
      const before = l.now;
      l.advance(EVERY);
      await l.load(events(PER_HOUR / 4, before, l.now));
      if (name === 'plan') {
        const sealing = hoursOf(floorHour(before - LOOKBACK), floorHour(l.now - LOOKBACK));
        need = await hitsOfHours(l.index, new Set([...hoursOf(before, l.now), ...sealing]));
      }
      steady[name].push(await l.run());
    }
    needed.push(need);
  }
  const avg = (f: RunFigures[], k: keyof RunFigures) => f.reduce((s, r) => s + r[k], 0) / f.length;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  rows.push(
    [
      `steady feed, ${n(PER_HOUR)}/h, a run every 15 min (mean of ${RUNS})`,
      `${n(Math.round(avg(steady.all, 'requests')))} (${n(Math.round(avg(steady.all, 'searches')))})`,
      n(Math.round(avg(steady.all, 'hits'))),
      `${n(Math.round(avg(steady.plan, 'requests')))} (${n(Math.round(avg(steady.plan, 'searches')))})`,
      n(Math.round(avg(steady.plan, 'hits'))),
      n(Math.round(sum(needed) / needed.length)),
    ],
    [
      '  new events per run',
      '',
      n(PER_HOUR / 4),
      '',
      '',
      `(${(avg(steady.all, 'hits') / (PER_HOUR / 4)).toFixed(1)}× → ${(avg(steady.plan, 'hits') / (PER_HOUR / 4)).toFixed(1)}×)`,
    ],
  );

  const scenario = async (name: string, prepare: (l: typeof lanes.all) => Promise<Set<number>>) => {
    const figures: RunFigures[] = [];
    let need = 0;
    for (const [lname, l] of Object.entries(lanes)) {
      const changed = await prepare(l);
      if (lname === 'plan') need = changed.size ? await hitsOfHours(l.index, changed) : 0;
      figures.push(await l.run());
    }
    const [all, plan] = figures as [RunFigures, RunFigures];
    rows.push([
      name,
      `${n(all.requests)} (${n(all.searches)})`,
      n(all.hits),
      `${n(plan.requests)} (${n(plan.searches)})`,
      n(plan.hits),
      n(need),
    ]);
  };
  await scenario('0 new events', async () => new Set());
  await scenario('1,000 new events (the last 15 min)', async (l) => {
    const before = l.now;
    l.advance(EVERY);
    await l.load(events(1_000, before, l.now));
    const sealing = hoursOf(floorHour(before - LOOKBACK), floorHour(l.now - LOOKBACK));
    return new Set([...hoursOf(before, l.now), ...sealing]);
  });
  await scenario('1,000 late events over the lookback', async (l) => {
    const from = floorHour(l.now - LOOKBACK);
    await l.load(events(1_000, from, l.now - EVERY));
    return hoursOf(from, l.now - EVERY);
  });

  const header = [
    'per run',
    'requests (searches) before',
    'hits before',
    'requests (searches) now',
    'hits now',
    'hits of hours changed or sealed',
  ];
  const table = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...table.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  process.stdout.write(`\n${table.map(line).join('\n')}\n`);
  process.stdout.write(
    `(before: every hour younger than the lookback read whole on every run; now: one count request, then only those hours)\n`,
  );

  if (FRESHNESS_MIN > 0) {
    // Real time: a feeder indexes events as they happen (the node refreshes every second); a run
    // starts every minute; an event is queryable once a run has committed it.
    const index = uniqueIndex('bench-incremental-fresh');
    indices.push(index);
    await createCloserLikeIndex(client, index);
    const out = await tmpDir('bench-incremental-fresh');
    const indexedAt = new Map<string, number>();
    const queryableAt = new Map<string, number>();
    let stop = false;
    let seq = 0;
    const feeder = (async () => {
      while (!stop) {
        const t = Date.now();
        const hits = events(Math.max(1, Math.round(PER_HOUR / 3600)), t, t + 1);
        // A loaded shared machine may refuse a second's batch: it is then left out, not fatal.
        const res = await client
          .bulk({
            operations: hits.flatMap((h) => [
              { index: { _index: index, _id: `f${seq}-${h._id}` } },
              h._source,
            ]),
          })
          .catch(() => null);
        if (!res || res.errors) {
          seq++;
          continue;
        }
        const acked = Date.now();
        for (const h of hits) indexedAt.set(`f${seq}-${h._id}`, acked);
        seq++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    })();
    const deadline = Date.now() + FRESHNESS_MIN * 60_000;
    let runs = 0;
    const runMs: number[] = [];
    while (Date.now() < deadline) {
      const start = Date.now();
      const src = new ElasticsearchSource({ url: node.url, index });
      await runSync(ingestContext(out, src, { lookbackMs: LOOKBACK }), { initialLookbackMs: HOUR });
      await src.close();
      const done = Date.now();
      runMs.push(done - start);
      runs++;
      const db = await duckdb();
      // Before the first event is read there is no object yet to query.
      const stored = await db.rows(`SELECT event_id FROM ${eventsGlob(out)}`).catch(() => []);
      for (const r of stored)
        if (!queryableAt.has(String(r.event_id))) queryableAt.set(String(r.event_id), done);
      db.close();
      await new Promise((r) => setTimeout(r, Math.max(0, start + 60_000 - Date.now())));
    }
    stop = true;
    await feeder;
    const lags = [...queryableAt].map(([id, q]) => q - (indexedAt.get(id) ?? q)).sort((a, b) => a - b);
    const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] ?? 0;
    process.stdout.write(
      `\nfreshness, a run every minute, ${FRESHNESS_MIN} min real time, ${n(runs)} runs, ${n(lags.length)} events: ` +
        `indexing to queryable p50 ${(pct(0.5) / 1000).toFixed(1)} s, p95 ${(pct(0.95) / 1000).toFixed(1)} s, max ${((lags.at(-1) ?? 0) / 1000).toFixed(1)} s; ` +
        `run time mean ${(runMs.reduce((a, b) => a + b, 0) / runMs.length / 1000).toFixed(2)} s\n`,
    );
  }
} finally {
  for (const index of indices) await client.indices.delete({ index }).catch(() => undefined);
  await client.close();
  await proxy.close();
  if (node.started) await execFileAsync('bash', [path.join(ROOT, 'test/elasticsearch/es-node.sh'), 'stop']);
}
