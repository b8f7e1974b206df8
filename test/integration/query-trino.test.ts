import { STATUS_QUERY_TYPE } from '../../shared/status/query.js';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runSync } from '../../functions/ingest/sync.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { TrinoEngine } from '../../functions/query/engines/trino.js';
import { createApi } from '../../functions/query/http/api.js';
import { startServer } from '../../functions/query/http/node-server.js';
import { QueryService } from '../../functions/query/service.js';
import { defaultHourlyCount, generateHour } from '../../functions/sample/generator.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import type { Frame, RefIdResult } from '../../shared/api/contract.js';
import type { StoredEvent } from '../../shared/event/columns.js';
import { normaliseHit } from '../../shared/normalise/normalise.js';
import { GROUP_FIELDS } from '../../shared/query/fields.js';
import { parseCidr, type Filters } from '../../shared/query/model.js';
import { Redactor } from '../../shared/redaction/index.js';
import { DETECTIONS_TABLE } from '../../shared/schema/athena.js';
import { trinoDdl } from '../../shared/schema/trino.js';
import { cli, ROOT as REPO } from '../support/cli.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { TEST_BUCKET, ensureTestBucket, testS3Storage, uniquePrefix } from '../support/s3.js';
import { trinoExec, trinoRoot, trinoUrl } from '../support/trino.js';

// Athena engine 3 is Trino: the SQL the compiler writes for Athena runs here on a real Trino 483
// (test/trino), over the very files the pipeline wrote, with the values bound as Athena binds
// execution parameters (EXECUTE ... USING), and must answer exactly what DuckDB answers over the
// same files: every frame compared field by field (names, types, every value, in order).

const FROM = Date.UTC(2026, 8, 14);
const TO = FROM + 3 * 24 * HOUR;
const RANGE = { from: new Date(FROM + 5 * HOUR).toISOString(), to: new Date(TO - 7 * HOUR).toISOString() };
const r = { from: Date.parse(RANGE.from), to: Date.parse(RANGE.to) };
/** An hour after the sample days with hand-made gaps: no status, no roles, no source address. */
const ODD_HOUR = TO + 3 * HOUR;
const ODD_RANGE = { from: new Date(ODD_HOUR).toISOString(), to: new Date(ODD_HOUR + HOUR).toISOString() };
const ODD_EVENTS = 60;

let name: string;
let dir: string;
let duck: DuckDbEngine;
let trino: TrinoEngine;
let duckService: QueryService;
let trinoService: QueryService;
const events: StoredEvent[] = [];
/** What was compared, for the closing figures. */
const compared = { structured: 0, raw: 0, variables: 0, panels: 0, nonEmpty: 0 };

beforeAll(async () => {
  // Schema and folder names unique per run: the Trino and its metastore may be shared.
  name = `t${process.pid}_${Date.now().toString(36)}`;
  dir = path.join(trinoRoot(), name);
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
  const odd = generateHour(ODD_HOUR, ODD_EVENTS).map((hit, i) => {
    const message = (hit._source as { message: Record<string, unknown> }).message;
    if (i % 2 === 0) delete message['http.response.status_code'];
    if (i % 3 === 0) delete message['user.roles'];
    if (i % 5 === 0) delete message['source.ip'];
    return JSON.stringify(hit);
  });
  const oddFile = path.join(dir, 'odd.ndjson');
  await fs.writeFile(oddFile, `${odd.join('\n')}\n`);
  await runSync(ingestContext(dir, new FileSource(oddFile), { now: () => TO + 10 * 24 * HOUR }), {
    from: ODD_HOUR,
    to: ODD_HOUR + HOUR,
  });
  // The table as `closer-audit ddl --engine trino` prints it: partition projection on dt.
  const ddl = await cli([
    'ddl',
    '--engine',
    'trino',
    '--location',
    `local:///${name}`,
    '--catalog',
    'local',
    '--database',
    name,
  ]);
  if (ddl.code !== 0) throw new Error(`closer-audit ddl failed: ${ddl.stderr}`);
  // The events table, then the detections table (issue 16), whose folder a detection run makes.
  const opts = { location: `local:///${name}`, catalog: 'local', schema: name };
  expect(ddl.stdout).toBe(
    `${trinoDdl(opts)}\n\n${trinoDdl({ ...opts, table: 'detections', spec: DETECTIONS_TABLE })}\n`,
  );
  await fs.mkdir(path.join(dir, 'detections'), { recursive: true });
  await trinoExec(ddl.stdout);
  trino = new TrinoEngine({ url: trinoUrl(), table: `local.${name}.events` });
  duck = await DuckDbEngine.open(dir);
  duckService = new QueryService(duck, { timeoutMs: 60_000 });
  trinoService = new QueryService(trino, { timeoutMs: 60_000 });
}, 240_000);

