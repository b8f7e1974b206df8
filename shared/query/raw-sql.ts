import type { CompiledQuery, CompileOptions } from './compile.js';
import { bucketMs, timeFilter } from './compile.js';
import { intOutsideWhere, type Param } from './dialect.js';
import { QueryValidationError, intervalMs, type Range } from './model.js';

/**
 * Raw SQL for power users, with Grafana-style macros. Macros expand to bound parameters, never
 * to pasted values:
 *   $__timeFilter(ts)       dt BETWEEN ? AND ? AND ts >= ? AND ts < ?  (prunes partitions too)
 *   $__timeFrom() / $__timeTo()   the range bounds as timestamps
 *   $__timeGroup(ts, 1h)    the bucket start, a timestamp (interval optional: Grafana's)
 *   $__interval_ms, $__interval   the bucket size (Grafana's interval), in ms
 *   $__table                the events table
 */
export const MACROS = [
  '$__timeFilter',
  '$__timeFrom',
  '$__timeTo',
  '$__timeGroup',
  '$__interval_ms',
  '$__interval',
  '$__table',
];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function expandMacros(sql: string, range: Range, opts: CompileOptions): CompiledQuery {
  const d = opts.dialect;
  const params: Param[] = [];
  const step = bucketMs({}, range, opts);
  let out = '';
  let i = 0;
  // Walk the text so macros inside string literals or comments stay as they are, and the
  // parameters come out in the order their placeholders appear.
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"') {
      const end = closing(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      const stop = end === -1 ? sql.length : end + 2;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '$' && sql.startsWith('$__', i)) {
      const m = /^\$__([A-Za-z_]+)/.exec(sql.slice(i));
      const name = m?.[1] ?? '';
      let rest = i + 3 + name.length;
      let args: string[] = [];
      if (sql[rest] === '(') {
        const close = sql.indexOf(')', rest);
        if (close === -1) throw new QueryValidationError('sql', `$__${name}( is not closed`);
        args = sql
          .slice(rest + 1, close)
          .split(',')
          .map((a) => a.trim())
          .filter(Boolean);
        rest = close + 1;
      }
      out += expand(name, args);
      i = rest;
      continue;
    }
    out += ch;
    i++;
  }
  return { sql: out, params };

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
      default:
        throw new QueryValidationError('sql', `unknown macro $__${name}; known: ${MACROS.join(', ')}`);
    }
  }
}

function closing(sql: string, start: number, quote: string): number {
  let j = start + 1;
  while (j < sql.length) {
    if (sql[j] === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}
