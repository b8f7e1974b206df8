import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSync } from '../../functions/ingest/sync.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { createApi } from '../../functions/query/http/api.js';
import { startServer } from '../../functions/query/http/node-server.js';
import { QueryService } from '../../functions/query/service.js';
import { defaultHourlyCount, generateHour } from '../../functions/sample/generator.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import type { StoredEvent } from '../../shared/event/columns.js';
import { normaliseHit } from '../../shared/normalise/normalise.js';
import { GROUP_FIELDS, type GroupField } from '../../shared/query/fields.js';
import type { Filters } from '../../shared/query/model.js';
import { Redactor } from '../../shared/redaction/index.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const FROM = Date.UTC(2026, 8, 14);
const TO = FROM + 3 * 24 * HOUR;
const RANGE = { from: new Date(FROM + 5 * HOUR).toISOString(), to: new Date(TO - 7 * HOUR).toISOString() };
const r = { from: Date.parse(RANGE.from), to: Date.parse(RANGE.to) };

let dir: string;
let engine: DuckDbEngine;
let service: QueryService;
// The same feed, normalised in the test: the independent side of every comparison.
const events: StoredEvent[] = [];

beforeAll(async () => {
  dir = await tmpDir('query');
  await runSync(ingestContext(dir, new SampleSource(), { now: () => TO + 10 * 24 * HOUR }), {
    from: FROM,
    to: TO,
  });
  const redactor = new Redactor();
  for (let h = FROM; h < TO; h += HOUR) {
    for (const hit of generateHour(h, defaultHourlyCount(h))) {
      const n = normaliseHit(hit, { redactor, ingestedAt: 0 });
      if (n.ok) events.push(n.event);
    }
  }
  engine = await DuckDbEngine.open(dir);
  service = new QueryService(engine, { timeoutMs: 20_000 });
}, 120_000);

afterAll(async () => {
  await engine.close();
});

async function one(query: Record<string, unknown>, range = RANGE) {
  const { results } = await service.query({ range, queries: [{ refId: 'A', ...query }] });
  const res = results.A;
  if (!res) throw new Error('no result');
  return res;
}

async function count(filters: Filters, range = RANGE): Promise<number> {
  const res = await one({ type: 'stat', filters }, range);
  if (res.error) throw new Error(res.error);
  return res.frames[0]?.fields[0]?.values[0] as number;
}

const inRange = (e: StoredEvent, range = r) => e.ts >= range.from && e.ts < range.to;
const expected = (pred: (e: StoredEvent) => boolean) => events.filter((e) => inRange(e) && pred(e)).length;
const ipv4 = (ip: string | null) =>
  ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? ip.split('.').reduce((a, p) => a * 256 + Number(p), 0) : null;

