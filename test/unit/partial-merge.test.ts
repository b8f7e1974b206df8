// A counting query's answer merged from its partial answers over parts of the range (the answer
// cache, issue 17) must be the whole query's answer: compared, value by value, with the whole
// compiled SQL on DuckDB over rows made to catch the merge out — ties ranked by text, NULLs, text
// whose UTF-16 and code point orders differ, series folded into "other" and "(none)", counts split
// across the parts' boundary.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { bindAll } from '../../functions/query/engines/duckdb.js';
import { compileQuery } from '../../shared/query/compile.js';
import { duckdbDialect, type Param } from '../../shared/query/dialect.js';
import type { Query } from '../../shared/query/model.js';
import { compareText, mergePartials, type PartialResult } from '../../shared/query/partial.js';
import { EVALUATED_FIELDS, canEvaluate, evaluatePartial } from '../../shared/query/evaluate.js';

const HOUR = 3_600_000;
const START = Date.UTC(2026, 10, 2);
let instance: DuckDBInstance;
let conn: DuckDBConnection;

// Values whose order differs between JavaScript's `<` and the engines' (U+FF5E vs U+1F600), that
// tie on counts, and NULLs.
const USERS = ['b', 'a', '\u{ff5e}', '\u{1f600}', null, 'A', 'ab', ''];
const ACTIONS = ['login', 'logout', 'role', 'config', null];

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(
    `CREATE TABLE ev (ts TIMESTAMPTZ, dt VARCHAR, action VARCHAR, user_id VARCHAR, user_roles VARCHAR[], http_status INTEGER, outcome VARCHAR, area VARCHAR, source_ip VARCHAR, http_method VARCHAR, resource_type VARCHAR, known_action BOOLEAN)`,
  );
  const rows: string[] = [];
  const q = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
  // 3 days; each user appears a number of times that ties with another's.
  for (let i = 0; i < 900; i++) {
    const ts = START + Math.floor((i * 3 * 24 * HOUR) / 900) + (i % 7) * 1000;
    const user = USERS[i % USERS.length] as string | null;
    const action = ACTIONS[(i * 7) % ACTIONS.length] as string | null;
    const roles = ["['ADMIN', 'AGENT']", "['AGENT']", 'NULL', '[]', "['ADMIN', NULL]"][i % 5] as string;
    const area = [q('authentication'), q('configuration'), 'NULL'][i % 3] as string;
    const ip = [q('10.0.0.1'), q('2001:db8::1'), 'NULL', q('192.168.1.7')][i % 4] as string;
    const method = [q('GET'), q('POST'), 'NULL'][i % 3] as string;
    const type = [q('agent'), q('org'), 'NULL', q('widget')][(i * 5) % 4] as string;
    const known = ['true', 'false', 'NULL'][(i * 7) % 3] as string;
    const status = i % 11 === 0 ? 'NULL' : String([200, 404, 500, 302][i % 4]);
    rows.push(
      `(make_timestamptz(${BigInt(ts) * 1000n + BigInt(i % 3) * 337n}), '${new Date(ts).toISOString().slice(0, 10)}', ${q(action)}, ${q(user)}, ${roles}, ${status}, ${q(i % 5 === 0 ? 'failure' : 'success')}, ${area}, ${ip}, ${method}, ${type}, ${known})`,
    );
  }
  await conn.run(`INSERT INTO ev VALUES ${rows.join(',\n')}`);
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

async function run(sql: string, params: Param[]): Promise<PartialResult> {
  const prepared = await conn.prepare(sql);
  bindAll(prepared, params);
  const reader = await prepared.runAndReadAll();
  const rows = reader
    .getRowsJS()
    .map((r) => r.map((v) => (typeof v === 'bigint' ? Number(v) : v instanceof Date ? v.getTime() : v)));
  return {
    columns: reader.columnNames().map((name) => ({ name, type: 'string' as const })),
    rows: rows as unknown[][],
  };
}

type Counting = Extract<Query, { type: 'stat' | 'topn' | 'timeseries' }>;

const QUERIES: Counting[] = [
  { type: 'stat' },
  { type: 'stat', filters: { outcomes: ['failure'] } },
  { type: 'stat', metric: 'distinct', field: 'user_id' },
  { type: 'stat', metric: 'distinct', field: 'user_role' },
  { type: 'stat', metric: 'distinct', field: 'status_class' },
  { type: 'topn', field: 'user_id' },
  { type: 'topn', field: 'user_id', limit: 3 },
  { type: 'topn', field: 'action', limit: 2 },
  { type: 'topn', field: 'user_role' },
  { type: 'topn', field: 'status_class' },
  { type: 'timeseries', interval: '1h' },
  { type: 'timeseries', interval: '5m', filters: { outcomes: ['success'] } },
  { type: 'timeseries', interval: '1d', splitBy: 'user_id', maxSeries: 3 },
  { type: 'timeseries', interval: '3h', splitBy: 'action', maxSeries: 2 },
  { type: 'timeseries', interval: '1h', splitBy: 'user_role' },
  { type: 'timeseries', interval: '30m', splitBy: 'http_status', maxSeries: 1 },
];

