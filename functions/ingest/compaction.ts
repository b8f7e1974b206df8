import type { StoredEvent } from '../../shared/event/columns.js';
import type { EventWriter } from '../formats/event-writer.js';
import { gzipLines } from '../formats/gzip-lines.js';
import { NdjsonGzEventWriter } from '../formats/ndjson-writer.js';
import { readParquetEvents } from '../formats/parquet-reader.js';
import { ParquetEventWriter, type ParquetOptions } from '../formats/parquet-writer.js';
import type { Storage } from '../storage/storage.js';
import { dayKey, hourOfKey, partitionPrefix, type Format } from './layout.js';

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
): Promise<boolean> {
  let compacted = false;
  for (const format of ['parquet', 'json'] as const) {
    const hours = new Map<number, string>();
    for await (const o of storage.list(partitionPrefix(format, dt))) {
      const h = hourOfKey(o.key);
      if (h !== null) hours.set(h, o.key);
    }
    // Leftover hour objects of a format no longer asked for are folded too, never orphaned.
    if (hours.size === 0) continue;
    await compactFormat(storage, format, dt, hours, parquet);
    for (const key of hours.values()) await storage.delete(key);
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
  const writer: EventWriter =
    format === 'parquet' ? await ParquetEventWriter.open(sink, parquet) : new NdjsonGzEventWriter(sink);
  try {
    const old = readObject(storage, format, dayKey(format, dt))[Symbol.asyncIterator]();
    let pending = await old.next();
    for (let h = 0; h < 24; h++) {
      const hourObject = hours.get(h);
      if (hourObject) {
        for await (const row of readObject(storage, format, hourObject)) await writer.append(row);
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

async function* readObject(storage: Storage, format: Format, key: string): AsyncIterable<StoredEvent> {
  if (format === 'parquet') {
    const object = await storage.openRead(key);
    if (!object) return;
    try {
      yield* readParquetEvents(object);
    } finally {
      await object.close();
    }
    return;
  }
  for await (const line of gzipLines(storage, key)) {
    const row = JSON.parse(line) as Record<string, unknown>;
    yield {
      ...row,
      ts: Date.parse(row.ts as string),
      ingested_at: Date.parse(row.ingested_at as string),
    } as StoredEvent;
  }
}
