// npx tsx test/bench/query-profile.ts --dir DIR [--runs N] [--window 30] [--root TREE] [--cpu]
//
// Where a panel's milliseconds go in the query API, on a folder bench:query generated: per stage
// (the engine's table for the range, DuckDB alone on that SQL, QueryService end to end, the HTTP
// round trip through createApi's handler), then the V8 CPU profile of QueryService over every
// bundled dashboard target (profiling.ts; DuckDB's own threads are not in it: the gap between the
// stages is theirs).
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { Query } from '../../shared/query/model.js';
import { summariseProfileFile } from './profile.js';
import { startProfile } from './profiling.js';
import { table } from './print.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string' },
    runs: { type: 'string', default: '10' },
    window: { type: 'string', default: '30' },
    root: { type: 'string' },
    cpu: { type: 'boolean', default: false },
  },
});
if (!flags.dir) throw new Error('--dir: the folder bench:query generated');
const root = path.resolve(flags.root ?? path.join(HERE, '../..'));
const load = (file: string) => import(pathToFileURL(path.join(root, file)).href);
const { DuckDbEngine } = await load('functions/query/engines/duckdb.ts');
const { QueryService } = await load('functions/query/service.ts');
const { createApi } = await load('functions/query/http/api.ts');
const { compileQuery } = await load('shared/query/compile.ts');

const RUNS = Number(flags.runs);
const dir = path.resolve(flags.dir);
const marker = JSON.parse(await fs.readFile(path.join(dir, 'bench-query.json'), 'utf8')) as { to: number };
const range = { from: marker.to - Number(flags.window) * 86_400_000, to: marker.to };

const targets: { name: string; query: Query }[] = [];
for (const f of (await fs.readdir(path.join(root, 'plugin/dashboards'))).filter((x) => x.endsWith('.json'))) {
  const d = JSON.parse(await fs.readFile(path.join(root, 'plugin/dashboards', f), 'utf8')) as {
    panels: { title?: string; targets?: Record<string, unknown>[] }[];
  };
  for (const p of d.panels)
    for (const t of (p.targets ?? []).filter((x) => x.type !== 'status' && x.type !== 'detections')) {
      const strip = (v: unknown): unknown =>
        Array.isArray(v)
          ? v.filter((x) => !(typeof x === 'string' && x.startsWith('$'))).map(strip)
          : v && typeof v === 'object'
            ? Object.fromEntries(
                Object.entries(v)
                  .map(([k, x]) => [k, strip(x)])
                  .filter(([, x]) => !(Array.isArray(x) && x.length === 0)),
              )
            : v;
      const { datasource: _d, refId: _r, ...q } = t;
      targets.push({ name: `${f.replace('.json', '')} / ${p.title}`, query: strip(q) as Query });
    }
}

const engine = await DuckDbEngine.open(dir);
// As serve runs: the rollups built before timing (a tree from before them has none).
if (typeof engine.warmRollups === 'function') {
  await engine.warmRollups();
  await engine.rollupsSettled();
}
const service = new QueryService(engine, { timeoutMs: 30_000 });
const handle = createApi(service, { token: async () => 't' });
const iso = (ms: number) => new Date(ms).toISOString();
const body = (q: Query) => ({
  range: { from: iso(range.from), to: iso(range.to) },
  intervalMs: 3_600_000,
  maxDataPoints: 1000,
  queries: [{ ...q, refId: 'A' }],
});

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(t.length / 2)] as number;
}

const rows: string[][] = [['target', 'tableFor', 'engine.run', 'service', 'HTTP handler']];
const totals = [0, 0, 0, 0];
for (const t of targets.filter((x) => x.query.type !== 'sql')) {
  const tableMs = await median(() => engine.tableFor(range));
  const table0 = await engine.tableFor(range);
  const compiled = compileQuery(t.query, range, {
    dialect: engine.dialect,
    table: table0,
    intervalMs: 3_600_000,
    maxDataPoints: 1000,
  });
  const runMs = await median(() => engine.run(compiled.sql, compiled.params));
  const serviceMs = await median(() => service.query(body(t.query)));
  const httpMs = await median(() =>
    handle({
      method: 'POST',
      path: '/query',
      headers: { authorization: 'Bearer t' },
      body: JSON.stringify(body(t.query)),
    }),
  );
  const v = [tableMs, runMs, serviceMs, httpMs];
  v.forEach((x, i) => (totals[i] = (totals[i] as number) + x));
  rows.push([t.name.slice(0, 60), ...v.map((x) => x.toFixed(1))]);
}
rows.push(['total', ...totals.map((x) => x.toFixed(0))]);
process.stdout.write(
  `${table(rows, [1, 2, 3, 4])}\nload average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);

if (!flags.cpu) {
  await engine.close();
  process.exit(0);
}
const profiler = startProfile('cpu');
for (let i = 0; i < RUNS; i++) for (const t of targets) await service.query(body(t.query));
const file = path.join(os.tmpdir(), `closer-audit-query-${process.pid}.cpuprofile`);
await profiler.stop(file);
process.stdout.write(
  `\nCPU profile of QueryService, every target × ${RUNS} (${file}):\n${await summariseProfileFile(file, 25)}\n`,
);
await engine.close();
