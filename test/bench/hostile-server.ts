// The query API as `closer-audit serve` runs it (DuckDB engine, QueryService with a 30 s time
// limit, node's HTTP server), started from the source tree given by --root, so hostile-query.ts
// can measure this tree and an older one alike. Prints its URL, then serves until killed.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { root: { type: 'string' }, dir: { type: 'string' }, token: { type: 'string' } },
});
const root = path.resolve(values.root as string);
const load = (file: string) => import(pathToFileURL(path.join(root, file)).href);

const { DuckDbEngine } = await load('functions/query/engines/duckdb.ts');
const { QueryService } = await load('functions/query/service.ts');
const { createApi } = await load('functions/query/http/api.ts');
const { startServer } = await load('functions/query/http/node-server.ts');

const engine = await DuckDbEngine.open(values.dir as string);
// As serve does, the rollups are built from the start; timed only once built (a tree from before
// them has none).
if (typeof engine.warmRollups === 'function') {
  const t0 = performance.now();
  await engine.warmRollups();
  await engine.rollupsSettled();
  const s = engine.rollupStatus();
  process.stderr.write(
    `query API: ${s.objects} objects rolled up in ${((performance.now() - t0) / 1000).toFixed(1)} s (${s.failed} failed)\n`,
  );
}
const service = new QueryService(engine, { timeoutMs: 30_000 });
const server = await startServer(createApi(service, { token: async () => values.token as string }), {
  port: 0,
  host: '127.0.0.1',
});
process.stdout.write(`${server.url}\n`);
// Stopped by SIGTERM (the benches): close the engine, which removes its rollups' folder.
process.once('SIGTERM', () => {
  void server
    .close()
    .then(() => engine.close())
    .finally(() => process.exit(0));
});