afterAll(async () => {
  await duck?.close();
  await trino?.close();
  if (name) {
    // External table: dropping it leaves the files, which go with the folder.
    await trinoExec(
      `DROP TABLE IF EXISTS local."${name}".events;\nDROP TABLE IF EXISTS local."${name}".detections;\nDROP SCHEMA IF EXISTS local."${name}"`,
    );
    await fs.rm(dir, { recursive: true, force: true });
  }
  process.stderr.write(
    `query-trino: compared on Trino and DuckDB: ${compared.structured} compiled queries, ${compared.raw} raw SQL, ` +
      `${compared.variables} variable lists, ${compared.panels} panel targets (${compared.nonEmpty} with rows)\n`,
  );
}, 60_000);

/** A frame without what differs by engine on purpose: the SQL text and the engine's read counters. */
function comparable(frame: Frame) {
  const { executedQueryString: _sql, custom, ...meta } = frame.meta;
  const { bytesScanned: _b, filesRead: _f, ...rest } = custom ?? {};
  return { ...frame, meta: { ...meta, custom: rest } };
}

/** Runs one request on both engines and expects the same answer for every refId. */
async function same(
  queries: Record<string, unknown>[],
  kind: keyof typeof compared,
  extra: Record<string, unknown> = {},
): Promise<Record<string, RefIdResult>> {
  const body = { range: RANGE, ...extra, queries };
  const [d, t] = await Promise.all([duckService.query(body), trinoService.query(body)]);
  for (const q of queries) {
    const refId = q.refId as string;
    const want = d.results[refId];
    const got = t.results[refId];
    if (!want || !got) throw new Error(`no result for ${refId}`);
    // DuckDB's answer must be an answer, so the comparison means something.
    expect([refId, want.error]).toEqual([refId, undefined]);
    expect([refId, got.error]).toEqual([refId, undefined]);
    expect({ refId, frames: got.frames.map(comparable) }).toEqual({
      refId,
      frames: want.frames.map(comparable),
    });
    compared[kind]++;
    if (want.frames.some((f) => (f.fields[0]?.values.length ?? 0) > 0)) compared.nonEmpty++;
  }
  return t.results;
}

const inRange = (e: StoredEvent) => e.ts >= r.from && e.ts < r.to;
const sample = () => events.filter(inRange);
/** The table read twice in one query (a CTE): what failed on a projected table with statistics on. */
const RAW_TWICE =
  'WITH e AS (SELECT user_id, ts FROM $__table WHERE $__timeFilter(ts)) SELECT (SELECT count(*) FROM e) AS n, (SELECT count(DISTINCT user_id) FROM e) AS users';
const someUser = () => sample().find((e) => e.user_id)?.user_id as string;
const someResource = () => sample().find((e) => e.resource_id)?.resource_id as string;

const FILTERS: [string, () => Filters][] = [
  ['none', () => ({})],
  ['actions', () => ({ actions: ['agent_login', 'org_topic_creation'] })],
  ['areas', () => ({ areas: ['oauth', 'bot'] })],
  ['outcomes', () => ({ outcomes: ['FAILURE'] })],
  ['userIds', () => ({ userIds: [someUser()] })],
  ['userRoles', () => ({ userRoles: ['ADMIN'] })],
  ['userRoles (two)', () => ({ userRoles: ['AGENT', 'NOPE'] })],
  ['sourceIps (address)', () => ({ sourceIps: ['185.220.101.7'] })],
  ['sourceIps (IPv4 CIDRs)', () => ({ sourceIps: ['89.0.0.0/8', '212.0.0.0/8', '185.220.0.0/16'] })],
  ['sourceIps (IPv6 address, long form)', () => ({ sourceIps: ['2001:db8:0:0:0:0:dead:beef'] })],
  ['sourceIps (IPv6 networks)', () => ({ sourceIps: ['2a02::/16', '2001:db8::/32', '::1'] })],
  ['sourceIps (both families)', () => ({ sourceIps: ['2a02:8000::/17', '185.220.101.0/24'] })],
  ['httpMethods', () => ({ httpMethods: ['delete', 'PUT'] })],
  ['statuses (codes and class)', () => ({ statuses: [401, '5xx'] })],
  ['urlContains', () => ({ urlContains: 'MAGIC-LINK' })],
  ['pathContains', () => ({ pathContains: '/skills' })],
  ['resourceTypes', () => ({ resourceTypes: ['agent'] })],
  ['resourceIds', () => ({ resourceIds: [someResource()] })],
  ['bodyContains', () => ({ bodyContains: 'Skills' })],
  ['knownAction', () => ({ knownAction: true })],
  ['knownAction false', () => ({ knownAction: false })],
  ['several at once', () => ({ areas: ['auth'], outcomes: ['failure'], statuses: ['4xx'] })],
  ['a hostile value', () => ({ actions: ["x' OR 1=1 --"], urlContains: "'); DROP TABLE t; --" })],
];

