import { describe, expect, it } from '@jest/globals';
import { EVENT_FORMATS } from '../../functions/formats/registry.js';
import { CompactionPolicy } from '../../functions/ingest/compaction.js';
import { SlotWriter, type SlotWriterOptions } from '../../functions/ingest/slot-writer.js';
import { emptySummary, type SyncSummary } from '../../functions/ingest/summary.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import type { SourceHit } from '../../functions/sources/source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type { Storage } from '../../functions/storage/storage.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { Redactor } from '../../shared/redaction/index.js';
import { tmpDir } from '../support/tmp.js';

// Runs on the local folder storage (a real file system, no server needed).
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const DAY0 = Date.UTC(2026, 9, 5);
const DT0 = '2026-10-05';
const PER_HOUR = 6;

async function hitsOf(from: number, to: number): Promise<SourceHit[]> {
  const hits: SourceHit[] = [];
  for await (const page of new SampleSource({ perHour: () => PER_HOUR }).pages({ from, to }))
    hits.push(...page);
  return hits;
}

async function keys(storage: Storage, prefix: string): Promise<string[]> {
  const found: string[] = [];
  for await (const o of storage.list(prefix)) found.push(o.key);
  return found.sort();
}

async function rowsOf(storage: Storage, key: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const row of EVENT_FORMATS.parquet.read(storage, key)) ids.push(row.event_id);
  return ids;
}

async function setup(extra: Partial<SlotWriterOptions> = {}): Promise<{
  storage: Storage;
  summary: SyncSummary;
  writer: SlotWriter;
  slots: number[];
}> {
  const storage = new LocalFolderStorage(await tmpDir('slot-writer'));
  const summary = emptySummary('test', storage.location);
  const slots: number[] = [];
  const writer = new SlotWriter({
    storage,
    formats: ['parquet'],
    redactor: new Redactor(),
    ordered: true,
    sourceDescription: 'the test feed',
    ingestedAt: DAY0 + DAY,
    summary,
    onSlot: (slot) => slots.push(slot),
    ...extra,
  });
  return { storage, summary, writer, slots };
}

async function acceptAll(writer: SlotWriter, hits: SourceHit[]): Promise<void> {
  for (const { hit, slotTs } of hits) await writer.accept(hit, slotTs as number);
}

describe('the slot writer', () => {
  it('commits a slot when a hit of the next slot arrives, and the last one at endSlot', async () => {
    const { storage, summary, writer, slots } = await setup();
    const [first, second] = [await hitsOf(DAY0, DAY0 + HOUR), await hitsOf(DAY0 + HOUR, DAY0 + 2 * HOUR)];
    await acceptAll(writer, first);
    expect(writer.slot).toBe(DAY0);
    expect(await keys(storage, 'events/')).toEqual([]); // nothing of an open slot is visible
    await acceptAll(writer, second.slice(0, 1));
    expect(writer.slot).toBe(DAY0 + HOUR);
    expect(await keys(storage, 'events/')).toEqual([`events/dt=${DT0}/h00.parquet`]);
    await acceptAll(writer, second.slice(1));
    await writer.endSlot();
    expect(await keys(storage, 'events/')).toEqual([
      `events/dt=${DT0}/h00.parquet`,
      `events/dt=${DT0}/h01.parquet`,
    ]);
    expect(await rowsOf(storage, `events/dt=${DT0}/h01.parquet`)).toHaveLength(second.length);
    expect(summary).toMatchObject({ rowsWritten: first.length + second.length, slotsWritten: 2 });
    expect(slots).toEqual([DAY0, DAY0 + HOUR]);
  });

  it('abort drops the open slot and leaves committed slots as they were', async () => {
    const { storage, summary, writer } = await setup();
    await acceptAll(writer, await hitsOf(DAY0, DAY0 + 2 * HOUR));
    await writer.abort();
    expect(await keys(storage, '')).toEqual([`events/dt=${DT0}/h00.parquet`]);
    expect(summary.rowsWritten).toBe(PER_HOUR);
  });

  it('keeps one copy of a document, and quarantines a copy whose content differs', async () => {
    const { storage, summary, writer } = await setup({ ordered: false });
    const hits = await hitsOf(DAY0, DAY0 + HOUR);
    const { hit, slotTs } = hits[0] as SourceHit;
    const source = hit._source as Record<string, unknown>;
    const altered: RawHit = {
      ...hit,
      _source: { ...source, message: { ...(source.message as object), x: 1 } },
    };
    await acceptAll(writer, [...hits, { hit, slotTs }, { hit: altered, slotTs }]);
    await writer.end();
    expect(await rowsOf(storage, `events/dt=${DT0}/h00.parquet`)).toHaveLength(hits.length);
    expect(summary).toMatchObject({ duplicatesDropped: 2, duplicatesDiffering: 1, quarantined: 1 });
    expect(await keys(storage, 'quarantine/')).toEqual([`quarantine/dt=${DT0}/h00.ndjson.gz`]);
  });

  it('refuses a hit of an earlier slot than the one being written', async () => {
    const { writer } = await setup();
    const hits = await hitsOf(DAY0, DAY0 + 2 * HOUR);
    await acceptAll(writer, hits.slice(PER_HOUR));
    const early = hits[0] as SourceHit;
    await expect(writer.accept(early.hit, early.slotTs as number)).rejects.toThrow(
      /the test feed delivered 2026-10-05T00:.* after 2026-10-05T01:00:00.000Z/,
    );
  });

  it('in day mode writes every slot into the day object, committed by end()', async () => {
    const { storage, summary, writer } = await setup({ day: DT0 });
    await acceptAll(writer, await hitsOf(DAY0, DAY0 + 3 * HOUR));
    await writer.endSlot();
    expect(await keys(storage, 'events/')).toEqual([]);
    await writer.end();
    expect(await keys(storage, 'events/')).toEqual([`events/dt=${DT0}/day.parquet`]);
    expect(await rowsOf(storage, `events/dt=${DT0}/day.parquet`)).toHaveLength(3 * PER_HOUR);
    expect(summary).toMatchObject({ daysWritten: 1, slotsWritten: 3, rowsWritten: 3 * PER_HOUR });
  });
});

