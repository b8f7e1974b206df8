import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { LEASE_KEY } from '../../functions/ingest/lease.js';
import { MANIFEST_HEAD_KEY, MANIFEST_INTENT_KEY, manifestKey } from '../../shared/layout/layout.js';
import { runSync } from '../../functions/ingest/sync.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { verifyIntegrity } from '../../functions/integrity/verify-integrity.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type {
  ObjectInfo,
  ObjectSink,
  RandomAccessObject,
  Storage,
  Versioned,
} from '../../functions/storage/storage.js';
import { parseManifest } from '../../shared/storage/manifest.js';
import { VERIFY_RESULT_KEY, parseVerifyRecord } from '../../shared/status/verify-result.js';
import { cli } from '../support/cli.js';
import { duckdb } from '../support/duckdb.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { TEST_BUCKET, ensureTestBucket, s3Env, testS3Storage, uniquePrefix } from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

// 30 hours back from 14:30: the first day's hours are sealed and folded into its day object
// (compaction), the second day's are hour objects; Parquet and NDJSON both.
const NOW = Date.UTC(2026, 10, 20, 14, 30);
const source = (now: number) => new SampleSource({ perHour: () => 6, seed: 'integrity', now: () => now });
const context = (storage: Storage, now: number) => ({
  ...ingestContext('', source(now), { now: () => now, formats: ['parquet', 'ndjson'] }),
  storage,
});
const sync = (storage: Storage, now = NOW) =>
  runSync(context(storage, now), { initialLookbackMs: 30 * HOUR - (NOW - now) });
/** The run before: 10 hours of the first day, hour objects, a checkpoint. */
const EARLIER = NOW - 20 * HOUR;

/** Every event id stored, Parquet and NDJSON, as DuckDB (an independent reader) sees them. */
async function storedIds(dir: string): Promise<{ parquet: string[]; ndjson: string[] }> {
  const db = await duckdb();
  try {
    const ids = async (from: string) =>
      (await db.rows(`SELECT event_id FROM ${from} ORDER BY event_id`)).map((r) => String(r.event_id));
    return {
      parquet: await ids(`read_parquet('${path.join(dir, 'events')}/*/*.parquet')`),
      ndjson: await ids(
        `read_json('${path.join(dir, 'events-ndjson')}/*/*.ndjson.gz', format = 'newline_delimited')`,
      ),
    };
  } finally {
    db.close();
  }
}

async function tamper(
  storage: Storage,
): Promise<{ changed: string; vanished: string; stray: string; edited: string }> {
  const keys: string[] = [];
  for await (const o of storage.list('events/')) keys.push(o.key);
  const changed = keys.find((k) => k.endsWith('/day.parquet')) as string;
  const vanished = keys.find((k) => /\/h1[0-4]\.parquet$/.test(k)) as string;
  expect(changed).toBeDefined();
  expect(vanished).toBeDefined();
  const body = Buffer.from((await storage.get(changed)) as Uint8Array);
  const at = Math.floor(body.length / 2);
  body[at] = (body[at] as number) ^ 0xff; // one byte in the middle: same size, other hash
  await storage.put(changed, body);
  await storage.delete(vanished);
  const stray = changed.replace('day.parquet', 'extra.parquet');
  await storage.put(stray, body);
  // A manifest edited in place: its successor's link no longer holds.
  const edited = manifestKey(2);
  const manifest = parseManifest((await storage.get(edited)) as Uint8Array);
  (manifest.entries[0] as { rows: number | null }).rows = 999_999;
  await storage.put(edited, JSON.stringify(manifest, null, 1) + '\n');
  return { changed, vanished, stray, edited };
}

