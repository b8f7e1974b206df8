import { MACRO_NAMES, ROLLUP_COLUMNS } from '../api/contract.js';
import type { CompiledQuery, CompileOptions } from './compile.js';
import { bucketMs, timeFilter } from './compile.js';
import { intOutsideWhere, type Param } from './dialect.js';
import { QueryValidationError, intervalMs, type TimeRange } from './model.js';
import { lexSql } from './sql-lexer.js';

/**
 * Raw SQL for power users, with Grafana-style macros (the list, with what each means, is the
 * API contract's MACROS). Macros expand to bound parameters, never to pasted values:
 *   $__timeFilter(ts)       dt BETWEEN ? AND ? AND ts >= ? AND ts < ?  (prunes partitions too)
 *   $__timeFrom() / $__timeTo()   the range bounds as timestamps
 *   $__timeGroup(ts, 1h)    the bucket start, a timestamp (interval optional: Grafana's)
 *   $__interval_ms, $__interval   the bucket size (Grafana's interval), in ms
 *   $__table                the events table
 *   $__rollup               the range's events counted (n, first_ts, last_ts per row)
 */
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MACRO = /\$__([A-Za-z_]*)/g;

export function expandMacros(sql: string, range: TimeRange, opts: CompileOptions): CompiledQuery {
  const d = opts.dialect;
  const params: Param[] = [];
  const step = bucketMs({}, range, opts);
  // Macros are expanded in code only: inside string literals, quoted names or comments they stay
  // as written; the parameters come out in the order their placeholders appear.
  const out = lexSql(sql)
    .map((token) => (token.kind === 'code' ? expandCode(token.text) : token.text))
    .join('');
  return { sql: out, params };

  function expandCode(code: string): string {
    let out = '';
    let at = 0;
    for (const m of code.matchAll(MACRO)) {
      if (m.index < at) continue;
      const name = m[1] as string;
      let rest = m.index + m[0].length;
      let args: string[] = [];
      if (code[rest] === '(') {
        const close = code.indexOf(')', rest);
        if (close === -1) {
          throw new QueryValidationError(
            'sql',
            sql.indexOf(')', rest) === -1
              ? `$__${name}( is not closed`
              : `$__${name}(...): write its arguments without quotes, e.g. $__timeGroup(ts, 1h)`,
          );
        }
        args = code
          .slice(rest + 1, close)
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean);
        rest = close + 1;
      }
      out += code.slice(at, m.index) + expand(name, args);
      at = rest;
    }
    return out + code.slice(at);
  }

  function column(name: string, args: string[]): string {
    const col = args[0] ?? 'ts';
    if (!IDENT.test(col)) throw new QueryValidationError('sql', `$__${name}(${col}): expected a column name`);
    return col;
  }

  function expand(name: string, args: string[]): string {
    switch (name) {
      case 'timeFilter': {
        const col = column(name, args);
        const f = timeFilter(range, d, params);
        return `(${col === 'ts' ? f : f.replace(/\bts\b/g, col)})`;
      }
      case 'timeFrom':
        params.push({ type: 'timestamp', value: range.from });
        return d.timestamp();
      case 'timeTo':
        params.push({ type: 'timestamp', value: range.to });
        return d.timestamp();
      case 'timeGroup': {
        const col = column(name, args);
        let ms = step;
        if (args[1] && args[1] !== '$__interval') {
          try {
            ms = intervalMs(args[1]);
          } catch (err) {
            const reason =
              err instanceof QueryValidationError ? err.reason.replace(`${args[1]}: `, '') : String(err);
            throw new QueryValidationError('sql', `$__timeGroup(${args.join(', ')}): ${reason}`);
          }
        }
        // A timestamp, so Grafana reads the column as time (a time series panel needs one).
        return d.fromEpochMs(
          `CAST(floor(${d.epochMs(col)} / CAST(${intOutsideWhere(d, ms, params)} AS DOUBLE)) AS BIGINT) * ${intOutsideWhere(d, ms, params)}`,
        );
      }
      case 'interval_ms':
      case 'interval':
        return intOutsideWhere(d, step, params);
      case 'table':
        return opts.table;
      case 'rollup': {
        // Where the engine keeps no rollup: each event a row of its own, the same sums, minima
        // and maxima. No ts: a rollup's row counts a whole hour or day (group by dt, or not at all).
        const rows =
          opts.rollup ??
          `(SELECT ts, dt, ${ROLLUP_COLUMNS.join(', ')}, CAST(1 AS BIGINT) AS n, ts AS first_ts, ts AS last_ts FROM ${opts.table})`;
        return `(SELECT dt, ${ROLLUP_COLUMNS.join(', ')}, n, first_ts, last_ts FROM ${rows} WHERE ${timeFilter(range, d, params)})`;
      }
      default:
        throw new QueryValidationError('sql', `unknown macro $__${name}; known: ${MACRO_NAMES.join(', ')}`);
    }
  }
}
