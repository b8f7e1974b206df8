import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { HOUR_MS, floorHour } from '../../../shared/event/partition.js';
import type { RawHit } from '../../../shared/normalise/normalise.js';
import type { HitSource, SourceHit, TimeRange } from '../source.js';
import { createEsClient, describeEs, type EsConfig } from './config.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface EsSourceOptions {
  pageSize?: number;
  keepAlive?: string;
  /** Force the scroll reader (for clusters or roles without point-in-time). */
  mode?: 'auto' | 'pit' | 'scroll';
  retry?: RetryOptions;
  onNotice?: (message: string) => void;
}

// Elasticsearch's parsed @timestamp, in ms even for date_nanos, is the sort key and the slot key.
const TIME_SORT = { '@timestamp': { order: 'asc', numeric_type: 'date', format: 'epoch_millis' } } as const;

/**
 * Closer's Elasticsearch: a point-in-time with search_after over @timestamp (tiebreaker
 * _shard_doc), falling back to a sorted scroll where point-in-time is not available.
 * The next page is requested while the current one is processed.
 */
export class ElasticsearchSource implements HitSource {
  readonly id: string;
  readonly description: string;
  readonly ordered = true;
  readonly client: Client;
  private readonly pageSize: number;
  private readonly keepAlive: string;
  private mode: 'auto' | 'pit' | 'scroll';

