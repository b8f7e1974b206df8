import type { Filters, Query } from '../api/contract.js';
import { GROUP_FIELDS, type GroupField } from './fields.js';
import { dtBounds, bucketMs, type CompileOptions } from './compile.js';
import type { PartialResult } from './partial.js';
import type { TimeRange } from './model.js';

/**
 * A counting query's partial answer (compile.ts with `partial`) computed over rows already in
 * memory: the events at a range's ends, a few thousand rows that DuckDB would take a millisecond
 * and more to plan a query for (answer cache, issue 17). Only the filters and fields whose SQL is a
 * plain comparison are evaluated here (the others, CIDR and text matching, stay with the engine);
 * the tests compare every one of them with the SQL, value by value.
 */

/** Rows by column: `ts` as epoch ms, the stored values as the engine returns them. */
export interface ColumnRows {
  length: number;
  columns: Map<string, unknown[]>;
}

type Counting = Extract<Query, { type: 'stat' | 'topn' | 'timeseries' }>;

const EVALUATED_FILTERS = new Set<keyof Filters>([
  'actions',
  'areas',
  'outcomes',
  'userIds',
  'userRoles',
  'httpMethods',
  'statuses',
  'resourceTypes',
  'knownAction',
]);

/** Every group field but the columns no copy of the ends keeps. */
export const EVALUATED_FIELDS: ReadonlySet<GroupField> = new Set(
  GROUP_FIELDS.filter((f) => f !== 'resource_id' && f !== 'url_path' && f !== 'es_index'),
);

const isSet = (v: unknown) => v !== undefined && !(Array.isArray(v) && v.length === 0);

function fieldOf(query: Counting): GroupField | undefined {
  if (query.type === 'topn') return query.field;
  if (query.type === 'timeseries') return query.splitBy;
  return query.metric === 'distinct' ? query.field : undefined;
}

/** Whether evaluatePartial computes this query's answer (else the engine does). */
export function canEvaluate(query: Counting): boolean {
  for (const [key, value] of Object.entries(query.filters ?? {}))
    if (isSet(value) && !EVALUATED_FILTERS.has(key as keyof Filters)) return false;
  const field = fieldOf(query);
  return field === undefined || EVALUATED_FIELDS.has(field);
}

/** A row test for each filter set, as compile.ts's WHERE clause: NULL never matches. */
function rowTests(
  filters: Filters | undefined,
  column: (name: string) => unknown[],
): ((i: number) => boolean)[] {
  const f = filters ?? {};
  const tests: ((i: number) => boolean)[] = [];
  const among = (name: string, values: readonly unknown[]) => {
    const col = column(name);
    const set = new Set(values);
    tests.push((i) => col[i] !== null && col[i] !== undefined && set.has(col[i]));
  };
  if (f.actions?.length) among('action', f.actions);
  if (f.areas?.length) among('area', f.areas);
  if (f.outcomes?.length)
    among(
      'outcome',
      f.outcomes.map((o) => o.toLowerCase()),
    );
  if (f.userIds?.length) among('user_id', f.userIds);
  if (f.userRoles?.length) {
    const col = column('user_roles');
    const set = new Set<unknown>(f.userRoles);
    tests.push((i) => Array.isArray(col[i]) && (col[i] as unknown[]).some((r) => r !== null && set.has(r)));
  }
  if (f.httpMethods?.length)
    among(
      'http_method',
      f.httpMethods.map((m) => m.toUpperCase()),
    );
  if (f.statuses?.length) {
    const col = column('http_status');
    const ranges = f.statuses.map((s) =>
      typeof s === 'number' ? [s, s] : [Number(s[0]) * 100, Number(s[0]) * 100 + 99],
    ) as [number, number][];
    tests.push((i) => {
      const v = col[i];
      return typeof v === 'number' && ranges.some(([lo, hi]) => v >= lo && v <= hi);
    });
  }
  if (f.resourceTypes?.length) among('resource_type', f.resourceTypes);
  if (f.knownAction !== undefined) {
    const col = column('known_action');
    const want = f.knownAction;
    tests.push((i) => col[i] === want);
  }
  return tests;
}

