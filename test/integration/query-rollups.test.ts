// The DuckDB engine answers counting questions from hourly rollups it builds from the stored
// objects (issue 17). A rollup is a cache: every answer must equal the one read from the events,
// value by value, for every query type, filter and field it serves, at ranges that do and do not
// fall on whole hours, while the store changes under it; questions it cannot serve read the
// events. Compared with an engine that keeps no rollups, over the same folder.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { createApi } from '../../functions/query/http/api.js';
import { QueryService } from '../../functions/query/service.js';
import { GROUP_FIELDS } from '../../shared/query/fields.js';
import type { Query } from '../../shared/query/model.js';
import { HOUR, syncSample } from '../support/ingest.js';
import { ROOT, cli } from '../support/cli.js';
import { tmpDir } from '../support/tmp.js';
import { sameAnswers, strip } from '../support/same-answers.js';

const DAY = 24 * HOUR;
const START = Date.UTC(2026, 8, 14);
/** Two sealed days, then six open hours of the third. */
const NOW = START + 2 * DAY + 7 * HOUR;

let dir: string;
let rolled: DuckDbEngine;
let plain: DuckDbEngine;
let withRollups: QueryService;
let without: QueryService;
const warnings: string[] = [];

const sync = (from: number, to: number, now: number) => syncSample(dir, from, to, now);

