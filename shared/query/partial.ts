import { LIMITS, type FieldType, type Query } from '../api/contract.js';

/**
 * A counting query's answer put together from its answers over parts of its range, each compiled
 * with `partial` (compile.ts): counts summed per group, distinct values united, then ranked, cut
 * and folded exactly as the whole query's SQL does (its ORDER BY, LIMIT and "other"). Lets an
 * engine keep the answer over a range's whole hours and ask only its ends again when the range
 * moves (answer-cache.ts).
 */

export interface PartialResult {
  columns: { name: string; type: FieldType }[];
  rows: unknown[][];
}

type Counting = Extract<Query, { type: 'stat' | 'topn' | 'timeseries' }>;

/**
 * Text in the engines' order: by Unicode code point, as UTF-8 bytes compare (JavaScript's `<`
 * compares UTF-16 units, which puts U+E000–U+FFFF after the astral planes).
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const surrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;
    // A surrogate starts a code point above U+FFFF: after every unit that is not one.
    if (surrogate(x) !== surrogate(y)) return surrogate(x) ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** NULL last, as the engines order ascending by default. */
function compareNullable(a: unknown, b: unknown): number {
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : 1;
  if (b === null || b === undefined) return -1;
  return compareText(String(a), String(b));
}

const num = (v: unknown) => Number(v ?? 0);

/** Sums `count` per key over the parts' rows. */
function sumBy<K>(parts: PartialResult[], key: (row: unknown[]) => K, count: (row: unknown[]) => number) {
  const out = new Map<K, number>();
  for (const part of parts)
    for (const row of part.rows) {
      const k = key(row);
      out.set(k, (out.get(k) ?? 0) + count(row));
    }
  return out;
}

export function mergePartials(query: Counting, parts: PartialResult[]): PartialResult {
  switch (query.type) {
    case 'stat': {
      if (query.metric === 'distinct') {
        const seen = new Set<unknown>();
        for (const part of parts)
          for (const [value] of part.rows) if (value !== null && value !== undefined) seen.add(value);
        return { columns: [{ name: 'value', type: 'number' }], rows: [[seen.size]] };
      }
      const total = parts.reduce((s, p) => s + p.rows.reduce((t, r) => t + num(r[0]), 0), 0);
      return { columns: [{ name: 'value', type: 'number' }], rows: [[total]] };
    }
    case 'topn': {
      const counts = sumBy(
        parts,
        (r) => r[0] ?? null,
        (r) => num(r[1]),
      );
      // ORDER BY count DESC, value; LIMIT.
      const rows = [...counts]
        .sort(([va, a], [vb, b]) => b - a || compareNullable(va, vb))
        .slice(0, query.limit ?? LIMITS.topn.default);
      return {
        columns: columnsOf(parts, [
          ['value', 'string'],
          ['count', 'number'],
        ]),
        rows,
      };
    }
    case 'timeseries': {
      if (!query.splitBy) {
        const counts = sumBy(
          parts,
          (r) => num(r[0]),
          (r) => num(r[1]),
        );
        return {
          columns: columnsOf(parts, [
            ['time', 'time'],
            ['count', 'number'],
          ]),
          rows: [...counts].sort(([a], [b]) => a - b),
        };
      }
      // Per (bucket, series) first; the largest series by their own counts, the rest "other".
      const SEP = '\u0000';
      const cells = new Map<string, { time: number; series: unknown; n: number }>();
      const totals = new Map<unknown, number>();
      for (const part of parts)
        for (const [time, series, n] of part.rows) {
          const key = `${num(time)}${SEP}${series === null || series === undefined ? SEP : String(series)}`;
          const cell = cells.get(key);
          if (cell) cell.n += num(n);
          else cells.set(key, { time: num(time), series: series ?? null, n: num(n) });
          if (series !== null && series !== undefined) totals.set(series, (totals.get(series) ?? 0) + num(n));
        }
      const top = new Set(
        [...totals]
          .sort(([sa, a], [sb, b]) => b - a || compareNullable(sa, sb))
          .slice(0, query.maxSeries ?? LIMITS.maxSeries.default)
          .map(([s]) => s),
      );
      const folded = sumBy(
        [{ columns: [], rows: [...cells.values()].map((c) => [c.time, c.series, c.n]) }],
        ([time, series]) => {
          const label = top.has(series) ? String(series) : series === null ? '(none)' : 'other';
          return `${num(time)}${SEP}${label}`;
        },
        (r) => num(r[2]),
      );
      const rows = [...folded]
        .map(([key, n]) => {
          const at = key.indexOf(SEP);
          return [Number(key.slice(0, at)), key.slice(at + 1), n];
        })
        .sort((a, b) => (a[0] as number) - (b[0] as number) || compareText(a[1] as string, b[1] as string));
      return {
        columns: columnsOf(parts, [
          ['time', 'time'],
          ['series', 'string'],
          ['count', 'number'],
        ]).map((c) => (c.name === 'count' ? { ...c, type: 'number' } : c)),
        rows,
      };
    }
  }
}

/** The parts' own column types under the whole query's names. */
function columnsOf(
  parts: PartialResult[],
  wanted: [name: string, type: FieldType][],
): { name: string; type: FieldType }[] {
  const given = parts.find((p) => p.columns.length >= wanted.length)?.columns;
  return wanted.map(([name, type], i) => ({ name, type: given?.[i]?.type ?? type }));
}