describe('compiled queries on Trino (Athena dialect) and DuckDB, same files', () => {
  it('the table finds its dt partitions by projection, no partition registered', async () => {
    const res = await trino.run(
      `SELECT dt, count(*) AS n FROM ${await trino.tableFor(r)} WHERE dt BETWEEN ? AND ? GROUP BY dt ORDER BY dt`,
      [
        { type: 'string', value: '2026-09-01' },
        { type: 'string', value: '2026-09-30' },
      ],
    );
    // Days before and after the data (no folder) read as empty, as on Athena.
    expect(res.rows.map((row) => row[0])).toEqual(['2026-09-14', '2026-09-15', '2026-09-16', '2026-09-17']);
    expect(res.rows.reduce((a, row) => a + (row[1] as number), 0)).toBe(events.length + ODD_EVENTS);
    expect(res.bytesScanned).toBeGreaterThan(0);
  });

  it('the registered-partitions form (--partitions registered) answers the same', async () => {
    const table = `registered_${name}`;
    const ddl = await cli([
      'ddl',
      '--engine',
      'trino',
      '--partitions',
      'registered',
      '--location',
      `local:///${name}`,
      '--catalog',
      'local',
      '--database',
      name,
      '--table',
      table,
    ]);
    expect(ddl.code).toBe(0);
    expect(ddl.stdout).not.toContain('partition_projection');
    expect(ddl.stdout).toContain(`CALL "local".system.sync_partition_metadata('${name}', '${table}', 'ADD')`);
    await trinoExec(ddl.stdout);
    try {
      const registered = new QueryService(
        new TrinoEngine({ url: trinoUrl(), table: `local.${name}.${table}` }),
      );
      const queries = [
        { refId: 'stat', type: 'stat' },
        { refId: 'top', type: 'topn', field: 'status_class' },
        { refId: 'cte', type: 'sql', sql: RAW_TWICE },
      ];
      const [a, b] = await Promise.all([
        registered.query({ range: RANGE, queries }),
        trinoService.query({ range: RANGE, queries }),
      ]);
      for (const q of queries) {
        expect(a.results[q.refId]?.error).toBeUndefined();
        expect(a.results[q.refId]?.frames.map(comparable)).toEqual(
          b.results[q.refId]?.frames.map(comparable),
        );
      }
      expect(a.results.stat?.frames[0]?.fields[0]?.values).toEqual([sample().length]);
    } finally {
      await trinoExec(`DROP TABLE IF EXISTS local."${name}"."${table}"`);
    }
  });

  it.each(FILTERS)('filter %s: stat, events both ways, time series and top actions agree', async (_n, f) => {
    const filters = f();
    await same(
      [
        { refId: 'stat', type: 'stat', filters },
        { refId: 'desc', type: 'events', limit: 100, filters },
        { refId: 'asc', type: 'events', limit: 20, order: 'asc', filters },
        { refId: 'series', type: 'timeseries', interval: '1h', filters },
        { refId: 'top', type: 'topn', field: 'action', limit: 5, filters },
      ],
      'structured',
    );
  });

  it.each(GROUP_FIELDS.map((g) => [g]))(
    'field %s: every value ranked, top 3 with ties, split series, exact distinct count',
    async (field) => {
      await same(
        [
          { refId: 'all', type: 'topn', field, limit: 1000 },
          { refId: 'top3', type: 'topn', field, limit: 3, filters: { areas: ['auth', 'agent'] } },
          { refId: 'split', type: 'timeseries', interval: '6h', splitBy: field, maxSeries: 3 },
          { refId: 'distinct', type: 'stat', metric: 'distinct', field },
        ],
        'structured',
      );
    },
  );

  it("time series at Grafana's interval and point budget", async () => {
    await same([{ refId: 'g', type: 'timeseries' }], 'structured', {
      intervalMs: 600_000,
      maxDataPoints: 500,
    });
    await same([{ refId: 'p', type: 'timeseries', splitBy: 'outcome' }], 'structured', { maxDataPoints: 40 });
  });

  it('rows with no status, no roles, no address: grouped and counted alike', async () => {
    const results = await same(
      [
        { refId: 'class', type: 'topn', field: 'status_class', limit: 20 },
        { refId: 'status', type: 'topn', field: 'http_status', limit: 20 },
        { refId: 'role', type: 'topn', field: 'user_role', limit: 20 },
        { refId: 'ip', type: 'topn', field: 'source_ip', limit: 100 },
        { refId: 'split', type: 'timeseries', interval: '10m', splitBy: 'status_class' },
        { refId: 'distinct', type: 'stat', metric: 'distinct', field: 'status_class' },
        { refId: 'events', type: 'events', limit: 100 },
      ],
      'structured',
      { range: ODD_RANGE },
    );
    // A missing status is no class at all (NULL), not a class named "xx".
    const classes = results.class?.frames[0]?.fields[0]?.values ?? [];
    expect(classes).toContain(null);
    expect(classes).not.toContain('xx');
  });

  it('an empty range answers with no rows on both', async () => {
    await same(
      [
        { refId: 'stat', type: 'stat' },
        { refId: 'events', type: 'events' },
        { refId: 'top', type: 'topn', field: 'user_role' },
      ],
      'structured',
      { range: { from: '2026-09-20T00:00:00Z', to: '2026-09-22T00:00:00Z' } },
    );
  });

  const RAW = [
    'SELECT $__timeGroup(ts, 1h) AS time, count(*) AS n FROM $__table WHERE $__timeFilter(ts) GROUP BY 1 ORDER BY 1',
    'SELECT $__timeGroup(ts) AS time, $__interval_ms AS step, count(*) AS n FROM $__table WHERE $__timeFilter(ts) GROUP BY 1, 2 ORDER BY 1',
    "SELECT $__timeGroup(ts, $__interval) AS time, count(*) AS n FROM $__table WHERE $__timeFilter(ts) AND outcome = 'failure' GROUP BY 1 ORDER BY 1",
    'SELECT count(*) AS n, min(ts) AS first, max(ts) AS last FROM $__table WHERE $__timeFilter(ts) AND ts >= $__timeFrom() AND ts < $__timeTo()',
    'SELECT $__timeFrom() AS "from", $__timeTo() AS "to"',
    "SELECT action, count(*) AS n FROM $__table WHERE $__timeFilter(ts) AND area = 'auth' GROUP BY action ORDER BY n DESC, action",
    'SELECT user_id, count(DISTINCT source_ip) AS ips FROM $__table WHERE $__timeFilter(ts) AND user_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10',
    'SELECT ts, event_id, http_status, known_action FROM $__table WHERE $__timeFilter(ts) -- $__table in a comment\n ORDER BY ts DESC, event_id LIMIT 50',
  ];
  it('raw SQL with every macro, in SQL both dialects share', async () => {
    await same(
      RAW.map((sql, i) => ({ refId: `R${i}`, type: 'sql', sql })),
      'raw',
      { intervalMs: 3 * HOUR },
    );
  });

  it('template variable values', async () => {
    for (const variable of [
      'actions',
      'areas',
      'users',
      'ips',
      'roles',
      'resourceTypes',
      'methods',
      'outcomes',
    ]) {
      const body = { range: RANGE, variable, filters: { areas: ['auth', 'agent'] } };
      const [d, t] = await Promise.all([duckService.variables(body), trinoService.variables(body)]);
      expect([variable, t.values]).toEqual([variable, d.values]);
      expect(d.values.length).toBeGreaterThan(0);
      compared.variables++;
    }
  });
});

