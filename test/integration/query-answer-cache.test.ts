// The query API keeps counting answers over a range's whole hours and asks only the range's ends
// again when it moves (issue 17: a dashboard refreshed every 15 s). Kept answers must never show:
// every answer equals the one read whole, value by value, at ranges moving by seconds, over hours
// and days, after a sync changes the objects under a kept answer, and for the variables and the
// events panels that count hours to pick their part. Over a real DuckDB engine with its rollups.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { QueryService } from '../../functions/query/service.js';
import { GROUP_FIELDS } from '../../shared/query/fields.js';
import type { Query } from '../../shared/query/model.js';
import { HOUR, syncSample } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';
import { sameAnswers, strip } from '../support/same-answers.js';

const DAY = 24 * HOUR;
const START = Date.UTC(2026, 8, 14);
/** Two sealed days, then open hours of the third. */
const NOW = START + 2 * DAY + 7 * HOUR;

let dir: string;
let engine: DuckDbEngine;
let cached: QueryService;
let whole: QueryService;

const sync = (from: number, to: number, now: number) => syncSample(dir, from, to, now);

beforeAll(async () => {
  dir = await tmpDir('query-answer-cache');
  await sync(START, NOW - HOUR, NOW);
  engine = await DuckDbEngine.open(dir, { maxWaiting: 500 });
  await engine.warmRollups();
  await engine.rollupsSettled();
  cached = new QueryService(engine, { maxQueriesPerRequest: 200, timeoutMs: 60_000 });
  whole = new QueryService(engine, { maxQueriesPerRequest: 200, timeoutMs: 60_000, answerCache: false });
}, 120_000);

afterAll(async () => {
  await engine?.close();
});

type Q = Exclude<Query, { type: 'sql' | 'detections' }> & { refId: string };
const iso = (ms: number) => new Date(ms).toISOString();

function questions(): Q[] {
  const filters = [
    {},
    { outcomes: ['failure'] },
    { areas: ['authentication'], userRoles: ['ADMIN'] },
    { statuses: ['4xx' as const] },
    { bodyContains: 'admin' },
    // No rollup keeps the path: read whole, every time.
    { pathContains: 'api' },
  ];
  const out: Q[] = [];
  filters.forEach((f, i) => {
    out.push({ refId: `count-${i}`, type: 'stat', filters: f });
    out.push({ refId: `users-${i}`, type: 'stat', metric: 'distinct', field: 'user_id', filters: f });
    out.push({ refId: `ts-${i}`, type: 'timeseries', filters: f });
    out.push({ refId: `ts-area-${i}`, type: 'timeseries', splitBy: 'area', filters: f, maxSeries: 2 });
  });
  for (const field of GROUP_FIELDS) {
    out.push({ refId: `top-${field}`, type: 'topn', field, limit: 4 });
    out.push({ refId: `split-${field}`, type: 'timeseries', splitBy: field, maxSeries: 3, interval: '2h' });
    out.push({ refId: `distinct-${field}`, type: 'stat', metric: 'distinct', field });
  }
  out.push({ refId: 'ts-5m', type: 'timeseries', interval: '5m', splitBy: 'outcome' });
  out.push({ refId: 'events', type: 'events', limit: 50 });
  out.push({
    refId: 'events-actions',
    type: 'events',
    limit: 20,
    filters: { actions: ['agent_login', 'agent_logout', 'user_login'] },
  });
  // Filters the ends' kept rows cannot tell: the ends are read (the path: nothing kept).
  out.push({ refId: 'events-path', type: 'events', limit: 25, filters: { pathContains: 'api' } });
  out.push({ refId: 'events-text', type: 'events', limit: 25, filters: { bodyContains: 'admin' } });
  out.push({
    refId: 'events-asc',
    type: 'events',
    limit: 30,
    order: 'asc',
    filters: { outcomes: ['failure'] },
  });
  return out;
}

/** Asks both services; returns the refIds answered with a kept answer. */
async function compare(range: { from: number; to: number }, qs: Q[]): Promise<Set<string>> {
  const body = { range: { from: iso(range.from), to: iso(range.to) }, intervalMs: 60_000, queries: qs };
  const [a, b] = [await cached.query(body), await whole.query(body)];
  return sameAnswers(
    a,
    b,
    qs.map((q) => q.refId),
    /an answer kept since it was asked/,
  );
}

describe('serve at start', () => {
  it('copies the newest objects by action for the events panels, before any asks', async () => {
    const body = {
      range: { from: iso(NOW - 30 * HOUR), to: iso(NOW) },
      queries: [{ refId: 'A', type: 'events', limit: 20, filters: { actions: ['agent_login'] } }],
    };
    const [a, b] = [await cached.query(body), await whole.query(body)];
    expect(a.results.A?.frames[0]?.meta.executedQueryString).toMatch(/\bFROM events_copy\b/);
    expect(strip(a.results.A?.frames ?? [])).toBe(strip(b.results.A?.frames ?? []));
    expect(a.results.A?.frames[0]?.fields[0]?.values.length).toBe(20);
  });
});

