import { errors, type Client } from '@elastic/elasticsearch';
import type { estypes } from '@elastic/elasticsearch';
import { HOUR_MS, floorHour } from '../../../shared/event/partition.js';
import type { RawHit } from '../../../shared/normalise/normalise.js';
import type { HitSource, SourceCounts, SourceHit, TimeRange } from '../source.js';
import { createEsClient, describeEs, redactUserinfo, type EsConfig } from './config.js';
import {
  credentialsError,
  describeServer,
  describeStrategy,
  detectServer,
  EsSetupError,
  hourHistogram,
  parseServerSetting,
  readStrategy,
  timeSort,
  wireFor,
  type ReadStrategy,
  type ServerInfo,
} from './server.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface EsSourceOptions {
  pageSize?: number;
  keepAlive?: string;
  /** Force the scroll reader (for clusters or roles without point-in-time). */
  mode?: 'auto' | 'pit' | 'scroll';
  retry?: RetryOptions;
  onNotice?: (message: string) => void;
}

/**
 * Closer's Elasticsearch, or OpenSearch: the server and version are found first (open()), then
 * read the best consistent way that server offers (see server.ts): a point-in-time with
 * search_after over @timestamp and a tiebreaker, or a sorted scroll. The next page is requested
 * while the current one is processed.
 */
export class ElasticsearchSource implements HitSource {
  readonly id: string;
  readonly ordered = true;
  private readonly where: string;
  /** The URL alone (no credentials), for messages naming CLOSER_ES_URL. */
  private readonly host: string;
  private readonly pageSize: number;
  private readonly keepAlive: string;
  private mode: 'auto' | 'pit' | 'scroll';
  private client: Client;
  private opened: Promise<void> | null = null;
  private server: ServerInfo | null = null;
  private strategy: ReadStrategy | null = null;

