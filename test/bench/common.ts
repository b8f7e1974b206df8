import v8 from 'node:v8';
import { DAY_MS, HOUR_MS } from '../../shared/event/partition.js';
import type { TimeRange } from '../../functions/sources/source.js';

/** What one bench index holds: `events` spread over `days`, plus `burst` events in one hour. */
export interface FeedSpec {
  events: number;
  burst: number;
  days: number;
}

/** The first day of every bench feed (a Thursday); fixed, so an index loaded once can be reused. */
export const BENCH_FROM = Date.UTC(2026, 9, 1);

export function benchIndex(spec: FeedSpec): string {
  return `bench-closer-${spec.events}-${spec.burst}-${spec.days}d`;
}

export function feedRange(spec: FeedSpec): TimeRange {
  return { from: BENCH_FROM, to: BENCH_FROM + spec.days * DAY_MS };
}

/** The burst lands in the middle day of the range, at 10:00 UTC (office hours). */
export function burstHour(spec: FeedSpec): number {
  return BENCH_FROM + Math.floor(spec.days / 2) * DAY_MS + 10 * HOUR_MS;
}

/** Given to a runner as its one argument (JSON). */
export interface RunnerArgs {
  url: string;
  index: string;
  /** Ask Elasticsearch for gzip'd pages (CLOSER_ES_COMPRESSION=on; the product's default is off). */
  compression: boolean;
  from: number;
  to: number;
  /** sync only */
  now?: number;
  out?: string;
  formats?: ('parquet' | 'ndjson')[];
  /** Events the run will read, so memory can be sampled per tenth of the run. */
  expected?: number;
  /**
   * Diagnostic (sync only): rows reach the Parquet writer and are dropped there, unencoded. What the
   * sync costs without Parquet encoding: the ceiling any faster Parquet writer could reach.
   */
  dropAtParquetWriter?: boolean;
}

/** What a runner prints as the last line of its stdout (JSON). */
export interface RunnerResult {
  events: number;
  rows?: number;
  quarantined?: number;
  duplicates?: number;
  ms: number;
  pages: number;
  maxPageSize: number;
  /** Time spent awaiting the next page from the source (the rest is the consumer's own work). */
  waitMs: number;
  /** Peak resident set size of the runner process, bytes (getrusage ru_maxrss). */
  maxRssBytes: number;
  /** RSS once the modules are loaded, before the measured run. */
  rssStart: number;
  /** Peaks of process.memoryUsage() sampled every 100 ms, bytes. */
  peakHeapUsed: number;
  peakHeapTotal: number;
  /** Memory outside the JS heap: Buffers, ArrayBuffers, WebAssembly memories. */
  peakExternal: number;
  /** What the process held when the sampled RSS was highest: process.memoryUsage() and, per V8
   * heap space, its committed size. */
  atPeakRss: MemorySnapshot;
  /** Highest sampled RSS in each tenth of the events read (0 where no sample fell), when known. */
  rssByTenth?: number[];
  cpuUserMs: number;
  cpuSystemMs: number;
}

export interface MemorySnapshot {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  spaces: Record<string, number>;
}

type MemoryPeaks = Pick<
  RunnerResult,
  'rssStart' | 'peakHeapUsed' | 'peakHeapTotal' | 'peakExternal' | 'atPeakRss' | 'rssByTenth'
>;

function snapshot(m: NodeJS.MemoryUsage): MemorySnapshot {
  const spaces: Record<string, number> = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size;
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = m;
  return { rss, heapTotal, heapUsed, external, arrayBuffers, spaces };
}

/**
 * Samples process.memoryUsage() until stopped; resourceUsage().maxRSS is the authoritative peak.
 * With `progress` (the share of the run done, 0 to 1), also the peak per tenth of the run.
 */
export function memorySampler(onTick?: () => void, progress?: () => number): () => MemoryPeaks {
  const start = process.memoryUsage();
  const peaks: MemoryPeaks = {
    rssStart: start.rss,
    peakHeapUsed: 0,
    peakHeapTotal: 0,
    peakExternal: 0,
    atPeakRss: snapshot(start),
    ...(progress ? { rssByTenth: new Array<number>(10).fill(0) } : {}),
  };
  const sample = () => {
    const m = process.memoryUsage();
    if (progress && peaks.rssByTenth) {
      const tenth = Math.min(9, Math.floor(progress() * 10));
      peaks.rssByTenth[tenth] = Math.max(peaks.rssByTenth[tenth] ?? 0, m.rss);
    }
    if (m.rss > peaks.atPeakRss.rss) peaks.atPeakRss = snapshot(m);
    peaks.peakHeapUsed = Math.max(peaks.peakHeapUsed, m.heapUsed);
    peaks.peakHeapTotal = Math.max(peaks.peakHeapTotal, m.heapTotal);
    peaks.peakExternal = Math.max(peaks.peakExternal, m.external);
    onTick?.();
  };
  const timer = setInterval(sample, 100);
  timer.unref();
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}

export function usage(): Pick<RunnerResult, 'maxRssBytes' | 'cpuUserMs' | 'cpuSystemMs'> {
  const u = process.resourceUsage();
  return {
    maxRssBytes: u.maxRSS * 1024,
    cpuUserMs: u.userCPUTime / 1000,
    cpuSystemMs: u.systemCPUTime / 1000,
  };
}

/** Times the waits on an async iterable of pages: how long the consumer stood waiting for the source. */
export class PageTimer {
  waitMs = 0;
  pages = 0;
  maxPageSize = 0;
  events = 0;

  async *wrap<T>(pages: AsyncIterable<T[]>): AsyncIterable<T[]> {
    const it = pages[Symbol.asyncIterator]();
    try {
      for (;;) {
        const t0 = performance.now();
        const next = await it.next();
        this.waitMs += performance.now() - t0;
        if (next.done) return;
        this.pages++;
        this.maxPageSize = Math.max(this.maxPageSize, next.value.length);
        this.events += next.value.length;
        yield next.value;
      }
    } finally {
      await it.return?.();
    }
  }
}
