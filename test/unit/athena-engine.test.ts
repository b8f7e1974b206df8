import { describe, expect, it } from '@jest/globals';
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type AthenaClient,
} from '@aws-sdk/client-athena';
import { QueryTimeoutError } from '../../functions/query/engine.js';
import { AthenaEngine, type AthenaEngineOptions } from '../../functions/query/engines/athena.js';
import { athenaLiteral, countPlaceholders } from '../../functions/query/engines/athena/literals.js';
import { compileQuery } from '../../shared/query/compile.js';
import { athenaDialect, type Param } from '../../shared/query/dialect.js';
import { GROUP_FIELDS } from '../../shared/query/fields.js';
import type { Filters, Query } from '../../shared/query/model.js';
import { expandMacros } from '../../shared/query/raw-sql.js';

// Athena cannot run here (no AWS account in the test environment), so the client is a mock:
// it answers each command the way Athena's API does and records what it was sent.
interface Sent {
  name: string;
  input: any;
}

interface Script {
  start?: (input: any) => unknown;
  get?: (input: any, call: number) => unknown;
  results?: (input: any, call: number) => unknown;
}

function mockClient(script: Script = {}) {
  const sent: Sent[] = [];
  let gets = 0;
  let pages = 0;
  let destroyed = false;
  const client = {
    async send(command: any) {
      sent.push({ name: command.constructor.name, input: command.input });
      if (command instanceof StartQueryExecutionCommand)
        return script.start?.(command.input) ?? { QueryExecutionId: 'q-1' };
      if (command instanceof GetQueryExecutionCommand)
        return (
          script.get?.(command.input, gets++) ?? {
            QueryExecution: {
              QueryExecutionId: command.input.QueryExecutionId,
              StatementType: 'DML',
              Status: { State: 'SUCCEEDED' },
              Statistics: { DataScannedInBytes: 0 },
            },
          }
        );
      if (command instanceof GetQueryResultsCommand)
        return (
          script.results?.(command.input, pages++) ?? {
            ResultSet: {
              ResultSetMetadata: { ColumnInfo: [{ Name: 'value', Type: 'bigint' }] },
              Rows: [{ Data: [{ VarCharValue: 'value' }] }],
            },
          }
        );
      if (command instanceof StopQueryExecutionCommand) return {};
      throw new Error(`unexpected command ${command.constructor.name}`);
    },
    destroy() {
      destroyed = true;
    },
  };
  return {
    client: client as unknown as AthenaClient,
    sent,
    named: (name: string) => sent.filter((s) => s.name === name),
    destroyed: () => destroyed,
  };
}

/** A fake clock that the injected sleep advances, so timeouts take no real time. */
function engineWith(mock: ReturnType<typeof mockClient>, options: Partial<AthenaEngineOptions> = {}) {
  let t = 0;
  const slept: number[] = [];
  const engine = new AthenaEngine({
    client: mock.client,
    workGroup: 'closer-audit',
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    ...options,
  });
  return { engine, slept };
}

const state = (State: string, extra: Record<string, unknown> = {}) => ({
  QueryExecution: { QueryExecutionId: 'q-1', StatementType: 'DML', Status: { State, ...extra } },
});