  constructor(
    private readonly config: EsConfig,
    private readonly options: EsSourceOptions = {},
  ) {
    if (config.url !== undefined && !config.cloudId && !URL.canParse(config.url)) {
      // A setting mistyped, not a fault of the server: the CLI exits 2 as for any usage error.
      throw Object.assign(
        new EsSetupError(
          `CLOSER_ES_URL ${JSON.stringify(redactUserinfo(config.url))} is not a URL: use http(s)://host:port`,
        ),
        { exitCode: 2 },
      );
    }
    this.id = `es-${config.index.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    this.where = describeEs(config);
    this.host = config.cloudId
      ? `Elastic Cloud ${config.cloudId.split(':')[0]}`
      : redactUserinfo(config.url ?? '');
    // The first client talks plain JSON without the product check: it must reach any server.
    this.client = createEsClient(config, wireFor(null));
    this.pageSize = options.pageSize ?? 5_000;
    this.keepAlive = options.keepAlive ?? '5m';
    this.mode = options.mode ?? 'auto';
  }

  /** Before open(): where; after: what was found there and how it is read. */
  get description(): string {
    if (!this.server || !this.strategy) return this.where;
    const reading = this.strategy.kind === 'scroll' ? 'sorted scroll' : describeStrategy(this.strategy);
    return `${describeServer(this.server)} at ${this.where.replace(/^Elasticsearch /, '')}, ${reading}`;
  }

  /** Finds the server and how to read it; once, also when pages() or countPerHour() come first. */
  open(): Promise<void> {
    this.opened ??= this.connect().catch((err: unknown) => {
      this.opened = null;
      throw this.explain(err);
    });
    return this.opened;
  }

  private async connect(): Promise<void> {
    const server = this.config.server
      ? parseServerSetting(this.config.server)
      : await this.retry(() => detectServer(this.client, this.host, this.credentials()));
    if (server.product === 'OpenSearch' && this.config.apiKey) {
      throw new EsSetupError(
        `CLOSER_ES_API_KEY is set, but ${describeServer(server)} at ${this.where} has no API keys: use CLOSER_ES_USERNAME and CLOSER_ES_PASSWORD`,
      );
    }
    const wire = wireFor(server);
    if (Object.keys(wire).length === 0) {
      // Elasticsearch 8+: the client as it comes, product check and versioned media types.
      await this.client.close();
      this.client = createEsClient(this.config, wire);
    }
    let strategy = readStrategy(server);
    if (this.mode === 'scroll') strategy = { kind: 'scroll' };
    if (this.mode === 'pit' && strategy.kind !== 'pit') {
      throw new EsSetupError(`${describeServer(server)} at ${this.where} has no point-in-time to read with`);
    }
    this.server = server;
    this.strategy = strategy;
  }

  /** Which credentials were sent, for a 401 (names of settings, never their values). */
  private credentials(): string {
    if (this.config.apiKey) return 'the API key in CLOSER_ES_API_KEY was sent';
    if (this.config.username) {
      return `user ${JSON.stringify(this.config.username)} (CLOSER_ES_USERNAME, with CLOSER_ES_PASSWORD) was sent`;
    }
    if (this.config.url && /\/\/[^/@]+@/.test(this.config.url)) return 'the user in CLOSER_ES_URL was sent';
    return 'none were sent: set CLOSER_ES_API_KEY, or CLOSER_ES_USERNAME and CLOSER_ES_PASSWORD';
  }

  /** One line naming the setting at fault, for the failures a user can fix. */
  private explain(err: unknown): unknown {
    if (err instanceof EsSetupError) return err;
    if (err instanceof errors.ResponseError) {
      const status = err.meta.statusCode ?? 0;
      const type = (err.meta.body as { error?: { type?: string } } | undefined)?.error?.type;
      if (status === 401) return credentialsError(this.host, this.credentials());
      if (type === 'index_not_found_exception') {
        return new EsSetupError(
          `CLOSER_ES_INDEX ${JSON.stringify(this.config.index)}: no such index at ${this.host}`,
        );
      }
      return new EsSetupError(`${this.where}: ${describeError(err)}`);
    }
    if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError) {
      return new EsSetupError(`CLOSER_ES_URL ${this.host}: ${err.name} (${err.message.split('\n')[0]})`);
    }
    if (err instanceof errors.ProductNotSupportedError) {
      return new EsSetupError(`CLOSER_ES_URL ${this.host}: ${err.message.split('\n')[0]}`);
    }
    return err;
  }

  private retry<T>(fn: () => Promise<T>, extra: Partial<RetryOptions> = {}): Promise<T> {
    return withRetry(fn, { ...this.options.retry, ...extra });
  }

  private query(range: TimeRange): estypes.QueryDslQueryContainer {
    return { range: { '@timestamp': { gte: range.from, lt: range.to, format: 'epoch_millis' } } };
  }

  async *pages(range: TimeRange): AsyncIterable<SourceHit[]> {
    await this.open();
    try {
      yield* this.read(this.query(range), true);
    } catch (err) {
      throw this.explain(err);
    }
  }

  /**
   * The documents no hour slot holds: `exists` matches neither a missing or null @timestamp nor a
   * value the index refused to parse (ignore_malformed), on every server of the matrix. They have
   * no time to sort by: read in the tiebreaker's order (PIT) or index order (scroll).
   */
  async *untimedPages(): AsyncIterable<SourceHit[]> {
    await this.open();
    try {
      for await (const page of this.read(UNTIMED, false)) {
        yield page.map(({ hit }) => ({ hit, slotTs: null, rejected: untimedReason(hit) }));
      }
    } catch (err) {
      throw this.explain(err);
    }
  }

  private async *read(query: estypes.QueryDslQueryContainer, byTime: boolean): AsyncIterable<SourceHit[]> {
    const strategy = this.strategy as ReadStrategy;
    if (strategy.kind === 'pit') {
      let pit: string | null = null;
      try {
        pit = await this.openPit(strategy);
      } catch (err) {
        if (this.mode === 'pit' || !pitUnavailable(err)) throw err;
        this.options.onNotice?.(`point-in-time unavailable (${describeError(err)}); reading with scroll`);
        this.strategy = { kind: 'scroll' };
      }
      if (pit !== null) {
        yield* this.pitPages(strategy, pit, query, byTime);
        return;
      }
    }
    yield* this.scrollPages(query, byTime);
  }

  private async openPit(strategy: Extract<ReadStrategy, { kind: 'pit' }>): Promise<string> {
    if (strategy.api === 'elasticsearch') {
      const res = await this.retry(() =>
        this.client.openPointInTime({ index: this.config.index, keep_alive: this.keepAlive }),
      );
      return res.id;
    }
    const res = await this.retry(() =>
      this.client.transport.request<{ pit_id: string }>({
        method: 'POST',
        path: `/${encodeURIComponent(this.config.index)}/_search/point_in_time`,
        querystring: { keep_alive: this.keepAlive },
      }),
    );
    return res.pit_id;
  }

  private async closePit(strategy: Extract<ReadStrategy, { kind: 'pit' }>, pit: string): Promise<void> {
    if (strategy.api === 'elasticsearch') await this.client.closePointInTime({ id: pit });
    else {
      await this.client.transport.request({
        method: 'DELETE',
        path: '/_search/point_in_time',
        body: { pit_id: [pit] },
      });
    }
  }

  private async *pitPages(
    strategy: Extract<ReadStrategy, { kind: 'pit' }>,
    initialPit: string,
    query: estypes.QueryDslQueryContainer,
    byTime: boolean,
  ): AsyncIterable<SourceHit[]> {
    let pit = initialPit;
    let searchAfter: estypes.SortResults | undefined;
    const sort = [
      ...(byTime ? [timeSort(this.server as ServerInfo)] : []),
      ...strategy.tiebreak,
    ] as estypes.Sort;
    const fetchPage = (after: estypes.SortResults | undefined) =>
      this.retry(() =>
        this.client.search({
          pit: { id: pit, keep_alive: this.keepAlive },
          size: this.pageSize,
          sort,
          query,
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
      await this.closePit(strategy, pit).catch(() => undefined);
    }
  }

  private async *scrollPages(
    query: estypes.QueryDslQueryContainer,
    byTime: boolean,
  ): AsyncIterable<SourceHit[]> {
    const scroll = this.keepAlive;
    let res = await this.retry(() =>
      this.client.search({
        index: this.config.index,
        scroll,
        size: this.pageSize,
        sort: [...(byTime ? [timeSort(this.server as ServerInfo)] : []), { _doc: 'asc' }] as estypes.Sort,
        query,
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
    return (await this.counts(range)).perHour;
  }

  /** Per-hour counts over the range and the untimed documents of the whole index: one request. */
  async counts(range: TimeRange): Promise<SourceCounts> {
    await this.open();
    try {
      return await this.countRequests(range);
    } catch (err) {
      throw this.explain(err);
    }
  }

  private async countRequests(range: TimeRange): Promise<SourceCounts> {
    try {
      return await this.histogramCounts(range);
    } catch (err) {
      if (!(err instanceof errors.ResponseError) || (err.meta.statusCode ?? 0) >= 500) throw err;
      if (err.meta.statusCode === 401 || err.meta.statusCode === 404) throw err;
      // Clusters without the aggregation (or roles that may not aggregate) still answer _count.
      const perHour = new Map<number, number>();
      for (let h = floorHour(range.from); h < range.to; h += HOUR_MS) {
        const slot = { from: Math.max(h, range.from), to: Math.min(h + HOUR_MS, range.to) };
        const res = await this.retry(() =>
          this.client.count({ index: this.config.index, query: this.query(slot) }),
        );
        if (res.count > 0) perHour.set(h, res.count);
      }
      const untimed = await this.retry(() => this.client.count({ index: this.config.index, query: UNTIMED }));
      return { perHour, untimed: untimed.count };
    }
  }

  /**
   * One search, no hits: the range or no readable @timestamp; the histogram buckets the first
   * (a document without a value falls in no bucket), the `missing` aggregation counts the second.
   */
  private async histogramCounts(range: TimeRange): Promise<SourceCounts> {
    const res = await this.retry(() =>
      this.client.search({
        index: this.config.index,
        size: 0,
        query: { bool: { should: [this.query(range), UNTIMED], minimum_should_match: 1 } },
        aggs: {
          hours: { date_histogram: hourHistogram(this.server as ServerInfo) },
          untimed: { missing: { field: '@timestamp' } },
        },
      }),
    );
    const buckets = (res.aggregations?.hours as estypes.AggregationsDateHistogramAggregate | undefined)
      ?.buckets;
    const untimed = (res.aggregations?.untimed as estypes.AggregationsMissingAggregate | undefined)
      ?.doc_count;
    if (!Array.isArray(buckets) || typeof untimed !== 'number') {
      throw new Error('the count aggregation returned no buckets');
    }
    return { perHour: new Map(buckets.map((b) => [Number(b.key), b.doc_count])), untimed };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Documents without a value of @timestamp in the index: missing, null, or not parsed as a date. */
const UNTIMED: estypes.QueryDslQueryContainer = { bool: { must_not: [{ exists: { field: '@timestamp' } }] } };

/** Why a document has no hour, in words, from its _source (what the index saw, it does not say). */
export function untimedReason(hit: RawHit): string {
  const source = hit._source as Record<string, unknown> | undefined;
  if (!source || !('@timestamp' in source)) return 'no @timestamp';
  const value = source['@timestamp'];
  if (value === null) return '@timestamp is null';
  return `@timestamp ${JSON.stringify(value)?.slice(0, 80) ?? String(value)} is not a date the index could read`;
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
  const type = (err.meta.body as { error?: { type?: string } } | undefined)?.error?.type;
  if (type === 'index_not_found_exception') return false;
  // 403: the role may search but not open a PIT; 400/404/405: a proxy or a build without the API.
  return status === 400 || status === 403 || status === 404 || status === 405;
}

export function describeError(err: unknown): string {
  if (err instanceof errors.ResponseError) {
    const body = err.meta.body as { error?: { type?: string; reason?: string } } | undefined;
    return `HTTP ${err.meta.statusCode}${body?.error?.type ? ` ${body.error.type}` : ''}${body?.error?.reason ? `: ${body.error.reason.split('\n')[0]}` : ''}`;
  }
  return err instanceof Error ? err.message : String(err);
}