describe('the four dashboards on Trino', () => {
  const FILES = [
    'overview.json',
    'authentication.json',
    'configuration-changes.json',
    'agent-lifecycle.json',
  ];
  type Panel = { title: string; targets?: Record<string, unknown>[]; panels?: Panel[] };
  const targetsOf = (panels: Panel[]): { title: string; target: Record<string, unknown> }[] =>
    panels.flatMap((p) => [
      // Data-health targets go to GET /status (shared/status), not POST /query.
      ...(p.targets ?? [])
        .filter((t) => t.hide !== true && t.type !== STATUS_QUERY_TYPE)
        .map((target) => ({ title: p.title, target })),
      ...targetsOf(p.panels ?? []),
    ]);
  /** What the plugin sends: `$name` elements replaced by the variable's values (All: dropped). */
  const interpolate = (v: unknown, value: (n: string) => string[] | undefined): unknown => {
    if (Array.isArray(v))
      return v.flatMap((x) => {
        const m = typeof x === 'string' ? /^\$([A-Za-z_]\w*)$/.exec(x) : null;
        return m ? (value(m[1] as string) ?? []) : [interpolate(x, value)];
      });
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'datasource' || k === 'hide') continue;
        const w = interpolate(x, value);
        if (!(Array.isArray(w) && w.length === 0)) out[k] = w;
      }
      return out;
    }
    return v;
  };

  it.each(FILES.map((f) => [f]))(
    '%s: every panel target, variables at All and at chosen values',
    async (file) => {
      const dashboard = JSON.parse(readFileSync(path.join(REPO, 'plugin/dashboards', file), 'utf8')) as {
        panels: Panel[];
      };
      const targets = targetsOf(dashboard.panels);
      expect(targets.length).toBeGreaterThan(3);
      const values: Record<string, string[]> = {
        area: ['auth', 'agent'],
        action: ['agent_login'],
        user: [someUser()],
        ip: ['185.220.101.7', '2001:db8::dead:beef'],
        role: ['ADMIN'],
      };
      for (const pick of [() => undefined, (n: string) => values[n]]) {
        const queries = targets.map(({ target }, i) => ({
          ...(interpolate(target, pick) as Record<string, unknown>),
          refId: `P${i}`,
        }));
        await same(queries, 'panels', { intervalMs: 5 * 60_000, maxDataPoints: 800 });
      }
    },
  );
});

