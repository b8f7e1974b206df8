// The read floor: the product's Elasticsearch reader (point-in-time + search_after, its default page
// size, the next page requested while the current one is handed over), every page read and
// discarded. Run by ingest.ts in its own process; prints a RunnerResult as JSON.
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import { memorySampler, PageTimer, usage, type RunnerArgs, type RunnerResult } from './common.js';

const args = JSON.parse(process.argv[2] ?? '{}') as RunnerArgs;
const source = new ElasticsearchSource(
  { url: args.url, index: args.index, compression: args.compression },
  { mode: 'pit' },
);
const timer = new PageTimer();
const memory = memorySampler();
const t0 = performance.now();
let events = 0;
for await (const page of timer.wrap(source.pages({ from: args.from, to: args.to }))) events += page.length;
const ms = performance.now() - t0;
await source.close();
const result: RunnerResult = {
  events,
  ms,
  pages: timer.pages,
  maxPageSize: timer.maxPageSize,
  waitMs: timer.waitMs,
  ...memory(),
  ...usage(),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
