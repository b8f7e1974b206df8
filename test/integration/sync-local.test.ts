import fs from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { compactDay } from '../../functions/ingest/compaction.js';
import { runBackfill, runSync } from '../../functions/ingest/sync.js';
import { generateHour } from '../../functions/sample/generator.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type { HitSource, SourceHit } from '../../functions/sources/source.js';
import type { Storage } from '../../functions/storage/storage.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { duckdb, eventsGlob, listKeys, storedRows } from '../support/duckdb.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const DAY = Date.UTC(2026, 9, 5);

async function writeExport(lines: string[]): Promise<string> {
  const dir = await tmpDir('export');
  const file = path.join(dir, 'closer-export.ndjson');
  await fs.writeFile(file, lines.join('\n') + '\n');
  return file;
}

async function readQuarantine(dir: string): Promise<{ reason: string; record: unknown }[]> {
  const out: { reason: string; record: unknown }[] = [];
  for (const key of await listKeys(dir, 'quarantine')) {
    const text = gunzipSync(await fs.readFile(path.join(dir, key))).toString('utf8');
    for (const line of text.split('\n').filter(Boolean)) out.push(JSON.parse(line));
  }
  return out;
}

describe('file source (an export)', () => {
  it('ingests hits and _search responses in any order, with the range of the data', async () => {
    const hits = [...generateHour(DAY + 5 * HOUR, 30), ...generateHour(DAY + 30 * HOUR, 20)];
    const shuffled = [...hits].reverse();
    const asSearchResponse = JSON.stringify({
      took: 3,
      hits: { total: { value: 10 }, hits: shuffled.slice(0, 10) },
    });
    const file = await writeExport([asSearchResponse, ...shuffled.slice(10).map((h) => JSON.stringify(h))]);
    const out = await tmpDir('file');
    const summary = await runSync(ingestContext(out, new FileSource(file), { now: () => DAY + 60 * HOUR }));
    expect(summary.range).toEqual({
      from: new Date(DAY + 5 * HOUR).toISOString(),
      to: new Date(DAY + 31 * HOUR).toISOString(),
    });
    expect(summary.rowsWritten).toBe(50);
    const rows = await storedRows(out);
    expect(rows.map((r) => r.event_id).sort()).toEqual(hits.map((h) => h._id).sort());
    // Both days are older than the lookback: one object per day.
    expect(await listKeys(out, 'events')).toEqual([
      'events/dt=2026-10-05/day.parquet',
      'events/dt=2026-10-06/day.parquet',
    ]);
  });

  it('quarantines what it cannot read, with the reason, redacted; drops duplicates; keeps going', async () => {
    const good = generateHour(DAY + 2 * HOUR, 10);
    const secretHit = {
      _index: 'closer',
      _id: 'bad-1',
      _source: {
        '@timestamp': '2026-10-05T02:10:00.000+0000',
        message: {
          'event.action': ['agent_login', 'agent_logout'],
          'http.request.body.content': '{"email":"x@y.z","password":"Sup3rSecret!"}',
        },
      },
    };
    const file = await writeExport([
      ...good.map((h) => JSON.stringify(h)),
      JSON.stringify(good[3]),
      JSON.stringify(good[4]),
      'this is not json {"password":"InLinePass1"}',
      JSON.stringify({
        _index: 'closer',
        _id: 'no-time',
        _source: { message: { 'event.action': 'agent_login' } },
      }),
      JSON.stringify(secretHit),
    ]);
    const out = await tmpDir('quarantine');
    const summary = await runSync(ingestContext(out, new FileSource(file), { now: () => DAY + 60 * HOUR }));
    expect(summary.rowsWritten).toBe(10);
    expect(summary.duplicatesDropped).toBe(2);
    expect(summary.quarantined).toBe(3);
    const q = await readQuarantine(out);
    expect(q.map((r) => r.reason).sort()).toEqual(
      [
        expect.stringMatching(/^field event\.action has several values/),
        'line 13: not JSON',
        'line 14: no readable @timestamp',
      ].sort(),
    );
    const all = JSON.stringify(q);
    expect(all).not.toContain('Sup3rSecret!');
    expect(all).not.toContain('InLinePass1');
    expect(all).toContain('x@y.z');
  });

  it('fails clearly on a missing file', async () => {
    const out = await tmpDir('missing');
    await expect(runSync(ingestContext(out, new FileSource('/nonexistent/export.ndjson')))).rejects.toThrow(
      'export file /nonexistent/export.ndjson cannot be read',
    );
  });
});

