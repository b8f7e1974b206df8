import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { compactDay, type PauseStep } from '../../functions/ingest/compaction.js';
import { LEASE_KEY, LeaseLostError, TargetBusyError } from '../../functions/ingest/lease.js';
import { runSync, type IngestContext } from '../../functions/ingest/sync.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type { Storage } from '../../functions/storage/storage.js';
import { duckdb, eventsGlob } from '../support/duckdb.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { cli } from '../support/cli.js';
import {
  TEST_BUCKET,
  ensureTestBucket,
  mirrorToFolder,
  s3Env,
  testS3Storage,
  uniquePrefix,
} from '../support/s3.js';
import { tmpDir } from '../support/tmp.js';

// Three days of a generated feed; the base run leaves day 2 partly in hour objects, the runs under
// test seal it and fold its hours into day.parquet: the steps where overlapping runs used to lose
// or duplicate rows.
const DAY0 = Date.UTC(2026, 9, 5);
const PER_HOUR = 40;
const BASE_NOW = DAY0 + 30 * HOUR;
const NOW = DAY0 + 52 * HOUR;
const FOLDED_DAY = '2026-10-06';
const source = () => new SampleSource({ perHour: () => PER_HOUR });
/** The first run of a target starts at DAY0 (later ones continue from the checkpoint). */
const FIRST = { initialLookbackMs: BASE_NOW - DAY0 };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function expectedIds(to = NOW): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of source().pages({ from: DAY0, to }))
    for (const h of page) ids.push(String(h.hit._id));
  return ids.sort();
}

interface Target {
  name: string;
  storage: () => Promise<Storage>;
  /** A folder DuckDB can read holding what the target holds. */
  folder: (storage: Storage) => Promise<string>;
}

const folderTarget: Target = {
  name: 'folder',
  storage: async () => new LocalFolderStorage(await tmpDir('overlap')),
  folder: async (storage) => storage.location.replace(/^local folder /, ''),
};
const s3Target: Target = {
  name: 'S3',
  storage: async () => testS3Storage(uniquePrefix('overlap')),
  folder: async (storage) => {
    const dir = await tmpDir('overlap-mirror');
    await mirrorToFolder(storage, dir);
    return dir;
  },
};

function ctx(storage: Storage, extra: Partial<IngestContext> = {}): IngestContext {
  return { ...ingestContext('/unused', source(), { now: () => NOW }), storage, ...extra };
}

/** Rows stored per event id: every expected id exactly once, nothing else. */
async function audit(
  target: Target,
  storage: Storage,
): Promise<{ lost: number; duplicated: number; extra: number }> {
  const dir = await target.folder(storage);
  const db = await duckdb();
  try {
    const rows = await db.rows(`SELECT event_id, count(*)::INTEGER AS n FROM ${eventsGlob(dir)} GROUP BY 1`);
    const stored = new Map(rows.map((r) => [String(r.event_id), Number(r.n)]));
    const expected = await expectedIds(NOW);
    return {
      lost: expected.filter((id) => !stored.has(id)).length,
      duplicated: [...stored.values()].reduce((sum, n) => sum + n - 1, 0),
      extra: [...stored.keys()].filter((id) => !expected.includes(id)).length,
    };
  } finally {
    db.close();
  }
}

async function keysOf(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) keys.push(o.key);
  return keys;
}

const STEPS: PauseStep[] = ['fold-listed', 'fold-written', 'hours-deleted', 'checkpoint'];

