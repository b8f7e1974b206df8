import { bucketMs, dtBounds, type CompiledQuery, type CompileOptions } from '../query/compile.js';
import { intOutsideWhere, type Dialect, type Param } from '../query/dialect.js';
import { DEFAULT_LIMIT, type Query, type TimeRange } from '../query/model.js';

/**
 * The query API's `detections` query type over the detections table (one row per alert,
 * partitioned by the day its window starts). Every value is bound, like the events queries.
 */
export type DetectionsQuery = Extract<Query, { type: 'detections' }>;

/** A rule's longest window (shared/detections/rule.ts): an alert's `dt` is at most this before its first event. */
const MAX_WINDOW_MS = 7 * 86_400_000;

export const ALERT_COLUMNS_SHOWN = [
  'first_ts',
  'severity',
  'rule',
  'title',
  'technique',
  'key',
  'entity',
  'count',
  'measure',
  'last_ts',
  'window_start',
  'window_end',
  'event_ids',
  'id',
  'raised_at',
] as const;

/** The drill-down (`format: 'events'`) opens the events of at most this many alerts. */
export const MAX_ALERTS_OPENED = 50;

// Quoted: `key` and `count` are column names here, and words some SQL dialects reserve.
const q = (name: string) => `"${name}"`;

function inList(column: string, values: readonly string[], params: Param[]): string {
  for (const v of values) params.push({ type: 'string', value: v });
  return `${q(column)} IN (${values.map(() => '?').join(', ')})`;
}

/** Alerts whose first event lies in the range (and its `dt` partitions), with the query's filters. */
function where(query: DetectionsQuery, range: TimeRange, d: Dialect, params: Param[]): string {
  const [first, last] = dtBounds({ from: Math.max(0, range.from - MAX_WINDOW_MS), to: range.to });
  params.push(
    { type: 'string', value: first },
    { type: 'string', value: last },
    { type: 'timestamp', value: range.from },
    { type: 'timestamp', value: range.to },
  );
  const parts = [`dt BETWEEN ? AND ? AND first_ts >= ${d.timestamp()} AND first_ts < ${d.timestamp()}`];
  if (query.rules?.length) parts.push(inList('rule', query.rules, params));
  if (query.severities?.length) parts.push(inList('severity', query.severities, params));
  if (query.alertIds?.length) parts.push(inList('id', query.alertIds, params));
  return parts.join('\n  AND ');
}

/**
 * `alerts` (and the first step of `events`: the alerts whose events are opened) and `timeseries`.
 * The events of `events` are a second, ordinary events query the service runs with their ids.
 */
export function compileDetectionsQuery(
  query: DetectionsQuery,
  range: TimeRange,
  opts: CompileOptions,
): CompiledQuery {
  const d = opts.dialect;
  const params: Param[] = [];
  if (query.format === 'timeseries') {
    const step = bucketMs(query, range, opts);
    const bucket = `CAST(floor(${d.epochMs('first_ts')} / CAST(${intOutsideWhere(d, step, params)} AS DOUBLE)) AS BIGINT) * ${intOutsideWhere(d, step, params)}`;
    const series = q(query.splitBy ?? 'rule');
    const w = where(query, range, d, params);
    return {
      sql: `SELECT ${bucket} AS time, ${series} AS series, count(*) AS count\nFROM ${opts.table}\nWHERE ${w}\nGROUP BY 1, 2\nORDER BY 1, 2`,
      params,
    };
  }
  const limit =
    query.format === 'events'
      ? Math.min(query.limit ?? MAX_ALERTS_OPENED, MAX_ALERTS_OPENED)
      : (query.limit ?? DEFAULT_LIMIT);
  const w = where(query, range, d, params);
  const lim = intOutsideWhere(d, limit + 1, params);
  return {
    sql: `SELECT ${ALERT_COLUMNS_SHOWN.map(q).join(', ')}\nFROM ${opts.table}\nWHERE ${w}\nORDER BY first_ts DESC, ${q('id')}\nLIMIT ${lim}`,
    params,
    limit,
  };
}
