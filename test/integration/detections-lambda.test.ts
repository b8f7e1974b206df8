import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { detectOnFolder } from '../../functions/cli/commands/detect.js';
import { alertJson } from '../../functions/detect/detect.js';
import { readAlerts } from '../../functions/detect/store.js';
import { runSync } from '../../functions/ingest/sync.js';
import {
  OUTBOX_KEY,
  alertSubject,
  runDetectionStep,
  type AlertMessage,
  type AlertPublisher,
  type StepLog,
} from '../../functions/lambda/ingest/detections.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { TrinoEngine } from '../../functions/query/engines/trino.js';
import { QueryService } from '../../functions/query/service.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type { Storage } from '../../functions/storage/storage.js';
import { DETECTIONS_TABLE } from '../../shared/schema/athena.js';
import { trinoDdl } from '../../shared/schema/trino.js';
import { cli } from '../support/cli.js';
import { ingestContext } from '../support/ingest.js';
import { ensureTestBucket, testS3Storage, uniquePrefix } from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';
import { trinoExec, trinoRoot, trinoUrl } from '../support/trino.js';

// The ingest Lambda's detection step. Athena cannot be reached from the tests (no AWS account):
// its SQL (Trino's) runs on the real test Trino instead, over the same Parquet files, and the
// alerts go to the real test S3 server. SNS cannot be reached either: the publisher is a fake
// that records what it was given, and fails on demand.
const FROM = Date.UTC(2026, 8, 1);
const TO = Date.UTC(2026, 8, 15);
const RANGE = { from: FROM, to: TO };

let name: string;
let dir: string;
let trino: TrinoEngine;
let duck: DuckDbEngine;
/** What DuckDB raises over the same files (`closer-audit detect`), as rule|entity|window|count. */
let duckAlerts: string[];

const log: StepLog & { errors: string[] } = {
  errors: [],
  info: () => undefined,
  warn: () => undefined,
  error(message) {
    this.errors.push(message);
  },
};

function recorder(failFirst = 0): AlertPublisher & { sent: AlertMessage[]; calls: number } {
  return {
    sent: [],
    calls: 0,
    async publish(m) {
      if (++this.calls <= failFirst) throw new Error('SNS: Throttling: Rate exceeded');
      this.sent.push(m);
    },
  };
}

const sig = (a: { rule: string; entity: string; window_start: number; count: number }) =>
  `${a.rule}|${a.entity}|${a.window_start}|${a.count}`;

beforeAll(async () => {
  await ensureTestBucket();
  name = `d${process.pid}_${Date.now().toString(36)}`;
  dir = path.join(trinoRoot(), name);
  const feed = path.join(await tmpDir('detect-lambda'), 'feed.ndjson.gz');
  const made = await cli([
    'sample',
    '--events',
    '8000',
    '--from',
    new Date(FROM).toISOString(),
    '--to',
    new Date(TO).toISOString(),
    '--out',
    feed,
    '--attacks',
    'all',
  ]);
  expect(made.code).toBe(0);
  await runSync(ingestContext(dir, new FileSource(feed), { now: () => TO + 10 * 86_400_000 }), RANGE);
  trino = new TrinoEngine({ url: trinoUrl(), table: `local.${name}.events` });
  duck = await DuckDbEngine.open(dir);
}, 300_000);

afterAll(async () => {
  await duck?.close();
  await trino?.close();
  if (name) {
    await trinoExec(
      `DROP TABLE IF EXISTS local."${name}".events;\nDROP TABLE IF EXISTS local."${name}".detections;\nDROP SCHEMA IF EXISTS local."${name}"`,
    ).catch(() => undefined);
    await fs.rm(dir, { recursive: true, force: true });
  }
});