describe('where the dialects differ', () => {
  it('time zones: compiled buckets do not move with the session time zone; naive SQL does', async () => {
    const newYork = new TrinoEngine({
      url: trinoUrl(),
      table: `local.${name}.events`,
      timeZone: 'America/New_York',
    });
    const nyService = new QueryService(newYork, { timeoutMs: 60_000 });
    const q = { range: RANGE, queries: [{ refId: 'A', type: 'timeseries', interval: '1d' }] };
    const [d, ny] = await Promise.all([duckService.query(q), nyService.query(q)]);
    expect(ny.results.A?.frames.map(comparable)).toEqual(d.results.A?.frames.map(comparable));
    // What a raw query that leaves the zone implicit sees: `ts` (UTC wall time) read in the
    // session's zone, 4 hours off in September.
    const sql =
      'SELECT CAST(to_unixtime(max(ts)) * 1000 AS BIGINT) AS ms FROM $__table WHERE $__timeFilter(ts)';
    const raw = { range: RANGE, queries: [{ refId: 'A', type: 'sql', sql }] };
    const [utc, shifted] = await Promise.all([trinoService.query(raw), nyService.query(raw)]);
    const last = Math.max(...sample().map((e) => e.ts));
    expect(utc.results.A?.frames[0]?.fields[0]?.values).toEqual([last]);
    expect(shifted.results.A?.frames[0]?.fields[0]?.values).toEqual([last + 4 * HOUR]);
  });

  it('lists: Trino contains / arrays_overlap, DuckDB list_contains / list_has_any, same counts', async () => {
    const want = sample().filter((e) => e.user_roles.includes('ADMIN')).length;
    const count = async (service: QueryService, sql: string) =>
      (await service.query({ range: RANGE, queries: [{ refId: 'A', type: 'sql', sql }] })).results.A
        ?.frames[0]?.fields[0]?.values[0];
    const where = 'FROM $__table WHERE $__timeFilter(ts) AND';
    expect(await count(trinoService, `SELECT count(*) ${where} contains(user_roles, 'ADMIN')`)).toBe(want);
    expect(await count(duckService, `SELECT count(*) ${where} list_contains(user_roles, 'ADMIN')`)).toBe(
      want,
    );
    // The structured filter is written once and compiled to each: the same number.
    const [d, t] = await Promise.all(
      [duckService, trinoService].map((s) =>
        s.query({ range: RANGE, queries: [{ refId: 'A', type: 'stat', filters: { userRoles: ['ADMIN'] } }] }),
      ),
    );
    expect(d?.results.A?.frames[0]?.fields[0]?.values).toEqual([want]);
    expect(t?.results.A?.frames[0]?.fields[0]?.values).toEqual([want]);
  });

  it('IPv6 networks: IPADDRESS in Trino, the address expanded to hex digits in DuckDB, same rows', async () => {
    const nets = ['2a02::/16', '2001:db8::/32'];
    const inNet = (ip: string | null) =>
      ip !== null &&
      nets.some((n) => {
        const net = parseCidr(n);
        const addr = parseCidr(ip);
        if (!net || !addr || addr.version !== 6) return false;
        const shift = BigInt(128 - net.prefix);
        return addr.network >> shift === net.network >> shift;
      });
    const want = sample().filter((e) => inNet(e.source_ip)).length;
    expect(want).toBeGreaterThan(0);
    const q = { range: RANGE, queries: [{ refId: 'A', type: 'stat', filters: { sourceIps: nets } }] };
    const [d, t] = await Promise.all([duckService.query(q), trinoService.query(q)]);
    expect(t.results.A?.frames[0]?.fields[0]?.values).toEqual([want]);
    expect(d.results.A?.frames[0]?.fields[0]?.values).toEqual([want]);
    expect(t.results.A?.frames[0]?.meta.executedQueryString).toContain('CAST(source_ip AS IPADDRESS)');
  });

  it('regular expressions: Trino (Joni) takes look-ahead, DuckDB (RE2) refuses it; plain patterns agree', async () => {
    const want = sample().filter((e) => /^agent_.*_change$/.test(e.action ?? '')).length;
    const where = 'FROM $__table WHERE $__timeFilter(ts) AND';
    const one = async (service: QueryService, sql: string) =>
      (await service.query({ range: RANGE, queries: [{ refId: 'A', type: 'sql', sql }] })).results.A;
    const t = await one(trinoService, `SELECT count(*) ${where} regexp_like(action, '^agent_.*_change$')`);
    const d = await one(duckService, `SELECT count(*) ${where} regexp_matches(action, '^agent_.*_change$')`);
    expect(t?.frames[0]?.fields[0]?.values).toEqual([want]);
    expect(d?.frames[0]?.fields[0]?.values).toEqual([want]);
    const lookahead = `SELECT count(*) ${where} regexp_like(action, '^agent_(?!login)')`;
    const tl = await one(trinoService, lookahead);
    expect(tl?.frames[0]?.fields[0]?.values).toEqual([
      sample().filter((e) => /^agent_(?!login)/.test(e.action ?? '')).length,
    ]);
    const dl = await one(duckService, lookahead.replace('regexp_like', 'regexp_matches'));
    expect(dl?.status).toBeGreaterThanOrEqual(400);
  });
});

