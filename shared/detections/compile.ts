import type { Dialect } from '../query/dialect.js';
import type { CompiledQuery } from '../query/compile.js';
import type { TimeRange } from '../query/model.js';
import { expandMacros } from '../query/raw-sql.js';
import { durationMs, type Rule } from './rule.js';

/** At most this many event ids travel with an alert: enough to open them, small enough to store. */
export const ALERT_EVENT_IDS = 20;

/**
 * Windows are `window` long and start every half window (aligned to the epoch), so a burst no
 * longer than half a window always falls whole into one of them, wherever it starts; the evaluator
 * merges overlapping windows that both fire into one alert.
 */
export function hopMs(rule: Rule): number {
  return durationMs(rule.window) / 2;
}

/** The starts of the windows a range's evaluation covers: from the first window holding `from`. */
export function windowsRange(rule: Rule, range: TimeRange): TimeRange {
  const h = hopMs(rule);
  return { from: Math.floor(range.from / h) * h - h, to: Math.ceil(range.to / h) * h };
}

/** The events the rule's SQL reads: its windows, and the history before them it looks back over. */
export function readRange(rule: Rule, range: TimeRange): TimeRange {
  const windows = windowsRange(rule, range);
  return {
    from: windows.from - (rule.history ? durationMs(rule.history) : 0),
    to: windows.to + hopMs(rule),
  };
}

/** `$__jsonString(column, field)`: a top-level string field of a JSON text column, null when not JSON. */
function jsonString(d: Dialect, column: string, field: string): string {
  const path = `'$.${field}'`;
  // DuckDB's json_extract_string fails on text that is not JSON (a truncated body); Trino's and
  // Athena's json_extract_scalar returns NULL there.
  return d.name === 'duckdb'
    ? `(CASE WHEN json_valid(${column}) THEN json_extract_string(${column}, ${path}) END)`
    : `json_extract_scalar(${column}, ${path})`;
}

function expandJson(sql: string, d: Dialect, file: string): string {
  return sql.replace(
    /\$__jsonString\(\s*([^,()]*?)\s*,\s*([^()]*?)\s*\)/g,
    (_, col: string, field: string) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(col) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field))
        throw new Error(`${file}: sql: $__jsonString(${col}, ${field}) takes a column and a field name`);
      return jsonString(d, col, field);
    },
  );
}

/** The first n values of `expr` by time, as a list. */
function firstN(d: Dialect, expr: string, n: number): string {
  return d.name === 'duckdb'
    ? `list(${expr} ORDER BY ts, event_id)[1:${n}]`
    : `slice(array_agg(${expr} ORDER BY ts, event_id), 1, ${n})`;
}

const int = (n: number) => {
  if (!Number.isSafeInteger(n)) throw new Error(`not a whole number: ${n}`);
  return String(n);
};

/**
 * One rule over one range → one SELECT: a row per (key, window) that reaches the threshold, with
 * `entity`, `window_start` (epoch ms), `measure`, `event_count`, `first_ts`, `last_ts`,
 * `event_ids`. The macros in the rule's SQL bind their values; the numbers written into the SQL
 * (window, threshold, bounds) come from the validated rule and the range, never from a request.
 */
export function compileRule(
  rule: Rule,
  range: TimeRange,
  opts: { dialect: Dialect; table: string; file?: string },
): CompiledQuery {
  const d = opts.dialect;
  const h = hopMs(rule);
  const windows = windowsRange(rule, range);
  const inner = expandMacros(expandJson(rule.sql, d, opts.file ?? rule.id), readRange(rule, range), {
    dialect: d,
    table: opts.table,
  });
  // Each event falls into two windows: the one starting at its half-window slot, and the one before.
  const windowStart = `(CAST(floor(${d.epochMs('ts')} / ${int(h)}.0) AS BIGINT) - hop.k) * ${int(h)}`;
  const sql = [
    `WITH matched AS (${inner.sql.trim()}),`,
    `windowed AS (SELECT matched.*, ${windowStart} AS window_start FROM matched CROSS JOIN (VALUES (0), (1)) AS hop(k) WHERE ${rule.key} IS NOT NULL)`,
    `SELECT CAST(${rule.key} AS VARCHAR) AS entity, window_start, ${rule.measure} AS measure,`,
    `  count(*) AS event_count, min(ts) AS first_ts, max(ts) AS last_ts,`,
    `  ${firstN(d, 'event_id', ALERT_EVENT_IDS)} AS event_ids`,
    `FROM windowed`,
    `WHERE window_start >= ${int(windows.from)} AND window_start < ${int(windows.to)}`,
    `GROUP BY ${rule.key}, window_start`,
    `HAVING ${rule.measure} >= ${int(rule.threshold)}${rule.condition ? ` AND (${rule.condition})` : ''}`,
    `ORDER BY window_start, entity`,
  ].join('\n');
  return { sql, params: inner.params };
}
