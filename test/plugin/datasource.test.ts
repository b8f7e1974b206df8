import { beforeEach, describe, expect, it } from '@jest/globals';
import { CoreApp, DataFrameType, FieldType, type DataQueryRequest } from '@grafana/data';
import type { BackendSrvRequest } from '@grafana/runtime';
import { lastValueFrom } from 'rxjs';
import type { Frame } from '../../shared/api/contract.js';
import { ACTIONS } from '../../shared/catalog/actions.js';
import { parseQuery } from '../../shared/query/model.js';
import { eventsToAnnotations } from '../../plugin/src/annotations.js';
import type { CloserQuery, CloserVariableQuery } from '../../plugin/src/types.js';
import { STATUS_DAY_FIELDS, STATUS_SUMMARY_FIELDS } from '../../shared/status/query.js';
import type { Status } from '../../shared/status/status.js';
import { PROXY_URL } from './support/datasource-settings.js';
import { makeDataSource, makeRequest, mockBackend, mockTemplateSrv } from './support/grafana.js';

// The datasource against a mocked Grafana backend service (no Grafana server here): what it
// sends through the data proxy, and what it makes of the API's answers.

const DS_REF = { type: 'closer-audit-datasource', uid: '${datasource}' };

const eventsFrame = (refId: string, truncated = false): Frame => ({
  refId,
  name: 'events',
  fields: [
    { name: 'ts', type: 'time', values: [1764115200000, 1764111600000] },
    {
      name: 'message',
      type: 'string',
      values: [
        'agent_login by u1 from 1.2.3.4: success (POST 200)',
        'agent_login by u2 from 5.6.7.8: failure (POST 401)',
      ],
    },
    { name: 'event_id', type: 'string', values: ['e1', 'e2'] },
    { name: 'action', type: 'string', values: ['agent_login', 'agent_login'] },
    { name: 'area', type: 'string', values: ['auth', 'auth'] },
    { name: 'outcome', type: 'string', values: ['success', 'failure'] },
    { name: 'user_id', type: 'string', values: ['u1', 'u2'] },
    { name: 'source_ip', type: 'string', values: ['1.2.3.4', '5.6.7.8'] },
    { name: 'http_method', type: 'string', values: ['POST', 'POST'] },
    { name: 'http_status', type: 'number', values: [200, 401] },
    { name: 'url_path', type: 'string', values: ['/api/login', '/api/login'] },
  ],
  meta: {
    executedQueryString: 'SELECT ts, ... FROM events WHERE dt BETWEEN ? AND ? LIMIT 3',
    preferredVisualisationType: 'logs',
    notices: truncated
      ? [
          {
            severity: 'warning',
            text: 'Showing the newest 2 events: more match. Narrow the range or filters, or raise the limit.',
          },
        ]
      : [],
    custom: { truncated, limit: 2, filesRead: 3 },
  },
});

const seriesFrame = (refId: string): Frame => ({
  refId,
  name: 'count',
  fields: [
    { name: 'time', type: 'time', values: [1764028800000, 1764032400000] },
    { name: 'count', type: 'number', values: [4, 7], labels: { outcome: 'success' } },
  ],
  meta: { executedQueryString: 'SELECT ...', custom: { bytesScanned: 123456 } },
});

function body(req: BackendSrvRequest): any {
  return req.data;
}