describe('AthenaEngine.run', () => {
  it('stops paging once maxRows are in hand, and says the result was cut', async () => {
    const mock = mockClient({
      results: (_input, call) => ({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: 'n', Type: 'bigint' }] },
          Rows: [
            ...(call === 0 ? [{ Data: [{ VarCharValue: 'n' }] }] : []),
            ...Array.from({ length: 3 }, (_, i) => ({ Data: [{ VarCharValue: String(call * 3 + i) }] })),
          ],
        },
        NextToken: `page-${call + 2}`,
      }),
    });
    const { engine } = engineWith(mock);
    const result = await engine.run('SELECT n FROM t', [], { maxRows: 4 });
    expect(result.rows).toEqual([[0], [1], [2], [3]]);
    expect(result.truncated).toBe(true);
    expect(mock.named('GetQueryResultsCommand')).toHaveLength(2);
  });

  it('polls queued → running → succeeded, reads every page and skips the header row', async () => {
    const states = ['QUEUED', 'RUNNING', 'SUCCEEDED'];
    const columns = [
      { Name: 'ts', Type: 'timestamp' },
      { Name: 'zoned', Type: 'timestamp with time zone' },
      { Name: 'day', Type: 'date' },
      { Name: 'count', Type: 'bigint' },
      { Name: 'known_action', Type: 'boolean' },
      { Name: 'user_roles', Type: 'array' },
      { Name: 'action', Type: 'varchar' },
      { Name: 'ratio', Type: 'double' },
    ];
    const mock = mockClient({
      get: (_input, call) => ({
        QueryExecution: {
          QueryExecutionId: 'q-1',
          StatementType: 'DML',
          Status: { State: states[call] },
          Statistics: { DataScannedInBytes: 123456 },
        },
      }),
      results: (input, call) =>
        call === 0
          ? {
              NextToken: 'page-2',
              ResultSet: {
                ResultSetMetadata: { ColumnInfo: columns },
                Rows: [
                  { Data: columns.map((c) => ({ VarCharValue: c.Name })) },
                  {
                    Data: [
                      { VarCharValue: '2026-11-20 09:27:12.529' },
                      { VarCharValue: '2026-11-20 09:27:12.529 UTC' },
                      { VarCharValue: '2026-11-20' },
                      { VarCharValue: '9007199254740' },
                      { VarCharValue: 'true' },
                      { VarCharValue: '[admin, agent]' },
                      { VarCharValue: 'agent_login' },
                      { VarCharValue: '0.25' },
                    ],
                  },
                ],
              },
            }
          : {
              ResultSet: {
                ResultSetMetadata: { ColumnInfo: columns },
                Rows: [
                  {
                    Data: [
                      { VarCharValue: '2026-11-21 00:00:00.000' },
                      { VarCharValue: '2026-11-21 01:00:00.000 +01:00' },
                      {},
                      { VarCharValue: '0' },
                      { VarCharValue: 'false' },
                      { VarCharValue: '[]' },
                      {},
                      {},
                    ],
                  },
                ],
              },
              ...(input.NextToken === 'page-2' ? {} : { NextToken: 'wrong' }),
            },
    });
    const { engine, slept } = engineWith(mock);
    const result = await engine.run('SELECT * FROM t', []);

    expect(result.columns).toEqual([
      { name: 'ts', type: 'time' },
      { name: 'zoned', type: 'time' },
      { name: 'day', type: 'time' },
      { name: 'count', type: 'number' },
      { name: 'known_action', type: 'boolean' },
      { name: 'user_roles', type: 'other' },
      { name: 'action', type: 'string' },
      { name: 'ratio', type: 'number' },
    ]);
    const at = Date.UTC(2026, 10, 20, 9, 27, 12, 529);
    expect(result.rows).toEqual([
      [at, at, Date.UTC(2026, 10, 20), 9007199254740, true, ['admin', 'agent'], 'agent_login', 0.25],
      [Date.UTC(2026, 10, 21), Date.UTC(2026, 10, 21), null, 0, false, [], null, null],
    ]);
    expect(result.executedSql).toBe('SELECT * FROM t');
    expect(result.bytesScanned).toBe(123456);
    expect(result).not.toHaveProperty('filesRead');
    // Two waits between three polls, the second one longer.
    expect(slept).toEqual([200, 300]);
    expect(mock.named('GetQueryResultsCommand').map((s) => s.input)).toEqual([
      { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: undefined },
      { QueryExecutionId: 'q-1', MaxResults: 1000, NextToken: 'page-2' },
    ]);
    expect(mock.named('StopQueryExecutionCommand')).toHaveLength(0);
  });

  it('backs off x1.5 up to the cap', async () => {
    const mock = mockClient({ get: (_i, call) => state(call < 7 ? 'RUNNING' : 'SUCCEEDED') });
    const { engine, slept } = engineWith(mock, { pollInitialMs: 100, pollMaxMs: 400 });
    await engine.run('SELECT 1', []);
    expect(slept).toEqual([100, 150, 225, 337.5, 400, 400, 400]);
  });

  it('throws Athena’s reason when the query fails', async () => {
    const mock = mockClient({
      get: () =>
        state('FAILED', {
          StateChangeReason: "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved",
          AthenaError: { ErrorCategory: 2, ErrorType: 1006, ErrorMessage: 'column nope cannot be resolved' },
        }),
    });
    const { engine } = engineWith(mock);
    await expect(engine.run('SELECT nope FROM t', [])).rejects.toThrow(
      "Athena query q-1 failed: COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved (column nope cannot be resolved)",
    );
    expect(mock.named('GetQueryResultsCommand')).toHaveLength(0);
  });

  it('throws when the query was cancelled', async () => {
    const mock = mockClient({
      get: () => state('CANCELLED', { StateChangeReason: 'Query was cancelled by user' }),
    });
    const { engine } = engineWith(mock);
    await expect(engine.run('SELECT 1', [])).rejects.toThrow(
      'Athena query q-1 was cancelled: Query was cancelled by user',
    );
  });

  it('stops the query and throws QueryTimeoutError when the time limit passes', async () => {
    const mock = mockClient({ get: () => state('RUNNING') });
    const { engine, slept } = engineWith(mock);
    const err = await engine.run('SELECT 1', [], { timeoutMs: 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
    expect(mock.named('StopQueryExecutionCommand').map((s) => s.input)).toEqual([
      { QueryExecutionId: 'q-1' },
    ]);
    expect(mock.named('GetQueryResultsCommand')).toHaveLength(0);
    // The last wait is cut to what is left of the limit.
    expect(slept.reduce((a, b) => a + b, 0)).toBe(1000);
  });

  it('stops the query when the caller goes away', async () => {
    const controller = new AbortController();
    const mock = mockClient({
      get: (_i, call) => {
        if (call === 1) controller.abort();
        return state('RUNNING');
      },
    });
    const { engine } = engineWith(mock);
    const err = (await engine
      .run('SELECT 1', [], { signal: controller.signal, timeoutMs: 60_000 })
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect(err).not.toBeInstanceOf(QueryTimeoutError);
    expect(mock.named('StopQueryExecutionCommand').map((s) => s.input)).toEqual([
      { QueryExecutionId: 'q-1' },
    ]);
  });

  it('ends a poll wait at once when the caller goes away during it', async () => {
    const controller = new AbortController();
    const mock = mockClient({ get: () => state('RUNNING') });
    const engine = new AthenaEngine({
      client: mock.client,
      workGroup: 'wg',
      // A wait that never ends by itself: only the abort can end it.
      sleep: () => {
        controller.abort();
        return new Promise(() => {});
      },
    });
    const err = (await engine
      .run('SELECT 1', [], { signal: controller.signal })
      .catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('AbortError');
    expect(mock.named('StopQueryExecutionCommand')).toHaveLength(1);
  });

  it('starts nothing when the caller has already gone', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock);
    const controller = new AbortController();
    controller.abort();
    await expect(engine.run('SELECT 1', [], { signal: controller.signal })).rejects.toThrow(
      'query cancelled',
    );
    expect(mock.sent).toHaveLength(0);
  });
});

