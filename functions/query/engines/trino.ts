import { athenaDialect, type Param } from '../../../shared/query/dialect.js';
import type { TimeRange } from '../../../shared/query/model.js';
import { DEFAULT_DETECTIONS_TABLE } from '../../../shared/schema/athena.js';
import { parseTrinoTable, trinoTableName } from '../../../shared/schema/trino.js';
import { QueryTimeoutError, type QueryEngine, type QueryResult, type RunOptions } from '../engine.js';
import { athenaLiteral, countPlaceholders } from './athena/literals.js';
import { checkReadOnlySql } from './athena/read-only.js';
import { NUMBER_TYPES, TIME_TYPES, baseType, fieldType, parseTime } from './athena/results.js';

export interface TrinoEngineOptions {
  /** The coordinator, e.g. https://trino.example.com:8443. */
  url: string;
  /** CATALOG.SCHEMA.TABLE of the events table (see `closer-audit ddl --engine trino`). */
  table: string;
  /** CATALOG.SCHEMA.TABLE of the alerts; default the events table's schema, table `detections`. */
  detectionsTable?: string;
  /** X-Trino-User; default closer-audit. */
  user?: string;
  /** Basic auth password (only over https, as Trino itself requires). */
  password?: string;
  /**
   * The session time zone. Compiled queries give the same answer in any zone; raw SQL that
   * formats or truncates times sees this one. Default UTC, which is Athena's.
   */
  timeZone?: string;
  /** Extra session properties (X-Trino-Session), e.g. a resource-group hint. */
  session?: Record<string, string>;
  /** Retries of a 502/503/504 or a refused connection before a query fails. Default 4. */
  retries?: number;
}

/** The protocol's answer to POST /v1/statement and to each nextUri. */
interface StatementResponse {
  id: string;
  nextUri?: string;
  columns?: { name: string; type: string }[];
  data?: unknown[][];
  stats?: { state?: string; physicalInputBytes?: number; processedBytes?: number };
  error?: { message?: string; errorName?: string; errorType?: string };
}

const SOURCE = 'closer-audit';
const NAME = /^[A-Za-z0-9_.]+$/;

/**
 * Trino (or Starburst) over the Hive table the pipeline's files sit under, for teams that run
 * their own instead of Athena. It runs exactly Athena's SQL (athenaDialect: Athena engine 3 is
 * Trino), with the values bound the way Athena binds execution parameters: `EXECUTE IMMEDIATE
 * '<sql>' USING <literal>, ...`, so a value is a literal token of its own and never part of the
 * query text.
 *
 * The client protocol (POST /v1/statement, follow nextUri, DELETE it to cancel) is spoken here
 * over fetch rather than with the trino-client package: that client keeps one mutable set of
 * session headers for every query of a client (concurrent queries would leak session changes into
 * each other), cannot abort a request in flight, does not retry the 503s the protocol asks
 * clients to retry, and brings axios along. What is needed here is ~100 lines.
 */
export class TrinoEngine implements QueryEngine {
  readonly dialect = athenaDialect;
  readonly name = 'trino';

  private readonly base: string;
  private readonly tableName: string;
  private readonly detectionsTableName: string;
  private readonly headers: Record<string, string>;
  private readonly session: Record<string, string>;
  private readonly retries: number;

  constructor(options: TrinoEngineOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new Error(`the Trino URL must be http(s)://host:port, not ${options.url}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new Error(`the Trino URL must be http(s)://host:port, not ${options.url}`);
    if (options.password !== undefined && url.protocol !== 'https:')
      throw new Error('a Trino password is sent only over https: the Trino URL must be https://');
    this.base = url.toString().replace(/\/+$/, '');
    const t = parseTrinoTable(options.table);
    this.tableName = trinoTableName(t.catalog, t.schema, t.table);
    const dt = options.detectionsTable
      ? parseTrinoTable(options.detectionsTable)
      : { ...t, table: DEFAULT_DETECTIONS_TABLE };
    this.detectionsTableName = trinoTableName(dt.catalog, dt.schema, dt.table);
    const user = options.user ?? SOURCE;
    if (!user || /[\r\n]/.test(user)) throw new Error('the Trino user must be a non-empty single line');
    const timeZone = options.timeZone ?? 'UTC';
    if (!/^[A-Za-z0-9_+\-/:]+$/.test(timeZone)) throw new Error(`not a time zone: ${timeZone}`);
    this.headers = {
      'X-Trino-User': user,
      'X-Trino-Source': SOURCE,
      'X-Trino-Time-Zone': timeZone,
      // timestamp(3) comes back as timestamp(3), not as the legacy timestamp type.
      'X-Trino-Client-Capabilities': 'PARAMETRIC_DATETIME',
      ...(options.password !== undefined
        ? { Authorization: `Basic ${Buffer.from(`${user}:${options.password}`).toString('base64')}` }
        : {}),
    };
    for (const [k, v] of Object.entries(options.session ?? {}))
      if (!NAME.test(k) || /[,\r\n]/.test(v)) throw new Error(`not a session property: ${k}=${v}`);
    this.session = { ...(options.session ?? {}) };
    this.retries = options.retries ?? 4;
  }

  async tableFor(_range: TimeRange): Promise<string> {
    return this.tableName;
  }

  async detectionsTableFor(_range: TimeRange): Promise<string> {
    return this.detectionsTableName;
  }

  async run(sql: string, params: Param[], options: RunOptions = {}): Promise<QueryResult> {
    const marks = countPlaceholders(sql);
    if (marks !== params.length)
      throw new Error(`the statement has ${marks} placeholders but ${params.length} values`);
    const quoted = `'${sql.replace(/'/g, "''")}'`;
    const statement = params.length
      ? `EXECUTE IMMEDIATE ${quoted} USING ${params.map(athenaLiteral).join(', ')}`
      : `EXECUTE IMMEDIATE ${quoted}`;
    const { signal, timeoutMs, maxRows } = options;
    if (signal?.aborted) throw abortError();

    // One controller stops both the request in flight and the next one: the caller going away
    // or the time limit, whichever comes first.
    const stop = new AbortController();
    let timedOut = false;
    const onAbort = () => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop.abort();
          }, timeoutMs)
        : null;
    const session = { ...this.session };
    // Trino stops the query itself too, should this process die before it can cancel.
    if (timeoutMs !== undefined) session.query_max_run_time = `${Math.ceil(timeoutMs / 1000) + 5}s`;
    const headers = {
      ...this.headers,
      ...(Object.keys(session).length
        ? {
            'X-Trino-Session': Object.entries(session)
              .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
              .join(','),
          }
        : {}),
    };

