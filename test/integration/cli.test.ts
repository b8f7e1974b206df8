import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { duckdb, eventsGlob, listKeys, storedRows } from '../support/duckdb.js';
import { cli } from '../support/cli.js';
import { tmpDir } from '../support/tmp.js';
import { ACTIONS } from '../../shared/catalog/actions.js';

/** stderr without the progress lines a run longer than a few seconds prints off a terminal. */
const notProgress = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l !== '' && !/^(sync|backfill): [\d,]+ events read/.test(l))
    .join('\n');

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
    expect({ code: run.code, stderr: notProgress(run.stderr) }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('generated sample feed');
    expect(run.stdout).toMatch(/started from\s+first run: 7d back \(--first-window, CLOSER_FIRST_WINDOW\)/);
    const rows = await storedRows(dir);
    expect(rows.length).toBeGreaterThan(500);
    // README promises the sample week holds every action of the catalog, none from the future.
    expect(new Set(rows.map((r) => r.action)).size).toBe(ACTIONS.length);
    const db = await duckdb();
    try {
      const late = await db.rows(`SELECT event_id FROM ${eventsGlob(dir)} WHERE ts > ingested_at`);
      expect(late).toEqual([]);
    } finally {
      db.close();
    }
    // The checkpoint, and the lease the run held (released, kept for the next run's conditional take).
    expect(await listKeys(dir, 'state')).toEqual(['state/lease.json', 'state/sync-sample.json']);
    // Run again: the open window is rewritten, sealed days are not re-read, nothing doubles.
    const again = await cli(['sync', '--out', dir]);
    expect({ code: again.code, stderr: notProgress(again.stderr) }).toEqual({ code: 0, stderr: '' });
    expect(again.stdout).toMatch(/started from\s+the checkpoint/);
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
    expect(wrong.stderr).toContain(
      '--format (CLOSER_FORMAT) "xml": use parquet, ndjson (alias json) or both',
    );
    const noEs = await cli(['sync', '--source', 'es', '--out', dir]);
    expect(noEs.code).toBe(2);
    expect(noEs.stderr).toContain('CLOSER_ES_URL');
    const badDate = await cli(['backfill', '--from', 'last tuesday', '--to', '2026-09-03', '--out', dir]);
    expect(badDate.code).toBe(2);
    expect(badDate.stderr).toContain('--from last tuesday');
  });

  it('prints its version, and exits 2 naming the flag for every usage error', async () => {
    const version = await cli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const dir = await tmpDir('cli-usage');
    const cases: [string[], Record<string, string>, RegExp][] = [
      [['sync', '--out', dir, '--lookback', 'banana'], {}, /--lookback \(CLOSER_LOOKBACK\) "banana"/],
      [['sync', '--out', dir], { CLOSER_LOOKBACK: '3 hours' }, /CLOSER_LOOKBACK/],
      [['sync', '--out', dir, '--first-window', '0d'], {}, /--first-window/],
      [
        ['sync', '--out', dir, '--from', '2026-11-20', '--to', '2026-11-19'],
        {},
        /--from 2026-11-20 is not before --to/,
      ],
      [['sync', '--out', dir, '--from', '2026-11-20', '--to', '2026-11-20'], {}, /is not before --to/],
      [['verify', '--out', dir, '--from', '2026-11-20', '--to', '2026-11-19'], {}, /is not before --to/],
      [['backfill', '--out', dir, '--from', '2026-11-20', '--to', '2026-11-19'], {}, /is not before --to/],
      [['sample', '--out', path.join(dir, 'x.ndjson'), '--days', 'many'], {}, /--days many/],
    ];
    for (const [args, env, message] of cases) {
      const run = await cli(args, env);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    // Nothing was written by any of them.
    expect(await listKeys(dir)).toEqual([]);
  }, 180_000);

  it('says when verify had nothing to compare instead of calling it a match', async () => {
    const dir = await tmpDir('cli-verify-empty');
    const feed = path.join(dir, 'feed.ndjson');
    await cli(['sample', '--events', '100', '--out', feed, '--from', '2026-10-01', '--to', '2026-10-02']);
    const run = await cli([
      'verify',
      '--source',
      `file:${feed}`,
      '--out',
      dir,
      '--from',
      '2026-09-01',
      '--to',
      '2026-09-02',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('nothing to compare');
    expect(run.stdout).not.toContain('matches');
  });

  it('takes the first window as a setting, and a plain sync continues after what is stored', async () => {
    const dir = await tmpDir('cli-first-window');
    const first = await cli(['sync', '--out', dir], { CLOSER_FIRST_WINDOW: '2d' });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/started from\s+first run: 2d back/);
    const [from, to] = /range\s+(\S+) → (\S+)/.exec(first.stdout)!.slice(1).map(Date.parse) as [
      number,
      number,
    ];
    expect(to - from).toBeGreaterThanOrEqual(48 * 3_600_000);
    expect(to - from).toBeLessThanOrEqual(50 * 3_600_000);

    const other = await tmpDir('cli-continue');
    // Days relative to today, so the plain sync after them stays a few days long.
    const day = (n: number) => new Date(Math.floor(Date.now() / 86_400_000 - n) * 86_400_000).toISOString();
    const explicit = await cli(['sync', '--out', other, '--from', day(5), '--to', day(3)]);
    expect(explicit.code).toBe(0);
    expect(explicit.stdout).toContain(`sealed through    ${day(3)}`);
    const plain = await cli(['sync', '--out', other]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`range             ${day(3)} → `);
    expect(plain.stdout).toContain(`started from      after the data already stored (through ${day(3)})`);
    const days = new Set((await listKeys(other, 'events')).map((k) => k.slice(10, 20)));
    for (const n of [5, 4, 3, 2, 1]) expect(days).toContain(day(n).slice(0, 10));
  });
});