beforeAll(async () => {
  dir = await tmpDir('query-rollups');
  await sync(START, NOW - HOUR, NOW);
  rolled = await DuckDbEngine.open(dir, { maxWaiting: 200, onWarning: (m) => warnings.push(m) });
  plain = await DuckDbEngine.open(dir, { maxWaiting: 200, rollups: false });
  // The rollups' own answers, each read whole (the answer cache has its own test).
  withRollups = new QueryService(rolled, {
    maxQueriesPerRequest: 200,
    timeoutMs: 60_000,
    answerCache: false,
  });
  without = new QueryService(plain, { maxQueriesPerRequest: 200, timeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  await rolled?.close();
  await plain?.close();
});

type Q = Exclude<Query, { type: 'sql' | 'events' | 'detections' }> & { refId: string };

const iso = (ms: number) => new Date(ms).toISOString();

/** Values seen in the data, so that every filter matches something. */
async function seen(field: string, n = 2): Promise<string[]> {
  const { results } = await without.query({
    range: { from: iso(START), to: iso(NOW) },
    queries: [{ refId: 'A', type: 'topn', field, limit: n }],
  });
  return (results.A?.frames[0]?.fields[0]?.values ?? []).map(String);
}

/** Every counting query shape the rollups serve, and some they must not. */
async function questions(): Promise<Q[]> {
  const [actions, users, ips] = [await seen('action', 3), await seen('user_id'), await seen('source_ip')];
  const filters = [
    {},
    { actions },
    { areas: ['authentication', 'configuration'] },
    { outcomes: ['failure'] },
    { userIds: users },
    { userRoles: ['ADMIN'] },
    { sourceIps: [ips[0] as string, '10.0.0.0/8'] },
    { httpMethods: ['post'] },
    { statuses: ['4xx' as const, 200] },
    { resourceTypes: ['agent'] },
    { knownAction: true },
    { outcomes: ['success'], userIds: users, areas: ['authentication'] },
    // Not in any rollup: the events answer.
    { pathContains: 'api' },
    { resourceIds: ['x'] },
  ];
  const out: Q[] = [];
  filters.forEach((f, i) => {
    out.push({ refId: `count-${i}`, type: 'stat', filters: f });
    out.push({ refId: `users-${i}`, type: 'stat', metric: 'distinct', field: 'user_id', filters: f });
    out.push({ refId: `ts-${i}`, type: 'timeseries', filters: f });
    out.push({ refId: `ts-area-${i}`, type: 'timeseries', splitBy: 'area', filters: f, interval: '1d' });
  });
  for (const field of GROUP_FIELDS) {
    out.push({ refId: `top-${field}`, type: 'topn', field, limit: 7 });
    out.push({ refId: `top-fail-${field}`, type: 'topn', field, filters: { outcomes: ['failure'] } });
    out.push({ refId: `split-${field}`, type: 'timeseries', splitBy: field, maxSeries: 4 });
    out.push({ refId: `distinct-${field}`, type: 'stat', metric: 'distinct', field });
  }
  // A bucket finer than the rollups' hour: the events answer.
  out.push({ refId: 'ts-5m', type: 'timeseries', interval: '5m', splitBy: 'outcome' });
  out.push({ refId: 'ts-3h', type: 'timeseries', interval: '3h', splitBy: 'action' });
  return out;
}

/** Asks both services; returns the refIds the rollups answered. */
async function compare(range: { from: number; to: number }, qs: Q[]): Promise<Set<string>> {
  const body = { range: { from: iso(range.from), to: iso(range.to) }, intervalMs: HOUR, queries: qs };
  const [a, b] = await Promise.all([withRollups.query(body), without.query(body)]);
  return sameAnswers(
    a,
    b,
    qs.map((q) => q.refId),
    /\bFROM rollup\b/,
  );
}

describe('DuckDB hourly rollups', () => {
  it('answer every counting question exactly as the events do, at whole and partial hours', async () => {
    const qs = await questions();
    const ranges = {
      whole: { from: START, to: NOW - HOUR },
      partial: { from: START + 17 * 60_000 + 123, to: NOW - HOUR - 41 * 60_000 - 7 },
      oneDay: { from: START + DAY + 30 * 60_000, to: START + 2 * DAY + 90 * 60_000 },
      withinAnHour: { from: START + 5 * HOUR + 60_000, to: START + 5 * HOUR + 59 * 60_000 },
    };
    // Before any rollup is built: the events answer (and the builds are queued).
    expect((await compare(ranges.whole, qs)).size).toBe(0);
    await rolled.rollupsSettled();
    expect(rolled.rollupStatus()).toEqual({ objects: expect.any(Number), pending: 0, failed: 0 });
    expect(rolled.rollupStatus()?.objects).toBeGreaterThanOrEqual(3);

    for (const [name, range] of Object.entries(ranges)) {
      const used = await compare(range, qs);
      if (name === 'withinAnHour') {
        expect(used.size).toBe(0);
        continue;
      }
      // The rollups answered the questions over their columns, and only those.
      for (const id of ['count-0', 'count-4', 'users-0', 'ts-0', 'ts-area-1', 'top-action', 'top-user_role'])
        expect({ id, used: used.has(id) }).toEqual({ id, used: true });
      for (const id of ['count-12', 'count-13', 'top-url_path', 'top-resource_id', 'top-es_index', 'ts-5m'])
        expect({ id, used: used.has(id) }).toEqual({ id, used: false });
      expect(used.size).toBeGreaterThan(qs.length / 2);
    }
    // The objects holding a range's ends, once copied event by event (queued by the asks above),
    // answer those ends: the same answers, no object opened.
    await rolled.rollupsSettled();
    for (const range of [ranges.partial, ranges.oneDay]) {
      await compare(range, qs);
      const body = { range: { from: iso(range.from), to: iso(range.to) }, intervalMs: HOUR, queries: qs };
      const again = await withRollups.query(body);
      for (const id of ['count-0', 'users-0', 'ts-0', 'ts-area-1', 'top-action', 'top-user_role'])
        expect({ id, files: again.results[id]?.frames[0]?.meta.custom?.filesRead }).toEqual({ id, files: 0 });
    }

    // A body text: the events whose body holds it copied object by object from its first ask,
    // then its counts read the copy, at any range and bucket (the rows are events).
    const bodyQs: Q[] = [
      { refId: 'body-count', type: 'stat', filters: { bodyContains: 'ADMIN' } },
      { refId: 'body-act', type: 'stat', filters: { bodyContains: 'admin', actions: ['agent_role_change'] } },
      {
        refId: 'body-users',
        type: 'stat',
        metric: 'distinct',
        field: 'user_id',
        filters: { bodyContains: 'admin' },
      },
      { refId: 'body-ts', type: 'timeseries', interval: '5m', filters: { bodyContains: 'admin' } },
      { refId: 'body-top', type: 'topn', field: 'user_id', filters: { bodyContains: 'Admin' } },
      { refId: 'body-none', type: 'stat', filters: { bodyContains: 'no such text' } },
    ];
    expect((await compare(ranges.whole, bodyQs)).size).toBe(0);
    await rolled.rollupsSettled();
    for (const range of Object.values(ranges)) {
      const used = await compare(range, bodyQs);
      expect([...used].sort()).toEqual(bodyQs.map((q) => q.refId).sort());
    }
    // A text first asked over one day: every object's copy follows, so a wider range reads it.
    const agentQs: Q[] = [{ refId: 'body-agent', type: 'stat', filters: { bodyContains: 'agent' } }];
    expect((await compare(ranges.withinAnHour, agentQs)).size).toBe(0);
    await rolled.rollupsSettled();
    expect([...(await compare(ranges.partial, agentQs))]).toEqual(['body-agent']);
    const admins = await withRollups.query({
      range: { from: iso(ranges.whole.from), to: iso(ranges.whole.to) },
      queries: [bodyQs[0] as Q],
    });
    expect(Number(admins.results['body-count']?.frames[0]?.fields[0]?.values[0])).toBeGreaterThan(0);
    // Raw SQL's $__rollup: the rollups where kept, else the events one by one: the same rows.
    const dashboard = JSON.parse(
      await fs.readFile(path.join(ROOT, 'plugin/dashboards/authentication.json'), 'utf8'),
    ) as { panels: { targets?: { type?: string; sql?: string }[] }[] };
    const newIp = dashboard.panels.flatMap((p) => p.targets ?? []).find((t) => t.type === 'sql')?.sql;
    expect(newIp).toContain('$__rollup');
    const rawQs = [
      { refId: 'raw-new-ip', type: 'sql', sql: newIp },
      {
        refId: 'raw-days',
        type: 'sql',
        sql: 'SELECT dt, action, CAST(sum(n) AS BIGINT) AS events, min(first_ts) AS first, max(last_ts) AS last, count(DISTINCT user_id) AS users FROM $__rollup GROUP BY dt, action ORDER BY dt, action',
      },
    ] as unknown as Q[];
    for (const [name, range] of Object.entries(ranges)) {
      const used = await compare(range, rawQs);
      // Within one hour no rollup row fits: the events, counted one by one.
      expect([...used].sort()).toEqual(name === 'withinAnHour' ? [] : ['raw-days', 'raw-new-ip']);
    }
    const days = await withRollups.query({
      range: { from: iso(ranges.partial.from), to: iso(ranges.partial.to) },
      queries: [rawQs[1] as Q],
    });
    expect(days.results['raw-days']?.frames[0]?.fields[0]?.values.length).toBeGreaterThan(3);
    // A text most bodies hold is not worth a copy: asked, copied once, refused, read from the events.
    const share = await without.query({
      range: { from: iso(ranges.whole.from), to: iso(ranges.whole.to) },
      queries: [
        {
          refId: 'A',
          type: 'sql',
          sql: `SELECT avg(CASE WHEN strpos(request_body, '"') > 0 THEN 1.0 ELSE 0.0 END) FROM $__table WHERE $__timeFilter(ts)`,
        },
      ],
    });
    expect(Number(share.results.A?.frames[0]?.fields[0]?.values[0])).toBeGreaterThan(0.2);
    const common: Q[] = [{ refId: 'quote', type: 'stat', filters: { bodyContains: '"' } }];
    expect((await compare(ranges.partial, common)).size).toBe(0);
    await rolled.rollupsSettled();
    expect((await compare(ranges.partial, common)).size).toBe(0);
    expect(warnings).toEqual([]);
  }, 240_000);

  it('follows the store: a lookback rewrite and a sealed day answer as the events do', async () => {
    const qs = (await questions()).filter((q) => /^(count|users|top|split)-/.test(q.refId));
    const range = { from: START + 3 * 60_000, to: START + 3 * DAY };
    // The open hours rewritten and more added, then the third day sealed into its day object.
    await sync(NOW - 4 * HOUR, NOW + 5 * HOUR, NOW + 6 * HOUR);
    await compare(range, qs);
    await rolled.rollupsSettled();
    expect((await compare(range, qs)).size).toBeGreaterThan(0);
    await sync(START + 2 * DAY, START + 3 * DAY, START + 5 * DAY);
    await compare(range, qs);
    await rolled.rollupsSettled();
    const used = await compare(range, qs);
    expect(used.size).toBeGreaterThan(qs.length / 2);
    // Objects that are gone (the folded hours) are no longer counted as rolled up.
    const objects = (await fs.readdir(path.join(dir, 'events'), { recursive: true })).filter((f) =>
      String(f).endsWith('.parquet'),
    );
    expect(rolled.rollupStatus()?.objects).toBe(objects.length);
  }, 240_000);

  it('leaves an object it cannot roll up to the events, and says which', async () => {
    // A folder from before manifests (listed, not read from a manifest): a day the sync wrote,
    // and an object from an older writer without most columns. The events read it (its missing
    // columns are null there); a rollup cannot.
    const old = await tmpDir('query-rollups-old');
    await fs.mkdir(path.join(old, 'events', 'dt=2026-09-14'), { recursive: true });
    await fs.copyFile(
      path.join(dir, 'events', 'dt=2026-09-14', 'day.parquet'),
      path.join(old, 'events', 'dt=2026-09-14', 'day.parquet'),
    );
    const day = path.join(old, 'events', 'dt=2026-09-15');
    await fs.mkdir(day, { recursive: true });
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    await conn.run(
      `COPY (SELECT TIMESTAMPTZ '2026-09-15 10:15:00+00' + to_minutes(i) AS ts, 'old-' || i AS event_id, 'agent_login' AS action FROM range(30) t(i)) TO '${path.join(day, 'old.parquet')}' (FORMAT parquet)`,
    );
    conn.closeSync();
    db.closeSync();
    const told: string[] = [];
    const cache = await tmpDir('query-rollups-cache');
    // One left by a process that was killed (its pid is gone), one of a process still running.
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid as number;
    for (const [name, pid] of [
      ['closer-audit-rollups-killed', gone],
      ['closer-audit-rollups-running', process.ppid],
    ] as const) {
      await fs.mkdir(path.join(cache, name));
      await fs.writeFile(path.join(cache, name, 'pid'), String(pid));
    }
    const engine = await DuckDbEngine.open(old, { cacheDir: cache, onWarning: (m) => told.push(m) });
    const names = await fs.readdir(cache);
    expect(names).toHaveLength(2);
    expect(names.filter((n) => n !== 'closer-audit-rollups-running')).toEqual([
      expect.stringMatching(/^closer-audit-rollups-(?!killed)/),
    ]);
    const reference = await DuckDbEngine.open(old, { rollups: false });
    try {
      const service = new QueryService(engine);
      const body = {
        range: { from: iso(START), to: iso(START + 2 * DAY) },
        queries: [
          { refId: 'count', type: 'stat' },
          { refId: 'top', type: 'topn', field: 'action' },
        ],
      };
      const expected = strip((await new QueryService(reference).query(body)).results.count?.frames ?? []);
      await service.query(body);
      await engine.rollupsSettled();
      expect(engine.rollupStatus()).toEqual({ objects: 1, pending: 0, failed: 1 });
      expect(told).toEqual([expect.stringMatching(/^rollup of events\/dt=2026-09-15\/old\.parquet: \S/)]);
      // The range's questions read the events: the rolled-up day alone would not do.
      const { results } = await service.query(body);
      expect(strip(results.count?.frames ?? [])).toBe(expected);
      expect(results.count?.frames[0]?.meta.executedQueryString).not.toMatch(/\bFROM rollup\b/);
      // A range of the good day alone is answered from its rollup.
      const first = await service.query({ ...body, range: { from: iso(START), to: iso(START + DAY) } });
      expect(first.results.count?.frames[0]?.meta.executedQueryString).toMatch(/\bFROM rollup\b/);
      // /health says how far the rollups are.
      const health = await createApi(service, { token: async () => 't' })({
        method: 'GET',
        path: '/health',
        headers: {},
        body: '',
      });
      expect(JSON.parse(health.body).rollups).toEqual({ objects: 1, pending: 0, failed: 1 });
    } finally {
      await engine.close();
      await reference.close();
    }
    // Its folder is gone with it; the running process's is left.
    expect(await fs.readdir(cache)).toEqual(['closer-audit-rollups-running']);
  }, 120_000);

  it('answers events newest part first, with the rows one query over the whole range gives', async () => {
    // The same engine told to ask the whole range at once.
    const whole = new QueryService(Object.create(plain, { latestFirst: { value: false } }) as DuckDbEngine, {
      maxQueriesPerRequest: 200,
    });
    const actions = await seen('action', 40);
    const copied: string[] = [];
    let unionsSeen = 0;
    const rare = actions[actions.length - 1] as string;
    const qs = [
      { refId: 'latest', type: 'events', limit: 5 },
      { refId: 'latest-500', type: 'events', limit: 500 },
      { refId: 'oldest', type: 'events', limit: 7, order: 'asc' },
      {
        refId: 'rare',
        type: 'events',
        limit: 50,
        filters: { actions: [rare], outcomes: ['failure', 'success'] },
      },
      { refId: 'rare-asc', type: 'events', limit: 50, order: 'asc', filters: { actions: [rare] } },
      // Several actions: asked one by one of the copy by action, merged.
      { refId: 'some', type: 'events', limit: 40, filters: { actions: actions.slice(0, 3) } },
      {
        refId: 'some-asc',
        type: 'events',
        limit: 20,
        order: 'asc',
        filters: { actions: actions.slice(2, 4) },
      },
      {
        refId: 'many',
        type: 'events',
        limit: 60,
        filters: { actions: actions.slice(0, 12), outcomes: ['success'] },
      },
      { refId: 'all', type: 'events', limit: 10_000, filters: { outcomes: ['failure'] } },
      { refId: 'none', type: 'events', limit: 10, filters: { userIds: ['nobody'] } },
      // Body text is in no rollup: the newest hour, day and week are tried in turn.
      { refId: 'body', type: 'events', limit: 30, filters: { bodyContains: 'a' } },
      { refId: 'body-asc', type: 'events', limit: 3000, order: 'asc', filters: { bodyContains: 'e' } },
    ];
    // Twice: first from the objects, then (once copied) from the copy by action.
    for (const range of [
      { from: START + 11 * 60_000, to: NOW + 5 * HOUR - 7 * 60_000 },
      { from: START + 5 * HOUR + 60_000, to: START + 5 * HOUR + 20 * 60_000 },
      { from: START, to: START + 3 * DAY },
      { from: START + 11 * 60_000, to: NOW + 5 * HOUR - 7 * 60_000 },
      { from: START + 5 * HOUR + 60_000, to: START + 5 * HOUR + 20 * 60_000 },
      { from: START, to: START + 3 * DAY },
    ]) {
      await rolled.rollupsSettled();
      const body = { range: { from: iso(range.from), to: iso(range.to) }, queries: qs };
      const [a, b] = await Promise.all([withRollups.query(body), whole.query(body)]);
      const sql = (id: string) => String(a.results[id]?.frames[0]?.meta.executedQueryString ?? '');
      copied.push(...['rare', 'some', 'some-asc', 'many'].filter((id) => /\bevents_copy\b/.test(sql(id))));
      unionsSeen += (sql('some').match(/UNION ALL/g) ?? []).length;
      for (const q of qs) {
        expect(a.results[q.refId]?.status).toBe(200);
        expect({ refId: q.refId, frames: strip(a.results[q.refId]?.frames ?? []) }).toEqual({
          refId: q.refId,
          frames: strip(b.results[q.refId]?.frames ?? []),
        });
      }
      // Over more than an hour, the newest hour alone held the latest rows: fewer objects read.
      const files = (r: typeof a) => r.results.latest?.frames[0]?.meta.custom?.filesRead as number;
      if (range.to - range.from > DAY) expect(files(a)).toBeLessThan(files(b));
    }
    // One action, and three or two one by one; twelve, more than it asks apart, from the objects.
    expect([...new Set(copied)].sort()).toEqual(['rare', 'some', 'some-asc']);
    expect(unionsSeen).toBeGreaterThan(0);
  }, 120_000);

  it('keeps a copy of the alerts and answers the detections queries from it as the files do', async () => {
    const run = await cli(['detect', '--out', dir, '--from', iso(START), '--to', iso(START + 5 * DAY)]);
    expect(run.code).toBe(0);
    const qs = [
      { refId: 'list', type: 'detections' },
      { refId: 'high', type: 'detections', severities: ['high', 'critical'] },
      { refId: 'by-rule', type: 'detections', format: 'timeseries', splitBy: 'rule' },
      { refId: 'by-severity', type: 'detections', format: 'timeseries', splitBy: 'severity' },
      { refId: 'latest', type: 'detections', format: 'alerts', limit: 5 },
      { refId: 'events', type: 'detections', format: 'events' },
    ];
    const body = { range: { from: iso(START), to: iso(START + 5 * DAY) }, queries: qs };
    const reference = await without.query(body);
    expect(reference.results.list?.frames[0]?.fields[0]?.values.length).toBeGreaterThan(0);
    const same = (r: typeof reference) => {
      for (const q of qs)
        expect({ refId: q.refId, frames: strip(r.results[q.refId]?.frames ?? []) }).toEqual({
          refId: q.refId,
          frames: strip(reference.results[q.refId]?.frames ?? []),
        });
    };
    // First from the files (the copy is being made), then from the copy.
    same(await withRollups.query(body));
    await rolled.rollupsSettled();
    const copied = await withRollups.query(body);
    same(copied);
    expect(String(copied.results.list?.frames[0]?.meta.executedQueryString)).toMatch(/\bFROM detections\b/);
    expect(copied.results.list?.frames[0]?.meta.custom?.filesRead).toBe(0);
    // Rules run again rewrite the alert objects: the copy follows.
    expect(
      (await cli(['detect', '--out', dir, '--from', iso(START), '--to', iso(START + 5 * DAY)])).code,
    ).toBe(0);
    same(await withRollups.query(body));
    await rolled.rollupsSettled();
    same(await withRollups.query(body));
  }, 180_000);
});