describe('AthenaEngine parameters', () => {
  const hostile = "O'Brien'; DROP TABLE x; -- ☃ /* not a comment */ \\' ?";

  it('sends every Param type as an Athena literal in ExecutionParameters, never in the query text', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock);
    const params: Param[] = [
      { type: 'string', value: hostile },
      { type: 'string', value: '' },
      { type: 'int', value: 42 },
      { type: 'int', value: -7 },
      { type: 'bool', value: true },
      { type: 'bool', value: false },
      { type: 'timestamp', value: Date.UTC(2026, 10, 20, 9, 27, 12, 529) },
      { type: 'timestamp', value: 0 },
    ];
    const sql =
      'SELECT count(*) FROM t WHERE a = ? AND b = ? AND c = ? AND d > ? AND e = ? AND f = ? AND ts >= ? AND ts < ?';
    await engine.run(sql, params);
    const [start] = mock.named('StartQueryExecutionCommand');
    expect(start?.input.ExecutionParameters).toEqual([
      "'O''Brien''; DROP TABLE x; -- ☃ /* not a comment */ \\'' ?'",
      "''",
      '42',
      '-7',
      'true',
      'false',
      "TIMESTAMP '2026-11-20 09:27:12.529'",
      "TIMESTAMP '1970-01-01 00:00:00.000'",
    ]);
    const text: string = start?.input.QueryString;
    expect(text.endsWith(`\n${sql}`)).toBe(true);
    for (const needle of ['Brien', 'DROP', '☃', '2026-11-20', '42']) expect(text).not.toContain(needle);
    expect(start?.input.WorkGroup).toBe('closer-audit');
    expect(start?.input.QueryExecutionContext).toEqual({
      Catalog: 'AwsDataCatalog',
      Database: 'closer_audit',
    });
  });

  it('refuses values Athena could not take as they are', () => {
    expect(() => athenaLiteral({ type: 'int', value: 1.5 })).toThrow('not an integer');
    expect(() => athenaLiteral({ type: 'int', value: 2 ** 60 })).toThrow('not an integer');
    expect(() => athenaLiteral({ type: 'timestamp', value: NaN })).toThrow('not a timestamp');
    expect(() => athenaLiteral({ type: 'timestamp', value: 1e16 })).toThrow('not a timestamp');
    expect(() => athenaLiteral({ type: 'string', value: "'".repeat(600) })).toThrow('1024-character limit');
  });

  it('asks Athena to reuse results of the same query and values (5 minutes by default)', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock);
    const one: Param[] = [{ type: 'string', value: 'a' }];
    await engine.run('SELECT 1 FROM t WHERE x = ?', one);
    await engine.run('SELECT 1 FROM t WHERE x = ?', one);
    await engine.run('SELECT 1 FROM t WHERE x = ?', [{ type: 'string', value: 'b' }]);
    const starts = mock.named('StartQueryExecutionCommand').map((s) => s.input);
    expect(starts[0].ResultReuseConfiguration).toEqual({
      ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 5 },
    });
    // Result reuse matches on the query text, so the text carries a digest of the values.
    expect(starts[0].QueryString).toMatch(
      /^-- closer-audit params [0-9a-f]{32}\nSELECT 1 FROM t WHERE x = \?$/,
    );
    expect(starts[1].QueryString).toBe(starts[0].QueryString);
    expect(starts[2].QueryString).not.toBe(starts[0].QueryString);
  });

  it('sends the query as it is, with no reuse, when reuse is off', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock, { resultReuseMinutes: 0, catalog: 'MyCatalog', database: 'db2' });
    await engine.run('SELECT 1 FROM t WHERE x = ?', [{ type: 'int', value: 1 }]);
    const [start] = mock.named('StartQueryExecutionCommand');
    expect(start?.input.QueryString).toBe('SELECT 1 FROM t WHERE x = ?');
    expect(start?.input.ResultReuseConfiguration).toBeUndefined();
    expect(start?.input.QueryExecutionContext).toEqual({ Catalog: 'MyCatalog', Database: 'db2' });
  });

  it('sends no ExecutionParameters for a query without values (the API refuses an empty list)', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock);
    await engine.run('SELECT 1', []);
    const [start] = mock.named('StartQueryExecutionCommand');
    expect(start?.input.ExecutionParameters).toBeUndefined();
    expect(start?.input.QueryString).toBe('SELECT 1');
  });

  it('refuses a statement whose placeholders do not match its values, before starting it', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock);
    await expect(
      engine.run('SELECT 1 FROM t WHERE a = ? AND b = ?', [{ type: 'int', value: 1 }]),
    ).rejects.toThrow('the statement has 2 placeholders but 1 values');
    await expect(engine.run('SELECT 1', [{ type: 'int', value: 1 }])).rejects.toThrow(
      'the statement has 0 placeholders but 1 values',
    );
    expect(mock.sent).toHaveLength(0);
  });

  it('counts only the placeholders Trino sees', () => {
    expect(
      countPlaceholders(`SELECT '?', "a?b", \`c?\` FROM t -- ?\nWHERE x = ? /* ? */ AND y = 'it''s ?'`),
    ).toBe(1);
    expect(countPlaceholders('SELECT ? -- a comment ends at CR\r, ?')).toBe(2);
  });
});