async function checkStore(storage: Storage, cliTarget: string, env: Record<string, string>) {
  await sync(storage);
  const clean = await verifyIntegrity(storage);
  expect(clean.problems).toEqual([]);
  expect(clean.manifestsChecked).toBeGreaterThan(2);
  expect(clean.objectsChecked).toBeGreaterThan(20);
  expect(clean.bytesChecked).toBeGreaterThan(10_000);
  const ok = await cli(['verify', '--integrity', '--out', cliTarget], env);
  expect(ok.stderr).toBe('');
  expect(ok.code).toBe(0);
  expect(ok.stdout).toMatch(/objects checked +\d+/);
  expect(ok.stdout).toMatch(/bytes checked +[\d,]+/);
  expect(ok.stdout).toMatch(/time taken +[\d,]+ ms/);
  expect(ok.stdout).toContain('every object matches its manifest entry');

  const t = await tamper(storage);
  const report = await verifyIntegrity(storage);
  expect(report.problems.map((p) => [p.kind, p.key])).toEqual([
    ['chain', manifestKey(3)],
    ['changed', t.changed],
    ['vanished', t.vanished],
    ['unlisted', t.stray],
  ]);
  expect(report.problems[0]?.detail).toContain(t.edited);
  const bad = await cli(['verify', '--integrity', '--out', cliTarget], env);
  expect(bad.code).toBe(1);
  for (const key of [t.changed, t.vanished, t.stray, t.edited]) expect(bad.stdout).toContain(key);
  expect(bad.stdout).toContain('4 problem(s)');
  const recorded = parseVerifyRecord(await storage.get(VERIFY_RESULT_KEY));
  expect(recorded?.last).toMatchObject({
    kind: 'integrity',
    ok: false,
    changed: 1,
    vanished: 1,
    unlisted: 1,
    chainBreaks: 1,
  });
  expect(recorded?.integrity?.ok).toBe(false);
}