describe('the ingest Lambda’s detection step (Athena’s SQL on Trino, alerts in S3, a fake SNS)', () => {
  let storage: Storage;
  let stepSent: AlertMessage[];

  beforeAll(async () => {
    await trinoExec(trinoDdl({ location: `local:///${name}`, catalog: 'local', schema: name }));
    // The same rules on DuckDB over the same files (what `closer-audit detect` raises): the
    // alerts also land in the folder, for the detections table below.
    const report = await detectOnFolder(dir, new LocalFolderStorage(dir), RANGE, undefined);
    expect(report.failures).toEqual([]);
    duckAlerts = report.alerts.map(sig).sort();
  }, 300_000);

  it('raises on Athena’s SQL what DuckDB raises, stores it under detections/ and publishes each new alert', async () => {
    storage = testS3Storage(uniquePrefix('detect-lambda'));
    const publisher = recorder();
    const result = await runDetectionStep(RANGE, { engine: trino, storage, publisher, log });
    expect(result.ruleFailures).toBe(0);
    expect(result.rulesRun).toBe(10);
    expect(duckAlerts.length).toBeGreaterThanOrEqual(8);
    expect(result.alerts).toBe(duckAlerts.length);
    expect(result).toMatchObject({ newAlerts: duckAlerts.length, published: duckAlerts.length, pending: 0 });

    // Stored in the bucket as Parquet, one object per rule and day.
    const keys: string[] = [];
    for await (const o of storage.list('detections/')) keys.push(o.key);
    for (const k of keys) expect(k).toMatch(/^detections\/dt=\d{4}-\d{2}-\d{2}\/[a-z0-9-]+\.parquet$/);
    const stored = (
      await Promise.all(
        keys.map((k) => {
          const [, dt, rule] = /dt=([^/]+)\/(.+)\.parquet$/.exec(k) as RegExpExecArray;
          return readAlerts(storage, dt as string, rule as string);
        }),
      )
    ).flat();
    expect(stored.map(sig).sort()).toEqual(duckAlerts);

    // One message per alert: the JSON `detect --json` prints, a short ASCII subject.
    stepSent = publisher.sent;
    expect(publisher.sent).toHaveLength(duckAlerts.length);
    for (const m of publisher.sent) {
      const body = JSON.parse(m.message) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(
        Object.keys(alertJson({ ...stored[0], isNew: true, description: '', next_steps: '' } as never)),
      );
      expect(body.new).toBe(true);
      expect(m.subject).toBe(alertSubject({ severity: String(body.severity), title: String(body.title) }));
      expect(m.subject).toMatch(/^\[(LOW|MEDIUM|HIGH|CRITICAL)\] [\x20-\x7e]+$/);
      expect(m.subject.length).toBeLessThanOrEqual(100);
      expect([m.rule, m.severity]).toEqual([body.rule, body.severity]);
    }
    expect(new Set(publisher.sent.map((m) => JSON.parse(m.message).id)).size).toBe(duckAlerts.length);
  }, 300_000);

  it('raises and publishes nothing again on the next run over the same hours', async () => {
    const publisher = recorder();
    const again = await runDetectionStep(RANGE, { engine: trino, storage, publisher, log });
    expect(again).toMatchObject({ alerts: duckAlerts.length, newAlerts: 0, published: 0, pending: 0 });
    expect(publisher.calls).toBe(0);
  }, 300_000);

  it('keeps what SNS refused, counts it, and publishes it on the next run', async () => {
    const fresh = testS3Storage(uniquePrefix('detect-outbox'));
    log.errors.length = 0;
    const failing = recorder(3);
    const first = await runDetectionStep(RANGE, { engine: trino, storage: fresh, publisher: failing, log });
    expect(first).toMatchObject({ newAlerts: duckAlerts.length, publishFailures: 3, pending: 3 });
    expect(first.published).toBe(duckAlerts.length - 3);
    expect(log.errors.filter((e) => e.startsWith('alert not published'))).toHaveLength(3);
    const outbox = JSON.parse(new TextDecoder().decode((await fresh.get(OUTBOX_KEY)) as Uint8Array));
    expect(outbox).toHaveLength(3);
    // The alerts themselves are stored whatever SNS said.
    let objects = 0;
    for await (const _ of fresh.list('detections/')) objects++;
    expect(objects).toBeGreaterThan(0);

    const working = recorder();
    const second = await runDetectionStep(RANGE, { engine: trino, storage: fresh, publisher: working, log });
    expect(second).toMatchObject({ newAlerts: 0, published: 3, publishFailures: 0, pending: 0 });
    expect(working.sent.map((m) => m.message)).toEqual(outbox.map((e: AlertMessage) => e.message));
    const third = await runDetectionStep(RANGE, {
      engine: trino,
      storage: fresh,
      publisher: recorder(),
      log,
    });
    expect(third.published).toBe(0);
    // Every alert was published exactly once over the three runs.
    const all = [...failing.sent, ...working.sent].map((m) => JSON.parse(m.message).id).sort();
    expect(all).toEqual(stepSent.map((m) => JSON.parse(m.message).id).sort());
  }, 300_000);
});