    let next: string | undefined;
    try {
      let page = await this.request(`${this.base}/v1/statement`, 'POST', headers, statement, stop.signal);
      let columns: { name: string; type: string }[] | undefined;
      const rows: unknown[][] = [];
      let truncated = false;
      for (;;) {
        next = page.nextUri;
        if (page.error) throw queryError(page);
        columns ??= page.columns;
        for (const row of page.data ?? []) rows.push(row);
        if (maxRows !== undefined && rows.length > maxRows) {
          // Enough to fill the answer and tell it was cut: the rest is not computed.
          truncated = true;
          rows.length = maxRows;
          if (next) await this.cancel(next);
          next = undefined;
          break;
        }
        if (!next) break;
        page = await this.request(next, 'GET', headers, undefined, stop.signal);
      }
      const cols = (columns ?? []).map((c) => ({ name: c.name, type: fieldType(c.type) }));
      const decoders = (columns ?? []).map((c) => decoder(c.type));
      const bytes = page.stats?.physicalInputBytes;
      return {
        columns: cols,
        rows: rows.map((r) => r.map((v, i) => (decoders[i] as (v: unknown) => unknown)(v))),
        executedSql: sql,
        truncated,
        ...(typeof bytes === 'number' ? { bytesScanned: bytes } : {}),
      };
    } catch (err) {
      if (stop.signal.aborted) {
        if (next) await this.cancel(next);
        if (timedOut) throw new QueryTimeoutError(timeoutMs ?? 0);
        throw abortError();
      }
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** One protocol request; retries what the protocol says to retry (503, a restarting coordinator). */
  private async request(
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<StatementResponse> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body, signal });
      } catch (err) {
        if (signal.aborted) throw err;
        if (attempt < this.retries) {
          await sleep(backoff(attempt), signal);
          continue;
        }
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new Error(
          `Trino at ${this.base} is unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        );
      }
      if (res.status === 200) return (await res.json()) as StatementResponse;
      const text = (await res.text().catch(() => '')).trim().split('\n')[0]?.slice(0, 300) ?? '';
      if ([502, 503, 504].includes(res.status) && attempt < this.retries) {
        await sleep(backoff(attempt), signal);
        continue;
      }
      if (res.status === 401)
        throw new Error(`Trino refused the credentials (HTTP 401)${text ? `: ${text}` : ''}`);
      throw new Error(`Trino answered HTTP ${res.status}${text ? `: ${text}` : ''}`);
    }
  }

  /** DELETE of the next URI cancels the query (best effort: the caller's error matters more). */
  private async cancel(next: string): Promise<void> {
    try {
      const res = await fetch(next, {
        method: 'DELETE',
        headers: this.headers,
        signal: AbortSignal.timeout(5000),
      });
      await res.body?.cancel();
    } catch {
      // Trino ends an abandoned query by itself after query.client.timeout (5 minutes).
    }
  }

  /**
   * Trino could tell the statement's type only by running it, so this is the same conservative
   * lexer as Athena's; the real guard is a Trino user that may only read the events table.
   */
  async checkReadOnly(sql: string): Promise<void> {
    checkReadOnlySql(sql);
  }

  async close(): Promise<void> {
    // Nothing held open: each query is its own requests.
  }
}

/**
 * How a JSON value of a Trino type becomes the engine's plain value: times as epoch ms (the
 * protocol sends them as text), numbers as numbers (decimals come as text), arrays as arrays.
 */
function decoder(type: string): (v: unknown) => unknown {
  const t = baseType(type);
  if (TIME_TYPES.has(t)) return (v) => (typeof v === 'string' ? parseTime(v) : v);
  if (NUMBER_TYPES.has(t)) return (v) => (typeof v === 'string' ? Number(v) : v);
  if (t === 'array') {
    const inner = decoder(/^array\((.*)\)$/i.exec(type.trim())?.[1] ?? 'varchar');
    return (v) => (Array.isArray(v) ? v.map(inner) : v);
  }
  return (v) => v;
}

function queryError(page: StatementResponse): Error {
  const e = page.error ?? {};
  const name = e.errorName ? `${e.errorName}: ` : '';
  // The first line only: Trino's messages can carry the whole statement after it.
  const message = (e.message ?? 'no message').split('\n')[0];
  return new Error(`Trino query ${page.id} failed: ${name}${message}`);
}

function backoff(attempt: number): number {
  return Math.min(100 * 2 ** attempt, 2000) * (0.5 + Math.random() / 2);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const err = new Error('query cancelled: the caller went away');
  err.name = 'AbortError';
  return err;
}