describe('verify --integrity', () => {
  it('on a local folder: an untouched store passes; a changed, a deleted, a stray object and an edited manifest are each named', async () => {
    const dir = await tmpDir('integrity');
    await checkStore(new LocalFolderStorage(dir), dir, {});
  });

  describe('on S3', () => {
    beforeAll(() => ensureTestBucket());

    it('the same, on the real S3 test server', async () => {
      const prefix = uniquePrefix('integrity');
      await checkStore(testS3Storage(prefix), `s3://${TEST_BUCKET}/${prefix}`, s3Env());
    });
  });

  it('limits the objects hashed to --from/--to, and still checks the whole chain', async () => {
    const dir = await tmpDir('integrity-range');
    const storage = new LocalFolderStorage(dir);
    await sync(storage);
    const all = await verifyIntegrity(storage);
    const day = await verifyIntegrity(storage, { from: Date.UTC(2026, 10, 20), to: Date.UTC(2026, 10, 21) });
    expect(day.manifestsChecked).toBe(all.manifestsChecked);
    expect(day.objectsChecked).toBeGreaterThan(0);
    expect(day.objectsChecked).toBeLessThan(all.objectsChecked);
    const res = await cli([
      'verify',
      '--integrity',
      '--out',
      dir,
      '--from',
      '2026-11-19',
      '--to',
      '2026-11-20',
    ]);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('2026-11-19 → 2026-11-19');
    const usage = await cli(['verify', '--integrity', '--source', 'sample', '--out', dir]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--integrity');
  });

  it('compaction records the day object and supersedes its hour objects instead of losing them', async () => {
    const dir = await tmpDir('integrity-compaction');
    const storage = new LocalFolderStorage(dir);
    await sync(storage);
    const manifests = [];
    for await (const o of storage.list('manifests/0'))
      manifests.push(parseManifest((await storage.get(o.key)) as Uint8Array));
    const day = manifests.flatMap((m) => m.entries).find((e) => e.key === 'events/dt=2026-11-19/day.parquet');
    expect(day?.supersedes?.length).toBe(16); // 08:00 → 24:00
    expect(day?.rows).toBe(16 * 6);
    expect(day?.minTs?.startsWith('2026-11-19T08:')).toBe(true);
    expect(day?.quarantined).toBe(0);
    const hour = manifests
      .flatMap((m) => m.entries)
      .find((e) => e.key === 'events/dt=2026-11-20/h05.parquet');
    expect(hour).toMatchObject({ rows: 6, quarantined: 0, sourceCount: 6 });
    // Each manifest carries the hash of the one before.
    expect(manifests[0]?.previous).toBeNull();
    expect(manifests.slice(1).every((m) => /^[0-9a-f]{64}$/.test(m.previous ?? ''))).toBe(true);
    expect(await storage.get(MANIFEST_HEAD_KEY)).not.toBeNull();
    expect(await storage.get(MANIFEST_INTENT_KEY)).toBeNull();
  });
});

describe('the DuckDB engine reads exactly the objects the manifests list', () => {
  it('gives the same counts before, in the middle of and after a compaction', async () => {
    const dir = await tmpDir('integrity-duckdb');
    const storage = new LocalFolderStorage(dir);
    await sync(storage, EARLIER); // 2026-11-19 as hour objects, not sealed yet
    const engine = await DuckDbEngine.open(dir);
    const range = { from: Date.UTC(2026, 10, 19), to: Date.UTC(2026, 10, 21) };
    // Counted over hours complete before either run (to 18:00), so every count below must be the same.
    const count = async () => {
      const table = await engine.tableFor(range);
      const res = await engine.run(
        `SELECT count(*) FROM ${table} WHERE ts < TIMESTAMPTZ '2026-11-19 18:00:00+00'`,
        [],
      );
      return Number(res.rows[0]?.[0]);
    };
    const naive = async () => {
      const db = await duckdb();
      try {
        const rows = await db.rows(
          `SELECT count(*) AS n FROM read_parquet('${path.join(dir, 'events')}/*/*.parquet') WHERE ts < TIMESTAMPTZ '2026-11-19 18:00:00+00'`,
        );
        return Number(rows[0]?.n);
      } finally {
        db.close();
      }
    };
    try {
      const before = await count();
      expect(before).toBeGreaterThanOrEqual(10 * 6);
      const during: number[] = [];
      const hoursAside = await tmpDir('integrity-hours');
      const ctx = context(storage, NOW);
      ctx.pause = async (step, dt) => {
        if (dt !== '2026-11-19' || step !== 'fold-written') return;
        const names = await fs.readdir(path.join(dir, 'events', 'dt=2026-11-19'));
        if (!names.some((n) => /^h\d\d\.parquet$/.test(n))) return; // the NDJSON copy's turn
        // The day object is written, the hour objects are still there: a glob counts hours twice.
        // Twice: the fold at the start of the run, then again with the hours it re-read.
        expect(await naive()).toBeGreaterThan(before);
        during.push(await count());
        if (during.length === 2)
          await fs.cp(path.join(dir, 'events', 'dt=2026-11-19'), hoursAside, { recursive: true });
      };
      await runSync(ctx, { initialLookbackMs: 30 * HOUR });
      expect(during).toEqual([before, before]);
      expect(await count()).toBe(before);
      // Listed as superseded yet still there (a run stopped before its deletes): still read once.
      for (const name of await fs.readdir(hoursAside))
        if (/^h\d\d\.parquet$/.test(name))
          await fs.copyFile(path.join(hoursAside, name), path.join(dir, 'events', 'dt=2026-11-19', name));
      expect(await naive()).toBeGreaterThan(before);
      expect(await count()).toBe(before);
      const report = await verifyIntegrity(storage);
      expect(report.problems).toEqual([]);
      expect(report.supersededPresent).toBeGreaterThan(5);
    } finally {
      await engine.close();
    }
  }, 120_000);
});

/**
 * Storage that fails at the n-th write (and every write after it, as a process that died would
 * write nothing more). A real server cannot be made to fail at a chosen step on demand, so this is
 * a wrapper; the lease is left alone so the next run can start at once instead of waiting out its TTL.
 */
class CrashingStorage implements Storage {
  readonly location: string;
  readonly steps: string[] = [];
  private dead = false;

  constructor(
    private readonly inner: Storage,
    private readonly failAt = Infinity,
  ) {
    this.location = inner.location;
  }

  private step(what: string, key: string): void {
    if (key === LEASE_KEY) return;
    if (this.dead || this.steps.length + 1 >= this.failAt) {
      this.dead = true;
      throw new Error(`crash before ${what} ${key}`);
    }
    this.steps.push(`${what} ${key}`);
  }

  async openWrite(key: string): Promise<ObjectSink> {
    const sink = await this.inner.openWrite(key);
    return {
      write: (chunk) => sink.write(chunk),
      commit: async () => {
        try {
          this.step('commit', key);
        } catch (err) {
          await sink.abort();
          throw err;
        }
        await sink.commit();
      },
      abort: () => sink.abort(),
    };
  }
  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.step('put', key);
    await this.inner.put(key, body);
  }
  get(key: string): Promise<Uint8Array | null> {
    return this.inner.get(key);
  }
  openRead(key: string): Promise<RandomAccessObject | null> {
    return this.inner.openRead(key);
  }
  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }
  async delete(key: string): Promise<void> {
    this.step('delete', key);
    await this.inner.delete(key);
  }
  getVersioned(key: string): Promise<Versioned | null> {
    return this.inner.getVersioned(key);
  }
  async putIfVersion(key: string, body: Uint8Array | string, expected: string | null): Promise<string> {
    this.step('put', key);
    return this.inner.putIfVersion(key, body, expected);
  }
}

