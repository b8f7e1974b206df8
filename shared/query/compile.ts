import type { ColumnName } from '../event/columns.js';
import { compileDetectionsQuery } from '../detections/query.js';
import { DAY_MS } from '../event/partition.js';
import { intOutsideWhere, type Dialect, type Param } from './dialect.js';
import { columnsOf, type GroupField } from './fields.js';
import { LIMITS, type FilterKey } from '../api/contract.js';
import {
  DEFAULT_LIMIT,
  QueryValidationError,
  intervalMs,
  parseCidr,
  type Filters,
  type Query,
  type TimeRange,
} from './model.js';

/**
 * One structured query → SQL for one dialect. Every value is a bound parameter (`?`, in order);
 * every query is restricted to the `dt` partitions of its range and to its exact `ts` bounds;
 * only the columns it needs are read.
 */
export interface CompiledQuery {
  sql: string;
  params: Param[];
  /** events: the row limit asked for (the SQL asks one more, to tell when rows were cut). */
  limit?: number;
}

export interface CompileOptions {
  dialect: Dialect;
  /** The table expression: a Glue table name, or DuckDB's read_parquet(...) over the day files. */
  table: string;
  /** Grafana's suggested interval, when the query names none. */
  intervalMs?: number;
  maxDataPoints?: number;
  /**
   * The table's rows are counts, not events: this column holds how many events each row stands
   * for (a rollup), so counting sums it. Distinct counts are unchanged.
   */
  weight?: string;
  /**
   * Filters the table has applied already (a rollup of the events whose body holds a text): left
   * out of the WHERE clause.
   */
  applied?: readonly FilterKey[];
  /** Raw SQL's `$__rollup`, where the engine keeps one for the range (else the events, counted one by one). */
  rollup?: string;
  /**
   * A counting query's answer over a part of its range, in the form mergePartials (partial.ts)
   * adds to the other parts' answers: every group, unranked and uncut; a distinct count's values.
   */
  partial?: boolean;
}

/** The stored column each filter reads. */
export const FILTER_COLUMNS = {
  actions: 'action',
  areas: 'area',
  outcomes: 'outcome',
  userIds: 'user_id',
  userRoles: 'user_roles',
  sourceIps: 'source_ip',
  httpMethods: 'http_method',
  statuses: 'http_status',
  resourceTypes: 'resource_type',
  resourceIds: 'resource_id',
  eventIds: 'event_id',
  urlContains: 'url',
  pathContains: 'url_path',
  bodyContains: 'request_body',
  knownAction: 'known_action',
} as const satisfies Record<FilterKey, ColumnName>;

/**
 * The stored columns a counting query (stat, topn, timeseries) reads besides `ts` and `dt`: what a
 * rollup must keep to answer it.
 */
export function columnsRead(query: Extract<Query, { type: 'stat' | 'topn' | 'timeseries' }>): ColumnName[] {
  const out = new Set<ColumnName>();
  for (const [key, value] of Object.entries(query.filters ?? {}))
    if (value !== undefined && !(Array.isArray(value) && value.length === 0))
      out.add(FILTER_COLUMNS[key as FilterKey]);
  const field =
    query.type === 'topn'
      ? query.field
      : query.type === 'timeseries'
        ? query.splitBy
        : query.metric === 'distinct'
          ? query.field
          : undefined;
  if (field) for (const c of columnsOf(field)) out.add(c);
  return [...out];
}

/** The columns an events query returns. */
export const EVENT_COLUMNS_SHOWN = [
  'ts',
  'event_id',
  'action',
  'area',
  'outcome',
  'user_id',
  'user_roles',
  'source_ip',
  'http_method',
  'http_status',
  'url_path',
  'resource_type',
  'resource_id',
  'request_body',
] as const satisfies readonly ColumnName[];

/** The days a range touches, as `dt` values, first and last. */
export function dtBounds(range: TimeRange): [string, string] {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return [day(range.from), day(range.to - 1)];
}

export function daysOf(range: TimeRange): string[] {
  const out: string[] = [];
  for (let d = Math.floor(range.from / DAY_MS) * DAY_MS; d < range.to; d += DAY_MS) {
    out.push(new Date(d).toISOString().slice(0, 10));
  }
  return out;
}

/** `dt BETWEEN ? AND ? AND ts >= ? AND ts < ?`: partition pruning plus the exact bounds. */
export function timeFilter(range: TimeRange, d: Dialect, params: Param[]): string {
  const [first, last] = dtBounds(range);
  params.push(
    { type: 'string', value: first },
    { type: 'string', value: last },
    { type: 'timestamp', value: range.from },
    { type: 'timestamp', value: range.to },
  );
  return `dt BETWEEN ? AND ? AND ts >= ${d.timestamp()} AND ts < ${d.timestamp()}`;
}

function inList(column: ColumnName, values: readonly (string | number)[], params: Param[]): string {
  for (const v of values)
    params.push(typeof v === 'number' ? { type: 'int', value: v } : { type: 'string', value: v });
  return `${column} IN (${values.map(() => '?').join(', ')})`;
}

