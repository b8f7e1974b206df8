// GET /status (issue 15): what `closer-audit serve` answers over a synced folder, and what the query
// Lambda answers from the bucket (the real S3 test server), both checked against the contract.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runSync } from '../../functions/ingest/sync.js';
import { build } from '../../functions/lambda/query/handler.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { generateHour } from '../../functions/sample/generator.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { StatusSchema, type Status } from '../../shared/status/status.js';
import { ROOT, cli } from '../support/cli.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import {
  TEST_BUCKET,
  ensureTestBucket,
  mirrorToFolder,
  s3Env,
  testS3Storage,
  uniquePrefix,
} from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

const DAY0 = Date.UTC(2026, 9, 5);
/** Events over 36 hours: all of 5 October, half of 6 October. */
const HOURS = 36;
const PER_HOUR = 7;
const NOW = DAY0 + 40 * HOUR;
const TOKEN = 'status-test-token-0123456789';
const iso = (ms: number) => new Date(ms).toISOString();

/** The export: good hits, one that cannot be normalised (5 Oct 02:10) and two with no usable time. */
async function writeExport(dir: string): Promise<string> {
  const lines: string[] = [];
  for (let h = 0; h < HOURS; h++)
    for (const hit of generateHour(DAY0 + h * HOUR, PER_HOUR)) lines.push(JSON.stringify(hit));
  lines.push(
    JSON.stringify({
      _index: 'closer',
      _id: 'two-actions',
      _source: {
        '@timestamp': '2026-10-05T02:10:00.000+0000',
        message: { 'event.action': ['agent_login', 'agent_logout'] },
      },
    }),
    JSON.stringify({
      _index: 'closer',
      _id: 'no-time',
      _source: { message: { 'event.action': 'agent_login' } },
    }),
    'not json at all',
  );
  const file = path.join(dir, 'export.ndjson');
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}

function expectSynced(status: Status) {
  expect(StatusSchema.parse(status)).toEqual(status);
  expect(status.sealedThrough).toBe(iso(DAY0 + HOURS * HOUR));
  expect(status.syncedThrough).toBe(iso(DAY0 + HOURS * HOUR));
  expect(status.lastRunAt).not.toBeNull();
  // Measured to the API's clock (now): the data ends 36 h after DAY0.
  expect(status.freshnessLagSeconds).toBe(
    Math.round((Date.parse(status.now) - (DAY0 + HOURS * HOUR)) / 1000),
  );
  expect(status.range).toEqual({ from: iso(DAY0 - 24 * HOUR), to: iso(DAY0 + 48 * HOUR) });
  expect(status.days).toEqual([
    { day: '2026-10-04', rows: 0, quarantined: 0 },
    { day: '2026-10-05', rows: 24 * PER_HOUR, quarantined: 1 },
    { day: '2026-10-06', rows: 12 * PER_HOUR, quarantined: 0 },
  ]);
  expect(status.quarantinedUndated).toBe(2);
}