describe('copies of one document at one instant (a sorted source)', () => {
  it('keeps the copy from the first index by name, whichever the reader saw first', async () => {
    const [a, b] = generateHour(DAY + 3 * HOUR, 2) as [RawHit, RawHit];
    const at = Date.parse((a._source as { '@timestamp': string })['@timestamp']);
    // b moved to a's instant: three hits at one time, two of them copies of a.
    const b2 = { ...b, _source: { ...(b._source as object), '@timestamp': new Date(at).toISOString() } };
    const copyIn = (index: string) => ({ ...a, _index: index });
    const orders = [
      ['closer-2026.10.b', 'closer-2026.10.a'],
      ['closer-2026.10.a', 'closer-2026.10.b'],
    ];
    // With and without another document at the same instant.
    for (const [order, withOther] of orders.flatMap((o) => [[o, true] as const, [o, false] as const])) {
      const page: SourceHit[] = [
        ...order.map((index) => ({ hit: copyIn(index), slotTs: at })),
        ...(withOther ? [{ hit: b2, slotTs: at }] : []),
      ];
      const source: HitSource = {
        id: 'sorted',
        description: 'a sorted in-memory source',
        ordered: true,
        async *pages() {
          yield page;
        },
        countPerHour: async () => new Map(),
        close: async () => undefined,
      };
      const out = await tmpDir('ties');
      const summary = await runSync(ingestContext(out, source, { now: () => DAY + 60 * HOUR }), {
        from: DAY,
        to: DAY + 24 * HOUR,
      });
      expect(summary.duplicatesDropped).toBe(1);
      const rows = await storedRows(out);
      const expected = [[a._id, 'closer-2026.10.a'], ...(withOther ? [[b._id, b._index]] : [])];
      expect(rows.map((r) => [r.event_id, r.es_index])).toEqual(
        expected.sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
      );
    }
  });
});

describe('formats', () => {
  it('writes NDJSON.gz beside Parquet, under its own prefix, with the same rows', async () => {
    const out = await tmpDir('both');
    const now = DAY + 26 * HOUR;
    await runSync(
      ingestContext(out, new SampleSource(), { formats: ['parquet', 'ndjson'], now: () => now }),
      {
        from: DAY,
        to: DAY + 26 * HOUR,
      },
    );
    const parquetKeys = await listKeys(out, 'events');
    const jsonKeys = await listKeys(out, 'events-ndjson');
    expect(jsonKeys.map((k) => k.replace('events-ndjson/', '').replace('.ndjson.gz', ''))).toEqual(
      parquetKeys.map((k) => k.replace('events/', '').replace('.parquet', '')),
    );
    const db = await duckdb();
    try {
      const [p] = await db.rows(
        `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM ${eventsGlob(out)}`,
      );
      const [j] = await db.rows(
        `SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM read_json_auto('${out}/events-ndjson/*/*.ndjson.gz')`,
      );
      expect(Number(j?.n)).toBe(Number(p?.n));
      expect(Number(j?.ids)).toBe(Number(p?.n));
    } finally {
      db.close();
    }
  });

  it('flushes row groups as they fill (memory holds one row group, not the slot)', async () => {
    const out = await tmpDir('rowgroups');
    await runSync(
      ingestContext(out, new SampleSource({ perHour: () => 1_000 }), {
        parquet: { rowGroupSize: 200 },
        now: () => DAY + 100 * HOUR,
      }),
      { from: DAY + 3 * HOUR, to: DAY + 4 * HOUR },
    );
    const db = await duckdb();
    try {
      const groups = await db.rows(
        `SELECT count(DISTINCT row_group_id) AS g, max(row_group_num_rows) AS m FROM parquet_metadata('${out}/events/*/*.parquet')`,
      );
      expect(Number(groups[0]?.g)).toBe(5);
      expect(Number(groups[0]?.m)).toBe(200);
    } finally {
      db.close();
    }
  });
});