describe('query(): the request through the data proxy', () => {
  beforeEach(() => {
    mockTemplateSrv([
      { name: 'user', value: ['u1', 'u2'] },
      { name: 'ip', value: '$__all', options: ['1.2.3.4', '5.6.7.8'] },
      { name: 'area', value: 'auth' },
      { name: 'role', value: ['$__all'], options: ['ADMIN', 'AGENT'] },
    ]);
  });

  it('POSTs the Grafana-shaped body to <proxy url>/api/query: ISO range, interval, max data points', async () => {
    const backend = mockBackend(() => ({
      data: { results: { A: { frames: [seriesFrame('A')], status: 200 } } },
    }));
    const ds = makeDataSource();
    await ds.query(makeRequest([{ refId: 'A', type: 'timeseries', splitBy: 'outcome' }]));
    expect(backend.requests).toHaveLength(1);
    const req = backend.requests[0]!;
    expect(req.url).toBe(`${PROXY_URL}/api/query`);
    expect(req.method).toBe('POST');
    expect(body(req)).toEqual({
      range: { from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z' },
      intervalMs: 60000,
      maxDataPoints: 1000,
      queries: [{ refId: 'A', type: 'timeseries', splitBy: 'outcome' }],
    });
  });

  it('strips Grafana keys (datasource, hide, key, queryType) and fields of other query types', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    const target = {
      refId: 'A',
      datasource: DS_REF,
      key: 'Q-1',
      queryType: 'x',
      hide: false,
      type: 'topn',
      field: 'action',
      limit: 15,
      splitBy: 'area',
      sql: 'SELECT 1',
      interval: '1h',
    } as CloserQuery;
    await ds.query(makeRequest([target]));
    const sent = body(backend.requests[0]!).queries[0];
    expect(sent).toEqual({ refId: 'A', type: 'topn', field: 'action', limit: 15 });
    expect(() => parseQuery(sent)).not.toThrow();
  });

  it('does not send hidden targets, nor raw SQL that is empty', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    await ds.query(
      makeRequest([
        { refId: 'A', type: 'stat', hide: true },
        { refId: 'B', type: 'sql', sql: '  ' },
        { refId: 'C', type: 'stat' },
      ]),
    );
    expect(body(backend.requests[0]!).queries.map((q: any) => q.refId)).toEqual(['C']);
    expect(ds.filterQuery({ refId: 'A', hide: true })).toBe(false);
  });

  it('puts variables into filter lists: multi-value becomes several elements, All drops the element and an empty filter', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    await ds.query(
      makeRequest([
        {
          refId: 'A',
          datasource: DS_REF,
          type: 'stat',
          metric: 'count',
          filters: {
            areas: ['$area'],
            userIds: ['$user', 'u9'],
            sourceIps: ['$ip'],
            userRoles: ['${role}'],
            outcomes: ['failure'],
            statuses: ['401', '5xx'],
          },
        },
      ]),
    );
    const sent = body(backend.requests[0]!).queries[0];
    expect(sent.filters).toEqual({
      areas: ['auth'],
      userIds: ['u1', 'u2', 'u9'],
      outcomes: ['failure'],
      statuses: [401, '5xx'],
    });
    expect(() => parseQuery(sent)).not.toThrow();
  });

  it('uses a repeated panel’s scoped value over the dashboard’s', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    await ds.query(
      makeRequest([{ refId: 'A', type: 'stat', filters: { userIds: ['$user'] } }], {
        scopedVars: { user: { text: 'u7', value: 'u7' } },
      }),
    );
    expect(body(backend.requests[0]!).queries[0].filters).toEqual({ userIds: ['u7'] });
  });

  it('puts variables into raw SQL as quoted literals and leaves the API macros alone', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    mockTemplateSrv([
      { name: 'user', value: ["o'brien", 'u7'] },
      { name: 'area', value: 'auth' },
    ]);
    const ds = makeDataSource();
    const sql =
      'SELECT $__timeGroup(ts, 1h) AS time, count(*) FROM $__table WHERE $__timeFilter(ts) AND user_id IN ($user) AND area = $area AND x = $unknown';
    await ds.query(makeRequest([{ refId: 'A', type: 'sql', sql, datasource: DS_REF }]));
    expect(body(backend.requests[0]!).queries[0]).toEqual({
      refId: 'A',
      type: 'sql',
      sql: "SELECT $__timeGroup(ts, 1h) AS time, count(*) FROM $__table WHERE $__timeFilter(ts) AND user_id IN ('o''brien', 'u7') AND area = 'auth' AND x = $unknown",
    });
  });

  it('gives events queries the data source’s default row limit when they set none', async () => {
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource({ apiUrl: 'http://localhost:8787', defaultLimit: 250 });
    await ds.query(
      makeRequest([
        { refId: 'A', type: 'events' },
        { refId: 'B', type: 'events', limit: 20 },
      ]),
    );
    expect(body(backend.requests[0]!).queries).toEqual([
      { refId: 'A', type: 'events', limit: 250 },
      { refId: 'B', type: 'events', limit: 20 },
    ]);
  });

  it('sends every bundled-dashboard target the way the API accepts it (datasource stripped, variables put in)', async () => {
    const { readFileSync } = await import('node:fs');
    mockTemplateSrv([
      { name: 'action', value: ['agent_login', 'agent_logout'] },
      { name: 'area', value: '$__all', options: ['auth', 'agent'] },
      { name: 'user', value: 'u1' },
      { name: 'ip', value: ['1.2.3.4', '10.0.0.0/8'] },
      { name: 'role', value: '$__all', options: ['ADMIN'] },
    ]);
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    for (const file of ['overview', 'authentication', 'configuration-changes', 'agent-lifecycle']) {
      const dash = JSON.parse(readFileSync(`plugin/dashboards/${file}.json`, 'utf8'));
      const targets = dash.panels.flatMap((p: any) => p.targets ?? []) as CloserQuery[];
      backend.requests.length = 0;
      await ds.query(makeRequest(targets));
      // Status targets (the overview's "Complete through") go to GET /status instead.
      const post = backend.requests.filter((r) => r.method === 'POST');
      expect(post).toHaveLength(1);
      for (const q of body(post[0]!).queries) {
        expect(q).not.toHaveProperty('datasource');
        expect(JSON.stringify(q.filters ?? {})).not.toContain('$');
        expect(() => parseQuery(q)).not.toThrow();
      }
    }
  });
});