describe('AthenaEngine tables and lifecycle', () => {
  it('names the table quoted and fully qualified', async () => {
    const range = { from: 0, to: 1 };
    expect(await new AthenaEngine({ client: mockClient().client, workGroup: 'wg' }).tableFor(range)).toBe(
      '"awsdatacatalog"."closer_audit"."events"',
    );
    const custom = new AthenaEngine({
      client: mockClient().client,
      workGroup: 'wg',
      catalog: 'Other_Catalog',
      database: 'Audit2',
      table: 'ev',
    });
    expect(await custom.tableFor(range)).toBe('"other_catalog"."audit2"."ev"');
  });

  it('refuses names that are not plain identifiers', () => {
    for (const bad of ['closer-audit', 'a.b', 'x"y', 'a b', '']) {
      expect(() => new AthenaEngine({ client: mockClient().client, workGroup: 'wg', database: bad })).toThrow(
        'database name must match',
      );
    }
    expect(() => new AthenaEngine({ client: mockClient().client, workGroup: 'wg', table: 'ev;x' })).toThrow();
    expect(
      () => new AthenaEngine({ client: mockClient().client, workGroup: 'wg', catalog: '"c"' }),
    ).toThrow();
    expect(() => new AthenaEngine({ client: mockClient().client, workGroup: '' })).toThrow('work group');
    expect(
      () => new AthenaEngine({ client: mockClient().client, workGroup: 'wg', resultReuseMinutes: -1 }),
    ).toThrow();
    expect(
      () => new AthenaEngine({ client: mockClient().client, workGroup: 'wg', pollInitialMs: 0 }),
    ).toThrow('pollInitialMs');
  });

  it('leaves an injected client open, and destroys one it made', async () => {
    const mock = mockClient();
    await new AthenaEngine({ client: mock.client, workGroup: 'wg' }).close();
    expect(mock.destroyed()).toBe(false);
    await expect(new AthenaEngine({ workGroup: 'wg' }).close()).resolves.toBeUndefined();
  });
});