describe('the compaction policy', () => {
  /** Hour objects for the first `hours` hours of each day given. */
  async function hourObjects(storage: Storage, days: number[], hours: number): Promise<void> {
    const summary = emptySummary('test', storage.location);
    for (const day of days) {
      const writer = new SlotWriter({
        storage,
        formats: ['parquet'],
        redactor: new Redactor(),
        ordered: true,
        sourceDescription: 'the test feed',
        ingestedAt: day,
        summary,
      });
      await acceptAll(writer, await hitsOf(day, day + hours * HOUR));
      await writer.end();
    }
  }

  it('folds a day only when it is sealed whole and its chunk completed by hour', async () => {
    const storage = new LocalFolderStorage(await tmpDir('compaction'));
    await hourObjects(storage, [DAY0], 3);
    const open = new CompactionPolicy(storage, DAY0 + DAY - HOUR);
    const sealed = new CompactionPolicy(storage, DAY0 + DAY);
    const chunk = { from: DAY0, to: DAY0 + DAY };
    expect(open.isSealedDay(DAY0 + 5 * HOUR)).toBe(false);
    expect(sealed.isSealedDay(DAY0 + 5 * HOUR)).toBe(true);
    expect(await open.afterChunk(chunk, { complete: true, wroteDayObject: false })).toBe(false);
    expect(await sealed.afterChunk(chunk, { complete: false, wroteDayObject: false })).toBe(false);
    expect(await sealed.afterChunk(chunk, { complete: true, wroteDayObject: true })).toBe(false);
    expect(await keys(storage, 'events/')).toHaveLength(3);
    expect(await sealed.afterChunk(chunk, { complete: true, wroteDayObject: false })).toBe(true);
    expect(await keys(storage, 'events/')).toEqual([`events/dt=${DT0}/day.parquet`]);
    expect(await rowsOf(storage, `events/dt=${DT0}/day.parquet`)).toHaveLength(3 * PER_HOUR);
  });

  it('repair folds every sealed day left with hour objects and the days listed, never an open day', async () => {
    const storage = new LocalFolderStorage(await tmpDir('compaction'));
    await hourObjects(storage, [DAY0, DAY0 + DAY, DAY0 + 2 * DAY], 2);
    const policy = new CompactionPolicy(storage, DAY0 + DAY + HOUR);
    // Day 2 is listed by an earlier release's state as pending; day 3 is open.
    expect(await policy.repair(['2026-10-06'])).toBe(2);
    expect(await keys(storage, 'events/')).toEqual([
      `events/dt=${DT0}/day.parquet`,
      'events/dt=2026-10-06/day.parquet',
      'events/dt=2026-10-07/h00.parquet',
      'events/dt=2026-10-07/h01.parquet',
    ]);
    // Nothing left to do: a second repair folds nothing.
    expect(await policy.repair()).toBe(0);
  });
});