/** A step's kind: what is written where, without the hour or day. */
function kindOf(step: string): string {
  return step
    .replace(/\d{12}\.json$/, 'N.json')
    .replace(/dt=[\d-]+\//, '')
    .replace(/h\d\d\./, 'hour.');
}

describe('a crash at any step of a run converges on the next run', () => {
  it('data, then manifest, then checkpoint: the next run leaves an intact store with every event once', async () => {
    const refDir = await tmpDir('integrity-ref');
    await sync(new LocalFolderStorage(refDir), EARLIER);
    const ref = new CrashingStorage(new LocalFolderStorage(refDir));
    await sync(ref);
    const expected = await storedIds(refDir);
    expect(expected.parquet.length).toBeGreaterThanOrEqual(30 * 6);
    expect(expected.ndjson).toEqual(expected.parquet);
    // Each kind of step once (its first occurrence), and the manifest right after the day object.
    const points = new Map<string, number>();
    ref.steps.forEach((s, i) => {
      if (!points.has(kindOf(s))) points.set(kindOf(s), i + 1);
    });
    const dayCommit = ref.steps.findIndex((s) => s.includes('/day.parquet'));
    const manifestAfterDay = ref.steps.findIndex((s, i) => i > dayCommit && s.startsWith('put manifests/0'));
    points.set('manifest after the day object', manifestAfterDay + 1);
    expect([...points.keys()]).toEqual(
      expect.arrayContaining([
        'put state/manifest-intent.json',
        'commit events/hour.parquet',
        'commit events/day.parquet',
        'put manifests/N.json',
        'put manifests/HEAD.json',
        'put state/sync-sample.json',
        'delete events/hour.parquet',
      ]),
    );
    const crashFindings = new Map<string, string>();
    for (const [kind, failAt] of points) {
      const dir = await tmpDir('integrity-crash');
      await sync(new LocalFolderStorage(dir), EARLIER);
      const crashing = new CrashingStorage(new LocalFolderStorage(dir), failAt);
      await expect(sync(crashing)).rejects.toThrow(/crash before/);
      const storage = new LocalFolderStorage(dir);
      const after = await verifyIntegrity(storage);
      crashFindings.set(kind, after.problems.map((p) => p.kind).join(','));
      await sync(storage);
      const report = await verifyIntegrity(storage);
      expect({ kind, problems: report.problems }).toEqual({ kind, problems: [] });
      expect({ kind, ids: await storedIds(dir) }).toEqual({ kind, ids: expected });
      await expect(fs.access(path.join(dir, MANIFEST_INTENT_KEY))).rejects.toThrow();
    }
    // The crashes did leave the store unfinished: objects committed that no manifest listed yet.
    expect(crashFindings.get('put manifests/N.json')).toContain('unlisted');
    expect(crashFindings.get('manifest after the day object')).toMatch(/changed|unlisted/);
  }, 300_000);
});