describe('Trino reading the S3-compatible server', () => {
  it('a table over s3:// answers as the local one does', async () => {
    await ensureTestBucket();
    const prefix = uniquePrefix('trino');
    await runSync(
      ingestContext('', new SampleSource(), {
        storage: testS3Storage(prefix),
        now: () => TO + 10 * 24 * HOUR,
      }),
      { from: FROM, to: TO },
    );
    const schema = `s_${name}`;
    await trinoExec(trinoDdl({ location: `s3://${TEST_BUCKET}/${prefix}`, catalog: 's3', schema }));
    const s3 = new QueryService(new TrinoEngine({ url: trinoUrl(), table: `s3.${schema}.events` }));
    try {
      const queries = [
        { refId: 'stat', type: 'stat' },
        { refId: 'top', type: 'topn', field: 'user_role' },
        { refId: 'events', type: 'events', limit: 30, filters: { outcomes: ['failure'] } },
      ];
      const [local, remote] = await Promise.all([
        trinoService.query({ range: RANGE, queries }),
        s3.query({ range: RANGE, queries }),
      ]);
      for (const q of queries) {
        expect(remote.results[q.refId]?.error).toBeUndefined();
        expect(remote.results[q.refId]?.frames.map(comparable)).toEqual(
          local.results[q.refId]?.frames.map(comparable),
        );
      }
      expect(remote.results.stat?.frames[0]?.fields[0]?.values).toEqual([sample().length]);
    } finally {
      await trinoExec(`DROP TABLE IF EXISTS s3."${schema}".events;\nDROP SCHEMA IF EXISTS s3."${schema}"`);
    }
  }, 180_000);
});