describe.each([folderTarget, s3Target])('overlapping runs on the $name', (target) => {
  beforeAll(() => (target === s3Target ? ensureTestBucket() : undefined));

  async function baseTarget(): Promise<Storage> {
    const storage = await target.storage();
    await runSync(ctx(storage, { now: () => BASE_NOW }), FIRST);
    // Day 2 is open: it is kept in hour objects.
    expect((await keysOf(storage, `events/dt=${FOLDED_DAY}/`)).some((k) => /\/h\d\d\.parquet$/.test(k))).toBe(
      true,
    );
    return storage;
  }

  it.each(STEPS)('a run paused at %s keeps the target: a second run stops without writing', async (step) => {
    const storage = await baseTarget();
    let second: unknown = null;
    let paused = false;
    const summary = await runSync(
      ctx(storage, {
        pause: async (at, dt) => {
          if (at !== step || dt !== FOLDED_DAY || paused) return;
          paused = true;
          second = await runSync(ctx(storage)).catch((err: unknown) => err);
        },
      }),
    );
    expect(paused).toBe(true);
    expect(second).toBeInstanceOf(TargetBusyError);
    expect(String((second as Error).message)).toMatch(
      /in use by another run \(sync run by process \d+ on .+, since .+, held until .+\)/,
    );
    expect(summary.daysCompacted).toBeGreaterThanOrEqual(1);
    expect(await audit(target, storage)).toEqual({ lost: 0, duplicated: 0, extra: 0 });
    expect(await keysOf(storage, `events/dt=${FOLDED_DAY}/`)).toEqual([
      `events/dt=${FOLDED_DAY}/day.parquet`,
    ]);
  });

  it.each(STEPS)(
    'a run that stalls past its lease at %s loses it to the next run and stops before touching anything',
    async (step) => {
      const storage = await baseTarget();
      let paused = false;
      let second: unknown = null;
      // A short lease that is not renewed in the background: the run stalls (a GC pause, a frozen
      // process) at the step, its lease expires, another run takes over and finishes the work.
      const stalled = runSync(
        ctx(storage, {
          lease: { ttlMs: 400, renewEveryMs: 3_600_000 },
          pause: async (at, dt) => {
            if (at !== step || dt !== FOLDED_DAY || paused) return;
            paused = true;
            await sleep(600);
            second = await runSync(ctx(storage));
          },
        }),
      );
      await expect(stalled).rejects.toBeInstanceOf(LeaseLostError);
      await expect(stalled).rejects.toThrow(/lost its hold on .* \(taken over by the sync run by process/);
      expect(paused).toBe(true);
      expect(second).toMatchObject({ stoppedEarly: false });
      expect(await audit(target, storage)).toEqual({ lost: 0, duplicated: 0, extra: 0 });
      expect(await keysOf(storage, `events/dt=${FOLDED_DAY}/`)).toEqual([
        `events/dt=${FOLDED_DAY}/day.parquet`,
      ]);
      // And the next run finds the target whole: nothing to repair, nothing changes.
      await runSync(ctx(storage));
      expect(await audit(target, storage)).toEqual({ lost: 0, duplicated: 0, extra: 0 });
    },
  );

  it('repairs a half-folded day (day object beside some of its hours) at the start of the next run', async () => {
    const storage = await baseTarget();
    // What a kill between the fold's write and its deletes leaves: day.parquet plus hour objects.
    const crashed = runSync(
      ctx(storage, {
        pause: async (at, dt) => {
          if (at === 'fold-written' && dt === FOLDED_DAY) throw new Error('killed');
        },
      }),
    );
    await expect(crashed).rejects.toThrow('killed');
    const left = await keysOf(storage, `events/dt=${FOLDED_DAY}/`);
    expect(left).toContain(`events/dt=${FOLDED_DAY}/day.parquet`);
    expect(left.length).toBeGreaterThan(1);
    // A reader right now would count the day twice; the next run, whatever its range, fixes that first.
    const repairing = await runSync(ctx(storage), { from: DAY0, to: DAY0 + HOUR });
    expect(repairing.daysCompacted).toBeGreaterThanOrEqual(1);
    expect(await keysOf(storage, `events/dt=${FOLDED_DAY}/`)).toEqual([
      `events/dt=${FOLDED_DAY}/day.parquet`,
    ]);
    await runSync(ctx(storage));
    expect(await audit(target, storage)).toEqual({ lost: 0, duplicated: 0, extra: 0 });
  });

  it('treats an hour object that vanishes under the fold as an error, never as an empty hour', async () => {
    const storage = await baseTarget();
    // Fold day 1 only after hour objects exist in it: rewrite it by hours first.
    await runSync(ctx(storage, { now: () => BASE_NOW }), { from: DAY0 + 24 * HOUR, to: DAY0 + 27 * HOUR });
    const before = await storage.get(`events/dt=${FOLDED_DAY}/h00.parquet`);
    expect(before).not.toBeNull();
    const fold = compactDay(storage, FOLDED_DAY, {}, async (step) => {
      if (step === 'fold-listed') await storage.delete(`events/dt=${FOLDED_DAY}/h01.parquet`);
    });
    await expect(fold).rejects.toThrow(/h01\.parquet vanished while its day was being compacted/);
    expect(await storage.get(`events/dt=${FOLDED_DAY}/day.parquet`)).toBeNull();
  });
});

describe('the lease', () => {
  it('says who holds the target, since when and until when, and is free at once when its process is gone', async () => {
    const out = await tmpDir('lease');
    const storage = new LocalFolderStorage(out);
    // A lease left by a killed run on this host: its process no longer exists.
    const dead = {
      host: (await import('node:os')).hostname(),
      pid: 2 ** 22 + 17,
      boot: (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim(),
      run: 'x',
      purpose: 'sync',
      since: new Date().toISOString(),
      until: new Date(Date.now() + 3_600_000).toISOString(),
    };
    await storage.put(LEASE_KEY, JSON.stringify(dead));
    const summary = await runSync(ctx(storage, { now: () => BASE_NOW }), FIRST);
    expect(summary.rowsWritten).toBeGreaterThan(0);
    // A live holder (this process, another run): refused, with the truth about it.
    await storage.put(LEASE_KEY, JSON.stringify({ ...dead, pid: process.pid }));
    await expect(runSync(ctx(storage))).rejects.toThrow(
      new RegExp(
        `in use by another run \\(sync run by process ${process.pid} on .*, since ${dead.since}, held until ${dead.until}`,
      ),
    );
  });

  it('two runs finding the same stale lease: exactly one takes it', async () => {
    await ensureTestBucket();
    for (const target of [folderTarget, s3Target]) {
      const storage = await target.storage();
      const stale = {
        host: 'elsewhere',
        pid: 1,
        boot: 'b',
        run: 'x',
        purpose: 'sync',
        since: new Date(0).toISOString(),
        until: new Date(1).toISOString(),
      };
      await storage.put(LEASE_KEY, JSON.stringify(stale));
      const results = await Promise.allSettled(
        [0, 1, 2].map(() => runSync(ctx(storage, { now: () => BASE_NOW }), FIRST)),
      );
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won.length).toBeGreaterThanOrEqual(1);
      for (const r of lost) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(TargetBusyError);
      // Whatever the interleaving, the data is whole.
      const dir = await target.folder(storage);
      const db = await duckdb();
      try {
        const [row] = await db.rows(
          `SELECT count(*)::INTEGER AS n, count(DISTINCT event_id)::INTEGER AS ids FROM ${eventsGlob(dir)}`,
        );
        expect(row).toEqual({
          n: (await expectedIds(BASE_NOW)).length,
          ids: (await expectedIds(BASE_NOW)).length,
        });
      } finally {
        db.close();
      }
    }
  });
});

describe('the folder lock of a checkpoint', () => {
  it('is taken at once from a killed owner, says who holds a live one, and is broken by one run only', async () => {
    const out = await tmpDir('lock');
    const storage = new LocalFolderStorage(out);
    const key = 'state/sync-x.json';
    const v1 = await storage.putIfVersion(key, '{"n":1}', null);
    const lock = path.join(out, 'state', 'sync-x.json.lock');
    const boot = (await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
    const host = (await import('node:os')).hostname();
    // Killed during the checkpoint write: the lock stays, its process is gone.
    await fs.mkdir(lock);
    await fs.writeFile(
      path.join(lock, 'owner.json'),
      JSON.stringify({ host, pid: 2 ** 22 + 17, boot, since: new Date().toISOString() }),
    );
    const started = Date.now();
    // Several runs find the same stale lock at once: each compare-and-swap still sees one version.
    const results = await Promise.allSettled(
      [0, 1, 2, 3].map((i) => storage.putIfVersion(key, `{"n":${i + 2}}`, v1)),
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await fs.readdir(path.join(out, 'state'))).toEqual(['sync-x.json']);
    // A live holder (this process): waited for, then the truth about it.
    const current = await storage.getVersioned(key);
    await fs.mkdir(lock);
    const since = new Date().toISOString();
    await fs.writeFile(
      path.join(lock, 'owner.json'),
      JSON.stringify({ host, pid: process.pid, boot, since }),
    );
    await expect(storage.putIfVersion(key, '{}', current?.version ?? null)).rejects.toThrow(
      new RegExp(
        `is being written by process ${process.pid} on .* since ${since}; its lock counts as stale from `,
      ),
    );
    await fs.rm(lock, { recursive: true });
  }, 30_000);
});

describe('a staggered race of real processes', () => {
  it.each([
    { name: 'folder', s3: false },
    { name: 'S3', s3: true },
  ])(
    'two syncs started 0.4 s apart on the $name, then a third: every event once',
    async ({ s3 }) => {
      if (s3) await ensureTestBucket();
      const dir = await tmpDir('race');
      const file = path.join(dir, 'export.ndjson');
      const made = await cli(['sample', '--events', '3000', '--days', '3', '--out', file]);
      expect(made.code).toBe(0);
      const ids = new Set(
        (await fs.readFile(file, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => String((JSON.parse(l) as { _id: string })._id)),
      );
      const prefix = uniquePrefix('race');
      const out = s3 ? `s3://${TEST_BUCKET}/${prefix}` : path.join(dir, 'out');
      const env = { ...(s3 ? s3Env() : {}), TMPDIR: dir };
      const sync = (lookback: string) =>
        cli(['sync', '--source', `file:${file}`, '--out', out, '--lookback', lookback], env);
      expect((await sync('40h')).code).toBe(0);
      const a = sync('1h');
      await sleep(400);
      const b = await sync('1h');
      const results = [await a, b];
      for (const r of results) {
        if (r.code !== 0)
          expect(r.stderr).toMatch(
            /^closer-audit: .* is in use by another run \(sync run by process \d+ on /,
          );
      }
      expect(results.some((r) => r.code === 0)).toBe(true);
      expect((await sync('1h')).code).toBe(0);
      const folder = s3 ? await s3Target.folder(testS3Storage(prefix)) : out;
      const db = await duckdb();
      try {
        const rows = await db.rows(
          `SELECT event_id, count(*)::INTEGER AS n FROM ${eventsGlob(folder)} GROUP BY 1`,
        );
        expect(rows.length).toBe(ids.size);
        expect(rows.filter((r) => Number(r.n) !== 1)).toEqual([]);
        expect(rows.every((r) => ids.has(String(r.event_id)))).toBe(true);
      } finally {
        db.close();
      }
    },
    180_000,
  );
});
