import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { listKeys, storedRows } from '../support/duckdb.js';
import { cli } from '../support/cli.js';
import { tmpDir } from '../support/tmp.js';

describe('closer-audit CLI', () => {
  it('sample → sync --source file: → verify, end to end, with a summary', async () => {
    const dir = await tmpDir('cli');
    const feed = path.join(dir, 'feed.ndjson.gz');
    const made = await cli([
      'sample',
      '--events',
      '3000',
      '--out',
      feed,
      '--from',
      '2026-10-01',
      '--to',
      '2026-10-04',
    ]);
    expect(made.stderr).toBe('');
    expect(made.stdout).toContain('wrote 3,000 events');

    const out = path.join(dir, 'data');
    const sync = await cli(['sync', '--source', `file:${feed}`, '--out', out, '--format', 'both']);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/events read\s+3,000/);
    expect(sync.stdout).toMatch(/rows written\s+3,000/);
    expect(sync.stdout).toMatch(/duplicates\s+0 dropped/);
    expect(sync.stdout).toMatch(/quarantined\s+0/);
    expect(sync.stdout).toMatch(/hour slots\s+72 written, 72 sealed/);
    expect(sync.stdout).toMatch(/days\s+3 written whole, 0 compacted/);
    expect(sync.stdout).toMatch(/time taken/);
    expect((await storedRows(out)).length).toBe(3000);
    expect(await listKeys(out, 'events')).toEqual([
      'events/dt=2026-10-01/day.parquet',
      'events/dt=2026-10-02/day.parquet',
      'events/dt=2026-10-03/day.parquet',
    ]);

    const ok = await cli([
      'verify',
      '--source',
      `file:${feed}`,
      '--out',
      out,
      '--from',
      '2026-10-01',
      '--to',
      '2026-10-04',
    ]);
    expect(ok.stdout).toContain('every hour matches');
    expect(ok.code).toBe(0);

    await fs.rm(path.join(out, 'events/dt=2026-10-02/day.parquet'));
    const bad = await cli([
      'verify',
      '--source',
      `file:${feed}`,
      '--out',
      out,
      '--from',
      '2026-10-01',
      '--to',
      '2026-10-04',
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/\d+ hour\(s\) differ/);
    expect(bad.stdout).toContain('2026-10-02T');
  });

  it('syncs the generated sample by default, with no Elasticsearch and no AWS', async () => {
    const dir = await tmpDir('cli-default');
    const run = await cli(['sync', '--out', dir]);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('generated sample feed');
    const rows = await storedRows(dir);
    expect(rows.length).toBeGreaterThan(500);
    expect(await listKeys(dir, 'state')).toEqual(['state/lease.json', 'state/sync-sample.json']);
    // Run again: the open window is rewritten, sealed days are not re-read, nothing doubles.
    const again = await cli(['sync', '--out', dir]);
    expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: '' });
    const ids = (await storedRows(dir)).map((r) => r.event_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('backfills with resumable state and reports usage errors clearly', async () => {
    const dir = await tmpDir('cli-backfill');
    const run = await cli([
      'backfill',
      '--source',
      'sample',
      '--out',
      dir,
      '--from',
      '2026-09-01',
      '--to',
      '2026-09-03',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/days\s+2 written whole/);
    expect(await listKeys(dir, 'state')).toEqual([
      'state/backfill-sample-20260901T00-20260903T00.json',
      'state/lease.json',
    ]);

    const wrong = await cli(['sync', '--format', 'xml', '--out', dir]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--format xml: use parquet, json or both');
    const noEs = await cli(['sync', '--source', 'es', '--out', dir]);
    expect(noEs.code).toBe(2);
    expect(noEs.stderr).toContain('CLOSER_ES_URL');
    const badDate = await cli(['backfill', '--from', 'last tuesday', '--to', '2026-09-03', '--out', dir]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from last tuesday');
  });
});
