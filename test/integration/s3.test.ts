import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import type { Context } from 'aws-lambda';
import { handler } from '../../functions/lambda/ingest/handler.js';
import { runSync } from '../../functions/ingest/sync.js';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { ConcurrentUpdateError } from '../../functions/storage/storage.js';
import { listKeys, storedRows } from '../support/duckdb.js';
import { createCloserLikeIndex, esUrl, loadHits, testClient, uniqueIndex } from '../support/es.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { startProxy } from '../support/proxy.js';
import {
  TEST_BUCKET,
  ensureTestBucket,
  mirrorToFolder,
  s3Env,
  testS3Storage,
  uniquePrefix,
} from '../support/s3.js';
import { cli } from '../support/cli.js';
import { tmpDir } from '../support/tmp.js';

const DAY = 24 * HOUR;

beforeAll(() => ensureTestBucket());

function lambdaContext(remainingMs = 600_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'closer-audit-test-ingest',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-central-1:123456789012:function:closer-audit-test-ingest',
    memoryLimitInMB: '1024',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/closer-audit-test-ingest',
    logStreamName: '2026/11/26/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const scheduledEvent = () => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: new Date().toISOString().slice(0, 19) + 'Z',
  region: 'eu-central-1',
  resources: ['arn:aws:events:eu-central-1:123456789012:rule/closer-audit-test-IngestEventsRuleSchedule1'],
  detail: {},
});