/** The whole query's rows, and the rows merged from its parts' partial answers. */
async function both(query: Counting, range: { from: number; to: number }, cuts: number[]) {
  const opts = { dialect: duckdbDialect, table: 'ev', intervalMs: HOUR };
  const whole = compileQuery(query, range, opts);
  const expected = await run(whole.sql, whole.params);
  const bounds = [range.from, ...cuts, range.to];
  const parts: PartialResult[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = compileQuery(
      query,
      { from: bounds[i] as number, to: bounds[i + 1] as number },
      {
        ...opts,
        partial: true,
      },
    );
    parts.push(await run(part.sql, part.params));
  }
  return { expected: expected.rows, merged: mergePartials(query, parts).rows };
}

/** Filters of every kind evaluatePartial applies, alone and together. */
const FILTERS = [
  {},
  { actions: ['login', 'role'] },
  { areas: ['configuration'] },
  { outcomes: ['FAILURE'] },
  { userIds: ['a', '\u{1f600}'] },
  { userRoles: ['ADMIN'] },
  { httpMethods: ['get'] },
  { statuses: [404, '5xx' as const] },
  { resourceTypes: ['agent', 'widget'] },
  { knownAction: false },
  { knownAction: true, outcomes: ['success'], statuses: ['2xx' as const], userRoles: ['AGENT', 'nobody'] },
];

describe('counting in memory (the ends of a range)', () => {
  it('gives the partial SQL rows, for every filter and field it evaluates', async () => {
    const columns = [
      'ts',
      'dt',
      'action',
      'user_id',
      'user_roles',
      'http_status',
      'outcome',
      'area',
      'source_ip',
      'http_method',
      'resource_type',
      'known_action',
    ];
    const all = await run(`SELECT ${columns.join(', ')} FROM ev`, []);
    const rows = {
      length: all.rows.length,
      columns: new Map(columns.map((c, i) => [c, all.rows.map((r) => r[i])] as const)),
    };
    // Bounds between rows, and on a row's own instant (the first included, the last not).
    const ranges = [
      { from: START + 7 * 60_000 + 123, to: START + 2 * 24 * HOUR + 29 * 60_000 },
      { from: START, to: START + 867_000 },
    ];
    const fields = [...EVALUATED_FIELDS];
    const queries: Counting[] = [];
    for (const filters of FILTERS) {
      queries.push({ type: 'stat', filters }, { type: 'timeseries', interval: '7m', filters });
      for (const field of fields)
        queries.push(
          { type: 'stat', metric: 'distinct', field, filters },
          { type: 'topn', field, filters },
          { type: 'timeseries', interval: '1h', splitBy: field, filters },
        );
    }
    const sorted = (r: unknown[][]) => r.map((x) => JSON.stringify(x)).sort();
    for (const range of ranges)
      for (const query of queries) {
        expect(canEvaluate(query)).toBe(true);
        const c = compileQuery(query, range, { dialect: duckdbDialect, table: 'ev', partial: true });
        const expected = (await run(c.sql, c.params)).rows;
        const got = evaluatePartial(query, range, rows, { dialect: duckdbDialect }).rows;
        expect({ query, rows: sorted(got) }).toEqual({ query, rows: sorted(expected) });
      }
    // Not evaluated here: addresses by network, text, the columns no copy keeps.
    for (const q of [
      { type: 'stat', filters: { sourceIps: ['10.0.0.0/8'] } },
      { type: 'stat', filters: { pathContains: 'x' } },
      { type: 'topn', field: 'url_path' },
      { type: 'stat', metric: 'distinct', field: 'es_index' },
    ] as Counting[])
      expect(canEvaluate(q)).toBe(false);
  });
});

describe('partial answers merged', () => {
  it('equal the whole query, for every counting shape, wherever the range is cut', async () => {
    const range = { from: START + 17 * 60_000 + 3, to: START + 3 * 24 * HOUR - 41 * 60_000 };
    const cutsList = [
      [],
      [START + 5 * HOUR],
      [START + HOUR, START + 2 * 24 * HOUR],
      [START + 20 * 60_000, START + 24 * HOUR, START + 49 * HOUR, START + 3 * 24 * HOUR - 50 * 60_000],
    ];
    let compared = 0;
    for (const query of QUERIES)
      for (const cuts of cutsList) {
        const { expected, merged } = await both(query, range, cuts);
        expect({ query, cuts, rows: merged }).toEqual({ query, cuts, rows: expected });
        compared++;
      }
    expect(compared).toBe(QUERIES.length * cutsList.length);
  });

  it('rank ties by text as the engines do: by code point, NULL last', async () => {
    const { expected } = await both(
      { type: 'topn', field: 'user_id', limit: 20 },
      { from: 0, to: 2 ** 45 },
      [],
    );
    // The data makes every user tie: the order is the text order alone.
    const order = expected.map((r) => r[0]);
    expect(order[order.length - 1]).toBeNull();
    expect(order.indexOf('\u{ff5e}')).toBeLessThan(order.indexOf('\u{1f600}'));
    expect('\u{1f600}' < '\u{ff5e}').toBe(true); // what a plain `<` would have said
    expect(compareText('\u{ff5e}', '\u{1f600}')).toBeLessThan(0);
    expect(compareText('A', 'a')).toBeLessThan(0);
    expect(compareText('ab', 'a')).toBeGreaterThan(0);
    expect(compareText('', 'a')).toBeLessThan(0);
    expect(compareText('x', 'x')).toBe(0);
  });
});