describe('the query API over Trino', () => {
  let url: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const server = await startServer(createApi(trinoService, { token: async () => 't0ken' }), {
      port: 0,
      host: '127.0.0.1',
    });
    url = server.url;
    close = server.close;
  });
  afterAll(() => close());

  const post = (body: unknown) =>
    fetch(`${url}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t0ken' },
      body: JSON.stringify(body),
    });

  it('says it is Trino, shows the SQL that ran with ? for values, and the bytes Trino read', async () => {
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', engine: 'trino' });
    const res = await post({
      range: RANGE,
      queries: [{ refId: 'A', type: 'stat', filters: { actions: ['agent_login'] } }],
    });
    const { results } = (await res.json()) as { results: Record<string, RefIdResult> };
    const meta = results.A?.frames[0]?.meta;
    expect(meta?.executedQueryString).toMatch(/dt BETWEEN \? AND \? AND ts >= \? AND ts < \?/);
    expect(meta?.executedQueryString).toContain('action IN (?)');
    expect(meta?.executedQueryString).not.toContain('agent_login');
    expect(meta?.custom?.bytesScanned).toBeGreaterThan(0);
  });

  it('fails one query on its own refId: a missing table, SQL Trino refuses, Trino down', async () => {
    const missing = new QueryService(new TrinoEngine({ url: trinoUrl(), table: `local.${name}.nope` }));
    const res = await missing.query({ range: RANGE, queries: [{ refId: 'A', type: 'stat' }] });
    expect(res.results.A?.status).toBe(500);
    expect(res.results.A?.error).toMatch(/TABLE_NOT_FOUND/);
    const bad = await trinoService.query({
      range: RANGE,
      queries: [
        { refId: 'ok', type: 'stat' },
        { refId: 'bad', type: 'sql', sql: 'SELECT nope FROM $__table' },
        { refId: 'write', type: 'sql', sql: 'DROP TABLE $__table' },
      ],
    });
    expect(bad.results.ok?.status).toBe(200);
    expect(bad.results.bad).toMatchObject({ status: 400, frames: [] });
    expect(bad.results.bad?.error).toMatch(/COLUMN_NOT_FOUND/);
    expect(bad.results.write?.status).toBe(400);
    // A port nobody listens on: the engine says Trino is unreachable, after its retries.
    const down = new QueryService(new TrinoEngine({ url: 'http://127.0.0.1:9', table: 'a.b.c', retries: 1 }));
    const gone = await down.query({ range: RANGE, queries: [{ refId: 'A', type: 'stat' }] });
    expect(gone.results.A?.status).toBe(500);
    expect(gone.results.A?.error).toMatch(/^Trino at http:\/\/127\.0\.0\.1:9 is unreachable/);
  });

  it('pages through a large answer and cuts raw SQL at its row cap', async () => {
    const res = await trinoService.query({
      range: RANGE,
      queries: [
        { refId: 'many', type: 'events', limit: 2000 },
        {
          refId: 'raw',
          type: 'sql',
          // 25,000 rows (sequence() stops at 10,000 elements).
          sql: 'SELECT a.n * 1000 + b.m AS n FROM UNNEST(sequence(1, 50)) AS a(n) CROSS JOIN UNNEST(sequence(1, 500)) AS b(m)',
        },
      ],
    });
    expect(res.results.many?.frames[0]?.fields[0]?.values).toHaveLength(Math.min(2000, sample().length));
    expect(res.results.raw?.frames[0]?.fields[0]?.values).toHaveLength(10_000);
    expect(res.results.raw?.frames[0]?.meta.custom?.truncated).toBe(true);
  });

  it('cancels the Trino query when the caller goes away, and when the time limit passes', async () => {
    // A query that runs for minutes unless stopped: a cross join of the events with themselves.
    const side = 'SELECT ts FROM $__table WHERE $__timeFilter(ts)';
    const slow = `SELECT count(*) AS ${name}_slow FROM (${side}) a CROSS JOIN (${side}) b CROSS JOIN UNNEST(sequence(1, 1000))`;
    const controller = new AbortController();
    const started = Date.now();
    const pending = trinoService.query(
      { range: RANGE, queries: [{ refId: 'A', type: 'sql', sql: slow }] },
      controller.signal,
    );
    setTimeout(() => controller.abort(), 1500);
    const res = await pending;
    expect(res.results.A?.error).toMatch(/cancelled/);
    expect(Date.now() - started).toBeLessThan(15_000);
    const limited = new QueryService(trino, { timeoutMs: 1500 });
    const timed = await limited.query({ range: RANGE, queries: [{ refId: 'A', type: 'sql', sql: slow }] });
    expect(timed.results.A?.status).toBe(504);
    // Trino itself says both queries ended (no longer running).
    // Trino itself says both queries ended: cancelled, not left running (its state settles
    // within moments of the cancel).
    let states: unknown[][] = [];
    for (let i = 0; i < 20; i++) {
      states = (
        await trino.run(
          `SELECT state, error_code FROM system.runtime.queries WHERE query LIKE ? AND query NOT LIKE ?`,
          [
            { type: 'string', value: `%${name}_slow%` },
            { type: 'string', value: '%system.runtime.queries%' },
          ],
        )
      ).rows;
      if (states.length === 2 && states.every((row) => row[0] === 'FAILED')) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(states.map((row) => row[0])).toEqual(['FAILED', 'FAILED']);
    expect(states.map((row) => row[1]).sort()).toEqual(['USER_CANCELED', 'USER_CANCELED']);
  });
});

describe('closer-audit serve --engine trino', () => {
  it('serves the same API over Trino, and says which setting is missing or wrong', async () => {
    const child = spawn(
      process.execPath,
      [path.join(REPO, 'functions/cli/bin.js'), 'serve', '--engine', 'trino', '--port', '0'],
      {
        cwd: REPO,
        env: {
          ...process.env,
          CLOSER_API_TOKEN: 'serve-token',
          CLOSER_TRINO_URL: trinoUrl(),
          CLOSER_TRINO_TABLE: `local.${name}.events`,
          CLOSER_TRINO_USER: 'grafana',
        },
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr.on('data', (d) => {
          err += d;
          const m = /query API on (http:\/\/\S+) \(Trino, "local"\."[^"]+"\."events"\)/.exec(err);
          if (m) resolve(m[1] as string);
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${err}`)));
      });
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok', engine: 'trino' });
      const res = await fetch(`${url}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer serve-token' },
        body: JSON.stringify({ range: RANGE, queries: [{ refId: 'A', type: 'stat' }] }),
      });
      const { results } = (await res.json()) as { results: Record<string, RefIdResult> };
      expect(results.A?.frames[0]?.fields[0]?.values).toEqual([sample().length]);
    } finally {
      child.kill('SIGTERM');
    }
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['--engine', 'trino'], {}, /--engine trino needs --trino-url URL \(or CLOSER_TRINO_URL\)/],
      [['--engine', 'trino', '--trino-url', 'ftp://x'], {}, /--trino-url ftp:\/\/x: expected http\(s\)/],
      [
        ['--engine', 'trino', '--trino-url', 'http://127.0.0.1:1'],
        {},
        /needs --table CATALOG\.SCHEMA\.TABLE/,
      ],
      [
        ['--engine', 'trino', '--trino-url', 'http://127.0.0.1:1', '--table', 'a.b'],
        {},
        /^closer-audit: --table: /,
      ],
      [
        ['--engine', 'trino', '--trino-url', 'http://127.0.0.1:1', '--table', 'a.b.c'],
        { CLOSER_TRINO_PASSWORD: 'secret' },
        /CLOSER_TRINO_PASSWORD is sent only over https/,
      ],
      [['--engine', 'presto'], {}, /--engine presto: duckdb or trino/],
      [['--table', 'a.b.c'], {}, /--table is for --engine trino/],
    ];
    for (const [args, env, message] of cases) {
      const out = await cli(['serve', ...args], env);
      expect([args, out.code]).toEqual([args, 2]);
      expect(out.stderr).toMatch(message);
      expect(out.stderr).not.toContain('secret');
    }
  }, 120_000);
});

describe('closer-audit ddl --engine trino', () => {
  it('says which flag is wrong, with exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--engine', 'presto', '--location', 's3://b/p'], /--engine presto: athena or trino/],
      [['--engine', 'trino', '--location', 'bucket/prefix'], /--location: the table location must be a URI/],
      [
        ['--engine', 'trino', '--location', 's3://b/p', '--catalog', 'a-b'],
        /--catalog: the Trino catalog name/,
      ],
      [['--engine', 'trino', '--location', 's3://b/p', '--table', 'x;y'], /--table: the Trino table name/],
      [
        ['--engine', 'trino', '--location', 's3://b/p', '--partitions', 'magic'],
        /--partitions magic: projection/,
      ],
      [['--location', 's3://b/p', '--catalog', 'hive'], /--catalog is for --engine trino/],
    ];
    for (const [args, message] of cases) {
      const out = await cli(['ddl', ...args]);
      expect([args, out.code, out.stdout]).toEqual([args, 2, '']);
      expect(out.stderr).toMatch(message);
    }
  }, 120_000);
});

describe('Trino answering 503', () => {
  it('is retried, as the protocol asks of clients', async () => {
    // A real Trino cannot be made to answer 503 on demand: this proxy answers the first two
    // statement submissions with 503 and forwards the rest to the real one.
    let posts = 0;
    const proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      if (req.method === 'POST' && ++posts <= 2) {
        res.writeHead(503).end('busy');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length'),
      ) as Record<string, string>;
      const upstream = await fetch(`${trinoUrl()}${req.url}`, {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (proxy.address() as { port: number }).port;
      const engine = new TrinoEngine({ url: `http://127.0.0.1:${port}`, table: `local.${name}.events` });
      const res = await new QueryService(engine).query({
        range: RANGE,
        queries: [{ refId: 'A', type: 'stat' }],
      });
      expect(res.results.A?.frames[0]?.fields[0]?.values).toEqual([sample().length]);
      expect(posts).toBe(3);
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