describe('the answer cache', () => {
  it('answers moving ranges exactly as whole reads do, asking only the ends again', async () => {
    const qs = questions();
    for (const span of [6 * HOUR + 17_123, DAY + 5 * 60_000, 2 * DAY + 7_001]) {
      const end = NOW - HOUR - 11 * 60_000 - 7;
      const first = await compare({ from: end - span, to: end }, qs);
      // (The newest events of a range are those of the range before it: theirs may be kept.)
      expect([...first].filter((id) => !id.startsWith('events'))).toEqual([]);
      // The copies of the ends and of the body text are made from the first ask.
      await engine.rollupsSettled();
      for (const step of [15_000, 30_000, 45_000]) {
        const kept = await compare({ from: end - span - step, to: end - step }, qs);
        for (const id of [
          'count-0',
          'users-1',
          'ts-0',
          'ts-area-1',
          'top-user_id',
          'split-action',
          'ts-5m',
          'events',
          'events-asc',
          'events-actions',
        ])
          expect({ span, step, id, kept: kept.has(id) }).toEqual({ span, step, id, kept: true });
        // No rollup counts by path: its events panel reads the newest hour, day, week.
        for (const id of ['count-5', 'top-url_path', 'events-path'])
          expect({ span, step, id, kept: kept.has(id) }).toEqual({ span, step, id, kept: false });
      }
    }
    // An events panel's partial hour from that hour's events, kept; asked again where it holds
    // more than the service keeps.
    const end0 = NOW - HOUR - 11 * 60_000 - 7;
    const events = qs.filter((q) => q.type === 'events');
    const few = new QueryService(engine, { timeoutMs: 60_000, hourRows: 3 });
    for (const step of [0, 20_000, 40_000]) {
      const body = {
        range: { from: iso(end0 - DAY - step), to: iso(end0 - step) },
        queries: events,
      };
      const [a, b, c] = [await cached.query(body), await whole.query(body), await few.query(body)];
      const ids = events.map((q) => q.refId);
      sameAnswers(a, b, ids, /kept/);
      sameAnswers(c, b, ids, /kept/);
      const shown = (r: typeof a) => String(r.results.events?.frames[0]?.meta.executedQueryString);
      expect(shown(a)).toMatch(/to \S+, of the \d+ events of its hour kept since asked:/);
      expect(shown(c)).not.toMatch(/events of its hour/);
      // Read again where nothing is kept: the objects it opened are told.
      expect(c.results.events?.frames[0]?.meta.custom?.filesRead).toBeGreaterThan(0);
    }
    // The ends' rows (once copied) are counted in memory; a filter by network goes to the engine.
    const end = NOW - HOUR - 11 * 60_000 - 7;
    const asked = await cached.query({
      range: { from: iso(end - DAY - 60_000), to: iso(end - 60_000) },
      queries: [
        { refId: 'mem', type: 'topn', field: 'user_role', filters: { outcomes: ['failure'] } },
        // A body text's copy has applied the text: the rest of its filters are counted here too.
        { refId: 'text', type: 'stat', filters: { bodyContains: 'admin', outcomes: ['success'] } },
        { refId: 'sql', type: 'stat', filters: { sourceIps: ['10.0.0.0/8'] } },
      ],
    });
    const shown = (id: string) => String(asked.results[id]?.frames[0]?.meta.executedQueryString);
    expect(shown('mem')).toMatch(/at its ends: \d+ rows kept from/);
    expect(shown('text')).toMatch(/at its ends: \d+ rows kept from/);
    expect(shown('sql')).toMatch(/at its ends:\n(?!SELECT \* FROM)/);
    // Within one hour there are no whole hours to keep.
    expect(
      (await compare({ from: START + 5 * HOUR + 60_000, to: START + 5 * HOUR + 59 * 60_000 }, qs)).size,
    ).toBe(0);
  }, 240_000);

  it('never serves an answer kept over objects a sync has changed since', async () => {
    const qs = questions().filter((q) => /^(count|users|top|split|events)\b/.test(q.refId));
    // A range whose whole hours run past the data synced so far.
    const range = { from: START + 3 * 60_000 + 1, to: NOW + 4 * HOUR + 30_000 };
    await compare(range, qs);
    await engine.rollupsSettled();
    const moved = await compare({ ...range, to: range.to - 1000 }, qs);
    expect([moved.has('count-0'), moved.has('events'), moved.has('events-asc')]).toEqual([true, true, true]);
    // No event after the last sync: the newest events come from the kept answer alone.
    const events = await cached.query({
      range: { from: iso(range.from), to: iso(range.to - 2000) },
      queries: [qs.find((q) => q.refId === 'events') as Q],
    });
    expect(events.results.events?.frames[0]?.meta.executedQueryString).toMatch(
      /no matching event in its kept rows$/,
    );
    expect(events.results.events?.frames[0]?.meta.custom?.filesRead).toBe(0);
    const count = async () =>
      Number(
        (await cached.query({ range: { from: iso(range.from), to: iso(range.to) }, queries: [qs[0] as Q] }))
          .results['count-0']?.frames[0]?.fields[0]?.values[0],
      );
    const before = await count();
    // The open hours rewritten and more added inside the kept hours.
    await sync(NOW - 4 * HOUR, NOW + 3 * HOUR, NOW + 4 * HOUR);
    expect(await count()).toBeGreaterThan(before);
    await compare(range, qs);
    await engine.rollupsSettled();
    await compare(range, qs);
    // Then the third day sealed into its day object: its hours' objects gone, one new.
    await sync(START + 2 * DAY, START + 3 * DAY, START + 5 * DAY);
    await compare(range, qs);
    await engine.rollupsSettled();
    expect((await compare({ ...range, from: range.from + 1000 }, qs)).size).toBeGreaterThan(qs.length / 2);
  }, 240_000);

  it('answers the template variables as whole reads do', async () => {
    const range = { from: iso(START + 61_000), to: iso(START + 2 * DAY - 59_000) };
    for (const variable of ['users', 'ips', 'actions', 'roles'])
      for (const filters of [undefined, { outcomes: ['failure'] }]) {
        const [a, b] = [
          await cached.variables({ range, variable, filters }),
          await whole.variables({ range, variable, filters }),
        ];
        expect({ variable, values: a.values }).toEqual({ variable, values: b.values });
        expect(a.values.length).toBeGreaterThan(0);
      }
  });
});
