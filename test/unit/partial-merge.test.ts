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
    `CREATE TABLE ev (ts TIMESTAMPTZ, dt VARCHAR, action VARCHAR, user_id VARCHAR, user_roles VARCHAR[], http_status INTEGER, outcome VARCHAR)`,
  );
  const rows: string[] = [];
  const q = (v: string | null) => (v === null ? 'NULL' : `'${v.replace(/'/g, "''")}'`);
  // 3 days; each user appears a number of times that ties with another's.
  for (let i = 0; i < 900; i++) {
    const ts = START + Math.floor((i * 3 * 24 * HOUR) / 900) + (i % 7) * 1000;
    const user = USERS[i % USERS.length] as string | null;
    const action = ACTIONS[(i * 7) % ACTIONS.length] as string | null;
    const roles = i % 3 === 0 ? "['ADMIN', 'AGENT']" : i % 3 === 1 ? "['AGENT']" : 'NULL';
    const status = i % 11 === 0 ? 'NULL' : String([200, 404, 500, 302][i % 4]);
    rows.push(
      `(make_timestamptz(${BigInt(ts) * 1000n}), '${new Date(ts).toISOString().slice(0, 10)}', ${q(action)}, ${q(user)}, ${roles}, ${status}, ${q(i % 5 === 0 ? 'failure' : 'success')})`,
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