describe('compaction', () => {
  it('converges after a crash between the day object and the deletes of the hours', async () => {
    const out = await tmpDir('compact');
    const ctx = ingestContext(out, new SampleSource(), { now: () => DAY + 12 * HOUR });
    await runSync(ctx, { from: DAY, to: DAY + 12 * HOUR });
    const hours = await listKeys(out, 'events');
    expect(hours.length).toBe(12);
    const rows = await storedRows(out);

    // The fault a real disk will not produce on demand: deletes fail after the day object exists.
    const real = new LocalFolderStorage(out);
    const faulty: Storage = Object.assign(Object.create(real) as Storage, {
      delete: async () => {
        throw new Error('simulated crash while deleting hour objects');
      },
    });
    await expect(compactDay(faulty, '2026-10-05')).rejects.toThrow('simulated crash');
    expect((await listKeys(out, 'events')).length).toBe(13);
    await compactDay(real, '2026-10-05');
    expect(await listKeys(out, 'events')).toEqual(['events/dt=2026-10-05/day.parquet']);
    expect(await storedRows(out)).toEqual(rows);
  });

  it('an hour rewritten after compaction replaces that hour of the day object only', async () => {
    const out = await tmpDir('recompact');
    const now = DAY + 5 * 24 * HOUR;
    await runSync(ingestContext(out, new SampleSource(), { now: () => now }), {
      from: DAY,
      to: DAY + 24 * HOUR,
    });
    const before = await storedRows(out);
    await runSync(ingestContext(out, new SampleSource(), { now: () => now }), {
      from: DAY + 9 * HOUR,
      to: DAY + 10 * HOUR,
    });
    expect(await listKeys(out, 'events')).toEqual(['events/dt=2026-10-05/day.parquet']);
    expect(await storedRows(out)).toEqual(before);
  });
});

describe('backfill', () => {
  it('stops cleanly when asked and resumes where it stopped', async () => {
    const out = await tmpDir('backfill');
    const from = DAY;
    const to = DAY + 3 * 24 * HOUR;
    const now = DAY + 10 * 24 * HOUR;
    let slots = 0;
    const first = await runBackfill(
      ingestContext(out, new SampleSource(), {
        now: () => now,
        onSlot: () => void slots++,
        shouldStop: () => slots >= 30,
      }),
      { from, to },
    );
    expect(first.stoppedEarly).toBe(true);
    const second = await runBackfill(ingestContext(out, new SampleSource(), { now: () => now }), {
      from,
      to,
    });
    expect(second.resumedFrom).toBe(first.sealedThrough);
    expect(second.stoppedEarly).toBe(false);
    const clean = await tmpDir('backfill-clean');
    await runBackfill(ingestContext(clean, new SampleSource(), { now: () => now }), { from, to });
    expect(await listKeys(out, 'events')).toEqual(await listKeys(clean, 'events'));
    expect(await storedRows(out)).toEqual(await storedRows(clean));
  });
});

describe('state', () => {
  it('refuses to advance a checkpoint another run moved meanwhile', async () => {
    const out = await tmpDir('cas');
    const storage = new LocalFolderStorage(out);
    const v1 = await storage.putIfVersion('state/x.json', '{"a":1}', null);
    await expect(storage.putIfVersion('state/x.json', '{"a":2}', null)).rejects.toThrow(
      'changed by another run',
    );
    await storage.putIfVersion('state/x.json', '{"a":3}', v1);
    await expect(storage.putIfVersion('state/x.json', '{"a":4}', v1)).rejects.toThrow(
      'changed by another run',
    );
  });
});
