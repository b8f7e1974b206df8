import type { StoredEvent } from '../../shared/event/columns.js';
import type { EventWriter } from '../formats/event-writer.js';
import { gzipLines } from '../formats/gzip-lines.js';
import { NdjsonGzEventWriter } from '../formats/ndjson-writer.js';
import { readParquetEvents } from '../formats/parquet-reader.js';
import { ParquetEventWriter, type ParquetOptions } from '../formats/parquet-writer.js';
import type { Storage } from '../storage/storage.js';
import { manifested } from '../integrity/journal.js';
import { DAY_MS } from '../../shared/event/partition.js';
import { dayKey, hourOfKey, partitionPrefix, type Format } from './layout.js';

/** The steps of a fold a test can pause at (and the checkpoint write after it). */
export type PauseStep = 'fold-listed' | 'fold-written' | 'hours-deleted' | 'checkpoint';
type Pause = (step: PauseStep, dt: string) => Promise<void>;

const FORMATS = ['parquet', 'json'] as const;

/**
 * Folds a sealed day's hour objects into one day object, then deletes the hour objects.
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
  for (const format of FORMATS) {
    const hours = new Map<number, string>();
    for await (const o of storage.list(partitionPrefix(format, dt))) {
      const h = hourOfKey(o.key);
      if (h !== null) hours.set(h, o.key);
    }
    // Leftover hour objects of a format no longer asked for are folded too, never orphaned.
    if (hours.size === 0) continue;
    await pause?.('fold-listed', dt);
    await compactFormat(storage, format, dt, hours, parquet);
    await pause?.('fold-written', dt);
    for (const key of hours.values()) await storage.delete(key);
    await pause?.('hours-deleted', dt);
    compacted = true;
  }
  return compacted;
}

async function compactFormat(
  storage: Storage,
  format: Format,
  dt: string,
  hours: Map<number, string>,
  parquet: ParquetOptions,
): Promise<void> {
  const sink = await storage.openWrite(dayKey(format, dt));
  const writer: EventWriter = manifested(
    storage,
    dayKey(format, dt),
    format === 'parquet' ? await ParquetEventWriter.open(sink, parquet) : new NdjsonGzEventWriter(sink),
    { supersedes: [...hours.values()] },
  );
  try {
    const old = readObject(storage, format, dayKey(format, dt))[Symbol.asyncIterator]();
    let pending = await old.next();
    for (let h = 0; h < 24; h++) {
      const hourObject = hours.get(h);
      if (hourObject) {
        for await (const row of readObject(storage, format, hourObject, true)) await writer.append(row);
        while (!pending.done && hourOf(pending.value) === h) pending = await old.next();
      } else {
        while (!pending.done && hourOf(pending.value) === h) {
          await writer.append(pending.value);
          pending = await old.next();
        }
      }
    }
    await writer.close();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

function hourOf(event: StoredEvent): number {
  return new Date(event.ts).getUTCHours();
}

/**
 * The rows of an object. An absent old day object is an empty day; an hour object that was listed
 * and is gone is an error, never an empty hour (folding it as empty would lose the hour for good).
 */
async function* readObject(
  storage: Storage,
  format: Format,
  key: string,
  mustExist = false,
): AsyncIterable<StoredEvent> {
  const vanished = () =>
    new Error(`${key} vanished while its day was being compacted: another run changed this target`);
  if (format === 'parquet') {
    const object = await storage.openRead(key);
    if (!object) {
      if (mustExist) throw vanished();
      return;
    }
    try {
      yield* readParquetEvents(object);
    } finally {
      await object.close();
    }
    return;
  }
  if (mustExist && (await storage.get(key)) === null) throw vanished();
  for await (const line of gzipLines(storage, key)) {
    const row = JSON.parse(line) as Record<string, unknown>;
    yield {
      ...row,
      ts: Date.parse(row.ts as string),
      ingested_at: Date.parse(row.ingested_at as string),
    } as StoredEvent;
  }
}

/**
 * What a crash or a lost race can leave behind, put right at the start of the next run (which holds
 * the lease): a sealed day with hour objects, beside its day object or not (a fold that never ran,
 * or stopped between writing the day object and deleting the hours), is folded again. Folding is
 * idempotent, so a day already complete only loses its leftover hour objects. Returns the days folded.
 */
export async function repairTarget(
  storage: Storage,
  sealBoundary: number,
  parquet: ParquetOptions = {},
  pause?: Pause,
): Promise<number> {
  const days = new Set<string>();
  for (const format of FORMATS) {
    const root = partitionPrefix(format, 'x').split('/')[0] as string;
    for await (const o of storage.list(`${root}/dt=`)) {
      const m = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(`/${o.key}`);
      if (!m || hourOfKey(o.key) === null) continue;
      const dt = m[1] as string;
      if (Date.parse(`${dt}T00:00:00Z`) + DAY_MS <= sealBoundary) days.add(dt);
    }
  }
  let folded = 0;
  for (const dt of [...days].sort()) if (await compactDay(storage, dt, parquet, pause)) folded++;
  return folded;
}
