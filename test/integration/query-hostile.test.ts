// The query API under hostile but authenticated requests (issue 11): the real DuckDB engine over
// a real synced folder, behind the real HTTP server, asked what a careless or malicious holder of
// the token could ask.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runSync } from '../../functions/ingest/sync.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { createApi } from '../../functions/query/http/api.js';
import { startServer } from '../../functions/query/http/node-server.js';
import { QueryService } from '../../functions/query/service.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { duckdb, eventsGlob } from '../support/duckdb.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const FROM = Date.UTC(2026, 8, 14);
const TO = FROM + 2 * 24 * HOUR;
const RANGE = { from: new Date(FROM).toISOString(), to: new Date(TO).toISOString() };
const TOKEN = 'hostile-test-token';

interface Result {
  status: number;
  error?: string;
  frames: {
    fields: { name: string; type: string; values: unknown[] }[];
    meta: {
      executedQueryString?: string;
      notices?: { text: string }[];
      custom?: Record<string, unknown>;
    };
  }[];
}

/** A query API over `dir` on its own port; `close` stops the server and the engine. */
async function api(dir: string, engineOptions = {}, serviceOptions = {}) {
  const engine = await DuckDbEngine.open(dir, engineOptions);
  const service = new QueryService(engine, { timeoutMs: 60_000, ...serviceOptions });
  const server = await startServer(createApi(service, { token: async () => TOKEN }), {
    port: 0,
    host: '127.0.0.1',
  });
  const post = async (route: string, body: unknown, signal?: AbortSignal) => {
    const res = await fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(body),
      signal,
    });
    return { status: res.status, text: await res.text() };
  };
  /** One query of a request: its own status, frames and error. */
  const one = async (query: Record<string, unknown>, range: unknown = RANGE, signal?: AbortSignal) => {
    const res = await post('/query', { range, queries: [{ refId: 'A', ...query }] }, signal);
    if (res.status !== 200)
      return { http: res.status, body: JSON.parse(res.text) as Record<string, unknown> };
    const result = (JSON.parse(res.text) as { results: Record<string, Result> }).results.A as Result;
    return { http: 200, result, bytes: res.text.length };
  };
  return {
    post,
    one,
    close: async () => {
      await server.close();
      await engine.close();
    },
  };
}

let dir: string;
let total: number;
let server: Awaited<ReturnType<typeof api>>;

