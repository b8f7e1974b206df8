import type { StoredEvent } from '../../shared/event/columns.js';
import { DAY_MS, floorDay, partitionOf } from '../../shared/event/partition.js';
import type { ParquetOptions } from '../formats/parquet-writer.js';
import { ALL_FORMATS, EVENT_FORMATS } from '../formats/registry.js';
import type { TimeRange } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';
import { manifested } from '../integrity/journal.js';
import { dayKey, formatPrefix, hourOfKey, partitionPrefix, type Format } from '../../shared/layout/layout.js';

/** The steps of a fold a test can pause at (and the checkpoint write after it). */
export type PauseStep = 'fold-listed' | 'fold-written' | 'hours-deleted' | 'checkpoint';
type Pause = (step: PauseStep, dt: string) => Promise<void>;

/**
 * When a day's hour objects are folded into its day object: the one policy, for the sync (with
 * or without a range) and the backfill alike.
 * - A day is folded once it is sealed whole (its end is at or before the seal boundary), right
 *   after a chunk that wrote it by hour completed, and after the checkpoint that covers it.
 * - A chunk that stopped early (the time limit) leaves its fold to the next run, and so does a
 *   crash: every run starts by folding each sealed day that still has hour objects (`repair`).
 */
export class CompactionPolicy {
  constructor(
    private readonly storage: Storage,
    private readonly sealBoundary: number,
    private readonly parquet: ParquetOptions = {},
    private readonly pause?: Pause,
  ) {}

  /** True when every slot of the day that starts at or contains `ms` is sealed. */
  isSealedDay(ms: number): boolean {
    return floorDay(ms) + DAY_MS <= this.sealBoundary;
  }

  /**
   * What a crash, a lost race or a stop at the time limit can leave behind, put right at the start
   * of the next run (which holds the lease): a sealed day with hour objects, beside its day object
   * or not, is folded again. Folding is idempotent, so a day already complete only loses its
   * leftover hour objects. `listed` are days a state file of an earlier release still lists as
   * pending. Returns the days folded.
   */
  async repair(listed: readonly string[] = []): Promise<number> {
    const days = new Set<string>(listed);
    for (const format of ALL_FORMATS) {
      for await (const o of this.storage.list(`${formatPrefix(format)}dt=`)) {
        const m = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(`/${o.key}`);
        if (!m || hourOfKey(o.key) === null) continue;
        const dt = m[1] as string;
        if (this.isSealedDay(Date.parse(`${dt}T00:00:00Z`))) days.add(dt);
      }
    }
    let folded = 0;
    for (const dt of [...days].sort()) if (await this.fold(dt)) folded++;
    return folded;
  }

  /** After a chunk (at most a day) is written and checkpointed: folds its day when it is due. */
  async afterChunk(chunk: TimeRange, how: { complete: boolean; wroteDayObject: boolean }): Promise<boolean> {
    if (!how.complete || how.wroteDayObject || !this.isSealedDay(chunk.from)) return false;
    return this.fold(partitionOf(chunk.from));
  }

  private fold(dt: string): Promise<boolean> {
    return compactDay(this.storage, dt, this.parquet, this.pause);
  }
}

/**
 * Folds a day's hour objects into one day object, then deletes the hour objects.
 * An hour object wins over the rows the old day object holds for that hour, so the merge is
 * idempotent: after a crash between writing the day object and deleting the hours, the next
 * compaction produces the same day object again. Readers may see the day object and hour
 * objects together for the moment between the day object's commit and the deletes.
 */
export async function compactDay(
  storage: Storage,
  dt: string,
  parquet: ParquetOptions = {},
  pause?: Pause,
): Promise<boolean> {
  let compacted = false;
  for (const format of ALL_FORMATS) {
    const hours = new Map<number, string>();
    for await (const o of storage.list(partitionPrefix(format, dt))) {
      const h = hourOfKey(o.key);
      if (h !== null) hours.set(h, o.key);
    }
    // Leftover hour objects of a format no longer asked for are folded too, never orphaned.
    if (hours.size === 0) continue;
    await pause?.('fold-listed', dt);
    await writeDayObject(storage, format, dt, hours, parquet);
    await pause?.('fold-written', dt);
    for (const key of hours.values()) await storage.delete(key);
    await pause?.('hours-deleted', dt);
    compacted = true;
  }
  return compacted;
}

/** The day object of one format: the hour objects merged over the old day object's rows. */
async function writeDayObject(
  storage: Storage,
  format: Format,
  dt: string,
  hours: Map<number, string>,
  parquet: ParquetOptions,
): Promise<void> {
  const { read, writer: open } = EVENT_FORMATS[format];
  const key = dayKey(format, dt);
  const writer = manifested(storage, key, await open(await storage.openWrite(key), parquet), {
    supersedes: [...hours.values()],
  });
  try {
    // An absent old day object is an empty day; an hour object that was listed and is gone is an
    // error, never an empty hour (folding it as empty would lose the hour for good).
    const old = read(storage, key)[Symbol.asyncIterator]();
    let pending = await old.next();
    for (let h = 0; h < 24; h++) {
      const hourObject = hours.get(h);
      if (hourObject) {
        const vanished = () =>
          new Error(
            `${hourObject} vanished while its day was being compacted: another run changed this target`,
          );
        for await (const row of read(storage, hourObject, vanished)) await writer.append(row);
        while (!pending.done && hourOf(pending.value) === h) pending = await old.next();
      } else {
        while (!pending.done && hourOf(pending.value) === h) {
          await writer.append(pending.value);
          pending = await old.next();
        }
      }
    }
    await writer.close(); // the day object's commit point
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

function hourOf(event: StoredEvent): number {
  return new Date(event.ts).getUTCHours();
}