  constructor(
    private readonly config: EsConfig,
    private readonly options: EsSourceOptions = {},
    client?: Client,
  ) {
    this.client = client ?? createEsClient(config);
    this.id = `es-${config.index.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    this.description = describeEs(config);
    this.pageSize = options.pageSize ?? 5_000;
    this.keepAlive = options.keepAlive ?? '5m';
    this.mode = options.mode ?? 'auto';
  }

  private retry<T>(fn: () => Promise<T>, extra: Partial<RetryOptions> = {}): Promise<T> {
    return withRetry(fn, { ...this.options.retry, ...extra });
  }

  private query(range: TimeRange): estypes.QueryDslQueryContainer {
    return { range: { '@timestamp': { gte: range.from, lt: range.to, format: 'epoch_millis' } } };
  }

  async *pages(range: TimeRange): AsyncIterable<SourceHit[]> {
    if (this.mode !== 'scroll') {
      let pit: string | null = null;
      try {
        pit = await this.openPit();
      } catch (err) {
        if (this.mode === 'pit' || !pitUnavailable(err)) throw err;
        this.options.onNotice?.(`point-in-time unavailable (${describeError(err)}); reading with scroll`);
        this.mode = 'scroll';
      }
      if (pit !== null) {
        yield* this.pitPages(pit, range);
        return;
      }
    }
    yield* this.scrollPages(range);
  }

  private async openPit(): Promise<string> {
    const res = await this.retry(() =>
      this.client.openPointInTime({ index: this.config.index, keep_alive: this.keepAlive }),
    );
    return res.id;
  }

  private async *pitPages(initialPit: string, range: TimeRange): AsyncIterable<SourceHit[]> {
    let pit = initialPit;
    let searchAfter: estypes.SortResults | undefined;
    const fetchPage = (after: estypes.SortResults | undefined) =>
      this.retry(() =>
        this.client.search({
          pit: { id: pit, keep_alive: this.keepAlive },
          size: this.pageSize,
          sort: [TIME_SORT, { _shard_doc: 'asc' }] as estypes.Sort,
          query: this.query(range),
          track_total_hits: false,
          ...(after ? { search_after: after } : {}),
        }),
      );
    try {
      let next = fetchPage(undefined);
      for (;;) {
        const res = await next;
        if (res.pit_id) pit = res.pit_id;
        const hits = res.hits.hits;
        if (hits.length === 0) return;
        searchAfter = hits[hits.length - 1]?.sort;
        // Ask for the next page before handing this one over: fetching overlaps processing.
        next =
          hits.length < this.pageSize
            ? Promise.resolve({ ...res, hits: { hits: [] } })
            : fetchPage(searchAfter);
        next.catch(() => undefined);
        yield handOver(hits);
      }
    } finally {
      await this.client.closePointInTime({ id: pit }).catch(() => undefined);
    }
  }

  private async *scrollPages(range: TimeRange): AsyncIterable<SourceHit[]> {
    const scroll = this.keepAlive;
    let res = await this.retry(() =>
      this.client.search({
        index: this.config.index,
        scroll,
        size: this.pageSize,
        sort: [TIME_SORT, { _doc: 'asc' }] as estypes.Sort,
        query: this.query(range),
      }),
    );
    let scrollId = res._scroll_id;
    try {
      while (res.hits.hits.length > 0) {
        const hits = res.hits.hits;
        const id = scrollId as string;
        // A scroll call moves the cursor: retry only what the server refused outright, never an
        // ambiguous failure that may have consumed a page. Such a failure fails the run, which
        // then rewrites its slots from the start on the next run.
        const next = this.retry(() => this.client.scroll({ scroll_id: id, scroll }), { onlyRejected: true });
        next.catch(() => undefined);
        yield handOver(hits);
        res = await next;
        scrollId = res._scroll_id ?? scrollId;
      }
    } finally {
      if (scrollId) await this.client.clearScroll({ scroll_id: scrollId }).catch(() => undefined);
    }
  }

  async countPerHour(range: TimeRange): Promise<Map<number, number>> {
    try {
      return await this.histogramCounts(range);
    } catch (err) {
      if (!(err instanceof errors.ResponseError) || (err.meta.statusCode ?? 0) >= 500) throw err;
      // Clusters without the aggregation (or roles that may not aggregate) still answer _count.
      const counts = new Map<number, number>();
      for (let h = floorHour(range.from); h < range.to; h += HOUR_MS) {
        const slot = { from: Math.max(h, range.from), to: Math.min(h + HOUR_MS, range.to) };
        const res = await this.retry(() =>
          this.client.count({ index: this.config.index, query: this.query(slot) }),
        );
        if (res.count > 0) counts.set(h, res.count);
      }
      return counts;
    }
  }

  private async histogramCounts(range: TimeRange): Promise<Map<number, number>> {
    const res = await this.retry(() =>
      this.client.search({
        index: this.config.index,
        size: 0,
        query: this.query(range),
        aggs: { hours: { date_histogram: { field: '@timestamp', fixed_interval: '1h', min_doc_count: 1 } } },
      }),
    );
    const buckets = (res.aggregations?.hours as estypes.AggregationsDateHistogramAggregate | undefined)
      ?.buckets;
    if (!Array.isArray(buckets)) throw new Error('date_histogram returned no buckets');
    return new Map(buckets.map((b) => [Number(b.key), b.doc_count]));
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/**
 * The page as SourceHits, the response's own array emptied: the consumer then holds the only
 * references, and hits it is done with can be collected young (see ingestChunk).
 */
function handOver(hits: estypes.SearchHit<unknown>[]): SourceHit[] {
  const page = hits.map(toSourceHit);
  hits.length = 0;
  return page;
}

function toSourceHit(hit: estypes.SearchHit<unknown>): SourceHit {
  const sortTs = Array.isArray(hit.sort) ? Number(hit.sort[0]) : NaN;
  return { hit: hit as unknown as RawHit, slotTs: Number.isFinite(sortTs) ? sortTs : null };
}

function pitUnavailable(err: unknown): boolean {
  if (!(err instanceof errors.ResponseError)) return false;
  const status = err.meta.statusCode ?? 0;
  // 400/404/405: no such API (old cluster, OpenSearch); 403: the role may search but not open a PIT.
  return status === 400 || status === 403 || status === 404 || status === 405;
}

export function describeError(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const body = err.meta.body as { error?: { type?: string; reason?: string } } | undefined;
    return `HTTP ${err.meta.statusCode}${body?.error?.type ? ` ${body.error.type}` : ''}${body?.error?.reason ? `: ${body.error.reason}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