describe('every structured query on Athena', () => {
  const range = { from: Date.UTC(2026, 10, 19, 10), to: Date.UTC(2026, 10, 26, 11) };
  const filters: Filters = {
    actions: ['act_alpha1', "act'quote"],
    areas: ['area_bravo2'],
    outcomes: ['Outcome_Charlie3'],
    userIds: ['user_delta4'],
    userRoles: ['role_echo5', 'role_foxtrot6'],
    sourceIps: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7', '2001:db8::1'],
    httpMethods: ['patch'],
    statuses: [404, '5xx'],
    urlContains: 'url_golf7',
    pathContains: 'path_hotel8',
    resourceTypes: ['rtype_india9'],
    resourceIds: ['rid_juliet10'],
    bodyContains: 'body_kilo11; DROP TABLE x; --',
    knownAction: false,
  };
  const filterStrings = Object.values(filters)
    .flatMap((v: unknown): unknown[] => (Array.isArray(v) ? v : [v]))
    .filter((v): v is string => typeof v === 'string');

  type Structured = Exclude<Query, { type: 'sql' }>;
  const queries: Structured[] = [
    { type: 'events', filters },
    { type: 'events', filters, order: 'asc', limit: 50 },
    { type: 'timeseries', filters },
    { type: 'timeseries', filters, interval: '1h' },
    ...GROUP_FIELDS.map((f): Structured => ({ type: 'timeseries', filters, splitBy: f, maxSeries: 5 })),
    ...GROUP_FIELDS.map((f): Structured => ({ type: 'topn', filters, field: f })),
    { type: 'stat', filters },
    { type: 'stat', filters, metric: 'count' },
    ...GROUP_FIELDS.map((f): Structured => ({ type: 'stat', filters, metric: 'distinct', field: f })),
  ];

  it('binds every value and restricts every query to its dt partitions', async () => {
    const mock = mockClient();
    const { engine } = engineWith(mock, { resultReuseMinutes: 0 });
    const table = await engine.tableFor(range);
    for (const query of queries) {
      const label = `${query.type} ${JSON.stringify({ ...query, filters: undefined })}`;
      const { sql, params } = compileQuery(query, range, { dialect: athenaDialect, table });
      expect({ label, partitioned: sql.includes('dt BETWEEN ? AND ?') }).toEqual({
        label,
        partitioned: true,
      });
      expect({ label, marks: sql.split('?').length - 1 }).toEqual({ label, marks: params.length });
      expect({ label, marks: countPlaceholders(sql) }).toEqual({ label, marks: params.length });
      const lower = sql.toLowerCase();
      for (const value of [
        ...filterStrings,
        ...params.flatMap((p) => (p.type === 'string' ? [p.value] : [])),
      ]) {
        expect({ label, value, inSql: lower.includes(value.toLowerCase()) }).toEqual({
          label,
          value,
          inSql: false,
        });
      }
      // And the engine takes it as it is: the same text, one literal per placeholder.
      await engine.run(sql, params);
      const start = mock.named('StartQueryExecutionCommand').at(-1);
      expect(start?.input.QueryString).toBe(sql);
      expect(start?.input.ExecutionParameters).toEqual(params.map(athenaLiteral));
    }
    expect(mock.named('StartQueryExecutionCommand')).toHaveLength(queries.length);
  });
});