function contains(column: ColumnName, needle: string, params: Param[]): string {
  params.push({ type: 'string', value: containsNeedle(needle) });
  return containsSql(column, '?');
}

/**
 * A "contains" filter's test, case-insensitive, with the needle (containsNeedle of the text)
 * bound at `placeholder`: one definition for the compiled queries and the rollups that keep the
 * events matching one (DuckDB).
 */
export function containsSql(column: string, placeholder: string): string {
  return `strpos(lower(${column}), ${placeholder}) > 0`;
}

export function containsNeedle(text: string): string {
  return text.toLowerCase();
}

function filterSql(filters: Filters | undefined, d: Dialect, params: Param[]): string[] {
  if (!filters) return [];
  const out: string[] = [];
  const f = filters;
  if (f.actions?.length) out.push(inList(FILTER_COLUMNS.actions, f.actions, params));
  if (f.areas?.length) out.push(inList(FILTER_COLUMNS.areas, f.areas, params));
  if (f.outcomes?.length)
    out.push(
      inList(
        FILTER_COLUMNS.outcomes,
        f.outcomes.map((o) => o.toLowerCase()),
        params,
      ),
    );
  if (f.userIds?.length) out.push(inList(FILTER_COLUMNS.userIds, f.userIds, params));
  if (f.userRoles?.length) {
    for (const r of f.userRoles) params.push({ type: 'string', value: r });
    out.push(d.listHasAny(FILTER_COLUMNS.userRoles, f.userRoles.length));
  }
  if (f.sourceIps?.length) {
    const parts = f.sourceIps.map((text, i) => {
      const cidr = parseCidr(text);
      if (!cidr) throw new QueryValidationError(`filters.sourceIps.${i}`, 'not an address or CIDR');
      try {
        return d.ipInCidr(cidr, text, params);
      } catch (err) {
        throw new QueryValidationError(`filters.sourceIps.${i}`, (err as Error).message);
      }
    });
    out.push(`(${parts.join(' OR ')})`);
  }
  if (f.httpMethods?.length)
    out.push(
      inList(
        FILTER_COLUMNS.httpMethods,
        f.httpMethods.map((m) => m.toUpperCase()),
        params,
      ),
    );
  if (f.statuses?.length) {
    const parts = f.statuses.map((s) => {
      if (typeof s === 'number') {
        params.push({ type: 'int', value: s });
        return 'http_status = ?';
      }
      const base = Number(s[0]) * 100;
      params.push({ type: 'int', value: base }, { type: 'int', value: base + 99 });
      return 'http_status BETWEEN ? AND ?';
    });
    out.push(`(${parts.join(' OR ')})`);
  }
  if (f.urlContains) out.push(contains(FILTER_COLUMNS.urlContains, f.urlContains, params));
  if (f.pathContains) out.push(contains(FILTER_COLUMNS.pathContains, f.pathContains, params));
  if (f.resourceTypes?.length) out.push(inList(FILTER_COLUMNS.resourceTypes, f.resourceTypes, params));
  if (f.resourceIds?.length) out.push(inList(FILTER_COLUMNS.resourceIds, f.resourceIds, params));
  if (f.bodyContains) out.push(contains(FILTER_COLUMNS.bodyContains, f.bodyContains, params));
  if (f.eventIds?.length) out.push(inList(FILTER_COLUMNS.eventIds, f.eventIds, params));
  if (f.knownAction !== undefined) {
    params.push({ type: 'bool', value: f.knownAction });
    out.push('known_action = ?');
  }
  return out;
}

/** The SQL expression of a group field (user_role needs the unnest join). */
function fieldExpr(field: GroupField): string {
  // `||`, not concat(): DuckDB's concat skips a NULL (a missing status became "xx"), Trino's is NULL.
  if (field === 'status_class') return "CAST(CAST(floor(http_status / 100.0) AS INTEGER) AS VARCHAR) || 'xx'";
  if (field === 'http_status' || field === 'known_action') return `CAST(${field} AS VARCHAR)`;
  return field;
}

function fromClause(table: string, field: GroupField | undefined, d: Dialect): string {
  return field === 'user_role' ? `${table} ${d.unnestRoles()}` : table;
}

function where(range: TimeRange, filters: Filters | undefined, d: Dialect, params: Param[]): string {
  return [timeFilter(range, d, params), ...filterSql(filters, d, params)].join('\n  AND ');
}

/** Interval for a time series: the query's own, else Grafana's, never finer than the range allows. */
export function bucketMs(query: { interval?: string }, range: TimeRange, opts: CompileOptions): number {
  if (query.interval) return intervalMs(query.interval);
  const points = opts.maxDataPoints && opts.maxDataPoints > 0 ? opts.maxDataPoints : 1000;
  const floor = Math.ceil((range.to - range.from) / points);
  const nice = [1e3, 5e3, 1e4, 3e4, 6e4, 3e5, 6e5, 9e5, 18e5, 36e5, 108e5, 216e5, 432e5, 864e5, 6048e5];
  const wanted = Math.max(opts.intervalMs ?? 0, floor);
  return nice.find((n) => n >= wanted) ?? 6048e5;
}