describe('GET /status from closer-audit serve over a synced folder', () => {
  let dir: string;
  let file: string;
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = await tmpDir('status-serve');
    file = await writeExport(await tmpDir('status-export'));
    const summary = await runSync(ingestContext(dir, new FileSource(file), { now: () => NOW }));
    expect(summary.quarantined).toBe(3);
    child = spawn(
      process.execPath,
      [path.join(ROOT, 'functions/cli/bin.js'), 'serve', '--port', '0', '--data', dir],
      {
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOSER_'))),
          CLOSER_API_TOKEN: TOKEN,
        },
      },
    );
    url = await new Promise<string>((resolve, reject) => {
      let stderr = '';
      const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), 60_000);
      child.stderr?.on('data', (d) => {
        stderr += d;
        const m = /query API on (http:\/\/\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await fs.rm(dir, { recursive: true, force: true });
  });

  const get = (query: string, token: string | null = TOKEN) =>
    fetch(`${url}/status${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const range = `?from=${encodeURIComponent('2026-10-04T10:00:00Z')}&to=${DAY0 + 47 * HOUR}`;

  it('wants the token', async () => {
    expect((await get(range, null)).status).toBe(401);
    expect((await get(range, 'not-the-token-at-all')).status).toBe(401);
  });

  it('answers sealed through, freshness and rows and quarantined per day of the range (whole days)', async () => {
    const res = await get(range);
    expect(res.status).toBe(200);
    const status = (await res.json()) as Status;
    expectSynced(status);
    expect(status.lastVerify).toBeNull();
  }, 60_000);

  it('shows the last verify once one ran', async () => {
    const from = iso(DAY0);
    const to = iso(DAY0 + HOURS * HOUR);
    const verified = await cli([
      'verify',
      '--source',
      `file:${file}`,
      '--out',
      dir,
      '--from',
      from,
      '--to',
      to,
    ]);
    expect(verified.stdout).toContain('every hour matches');
    expect(verified.code).toBe(0);
    const status = (await (await get(range)).json()) as Status;
    expect(status.lastVerify).toMatchObject({ kind: 'source', ok: true, from, to });
    expect(Date.now() - Date.parse(status.lastVerify?.at as string)).toBeLessThan(120_000);
    // A range with no data on either side is no success: recorded as failed.
    const empty = await cli([
      'verify',
      '--source',
      `file:${file}`,
      '--out',
      dir,
      '--from',
      '2026-01-01T00:00:00Z',
      '--to',
      '2026-01-02T00:00:00Z',
    ]);
    expect(empty.code).toBe(1);
    const after = (await (await get(range)).json()) as Status;
    expect(after.lastVerify).toMatchObject({ kind: 'source', ok: false, from: '2026-01-01T00:00:00.000Z' });
    // A target no sync wrote (a mistyped --out) gets no folder made for the record.
    const elsewhere = path.join(await tmpDir('status-verify-elsewhere'), 'typo');
    const typo = await cli([
      'verify',
      '--source',
      `file:${file}`,
      '--out',
      elsewhere,
      '--from',
      from,
      '--to',
      to,
    ]);
    expect(typo.code).toBe(1);
    await expect(fs.stat(elsewhere)).rejects.toThrow('ENOENT');
  }, 120_000);

  it('refuses a range it cannot read, in one line naming the parameter', async () => {
    for (const [query, field] of [
      ['?from=yesterday', 'from'],
      ['?to=2026-13-45', 'to'],
      [`?from=${DAY0}&to=${DAY0 - 1}`, 'from'],
      ['?from=0&to=9999999999999', 'from'],
    ] as const) {
      const res = await get(query);
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: string; field: string };
      expect(body.field).toBe(field);
      expect(body.error.startsWith(`${field}: `)).toBe(true);
      expect(body.error).not.toContain('\n');
    }
    const post = await fetch(`${url}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(post.status).toBe(405);
  });
});

describe('GET /status from the query Lambda, over the bucket', () => {
  let prefix: string;
  let mirror: string;
  let engine: DuckDbEngine;

  beforeAll(async () => {
    await ensureTestBucket();
    prefix = uniquePrefix('status');
    const storage = testS3Storage(prefix);
    const file = await writeExport(await tmpDir('status-s3-export'));
    await runSync({ ...ingestContext('', new FileSource(file), { now: () => NOW }), storage });
    // Athena cannot run here (no AWS account): DuckDB counts the rows, over a copy of the bucket.
    mirror = await tmpDir('status-s3-mirror');
    await mirrorToFolder(storage, mirror, 'events/');
    engine = await DuckDbEngine.open(mirror);
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    if (mirror) await fs.rm(mirror, { recursive: true, force: true });
  });

  it('reads the checkpoint and the quarantine from S3 (CLOSER_OUT) and answers like serve', async () => {
    const env = { ...process.env, ...s3Env(), CLOSER_OUT: `s3://${TEST_BUCKET}/${prefix}` };
    const api = build(env, { engine, token: async () => TOKEN });
    const res = await api({
      method: 'GET',
      path: `/prod/status?from=2026-10-04T10:00:00Z&to=${DAY0 + 47 * HOUR}`,
      headers: { authorization: `Bearer ${TOKEN}` },
      body: null,
    });
    expect(res.status).toBe(200);
    const status = JSON.parse(res.body) as Status;
    expectSynced(status);
    expect(status.lastVerify).toBeNull();
    // No bucket named: a one-line configuration error, before any request.
    expect(() => build({ ...env, CLOSER_OUT: '/tmp/folder' }, { engine })).toThrow(
      'CLOSER_OUT /tmp/folder: expected s3://bucket/prefix',
    );
  }, 60_000);
});