describe('raw SQL on Athena', () => {
  const range = { from: Date.UTC(2026, 10, 19, 10), to: Date.UTC(2026, 10, 19, 13) };

  it('$__timeGroup gives a timestamp, which comes back as a time field in epoch ms', async () => {
    const { sql, params } = expandMacros(
      'SELECT $__timeGroup(ts, 1h) AS time, count(*) AS n FROM $__table WHERE $__timeFilter(ts) GROUP BY 1 ORDER BY 1',
      range,
      { dialect: athenaDialect, table: '"closer_audit"."events"' },
    );
    expect(sql).toContain(
      "SELECT from_unixtime((CAST(floor(CAST(to_unixtime(with_timezone(ts, 'UTC')) * 1000 AS BIGINT) / CAST(3600000 AS DOUBLE)) AS BIGINT) * 3600000) / 1000.0) AS time",
    );
    expect(countPlaceholders(sql)).toBe(params.length);
    // What Athena answers for that column: timestamp(3) with time zone, printed in UTC.
    const mock = mockClient({
      results: () => ({
        ResultSet: {
          ResultSetMetadata: {
            ColumnInfo: [
              { Name: 'time', Type: 'timestamp(3) with time zone' },
              { Name: 'n', Type: 'bigint' },
            ],
          },
          Rows: [
            { Data: [{ VarCharValue: 'time' }, { VarCharValue: 'n' }] },
            { Data: [{ VarCharValue: '2026-11-19 10:00:00.000 UTC' }, { VarCharValue: '7' }] },
            { Data: [{ VarCharValue: '2026-11-19 11:00:00.000 UTC' }, { VarCharValue: '3' }] },
          ],
        },
      }),
    });
    const result = await engineWith(mock).engine.run(sql, params);
    expect(result.columns).toEqual([
      { name: 'time', type: 'time' },
      { name: 'n', type: 'number' },
    ]);
    expect(result.rows).toEqual([
      [Date.UTC(2026, 10, 19, 10), 7],
      [Date.UTC(2026, 10, 19, 11), 3],
    ]);
  });

  it.each(['0s', '999999999999999999d'])(
    '$__timeGroup(ts, %s) is refused before Athena is asked',
    (interval) => {
      expect(() =>
        expandMacros(`SELECT $__timeGroup(ts, ${interval}) FROM $__table`, range, {
          dialect: athenaDialect,
          table: 'events',
        }),
      ).toThrow(
        new RegExp(`^sql: \\$__timeGroup\\(ts, ${interval}\\): an interval is at (least 1s|most 366d)$`),
      );
    },
  );

  it('stops paging once maxBytes of values are in hand, and says which cap cut the result', async () => {
    const big = 'x'.repeat(1000);
    const mock = mockClient({
      results: (_input, call) => ({
        ResultSet: {
          ResultSetMetadata: { ColumnInfo: [{ Name: 's', Type: 'varchar' }] },
          Rows: [
            ...(call === 0 ? [{ Data: [{ VarCharValue: 's' }] }] : []),
            ...Array.from({ length: 3 }, () => ({ Data: [{ VarCharValue: big }] })),
          ],
        },
        NextToken: `page-${call + 2}`,
      }),
    });
    const result = await engineWith(mock).engine.run('SELECT s FROM t', [], { maxRows: 100, maxBytes: 4500 });
    expect(result.rows).toHaveLength(4);
    expect(result).toMatchObject({ truncated: true, truncatedBy: 'bytes' });
    expect(mock.named('GetQueryResultsCommand')).toHaveLength(2);
  });
});