describe('query(): frames', () => {
  beforeEach(() => {
    mockTemplateSrv();
  });

  it('turns the API frames into data frames with their refId, types, labels and meta', async () => {
    mockBackend(() => ({ data: { results: { A: { frames: [seriesFrame('A')], status: 200 } } } }));
    const res = await makeDataSource().query(makeRequest([{ refId: 'A', type: 'timeseries' }]));
    expect(res.errors).toBeUndefined();
    const [frame] = res.data;
    expect(frame.refId).toBe('A');
    expect(frame.fields.map((f: any) => [f.name, f.type])).toEqual([
      ['time', FieldType.time],
      ['count', FieldType.number],
    ]);
    expect(frame.fields[1].values).toEqual([4, 7]);
    expect(frame.fields[1].labels).toEqual({ outcome: 'success' });
    expect(frame.meta.executedQueryString).toBe('SELECT ...');
    expect(frame.meta.custom.bytesScanned).toBe(123456);
  });

  it('in Explore, makes events a logs frame: LogLines, the message as body, labels, severity', async () => {
    mockBackend(() => ({ data: { results: { A: { frames: [eventsFrame('A', true)], status: 200 } } } }));
    const res = await makeDataSource().query(
      makeRequest([{ refId: 'A', type: 'events' }], { app: CoreApp.Explore }),
    );
    const [frame] = res.data;
    expect(frame.meta.type).toBe(DataFrameType.LogLines);
    expect(frame.meta.preferredVisualisationType).toBe('logs');
    const field = (name: string) => frame.fields.find((f: any) => f.name === name);
    expect(field('timestamp').type).toBe(FieldType.time);
    expect(field('body').values[0]).toBe('agent_login by u1 from 1.2.3.4: success (POST 200)');
    expect(field('severity').values).toEqual(['info', 'error']);
    expect(field('id').values).toEqual(['e1', 'e2']);
    expect(field('labels').values[1]).toEqual({
      action: 'agent_login',
      area: 'auth',
      outcome: 'failure',
      user: 'u2',
      ip: '5.6.7.8',
    });
    expect(field('http_status').values).toEqual([200, 401]);
    // The API's notice that rows were cut is kept.
    expect(frame.meta.notices).toEqual([
      { severity: 'warning', text: expect.stringContaining('Showing the newest 2 events') },
    ]);
    expect(frame.meta.custom.truncated).toBe(true);
  });

  it('on dashboards, keeps the events columns under the API’s names (the tables organise them by name)', async () => {
    mockBackend(() => ({ data: { results: { A: { frames: [eventsFrame('A', true)], status: 200 } } } }));
    const res = await makeDataSource().query(makeRequest([{ refId: 'A', type: 'events' }]));
    const [frame] = res.data;
    const names = frame.fields.map((f: any) => f.name);
    expect(names.slice(0, 4)).toEqual(['ts', 'message', 'event_id', 'action']);
    expect(frame.meta.preferredVisualisationType).toBe('logs');
    expect(frame.meta.notices[0].text).toContain('more match');
    const labels = frame.fields.find((f: any) => f.name === 'labels');
    expect(labels.config.custom.hidden).toBe(true);
    expect(labels.values[0].user).toBe('u1');
  });

  it('reports an API error on its own query, with the API’s message, and still returns the others', async () => {
    mockBackend(() => ({
      data: {
        results: {
          A: { frames: [seriesFrame('A')], status: 200 },
          B: {
            frames: [],
            status: 400,
            error: 'filters.sourceIps.0: expected an IPv4/IPv6 address or CIDR, e.g. 10.0.0.0/8',
          },
        },
      },
    }));
    const res = await makeDataSource().query(
      makeRequest([
        { refId: 'A', type: 'timeseries' },
        { refId: 'B', type: 'stat', filters: { sourceIps: ['nope'] } },
      ]),
    );
    expect(res.data.map((f: any) => f.refId)).toEqual(['A']);
    expect(res.errors).toEqual([
      {
        refId: 'B',
        status: 400,
        message: 'filters.sourceIps.0: expected an IPv4/IPv6 address or CIDR, e.g. 10.0.0.0/8',
      },
    ]);
    expect(res.state).toBe('Error');
  });

  it('puts a refused token (401) on every query, saying what to fix', async () => {
    mockBackend(() => ({ status: 401, data: { error: 'missing or wrong bearer token' } }));
    const res = await makeDataSource().query(
      makeRequest([
        { refId: 'A', type: 'stat' },
        { refId: 'B', type: 'events' },
      ]),
    );
    expect(res.data).toEqual([]);
    expect(res.errors?.map((e) => e.refId)).toEqual(['A', 'B']);
    expect(res.errors?.[0]?.message).toMatch(/refused the token \(401: missing or wrong bearer token\)/);
    expect(res.errors?.[0]?.status).toBe(401);
  });
});

