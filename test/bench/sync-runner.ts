// One sync through the product code: runSync with ElasticsearchSource (its default page size),
// LocalFolderStorage and the default Redactor, over an explicit range with `now` well after it, so
// every day is sealed and written straight to its day object (the backfill / catch-up path).
// Run by ingest.ts in its own process, so the peak RSS is the sync's own; prints a RunnerResult.
// The source is wrapped only to time the waits for each page (one await per page).
import { ParquetEventWriter } from '../../functions/formats/parquet-writer.js';
import { runSync } from '../../functions/ingest/sync.js';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import type { HitSource, SourceHit, TimeRange } from '../../functions/sources/source.js';
import { ingestContext } from '../support/ingest.js';
import { memorySampler, PageTimer, usage, type RunnerArgs, type RunnerResult } from './common.js';
import { startProfile, type ProfileKind } from './profiling.js';

const args = JSON.parse(process.argv[2] ?? '{}') as RunnerArgs;
if (args.out === undefined || args.now === undefined) throw new Error('sync-runner needs out and now');
const now = args.now;
const es = new ElasticsearchSource(
  { url: args.url, index: args.index, compression: args.compression },
  { mode: 'pit' },
);
const timer = new PageTimer();

// The diagnostic run: every row still goes through the whole sync up to the Parquet writer, which
// drops it (its objects are written with no row group). Patched here, in this process only.
if (args.dropAtParquetWriter) ParquetEventWriter.prototype.append = () => undefined;

const source: HitSource = {
  id: es.id,
  description: es.description,
  ordered: es.ordered,
  pages: (range: TimeRange): AsyncIterable<SourceHit[]> => timer.wrap(es.pages(range)),
  countPerHour: (range) => es.countPerHour(range),
  close: () => es.close(),
};

// BENCH_PROFILE=cpu|heap and BENCH_PROFILE_FILE: profile the measured run (ingest.ts --profile).
const profileKind = process.env.BENCH_PROFILE as ProfileKind | undefined;
const profiler = profileKind ? startProfile(profileKind) : null;
const memory = memorySampler(
  profiler ? () => profiler.tick() : undefined,
  args.expected ? () => timer.events / (args.expected as number) : undefined,
);
const t0 = performance.now();
const summary = await runSync(
  ingestContext(args.out, source, { formats: args.formats ?? ['parquet'], now: () => now }),
  { from: args.from, to: args.to },
);
const ms = performance.now() - t0;
const peaks = memory();
await profiler?.stop(process.env.BENCH_PROFILE_FILE ?? `sync.${profileKind}profile`);
await source.close();
if (summary.stoppedEarly) throw new Error('the sync stopped early');
const result: RunnerResult = {
  events: summary.eventsRead,
  rows: summary.rowsWritten,
  quarantined: summary.quarantined,
  duplicates: summary.duplicatesDropped,
  ms,
  pages: timer.pages,
  maxPageSize: timer.maxPageSize,
  waitMs: timer.waitMs,
  ...peaks,
  ...usage(),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