describe('DuckDB engine on synced Parquet', () => {
  it('counts every event of a range spanning days, reading only those days', async () => {
    expect(events.length).toBeGreaterThan(1000);
    expect(await count({})).toBe(expected(() => true));
    const oneDay = await one({ type: 'stat' }, { from: '2026-09-15T00:00:00Z', to: '2026-09-16T00:00:00Z' });
    expect(oneDay.frames[0]?.meta.custom?.filesRead).toBe(1);
    // The table by name: the files read are counted, never listed with the server's paths.
    expect(oneDay.frames[0]?.meta.executedQueryString).toMatch(/FROM events\n/);
    expect(oneDay.frames[0]?.meta.executedQueryString).not.toContain(dir);
  });

  const sample = () => events.filter((e) => inRange(e));
  const cases: [string, () => Filters, (e: StoredEvent) => boolean][] = [
    [
      'actions',
      () => ({ actions: ['agent_login', 'org_topic_creation'] }),
      (e) => ['agent_login', 'org_topic_creation'].includes(e.action ?? ''),
    ],
    ['areas', () => ({ areas: ['oauth', 'bot'] }), (e) => ['oauth', 'bot'].includes(e.area ?? '')],
    ['outcomes', () => ({ outcomes: ['FAILURE'] }), (e) => e.outcome === 'failure'],
    [
      'userIds',
      () => ({ userIds: [sample().find((e) => e.user_id)?.user_id as string] }),
      (e) => e.user_id === sample().find((x) => x.user_id)?.user_id,
    ],
    ['userRoles', () => ({ userRoles: ['ADMIN'] }), (e) => e.user_roles.includes('ADMIN')],
    ['sourceIps (address)', () => ({ sourceIps: ['185.220.101.7'] }), (e) => e.source_ip === '185.220.101.7'],
    [
      'sourceIps (CIDR)',
      () => ({ sourceIps: ['89.0.0.0/8', '212.0.0.0/8'] }),
      (e) => {
        const n = ipv4(e.source_ip);
        return n !== null && (Math.floor(n / 2 ** 24) === 89 || Math.floor(n / 2 ** 24) === 212);
      },
    ],
    ['httpMethods', () => ({ httpMethods: ['delete'] }), (e) => e.http_method === 'DELETE'],
    [
      'statuses (codes and class)',
      () => ({ statuses: [401, '5xx'] }),
      (e) => e.http_status === 401 || (e.http_status !== null && e.http_status >= 500 && e.http_status < 600),
    ],
    [
      'urlContains',
      () => ({ urlContains: 'MAGIC-LINK' }),
      (e) => (e.url ?? '').toLowerCase().includes('magic-link'),
    ],
    ['pathContains', () => ({ pathContains: '/skills' }), (e) => (e.url_path ?? '').includes('/skills')],
    ['resourceTypes', () => ({ resourceTypes: ['agent'] }), (e) => e.resource_type === 'agent'],
    [
      'resourceIds',
      () => ({ resourceIds: [sample().find((e) => e.resource_id)?.resource_id as string] }),
      (e) => e.resource_id === sample().find((x) => x.resource_id)?.resource_id,
    ],
    [
      'bodyContains',
      () => ({ bodyContains: 'skills' }),
      (e) => (e.request_body ?? '').toLowerCase().includes('skills'),
    ],
    ['knownAction', () => ({ knownAction: true }), (e) => e.known_action],
    [
      'several at once',
      () => ({ areas: ['auth'], outcomes: ['failure'], statuses: ['4xx'] }),
      (e) =>
        e.area === 'auth' &&
        e.outcome === 'failure' &&
        (e.http_status ?? 0) >= 400 &&
        (e.http_status ?? 0) < 500,
    ],
  ];
  it.each(cases)('filter %s matches an independent count', async (_name, filters, pred) => {
    const want = expected(pred);
    expect(await count(filters())).toBe(want);
  });

  it.each(GROUP_FIELDS.map((f) => [f]))('top values of %s match an independent count', async (field) => {
    const res = await one({ type: 'topn', field, limit: 5 });
    expect(res.error).toBeUndefined();
    const [values, counts] = res.frames[0]?.fields.map((f) => f.values) ?? [];
    const tally = new Map<string, number>();
    for (const e of sample()) {
      for (const v of valuesOf(e, field as GroupField)) tally.set(v, (tally.get(v) ?? 0) + 1);
    }
    expect(values?.length).toBe(Math.min(5, tally.size));
    values?.forEach((v, i) => expect(counts?.[i]).toBe(tally.get(String(v))));
    const top = Math.max(...tally.values());
    expect(counts?.[0]).toBe(top);
  });

  it('time series buckets add up, split series included', async () => {
    const total = expected(() => true);
    const plain = await one({ type: 'timeseries', interval: '1h' });
    const frame = plain.frames[0];
    expect(frame?.fields[0]?.type).toBe('time');
    expect((frame?.fields[1]?.values as number[]).reduce((a, b) => a + b, 0)).toBe(total);
    const split = await one({ type: 'timeseries', interval: '6h', splitBy: 'area', maxSeries: 3 });
    const names = split.frames.map((f) => f.name);
    expect(names).toContain('other');
    expect(names.length).toBeLessThanOrEqual(4);
    const sum = split.frames.flatMap((f) => f.fields[1]?.values as number[]).reduce((a, b) => a + b, 0);
    expect(sum).toBe(total);
    expect(split.frames.find((f) => f.name === 'auth')?.fields[1]?.labels).toEqual({ area: 'auth' });
  });

  it('events come newest first, cut at the limit, and the frame says so', async () => {
    const res = await one({ type: 'events', limit: 25, filters: { areas: ['auth'] } });
    const frame = res.frames[0];
    const ts = frame?.fields.find((f) => f.name === 'ts')?.values as number[];
    expect(ts).toHaveLength(25);
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    const newest = events.filter((e) => inRange(e) && e.area === 'auth').sort((a, b) => b.ts - a.ts)[0];
    expect(ts[0]).toBe(newest?.ts);
    expect(frame?.meta.custom?.truncated).toBe(true);
    expect(frame?.meta.notices?.[0]?.text).toMatch(/newest 25 events/);
    expect(frame?.meta.preferredVisualisationType).toBe('logs');
    const message = frame?.fields.find((f) => f.name === 'message')?.values[0] as string;
    expect(message).toMatch(/^agent_|^oauth_/);
    const few = await one({ type: 'events', limit: 10_000, filters: { actions: ['stripe_org_creation'] } });
    expect(few.frames[0]?.meta.custom?.truncated).toBe(false);
  });

  it('caps what raw SQL returns, and says so', async () => {
    const res = await one({ type: 'sql', sql: 'SELECT * FROM range(25000) t(n)' });
    const frame = res.frames[0];
    expect(frame?.fields[0]?.values).toHaveLength(10_000);
    expect(frame?.meta.custom?.truncated).toBe(true);
    expect(frame?.meta.notices?.[0]?.text).toMatch(/first 10000 rows/);
  });

  it('answers an empty range with no rows, not an error', async () => {
    const empty = { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' };
    expect(await count({}, empty)).toBe(0);
    const ev = await one({ type: 'events' }, empty);
    expect(ev.error).toBeUndefined();
    expect(ev.frames[0]?.fields[0]?.values).toEqual([]);
    const top = await one({ type: 'topn', field: 'action' }, empty);
    expect(top.frames[0]?.fields[0]?.values).toEqual([]);
  });

  it('raw SQL with macros runs, read-only, and prunes by dt', async () => {
    const res = await one({
      type: 'sql',
      sql: 'SELECT count(*) AS n FROM $__table WHERE $__timeFilter(ts) -- $__table in a comment stays',
    });
    expect(res.error).toBeUndefined();
    expect(res.frames[0]?.fields[0]?.values[0]).toBe(expected(() => true));
    expect(res.frames[0]?.meta.executedQueryString).toMatch(/dt BETWEEN \? AND \?/);
    const withInterval = await service.query({
      range: RANGE,
      intervalMs: 6 * HOUR,
      queries: [
        {
          refId: 'A',
          type: 'sql',
          sql: 'SELECT $__timeGroup(ts, $__interval) AS time, $__interval AS step, count(*) AS n FROM $__table WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1',
        },
      ],
    });
    const frame = withInterval.results.A?.frames[0];
    expect(frame?.fields[1]?.values.every((v) => v === 6 * HOUR)).toBe(true);
    expect((frame?.fields[0]?.values as number[]).every((t) => t % (6 * HOUR) === 0)).toBe(true);
    const grouped = await one({
      type: 'sql',
      sql: "SELECT $__timeGroup(ts, 1d) AS time, count(*) AS n FROM $__table WHERE $__timeFilter(ts) AND action = 'agent_login' GROUP BY 1 ORDER BY 1",
    });
    expect((grouped.frames[0]?.fields[1]?.values as number[]).reduce((a, b) => a + b, 0)).toBe(
      expected((e) => e.action === 'agent_login'),
    );
  });
});

describe('injection and write attempts', () => {
  const hostile = [
    "x' OR 1=1 --",
    "'); DROP TABLE closer_empty_events; --",
    '/* */ OR TRUE',
    'ünïcödé ☃ \u200b',
    "\\'; SELECT 1; --",
    '$__table',
  ];
  it.each(hostile.map((h) => [h]))('filter value %p is data, never SQL', async (value) => {
    expect(await count({ actions: [value], urlContains: value, bodyContains: value, userIds: [value] })).toBe(
      0,
    );
    expect(await count({ pathContains: value })).toBe(0);
    expect(await count({})).toBe(expected(() => true));
  });

  it.each([
    ['INSERT INTO closer_empty_events SELECT * FROM closer_empty_events'],
    ['DROP TABLE closer_empty_events'],
    ["ATTACH '/tmp/evil.db' AS evil"],
    ["COPY (SELECT 1) TO '/tmp/out.csv'"],
    ["SELECT * FROM read_csv('/etc/passwd')"],
    ["SELECT * FROM read_text('/etc/hostname')"],
    ['SELECT 1; DROP TABLE closer_empty_events'],
    ['INSTALL httpfs'],
    ['SET enable_external_access = true'],
  ])('raw SQL %p is refused', async (sql) => {
    const res = await one({ type: 'sql', sql });
    expect(res.status).toBe(400);
    expect(res.error).toBeTruthy();
    expect(res.frames).toEqual([]);
    expect(await count({})).toBe(expected(() => true));
  });
});

describe('HTTP API', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = await startServer(createApi(service, { token: async () => 's3cret-token' }), {
      port: 0,
      host: '127.0.0.1',
    });
    url = server.url;
    close = server.close;
  });
  afterAll(() => close());

  const post = (path: string, body: unknown, token: string | null = 's3cret-token') =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('serves health without a token, everything else only with the right one', async () => {
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: 'ok',
      engine: 'duckdb',
      rollups: { objects: expect.any(Number), pending: expect.any(Number), failed: 0 },
    });
    expect((await fetch(`${url}/catalog`)).status).toBe(401);
    expect((await post('/query', { range: RANGE, queries: [{ type: 'stat' }] }, 'wrong')).status).toBe(401);
    expect((await post('/query', { range: RANGE, queries: [{ type: 'stat' }] }, null)).status).toBe(401);
    const catalog = await fetch(`${url}/catalog`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(((await catalog.json()) as { actions: unknown[] }).actions).toHaveLength(58);
  });

  it('answers per refId: one query failing does not fail the others', async () => {
    const res = await post('/query', {
      range: RANGE,
      queries: [
        { refId: 'ok', type: 'stat' },
        { refId: 'bad', type: 'topn', field: 'password' },
        { refId: 'sql', type: 'sql', sql: 'SELECT nope FROM $__table' },
      ],
    });
    expect(res.status).toBe(200);
    const { results } = (await res.json()) as {
      results: Record<string, { status: number; error?: string; frames: unknown[] }>;
    };
    expect(results.ok?.status).toBe(200);
    expect(results.bad).toMatchObject({ status: 400, frames: [] });
    expect(results.bad?.error).toMatch(/^field:/);
    expect(results.sql?.status).toBe(400);
  });

  it('says which field is wrong, never with a stack trace', async () => {
    const bad = await post('/query', {
      range: { from: 'yesterday', to: RANGE.to },
      queries: [{ type: 'stat' }],
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: 'range.from: not an ISO-8601 instant or epoch ms',
      field: 'range.from',
    });
    const notJson = await post('/query', '{"range":');
    expect(notJson.status).toBe(400);
    expect((await post('/query', { range: RANGE, queries: [] })).status).toBe(400);
    const huge = await post('/query', { range: RANGE, queries: [{ type: 'sql', sql: 'x'.repeat(300_000) }] });
    expect(huge.status).toBe(413);
    expect((await post('/nope', {})).status).toBe(404);
    const text = await (
      await post('/query', { range: RANGE, queries: [{ refId: 'A', type: 'events', limit: -1 }] })
    ).text();
    expect(text).not.toMatch(/at \w+ \(|node_modules/);
  });

  it('gives template variable values', async () => {
    const res = await post('/variables', { range: RANGE, variable: 'roles' });
    const { values } = (await res.json()) as { values: { value: string }[] };
    expect(values.map((v) => v.value).sort()).toEqual(['ADMIN', 'AGENT']);
    const actions = (await (await post('/variables', { range: RANGE, variable: 'actions' })).json()) as {
      values: unknown[];
    };
    expect(actions.values.length).toBeGreaterThanOrEqual(58);
    expect((await post('/variables', { range: RANGE, variable: 'passwords' })).status).toBe(400);
  });
});

function valuesOf(e: StoredEvent, field: GroupField): string[] {
  switch (field) {
    case 'user_role':
      return e.user_roles;
    case 'status_class':
      return e.http_status === null ? ['null'] : [`${Math.floor(e.http_status / 100)}xx`];
    case 'http_status':
    case 'known_action':
      return [String(e[field])];
    default:
      return [String(e[field])];
  }
}