describe('query(): the status query (GET /status)', () => {
  const STATUS: Status = {
    now: '2026-11-26T00:10:00.000Z',
    sealedThrough: '2026-11-25T21:00:00.000Z',
    syncedThrough: '2026-11-26T00:00:00.000Z',
    lastRunAt: '2026-11-26T00:00:04.000Z',
    freshnessLagSeconds: 600,
    lastVerify: { kind: 'source', at: '2026-11-25T12:00:00.000Z', ok: false },
    range: { from: '2026-11-24T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z' },
    days: [
      { day: '2026-11-24', rows: 700, quarantined: 0 },
      { day: '2026-11-25', rows: 650, quarantined: 3 },
    ],
    quarantinedUndated: 2,
  };

  beforeEach(() => {
    mockTemplateSrv();
  });

  it('GETs <proxy url>/api/status for the range, once for all status targets, and sends none to /query', async () => {
    const backend = mockBackend(() => ({ data: STATUS }));
    const res = await makeDataSource().query(
      makeRequest([
        { refId: 'A', type: 'status' },
        { refId: 'B', type: 'status', statusView: 'days' },
      ]),
    );
    expect(backend.requests).toHaveLength(1);
    expect(backend.requests[0]).toMatchObject({
      url: `${PROXY_URL}/api/status`,
      method: 'GET',
      params: { from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z' },
    });
    expect(res.errors).toBeUndefined();
    expect(res.data.map((f: any) => [f.refId, f.name])).toEqual([
      ['A', 'status'],
      ['B', 'days'],
    ]);
  });

  it('makes the summary one row of the contract’s fields: times as epoch ms, lag in seconds, the verify verdict', async () => {
    mockBackend(() => ({ data: STATUS }));
    const res = await makeDataSource().query(makeRequest([{ refId: 'A', type: 'status' }]));
    const [frame] = res.data;
    expect(frame.fields.map((f: any) => f.name)).toEqual([...STATUS_SUMMARY_FIELDS]);
    const value = (name: string) => frame.fields.find((f: any) => f.name === name);
    expect(value('sealed_through').values).toEqual([Date.parse('2026-11-25T21:00:00Z')]);
    expect(value('sealed_through').config.unit).toBe('dateTimeAsIso');
    expect(value('freshness_lag').values).toEqual([600]);
    expect(value('freshness_lag').config.unit).toBe('s');
    expect(value('last_verify').values).toEqual(['failed']);
    expect(value('last_verify_kind').values).toEqual(['source']);
    expect(value('rows').values).toEqual([1350]);
    expect(value('quarantined').values).toEqual([3]);
    expect(value('quarantined_undated').values).toEqual([2]);
    // Nothing synced and never verified: empty values and "never", not an error.
    mockBackend(() => ({
      data: {
        ...STATUS,
        sealedThrough: null,
        syncedThrough: null,
        lastRunAt: null,
        freshnessLagSeconds: null,
        lastVerify: null,
      },
    }));
    const empty = (await makeDataSource().query(makeRequest([{ refId: 'A', type: 'status' }]))).data[0];
    expect(empty.fields.find((f: any) => f.name === 'sealed_through').values).toEqual([null]);
    expect(empty.fields.find((f: any) => f.name === 'last_verify').values).toEqual(['never']);
  });

  it('makes the days view a time series: the day’s start (UTC), rows, quarantined', async () => {
    mockBackend(() => ({ data: STATUS }));
    const res = await makeDataSource().query(
      makeRequest([{ refId: 'B', type: 'status', statusView: 'days' }]),
    );
    const [frame] = res.data;
    expect(frame.fields.map((f: any) => [f.name, f.type])).toEqual([
      ['time', FieldType.time],
      ['rows', FieldType.number],
      ['quarantined', FieldType.number],
    ]);
    expect(frame.fields.map((f: any) => f.name)).toEqual([...STATUS_DAY_FIELDS]);
    expect(frame.fields[0].values).toEqual([
      Date.parse('2026-11-24T00:00:00Z'),
      Date.parse('2026-11-25T00:00:00Z'),
    ]);
    expect(frame.fields[2].values).toEqual([0, 3]);
  });

  it('runs status and model targets side by side; a failed /status errs only its own targets', async () => {
    const backend = mockBackend((req) =>
      req.method === 'GET'
        ? { status: 504, data: { error: 'query ran longer than 25 s and was stopped' } }
        : { data: { results: { B: { frames: [seriesFrame('B')], status: 200 } } } },
    );
    const res = await makeDataSource().query(
      makeRequest([
        { refId: 'A', type: 'status' },
        { refId: 'B', type: 'timeseries' },
      ]),
    );
    expect(backend.requests.map((r) => r.method).sort()).toEqual(['GET', 'POST']);
    expect(body(backend.requests.find((r) => r.method === 'POST')!).queries).toEqual([
      { refId: 'B', type: 'timeseries' },
    ]);
    expect(res.data.map((f: any) => f.refId)).toEqual(['B']);
    expect(res.errors).toEqual([
      { refId: 'A', status: 504, message: 'Query API error 504: query ran longer than 25 s and was stopped' },
    ]);
    expect(res.state).toBe('Error');
  });

  it('says so when the answer is not a status (an older query API, a proxy page)', async () => {
    mockBackend(() => ({ data: '<html>not found</html>' }));
    const res = await makeDataSource().query(makeRequest([{ refId: 'A', type: 'status' }]));
    expect(res.data).toEqual([]);
    expect(res.errors?.[0]?.message).toMatch(/did not answer with the status/);
  });
});

describe('testDatasource()', () => {
  beforeEach(() => {
    mockTemplateSrv();
  });

  it('checks /health, then the token on /catalog, through the proxy route', async () => {
    const backend = mockBackend((req) =>
      req.url.endsWith('/health')
        ? { data: { status: 'ok', engine: 'duckdb' } }
        : { data: { actions: ACTIONS, areas: {}, groupFields: [] } },
    );
    const res = await makeDataSource().testDatasource();
    expect(backend.requests.map((r) => [r.method, r.url])).toEqual([
      ['GET', `${PROXY_URL}/api/health`],
      ['GET', `${PROXY_URL}/api/catalog`],
    ]);
    expect(res.status).toBe('success');
    expect(res.message).toContain('duckdb');
    expect(res.message).toContain('58 actions');
  });

  it('says the token is wrong on a 401', async () => {
    mockBackend((req) =>
      req.url.endsWith('/health')
        ? { data: { status: 'ok', engine: 'athena' } }
        : { status: 401, data: { error: 'missing or wrong bearer token' } },
    );
    const res = await makeDataSource().testDatasource();
    expect(res.status).toBe('error');
    expect(res.message).toMatch(/refused the token \(401/);
    expect(res.message).toContain('CLOSER_API_TOKEN');
  });

  it('says the URL is wrong on a 404', async () => {
    mockBackend(() => ({ status: 404, data: { error: 'no route GET /x/health' } }));
    const res = await makeDataSource({ apiUrl: 'http://localhost:8787/x' }).testDatasource();
    expect(res.status).toBe('error');
    expect(res.message).toMatch(
      /Not found \(404\) at http:\/\/localhost:8787\/x\/health: the URL is not the query API's root/,
    );
  });

  it('says the API cannot be reached when the proxy answers 502', async () => {
    mockBackend(() => ({ status: 502, data: { message: 'Bad Gateway' } }));
    const res = await makeDataSource().testDatasource();
    expect(res.status).toBe('error');
    expect(res.message).toMatch(/Cannot reach the query API at http:\/\/localhost:8787/);
  });

  it('asks for the API URL when there is none', async () => {
    const backend = mockBackend(() => ({ data: {} }));
    const res = await makeDataSource({}).testDatasource();
    expect(res.status).toBe('error');
    expect(res.message).toMatch(/Set the API URL/);
    expect(backend.requests).toHaveLength(0);
  });
});

describe('template variables', () => {
  it('asks POST /variables for the values, in the dashboard’s range, with chained filters put in', async () => {
    mockTemplateSrv([{ name: 'area', value: ['auth', 'agent'] }]);
    const backend = mockBackend(() => ({
      data: {
        values: [
          { text: 'u1', value: 'u1' },
          { text: 'u2', value: 'u2' },
        ],
      },
    }));
    const ds = makeDataSource();
    const request = makeRequest([]) as unknown as DataQueryRequest<CloserVariableQuery>;
    request.targets = [{ refId: 'variable', variable: 'users', filters: { areas: ['$area'] } }];
    const res = await lastValueFrom((ds.variables as any).query(request));
    expect(backend.requests[0]!.url).toBe(`${PROXY_URL}/api/variables`);
    expect(body(backend.requests[0]!)).toEqual({
      variable: 'users',
      range: { from: '2026-11-25T00:00:00.000Z', to: '2026-11-26T00:00:00.000Z' },
      filters: { areas: ['auth', 'agent'] },
    });
    expect((res as any).data).toEqual([
      { text: 'u1', value: 'u1' },
      { text: 'u2', value: 'u2' },
    ]);
  });

  it('is the modern custom variable support, with its own editor', () => {
    mockTemplateSrv();
    const ds = makeDataSource();
    expect((ds.variables as any).getType()).toBe('custom');
    expect(typeof (ds.variables as any).editor).toBe('function');
  });
});

describe('annotations', () => {
  it('query configuration changes and role changes by default, as events', () => {
    const ds = makeDataSource();
    const q = ds.annotations!.prepareQuery!(
      ds.annotations!.prepareAnnotation!({ name: 'Changes', enable: true, iconColor: 'red' } as any),
    )!;
    expect(q.type).toBe('events');
    const actions = q.filters?.actions as string[];
    expect(actions).toContain('agent_role_change');
    expect(actions).toContain('org_config_change');
    expect(actions).not.toContain('agent_login');
    // Derived from the catalog: every configuration change, creation and deletion in it.
    const config = ACTIONS.filter(
      (a) => a.category === 'configuration' && ['creation', 'change', 'deletion'].includes(a.verb),
    );
    for (const a of config) expect(actions).toContain(a.action);
    expect(() => parseQuery(q)).not.toThrow();
  });

  it('turn events into annotations saying what changed, who, from where', async () => {
    mockTemplateSrv();
    mockBackend(() => ({
      data: {
        results: {
          Anno: {
            frames: [
              {
                ...eventsFrame('Anno'),
                fields: eventsFrame('Anno').fields.map((f) =>
                  f.name === 'action' ? { ...f, values: ['agent_role_change', 'org_config_change'] } : f,
                ),
              },
            ],
          },
        },
      },
    }));
    const ds = makeDataSource();
    const anno = ds.annotations!.prepareAnnotation!({
      name: 'Changes',
      enable: true,
      iconColor: 'red',
    } as any);
    const target = ds.annotations!.prepareQuery!(anno)!;
    const res = await ds.query(makeRequest([target]));
    const events = await lastValueFrom(ds.annotations!.processEvents!(anno, res.data));
    expect(events).toHaveLength(2);
    expect(events![0]).toMatchObject({
      time: 1764115200000,
      title: "Change of agent's role, from admin or to admin",
      tags: ['auth', 'agent_role_change', 'success'],
    });
    expect(events![0]!.text).toContain('agent_role_change by u1 from 1.2.3.4');
    expect(events![1]!.title).toBe('Change made to general config of organization');
    expect(eventsToAnnotations([])).toEqual([]);
  });
});

describe('detections', () => {
  const alertsFrame = (refId: string): Frame => ({
    refId,
    name: 'detections',
    fields: [
      { name: 'first_ts', type: 'time', values: [1764115200000, 1764111600000] },
      { name: 'severity', type: 'string', values: ['high', 'critical'] },
      { name: 'rule', type: 'string', values: ['password-brute-force-ip', 'role-change-to-admin'] },
      { name: 'title', type: 'string', values: ['Password brute force from 1.2.3.4', 'u7 made ADMIN'] },
      { name: 'technique', type: 'string', values: ['T1110.001', 'T1098'] },
      { name: 'count', type: 'number', values: [25, 1] },
      { name: 'last_ts', type: 'time', values: [1764115500000, 1764111600000] },
      { name: 'id', type: 'string', values: ['a1', 'a2'] },
    ],
    meta: { preferredVisualisationType: 'table', custom: { truncated: false, limit: 500 } },
  });

  it('sends the detections query with its variables put in: several rules, All severities, no alert picked', async () => {
    mockTemplateSrv([
      { name: 'rule', value: ['password-spraying', 'credential-created'] },
      { name: 'severity', value: '$__all', options: ['low', 'medium', 'high', 'critical'] },
      { name: 'alert', value: '' },
    ]);
    const backend = mockBackend(() => ({ data: { results: {} } }));
    const ds = makeDataSource();
    await ds.query(
      makeRequest([
        {
          refId: 'A',
          type: 'detections',
          format: 'events',
          rules: ['$rule'],
          severities: ['$severity'],
          alertIds: ['$alert'],
          filters: { actions: ['agent_login'] },
        },
      ]),
    );
    const sent = body(backend.requests[0]!).queries[0];
    // All severities means no restriction, and an empty alert id none either: both are dropped.
    expect(sent).toEqual({
      refId: 'A',
      type: 'detections',
      format: 'events',
      rules: ['password-spraying', 'credential-created'],
    });
    expect(() => parseQuery(sent)).not.toThrow();
  });

  it('an annotation of type detections stays one, and its alerts become region annotations', async () => {
    mockTemplateSrv();
    mockBackend(() => ({ data: { results: { Anno: { frames: [alertsFrame('Anno')] } } } }));
    const ds = makeDataSource();
    const anno = ds.annotations!.prepareAnnotation!({
      name: 'Detections',
      enable: true,
      iconColor: 'red',
      // As the bundled dashboards write it: Grafana's queryType key.
      target: { refId: 'Anno', queryType: 'detections' },
    } as any);
    const target = ds.annotations!.prepareQuery!(anno)!;
    expect(target).toMatchObject({ type: 'detections', format: 'alerts' });
    const res = await ds.query(makeRequest([target]));
    const events = await lastValueFrom(ds.annotations!.processEvents!(anno, res.data));
    expect(events).toHaveLength(2);
    expect(events![0]).toMatchObject({
      time: 1764115200000,
      timeEnd: 1764115500000,
      isRegion: true,
      title: 'HIGH: Password brute force from 1.2.3.4',
      tags: ['detection', 'high', 'password-brute-force-ip'],
    });
    expect(events![0]!.text).toBe('password-brute-force-ip (T1110.001), 25 events');
    // One event: a point, not a region.
    expect(events![1]).not.toHaveProperty('isRegion');
    expect(events![1]!.title).toBe('CRITICAL: u7 made ADMIN');
  });
});