/** A row's values of a group field, as compile.ts's expression (user_role: one per role). */
function fieldValues(field: GroupField, column: (name: string) => unknown[]): (i: number) => unknown[] {
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  switch (field) {
    case 'user_role': {
      const col = column('user_roles');
      return (i) => (Array.isArray(col[i]) ? (col[i] as unknown[]).map((r) => r ?? null) : []);
    }
    case 'status_class': {
      const col = column('http_status');
      return (i) => [typeof col[i] === 'number' ? `${Math.floor((col[i] as number) / 100)}xx` : null];
    }
    case 'http_status':
    case 'known_action': {
      const col = column(field);
      return (i) => [text(col[i])];
    }
    default: {
      const col = column(field);
      return (i) => [col[i] ?? null];
    }
  }
}

/**
 * The partial answer compileQuery(query, range, { partial: true }) gives over these rows (`ts`
 * and the stored columns the query reads, one event each): the same rows, in no particular order.
 */
export function evaluatePartial(
  query: Counting,
  range: TimeRange,
  rows: ColumnRows,
  opts: Pick<CompileOptions, 'intervalMs' | 'maxDataPoints' | 'dialect'> & { weight?: string },
): PartialResult {
  const column = (name: string) => {
    const col = rows.columns.get(name);
    if (!col) throw new Error(`evaluatePartial: no column ${name}`);
    return col;
  };
  const ts = column('ts') as number[];
  const dt = column('dt') as string[];
  // How many events a row stands for (a rollup's rows), else one each.
  const weight = opts.weight ? (column(opts.weight) as number[]) : null;
  const [first, last] = dtBounds(range);
  const tests = rowTests(query.filters, column);
  const field = fieldOf(query);
  const values = field ? fieldValues(field, column) : null;
  const step = query.type === 'timeseries' ? bucketMs(query, range, { ...opts, table: '' }) : 0;
  const counts = new Map<string, { row: unknown[]; n: number }>();
  const SEP = '\u0000';
  const add = (key: string, row: unknown[], n: number) => {
    const cell = counts.get(key);
    if (cell) cell.n += n;
    else counts.set(key, { row, n });
  };
  let total = 0;
  for (let i = 0; i < rows.length; i++) {
    const t = ts[i] as number;
    if (!(t >= range.from && t < range.to) || !(dt[i]! >= first && dt[i]! <= last)) continue;
    if (!tests.every((test) => test(i))) continue;
    const n = weight ? Number(weight[i] ?? 0) : 1;
    if (query.type === 'stat' && !values) {
      total += n;
      continue;
    }
    const bucket = step ? Math.floor(t / step) * step : 0;
    for (const v of values ? values(i) : [null]) {
      const key = `${bucket}${SEP}${v === null ? SEP : String(v)}`;
      if (query.type === 'stat' || query.type === 'topn') add(key, [v], n);
      else add(key, query.splitBy ? [bucket, v] : [bucket], n);
    }
  }
  if (query.type === 'stat' && !values)
    return { columns: [{ name: 'value', type: 'number' }], rows: [[total]] };
  if (query.type === 'stat')
    return { columns: [{ name: 'value', type: 'string' }], rows: [...counts.values()].map((c) => c.row) };
  const out = [...counts.values()].map((c) => [...c.row, c.n]);
  if (query.type === 'topn')
    return {
      columns: [
        { name: 'value', type: 'string' },
        { name: 'count', type: 'number' },
      ],
      rows: out,
    };
  return {
    columns: query.splitBy
      ? [
          { name: 'time', type: 'number' },
          { name: 'series', type: 'string' },
          { name: 'n', type: 'number' },
        ]
      : [
          { name: 'time', type: 'number' },
          { name: 'count', type: 'number' },
        ],
    rows: out,
  };
}