beforeAll(async () => {
  dir = await tmpDir('hostile');
  await runSync(ingestContext(dir, new SampleSource(), { now: () => TO + 10 * 24 * HOUR }), {
    from: FROM,
    to: TO,
  });
  // Counted by an independent reader.
  const db = await duckdb();
  try {
    total = Number((await db.rows(`SELECT count(*) AS n FROM ${eventsGlob(dir)}`))[0]?.n);
  } finally {
    db.close();
  }
  server = await api(dir);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const count = async (range: unknown) => {
  const res = await server.one({ type: 'stat' }, range);
  return res.result?.frames[0]?.fields[0]?.values[0];
};

describe('absurd time ranges', () => {
  it('a range of millennia costs what the stored days cost', async () => {
    expect(total).toBeGreaterThan(1000);
    expect(await count(RANGE)).toBe(total);
    // 1970 to the year 5138: every stored day, found by listing the folder, not by walking the days.
    expect(await count({ from: 0, to: 1e14 })).toBe(total);
    expect(await count({ from: '0', to: String(Date.UTC(9999, 11, 31)) })).toBe(total);
    const top = await server.one({ type: 'topn', field: 'area' }, { from: 0, to: 1e14 });
    expect(top.result?.status).toBe(200);
    const vars = await server.post('/variables', { range: { from: 0, to: 1e14 }, variable: 'roles' });
    expect(vars.status).toBe(200);
  }, 30_000);

  it.each([
    [{ from: '0', to: '99999999999999999999' }, 'range.to'],
    [{ from: -1e15, to: 0 }, 'range.from'],
    [{ from: 0, to: 1e20 }, 'range.to'],
    [{ from: '-271821-04-20T00:00:00Z', to: RANGE.to }, 'range.from'],
    [{ from: RANGE.from, to: '+275760-09-13T00:00:00Z' }, 'range.to'],
  ])('range %j is refused with 400 naming %s', async (range, field) => {
    for (const [route, body] of [
      ['/query', { range, queries: [{ type: 'stat' }] }],
      ['/variables', { range, variable: 'users' }],
    ] as const) {
      const res = await server.post(route, body);
      expect(res.status).toBe(400);
      const json = JSON.parse(res.text) as { field: string; error: string };
      expect(json.field).toBe(field);
      expect(json.error).toMatch(new RegExp(`^${field.replace('.', '\\.')}: .*outside 1970-01-01`));
    }
  });
});

describe('intervals', () => {
  it.each([
    [{ type: 'timeseries', interval: '0s' }, /^interval: 0s: an interval is at least 1s$/],
    [{ type: 'timeseries', interval: '999999999999999999d' }, /^interval: 999999999999999999d: .*at most/],
    [
      { type: 'sql', sql: 'SELECT $__timeGroup(ts, 0s) AS time, count(*) FROM $__table GROUP BY 1' },
      /^sql: \$__timeGroup\(ts, 0s\): an interval is at least 1s$/,
    ],
    [
      { type: 'sql', sql: 'SELECT $__timeGroup(ts, 999999999999999999d) AS t FROM $__table' },
      /^sql: \$__timeGroup\(ts, 999999999999999999d\): .*at most/,
    ],
  ])('%j is the caller’s mistake: 400 naming the field', async (query, message) => {
    const res = await server.one(query);
    expect(res.result?.status).toBe(400);
    expect(res.result?.error).toMatch(message);
  });

  it('README’s raw SQL example returns its buckets as a time field, Grafana’s time series', async () => {
    const res = await server.one({
      type: 'sql',
      sql: "SELECT $__timeGroup(ts, 1h) AS time, count(*) AS logins FROM $__table WHERE $__timeFilter(ts) AND action = 'agent_login' GROUP BY 1 ORDER BY 1",
    });
    const [time, logins] = res.result?.frames[0]?.fields ?? [];
    expect(time?.type).toBe('time');
    expect(logins?.type).toBe('number');
    expect(time?.values.length).toBeGreaterThan(10);
    // Epoch ms on hour boundaries, within the range.
    for (const t of time?.values as number[]) {
      expect(t % HOUR).toBe(0);
      expect(t).toBeGreaterThanOrEqual(FROM);
      expect(t).toBeLessThan(TO);
    }
  });
});

describe('what raw SQL may read', () => {
  const secret = `planted-${randomBytes(6).toString('hex')}`;
  const planted: string[] = [];
  beforeAll(async () => {
    // DuckDB's default temp directory is <cwd>/.tmp/; the sync's own is <out>/.tmp/.
    for (const folder of [path.join(process.cwd(), '.tmp'), path.join(dir, '.tmp')]) {
      await fs.mkdir(folder, { recursive: true });
      const file = path.join(folder, `${secret}.csv`);
      await fs.writeFile(file, `secret\n${secret}\n`);
      planted.push(file);
    }
    await fs.mkdir(path.join(dir, 'state'), { recursive: true });
    await fs.writeFile(path.join(dir, 'state', `${secret}.json`), JSON.stringify({ secret }));
  });
  afterAll(async () => {
    for (const file of planted) await fs.rm(file, { force: true });
  });

  it.each([
    () => `SELECT * FROM read_csv('${planted[0]}')`,
    () => `SELECT * FROM read_csv('.tmp/${secret}.csv')`,
    () => `SELECT * FROM read_csv('${planted[1]}')`,
    () => `SELECT * FROM read_json_auto('${path.join(dir, 'state')}/*.json')`,
    () => `SELECT * FROM read_text('${path.join(dir, 'events')}/../state/${secret}.json')`,
    () => `SELECT * FROM glob('${dir}/**')`,
  ])('%s is refused, and the error shows no server path', async (sql) => {
    const res = await server.one({ type: 'sql', sql: sql() });
    expect(res.result?.status).toBe(400);
    expect(JSON.stringify(res)).not.toContain(secret.slice(8) + '"');
    expect(res.result?.error).not.toContain(dir);
    expect(res.result?.error).not.toContain(process.cwd());
  });

  it('the events are readable, and shown by table name, not by file path', async () => {
    const res = await server.one({
      type: 'sql',
      sql: 'SELECT count(*) AS n FROM $__table WHERE $__timeFilter(ts)',
    });
    expect(res.result?.frames[0]?.fields[0]?.values[0]).toBe(total);
    const executed = res.result?.frames[0]?.meta.executedQueryString as string;
    expect(executed).toMatch(/FROM events WHERE/);
    expect(executed).not.toContain(dir);
    expect(res.result?.frames[0]?.meta.custom?.filesRead).toBe(2);
  });

  it('an unreadable day file is named by its key in the error, not by its path', async () => {
    const broken = await tmpDir('hostile-broken');
    try {
      await fs.mkdir(path.join(broken, 'events', 'dt=2026-09-20'), { recursive: true });
      await fs.writeFile(path.join(broken, 'events', 'dt=2026-09-20', 'h00.parquet'), 'not parquet at all');
      const other = await api(broken);
      try {
        const res = await other.one(
          { type: 'stat' },
          { from: '2026-09-20T00:00:00Z', to: '2026-09-21T00:00:00Z' },
        );
        expect(res.result?.status).toBe(500);
        expect(res.result?.error).toContain('events/dt=2026-09-20/h00.parquet');
        expect(res.result?.error).not.toContain(broken);
      } finally {
        await other.close();
      }
    } finally {
      await fs.rm(broken, { recursive: true, force: true });
    }
  });
});

describe('results, memory and time', () => {
  it('caps raw SQL by bytes, not only rows, and says so', async () => {
    const huge = await server.one({ type: 'sql', sql: "SELECT repeat('x', 30000000) AS big" });
    expect(huge.result?.status).toBe(200);
    expect(huge.bytes).toBeLessThan(1_000_000);
    const frame = huge.result?.frames[0];
    expect(frame?.fields[0]?.values).toEqual([]);
    expect(frame?.meta.custom).toMatchObject({ truncated: true, truncatedBy: 'bytes' });
    expect(frame?.meta.notices?.[0]?.text).toMatch(/larger than the API returns/);

    const many = await server.one({
      type: 'sql',
      sql: "SELECT n, repeat('y', 1000000) AS s FROM range(100) t(n)",
    });
    const values = many.result?.frames[0]?.fields[0]?.values as number[];
    // 8 MiB by default: the first eight rows, in order.
    expect(values).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(many.bytes).toBeLessThan(9 * 1024 * 1024);
  }, 30_000);

  it('runs DuckDB under its memory limit, and with no temp directory to spill into', async () => {
    const other = await api(dir, { memoryLimit: '300MB' });
    try {
      const res = await other.one({
        type: 'sql',
        sql: "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t",
      });
      const [m, t] = res.result?.frames[0]?.fields.map((f) => f.values[0]) ?? [];
      expect(m).toMatch(/^28\d\.\d MiB$/);
      expect(t).toBe('');
    } finally {
      await other.close();
    }
  });

  const SLOW = 'SELECT count(*) FROM range(100000000000) t(a) WHERE a % 7 = 3';

  it('stops a query when its time limit passes (504)', async () => {
    const other = await api(dir, {}, { timeoutMs: 300 });
    try {
      const res = await other.one({ type: 'sql', sql: SLOW });
      expect(res.result?.status).toBe(504);
      expect(res.result?.error).toMatch(/stopped/);
    } finally {
      await other.close();
    }
  }, 30_000);

  it('stops the work when the client disconnects, running or still waiting for a connection', async () => {
    const other = await api(dir, { connections: 1 });
    try {
      for (const range of [RANGE, { from: 0, to: 1e14 }]) {
        const gone = new AbortController();
        // The first runs on the one connection, the second waits for it; both callers leave.
        const left = [0, 1].map(() =>
          other
            .post('/query', { range, queries: [{ type: 'sql', sql: SLOW }] }, gone.signal)
            .catch((err: Error) => err.name),
        );
        await new Promise((r) => setTimeout(r, 300));
        gone.abort();
        expect(await Promise.all(left)).toEqual(['AbortError', 'AbortError']);
        // With one connection, this answer can only come once both abandoned queries are gone.
        const started = Date.now();
        const res = await other.one({ type: 'stat' });
        expect(res.result?.status).toBe(200);
        expect(Date.now() - started).toBeLessThan(10_000);
      }
    } finally {
      await other.close();
    }
  }, 60_000);

  it('bounds the queries waiting for a connection: one more is told to come back (503)', async () => {
    const other = await api(dir, { connections: 1, maxWaiting: 1 });
    const gone = new AbortController();
    try {
      const slow = [0, 1].map(() =>
        other
          .post('/query', { range: RANGE, queries: [{ type: 'sql', sql: SLOW }] }, gone.signal)
          .catch(() => null),
      );
      await new Promise((r) => setTimeout(r, 300));
      const third = await other.one({ type: 'stat' });
      expect(third.result?.status).toBe(503);
      expect(third.result?.error).toMatch(/busy.*try again/);
      const raw = await other.one({ type: 'sql', sql: 'SELECT 1 AS one' });
      expect(raw.result?.status).toBe(503);
      const vars = await other.post('/variables', { range: RANGE, variable: 'users' });
      expect(vars.status).toBe(503);
      gone.abort();
      await Promise.all(slow);
      // Both abandoned queries stop (the server hears of the disconnect a moment after the
      // client): the connection answers again, soon.
      const started = Date.now();
      let after = await other.one({ type: 'stat' });
      while (after.result?.status === 503 && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 100));
        after = await other.one({ type: 'stat' });
      }
      expect(after.result?.status).toBe(200);
    } finally {
      gone.abort();
      await other.close();
    }
  }, 60_000);
});