describe('AthenaEngine.checkReadOnly', () => {
  const { engine } = engineWith(mockClient());

  it.each([
    'SELECT 1',
    'select action, count(*) from "awsdatacatalog"."closer_audit"."events" group by 1',
    'WITH t AS (SELECT action FROM "closer_audit"."events") SELECT * FROM t',
    '(SELECT 1) UNION ALL (SELECT 2)',
    "-- DROP TABLE events;\nSELECT 'DROP TABLE x; --' AS s /* DELETE; INSERT INTO */ FROM t WHERE a = 'it''s; UPDATE t'",
    'SELECT "set", "drop", "show" FROM t',
    'SELECT 1;',
    'SELECT 1;  \n  -- a trailing comment ; DROP TABLE x',
    'SELECT user_set, dropped_at FROM t',
  ])('accepts %j', async (sql) => {
    await expect(engine.checkReadOnly(sql)).resolves.toBeUndefined();
  });

  it.each([
    ['INSERT INTO t SELECT 1', 'INSERT is not allowed in raw SQL'],
    ['DROP TABLE events', 'DROP is not allowed in raw SQL'],
    ['drop table events', 'DROP is not allowed in raw SQL'],
    ['SELECT 1; SELECT 2', 'only one SELECT statement is allowed'],
    ['SELECT 1; DROP TABLE x', 'only one SELECT statement is allowed'],
    ["SELECT 'a'';' ; DROP TABLE x", 'only one SELECT statement is allowed'],
    ["SELECT * FROM t WHERE c = `a'b` ; DROP TABLE t", 'only one SELECT statement is allowed'],
    ['CREATE TABLE x AS SELECT * FROM t', 'CREATE is not allowed in raw SQL'],
    [
      "UNLOAD (SELECT * FROM t) TO 's3://bucket/out/' WITH (format = 'PARQUET')",
      'UNLOAD is not allowed in raw SQL',
    ],
    ['WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x', 'INSERT is not allowed in raw SQL'],
    ['SELECT 1 -- a comment ends at CR\rDROP TABLE t', 'DROP is not allowed in raw SQL'],
    ['EXPLAIN SELECT 1', 'EXPLAIN is not allowed in raw SQL'],
    ['SHOW TABLES', 'SHOW is not allowed in raw SQL'],
    ['SELECT 1 FROM t WHERE x IN (SELECT 1) AND MERGE', 'MERGE is not allowed in raw SQL'],
    ['VALUES 1', 'raw SQL must be a SELECT'],
    ['', 'raw SQL is empty'],
    ['  -- only a comment', 'raw SQL is empty'],
  ])('refuses %j', async (sql, reason) => {
    await expect(engine.checkReadOnly(sql)).rejects.toThrow(reason);
  });
});
