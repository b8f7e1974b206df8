import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { backfillStateKey } from '../../shared/layout/layout.js';
import { StateStore } from '../../functions/ingest/state.js';
import { runBackfill } from '../../functions/ingest/sync.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

// State files of the previous release (a backfill's `doneThrough`, a `pendingCompaction` list) on
// a local folder: they still load, and a run carries on from them.
const DAY0 = Date.UTC(2026, 9, 5);

describe('state files of the previous release', () => {
  it("load a backfill's doneThrough as syncedThrough", async () => {
    const dir = await tmpDir('state-compat');
    await fs.mkdir(path.join(dir, 'state'));
    await fs.writeFile(
      path.join(dir, 'state/old.json'),
      JSON.stringify({ version: 1, doneThrough: '2026-10-05T06:00:00.000Z', pendingCompaction: [] }),
    );
    const state = await new StateStore(new LocalFolderStorage(dir), 'state/old.json').load();
    expect(state).toEqual({ version: 1, syncedThrough: '2026-10-05T06:00:00.000Z', pendingCompaction: [] });
  });

  it('resume a backfill where it stopped, and are saved again in the new vocabulary', async () => {
    const dir = await tmpDir('state-compat');
    const source = new SampleSource({ perHour: () => 3 });
    const ctx = ingestContext(dir, source, { now: () => DAY0 + 3 * 24 * HOUR });
    // The first day, as an interrupted run of the previous release left it: two hours stored, a
    // checkpoint named doneThrough, an (empty) list of days pending compaction.
    await runBackfill(ctx, { from: DAY0, to: DAY0 + 2 * HOUR });
    const key = backfillStateKey(source.id, DAY0, DAY0 + 24 * HOUR);
    await fs.writeFile(
      path.join(dir, key),
      JSON.stringify({
        version: 1,
        doneThrough: new Date(DAY0 + 2 * HOUR).toISOString(),
        pendingCompaction: [],
      }),
    );
    const run = await runBackfill(ctx, { from: DAY0, to: DAY0 + 24 * HOUR });
    expect(run.resumedFrom).toBe(new Date(DAY0 + 2 * HOUR).toISOString());
    expect(run.eventsRead).toBe(22 * 3);
    expect(run.daysCompacted).toBe(1);
    const saved = JSON.parse(await fs.readFile(path.join(dir, key), 'utf8')) as Record<string, unknown>;
    expect(saved).toMatchObject({ syncedThrough: new Date(DAY0 + 24 * HOUR).toISOString() });
    expect(Object.keys(saved)).not.toContain('doneThrough');
    expect(Object.keys(saved)).not.toContain('pendingCompaction');
    expect(await fs.readdir(path.join(dir, 'events/dt=2026-10-05'))).toEqual(['day.parquet']);
  });
});