describe('the detections query type on Trino and DuckDB', () => {
  let duckService: QueryService;
  let trinoService: QueryService;

  beforeAll(async () => {
    // The alerts DuckDB stored in the folder above, as `closer-audit ddl --engine trino` creates it.
    await trinoExec(
      trinoDdl({
        location: `local:///${name}`,
        catalog: 'local',
        schema: name,
        table: 'detections',
        spec: DETECTIONS_TABLE,
      }),
    );
    duckService = new QueryService(duck, { timeoutMs: 60_000 });
    trinoService = new QueryService(trino, { timeoutMs: 60_000 });
  }, 120_000);

  const both = async (query: Record<string, unknown>) => {
    const body = { range: { from: FROM, to: TO }, queries: [{ refId: 'A', ...query }] };
    const [d, t] = await Promise.all([duckService.query(body), trinoService.query(body)]);
    expect([d.results.A?.error, t.results.A?.error]).toEqual([undefined, undefined]);
    const strip = (frames: unknown) =>
      JSON.parse(JSON.stringify(frames, (k, v) => (k === 'meta' ? undefined : v)));
    return { duck: strip(d.results.A?.frames), trino: strip(t.results.A?.frames) };
  };

  it('lists the alerts, newest first, filtered by rule and severity, the same on both', async () => {
    const all = await both({ type: 'detections' });
    expect(all.trino).toEqual(all.duck);
    const fields = all.duck[0].fields as { name: string; values: unknown[] }[];
    const col = (n: string) => fields.find((f) => f.name === n)?.values as unknown[];
    expect(col('rule')).toHaveLength(duckAlerts.length);
    const firsts = col('first_ts') as number[];
    expect([...firsts].sort((a, b) => b - a)).toEqual(firsts);

    const high = await both({
      type: 'detections',
      severities: ['high', 'critical'],
      rules: ['password-brute-force-ip', 'password-spraying', 'role-change-to-admin'],
    });
    expect(high.trino).toEqual(high.duck);
    const rules = high.duck[0].fields.find((f: { name: string }) => f.name === 'rule').values as string[];
    const sev = high.duck[0].fields.find((f: { name: string }) => f.name === 'severity').values as string[];
    expect(rules.length).toBeGreaterThan(0);
    for (const s of sev) expect(['high', 'critical']).toContain(s);
    for (const r of rules)
      expect(['password-brute-force-ip', 'password-spraying', 'role-change-to-admin']).toContain(r);
  }, 120_000);

  it('counts alerts over time by rule and by severity, the same on both', async () => {
    for (const splitBy of ['rule', 'severity']) {
      const ts = await both({ type: 'detections', format: 'timeseries', splitBy, interval: '1d' });
      expect(ts.trino).toEqual(ts.duck);
      const total = (
        ts.duck as { fields: { name: string; values: number[]; labels?: Record<string, string> }[] }[]
      )
        .flatMap((f) => f.fields.filter((x) => x.name === 'count'))
        .reduce((n, x) => {
          expect(Object.keys(x.labels ?? {})).toEqual([splitBy]);
          return n + x.values.reduce((a, b) => a + b, 0);
        }, 0);
      expect(total).toBe(duckAlerts.length);
    }
  }, 120_000);

  it('opens an alert’s events (the drill-down), the same on both', async () => {
    const all = await both({ type: 'detections', rules: ['password-brute-force-ip'] });
    const fields = all.duck[0].fields as { name: string; values: unknown[] }[];
    const id = fields.find((f) => f.name === 'id')?.values[0] as string;
    const ids = fields.find((f) => f.name === 'event_ids')?.values[0] as string[];
    const events = await both({ type: 'detections', format: 'events', alertIds: [id] });
    expect(events.trino).toEqual(events.duck);
    const eventIds = events.duck[0].fields.find((f: { name: string }) => f.name === 'event_id').values;
    expect([...eventIds].sort()).toEqual([...ids].sort());
    const actions = events.duck[0].fields.find((f: { name: string }) => f.name === 'action').values;
    expect(new Set(actions)).toEqual(new Set(['agent_login']));
  }, 120_000);

  it('refuses an unknown severity, naming the field', async () => {
    const res = await duckService.query({
      range: { from: FROM, to: TO },
      queries: [{ refId: 'A', type: 'detections', severities: ['urgent'] }],
    });
    expect(res.results.A?.status).toBe(400);
    expect(res.results.A?.error).toMatch(/^severities\.0: /);
  });
});

describe('alert subjects', () => {
  it('are printable ASCII of at most 100 characters, severity first', () => {
    expect(
      alertSubject({ severity: 'high', title: 'Password brute force from 203.0.113.10: 25 failed logins' }),
    ).toBe('[HIGH] Password brute force from 203.0.113.10: 25 failed logins');
    const long = alertSubject({ severity: 'critical', title: `Admin “José” ${'x'.repeat(200)} → done…` });
    expect(long.length).toBe(100);
    expect(long).toMatch(/^\[CRITICAL\] Admin Jose x+\.\.\.$/);
  });
});