/** The query without the filters its table has applied already (CompileOptions.applied). */
export function withoutApplied<Q extends Exclude<Query, { type: 'sql' }>>(
  query: Q,
  applied: readonly FilterKey[] = [],
): Q {
  if (applied.length === 0 || !('filters' in query) || !query.filters) return query;
  const kept = Object.entries(query.filters).filter(([k]) => !applied.includes(k as FilterKey));
  return { ...query, filters: Object.fromEntries(kept) as Filters };
}

export function compileQuery(
  query: Exclude<Query, { type: 'sql' }>,
  range: TimeRange,
  opts: CompileOptions,
): CompiledQuery {
  const d = opts.dialect;
  const params: Param[] = [];
  query = withoutApplied(query, opts.applied);
  // The same type and the same 0 on no rows as count(*).
  const count = opts.weight ? `CAST(coalesce(sum(${opts.weight}), 0) AS BIGINT)` : 'count(*)';
  switch (query.type) {
    case 'events': {
      const limit = query.limit ?? DEFAULT_LIMIT;
      const w = where(range, query.filters, d, params);
      const lim = intOutsideWhere(d, limit + 1, params);
      return {
        sql: `SELECT ${EVENT_COLUMNS_SHOWN.join(', ')}\nFROM ${opts.table}\nWHERE ${w}\nORDER BY ts ${query.order === 'asc' ? 'ASC' : 'DESC'}, event_id\nLIMIT ${lim}`,
        params,
        limit,
      };
    }
    case 'timeseries': {
      const step = bucketMs(query, range, opts);
      // Bucket start in epoch ms: floor(ms / step) * step.
      const bucketParams: Param[] = [];
      const bucket = `CAST(floor(${d.epochMs('ts')} / CAST(${intOutsideWhere(d, step, bucketParams)} AS DOUBLE)) AS BIGINT) * ${intOutsideWhere(d, step, bucketParams)}`;
      if (!query.splitBy) {
        params.push(...bucketParams);
        const w = where(range, query.filters, d, params);
        return {
          sql: `SELECT ${bucket} AS time, ${count} AS count\nFROM ${opts.table}\nWHERE ${w}\nGROUP BY 1${opts.partial ? '' : '\nORDER BY 1'}`,
          params,
        };
      }
      const field = query.splitBy;
      params.push(...bucketParams);
      const w1 = where(range, query.filters, d, params);
      // Counted per (bucket, series) first: the ranking and the "other" fold then work on a few
      // thousand groups, not on every matching row.
      const inner = `SELECT ${bucket} AS time, ${fieldExpr(field)} AS series, ${count} AS n\n  FROM ${fromClause(opts.table, field, d)}\n  WHERE ${w1}\n  GROUP BY 1, 2`;
      if (opts.partial) return { sql: inner, params };
      const maxSeries = intOutsideWhere(d, query.maxSeries ?? LIMITS.maxSeries.default, params);
      // The largest series by their own counts; the rest are summed into "other".
      return {
        sql:
          `WITH base AS (\n  ${inner}\n),\n` +
          `top AS (SELECT series FROM base WHERE series IS NOT NULL GROUP BY series ORDER BY sum(n) DESC, series LIMIT ${maxSeries})\n` +
          `SELECT time, CASE WHEN series IN (SELECT series FROM top) THEN series WHEN series IS NULL THEN '(none)' ELSE 'other' END AS series, sum(n) AS count\n` +
          `FROM base\nGROUP BY 1, 2\nORDER BY 1, 2`,
        params,
      };
    }
    case 'topn': {
      const w = where(range, query.filters, d, params);
      const grouped = `SELECT ${fieldExpr(query.field)} AS value, ${count} AS count\nFROM ${fromClause(opts.table, query.field, d)}\nWHERE ${w}\nGROUP BY 1`;
      if (opts.partial) return { sql: grouped, params };
      const lim = intOutsideWhere(d, query.limit ?? LIMITS.topn.default, params);
      return { sql: `${grouped}\nORDER BY 2 DESC, 1\nLIMIT ${lim}`, params };
    }
    case 'detections':
      // Over the detections table: opts.table is the engine's detectionsTableFor(range).
      return compileDetectionsQuery(query, range, opts);
    case 'stat': {
      const w = where(range, query.filters, d, params);
      const field = query.metric === 'distinct' ? query.field : undefined;
      if (field && opts.partial)
        return {
          sql: `SELECT ${fieldExpr(field)} AS value\nFROM ${fromClause(opts.table, field, d)}\nWHERE ${w}\nGROUP BY 1`,
          params,
        };
      const value = field ? `count(DISTINCT ${fieldExpr(field)})` : count;
      return {
        sql: `SELECT ${value} AS value\nFROM ${fromClause(opts.table, field, d)}\nWHERE ${w}`,
        params,
      };
    }
  }
}