describe('S3 storage against a real S3-compatible server', () => {
  it('streams a multipart object that appears only on commit, and aborts without a trace', async () => {
    const storage = testS3Storage(uniquePrefix('multipart'), { partSize: 5 * 1024 * 1024 });
    const chunk = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
    const sink = await storage.openWrite('events/dt=2026-01-01/day.parquet');
    for (let i = 0; i < 12; i++) await sink.write(chunk);
    expect(await storage.get('events/dt=2026-01-01/day.parquet')).toBeNull();
    await sink.commit();
    const object = await storage.openRead('events/dt=2026-01-01/day.parquet');
    expect(object?.size).toBe(12 * 1024 * 1024);
    const tail = new Uint8Array((await object?.read(12 * 1024 * 1024 - 10, 12 * 1024 * 1024)) as ArrayBuffer);
    expect([...tail]).toEqual([...chunk.slice(-10)]);

    const aborted = await storage.openWrite('events/dt=2026-01-02/day.parquet');
    for (let i = 0; i < 7; i++) await aborted.write(chunk);
    await aborted.abort();
    expect(await storage.get('events/dt=2026-01-02/day.parquet')).toBeNull();
  });

  it('lists across pages in key order', async () => {
    const storage = testS3Storage(uniquePrefix('list'));
    const keys = Array.from({ length: 1_050 }, (_, i) => `quarantine/k${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) {
      await Promise.all(keys.slice(i, i + 50).map((k) => storage.put(k, 'x')));
    }
    const listed: string[] = [];
    for await (const o of storage.list('quarantine/')) listed.push(o.key);
    expect(listed).toEqual(keys);
  });

  it('advances the checkpoint only from the version it read (conditional writes)', async () => {
    const storage = testS3Storage(uniquePrefix('cas'));
    const v1 = await storage.putIfVersion('state/sync-x.json', '{"n":1}', null);
    await expect(storage.putIfVersion('state/sync-x.json', '{"n":2}', null)).rejects.toBeInstanceOf(
      ConcurrentUpdateError,
    );
    const v2 = await storage.putIfVersion('state/sync-x.json', '{"n":3}', v1);
    await expect(storage.putIfVersion('state/sync-x.json', '{"n":4}', v1)).rejects.toThrow(
      'changed by another run',
    );
    expect(Buffer.from((await storage.getVersioned('state/sync-x.json'))?.body ?? []).toString()).toBe(
      '{"n":3}',
    );
    expect((await storage.getVersioned('state/sync-x.json'))?.version).toBe(v2);
  });

  it('closer-audit sync --out s3:// writes exactly what it writes to a folder', async () => {
    const prefix = uniquePrefix('cli');
    const range = [
      '--from',
      '2026-10-01',
      '--to',
      '2026-10-03T06:00Z',
      '--format',
      'both',
      '--source',
      'sample',
    ];
    const toS3 = await cli(['sync', '--out', `s3://${TEST_BUCKET}/${prefix}`, ...range], s3Env());
    expect(toS3.stderr).toBe('');
    expect(toS3.code).toBe(0);
    const local = await tmpDir('cli-local');
    expect((await cli(['sync', '--out', local, ...range], {})).code).toBe(0);
    const mirror = await tmpDir('cli-mirror');
    const keys = await mirrorToFolder(testS3Storage(prefix), mirror);
    expect(keys.filter((k) => !k.startsWith('state/')).sort()).toEqual(
      (await listKeys(local)).filter((k) => !k.startsWith('state/')),
    );
    expect(await storedRows(mirror)).toEqual(await storedRows(local));
  });
});

describe('the ingest Lambda handler', () => {
  let es: Client;
  let index: string;
  const days = 4;
  let loaded = 0;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    es = testClient();
    index = uniqueIndex('closer-lambda');
    await createCloserLikeIndex(es, index);
    // Whole days well before now: every run, whenever it runs, sees them sealed alike.
    const end = Math.floor(Date.now() / DAY) * DAY - DAY;
    const hits = [...distribute(3_000, end - days * DAY, end)].flatMap(([h, c]) =>
      generateHour(h, c, { seed: 'lambda' }),
    );
    loaded = await loadHits(es, index, hits);
  }, 120_000);

  afterAll(async () => {
    process.env = savedEnv;
    await es.indices.delete({ index }).catch(() => undefined);
    await es.close();
  });

  function lambdaEnv(prefix: string, endpoint?: string) {
    process.env = {
      ...savedEnv,
      ...s3Env(endpoint),
      CLOSER_OUT: `s3://${TEST_BUCKET}/${prefix}`,
      CLOSER_ES_URL: esUrl(),
      CLOSER_ES_INDEX: index,
      POWERTOOLS_METRICS_NAMESPACE: 'CloserAudit',
      POWERTOOLS_LOG_LEVEL: 'WARN',
    };
  }

  it('a scheduled invocation writes the same keys and rows as the CLI into a folder', async () => {
    const prefix = uniquePrefix('lambda');
    lambdaEnv(prefix);
    const result = await handler(scheduledEvent(), lambdaContext());
    expect(result).toMatchObject({ status: 'done', eventsRead: loaded, rowsWritten: loaded });

    const local = await tmpDir('lambda-cli');
    const run = await cli(['sync', '--source', 'es', '--out', local], {
      CLOSER_ES_URL: esUrl(),
      CLOSER_ES_INDEX: index,
    });
    expect(run.code).toBe(0);
    const mirror = await tmpDir('lambda-mirror');
    const keys = await mirrorToFolder(testS3Storage(prefix), mirror, 'events/');
    expect(keys.sort()).toEqual(await listKeys(local, 'events'));
    expect(keys.length).toBeGreaterThanOrEqual(days);
    expect(await storedRows(mirror)).toEqual(await storedRows(local));
  });

  it('two runs started at once: exactly one advances the checkpoint, the data is whole', async () => {
    const prefix = uniquePrefix('race');
    lambdaEnv(prefix);
    const results = await Promise.all([
      handler(scheduledEvent(), lambdaContext()),
      handler(scheduledEvent(), lambdaContext()),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual(['done', 'lost-race']);
    const mirror = await tmpDir('race-mirror');
    await mirrorToFolder(testS3Storage(prefix), mirror);
    const rows = await storedRows(mirror);
    expect(rows).toHaveLength(loaded);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(loaded);
  });

  it('a manual {from, to} invocation backfills that range, resumably', async () => {
    const prefix = uniquePrefix('backfill');
    lambdaEnv(prefix);
    const end = Math.floor(Date.now() / DAY) * DAY - DAY;
    const from = new Date(end - 2 * DAY).toISOString();
    const to = new Date(end).toISOString();
    const result = await handler({ from, to }, lambdaContext());
    expect(result.status).toBe('done');
    const storage = testS3Storage(prefix);
    const keys: string[] = [];
    for await (const o of storage.list('')) keys.push(o.key);
    expect(keys.filter((k) => k.startsWith('state/'))).toEqual([
      expect.stringMatching(/^state\/backfill-es-closer-lambda-.*\.json$/),
      'state/lease.json',
    ]);
    expect(keys.filter((k) => k.endsWith('/day.parquet'))).toHaveLength(2);
    const mirror = await tmpDir('backfill-mirror');
    await mirrorToFolder(storage, mirror);
    const rows = await storedRows(mirror);
    expect(rows.length).toBe(result.rowsWritten);
    for (const r of rows)
      expect(Date.parse(String(r.ts)) >= Date.parse(from) && Date.parse(String(r.ts)) < Date.parse(to)).toBe(
        true,
      );
  });

  it('stops cleanly before the time limit and continues on the next run', async () => {
    const prefix = uniquePrefix('deadline');
    lambdaEnv(prefix);
    process.env.CLOSER_STOP_MARGIN_SECONDS = '60';
    const first = await handler(scheduledEvent(), lambdaContext(30_000));
    expect(first.status).toBe('stopped-early');
    expect(first.rowsWritten).toBe(0);
    const second = await handler(scheduledEvent(), lambdaContext());
    expect(second).toMatchObject({ status: 'done', rowsWritten: loaded });
  });
});

describe('S3 faults (injected by a proxy: a real server will not fail on demand)', () => {
  it('retries SlowDown and connection resets; the result is whole', async () => {
    let n = 0;
    const proxy = await startProxy(s3Url(), (req) => {
      if (req.method !== 'PUT' && req.method !== 'POST') return null;
      n++;
      if (n % 4 === 0) return 'reset';
      if (n % 4 === 2) {
        return {
          status: 503,
          contentType: 'application/xml',
          body: '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        };
      }
      return null;
    });
    try {
      const prefix = uniquePrefix('slowdown');
      const storage = testS3Storage(prefix, { maxAttempts: 6 }, proxy.url);
      const now = Date.UTC(2026, 9, 10);
      const summary = await runSync(ingestContext('', new SampleSource(), { storage, now: () => now }), {
        from: Date.UTC(2026, 9, 5),
        to: Date.UTC(2026, 9, 6, 6),
      });
      expect(n).toBeGreaterThan(8);
      const mirror = await tmpDir('slowdown-mirror');
      await mirrorToFolder(testS3Storage(prefix), mirror);
      expect(await storedRows(mirror)).toHaveLength(summary.rowsWritten);
    } finally {
      await proxy.close();
    }
  });

  it('a failure that outlasts the retries fails the run with nothing half-visible and the checkpoint behind the data', async () => {
    const prefix = uniquePrefix('outage');
    // Every write of the hour 03 object fails, however often it is retried.
    const proxy = await startProxy(s3Url(), (req) =>
      req.method === 'PUT' && req.url?.includes('/h03.parquet')
        ? { status: 500, contentType: 'application/xml', body: '<Error><Code>InternalError</Code></Error>' }
        : null,
    );
    try {
      const storage = testS3Storage(prefix, { maxAttempts: 3 }, proxy.url);
      const day = Date.UTC(2026, 10, 20);
      const now = day + 6 * HOUR;
      await expect(
        runSync(ingestContext('', new SampleSource(), { storage, now: () => now, lookbackMs: HOUR }), {
          initialLookbackMs: 6 * HOUR,
        }),
      ).rejects.toThrow();
      const direct = testS3Storage(prefix);
      const keys: string[] = [];
      for await (const o of direct.list('')) keys.push(o.key);
      expect(keys).toContain(`events/dt=2026-11-20/h02.parquet`);
      expect(keys).not.toContain(`events/dt=2026-11-20/h03.parquet`);
      expect(keys.filter((k) => /h0[4-5]\.parquet$/.test(k))).toEqual([]);
      // No checkpoint was written past hour 03 (the first chunk never completed).
      const state = await direct.get('state/sync-sample.json');
      if (state) {
        const sealed = JSON.parse(Buffer.from(state).toString()).sealedThrough;
        expect(sealed === undefined || Date.parse(sealed) <= day + 3 * HOUR).toBe(true);
      }
      // With the outage over, the next run completes what is missing.
      const healed = await runSync(
        ingestContext('', new SampleSource(), { storage: direct, now: () => now, lookbackMs: HOUR }),
        {
          initialLookbackMs: 6 * HOUR,
        },
      );
      expect(healed.stoppedEarly).toBe(false);
      const after: string[] = [];
      for await (const o of direct.list('events/')) after.push(o.key);
      expect(after).toContain('events/dt=2026-11-20/h03.parquet');
    } finally {
      await proxy.close();
    }
  });
});

function s3Url(): string {
  return s3Env().CLOSER_S3_ENDPOINT as string;
}
