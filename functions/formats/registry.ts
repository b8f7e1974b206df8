import { parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { StoredEvent } from '../../shared/event/columns.js';
import type { Format } from '../../shared/layout/layout.js';
import type { ObjectSink, Storage } from '../storage/storage.js';
import { readNdjsonEvents } from './ndjson-reader.js';
import { NdjsonGzEventWriter } from './ndjson-writer.js';
import type { ObjectWriter } from './object-writer.js';
import { asyncBuffer, readParquetEvents } from './parquet-reader.js';
import { ParquetEventWriter, type ParquetOptions } from './parquet-writer.js';

/**
 * A format events are stored in: its writer and its reader, side by side, so that what the sync
 * writes, compaction merges and verify counts are read and written by one pair.
 */
export interface EventFormat {
  readonly name: Format;
  /** A writer for one object of this format. */
  writer(sink: ObjectSink, parquet?: ParquetOptions): Promise<ObjectWriter>;
  /**
   * The rows of one object, in stored order. An absent object has none, or throws what `missing`
   * returns when the caller knows it must exist.
   */
  read(storage: Storage, key: string, missing?: () => Error): AsyncIterable<StoredEvent>;
  /** The `ts` (epoch ms) of every row of one object, reading no other column where the format allows. */
  timestamps(storage: Storage, key: string): AsyncIterable<number>;
}

const parquet: EventFormat = {
  name: 'parquet',
  writer: (sink, options) => ParquetEventWriter.open(sink, options),
  async *read(storage, key, missing) {
    const object = await storage.openRead(key);
    if (!object) {
      if (missing) throw missing();
      return;
    }
    try {
      yield* readParquetEvents(object);
    } finally {
      await object.close();
    }
  },
  async *timestamps(storage, key) {
    const object = await storage.openRead(key);
    if (!object) return;
    try {
      const file = asyncBuffer(object);
      const metadata = await parquetMetadataAsync(file);
      const rows = (await parquetReadObjects({ file, metadata, columns: ['ts'], compressors })) as {
        ts: Date;
      }[];
      for (const r of rows) yield r.ts.getTime();
    } finally {
      await object.close();
    }
  },
};

const ndjson: EventFormat = {
  name: 'ndjson',
  writer: (sink) => Promise.resolve(new NdjsonGzEventWriter(sink)),
  async *read(storage, key, missing) {
    const body = await storage.get(key);
    if (!body) {
      if (missing) throw missing();
      return;
    }
    yield* readNdjsonEvents(body);
  },
  async *timestamps(storage, key) {
    for await (const row of ndjson.read(storage, key)) yield row.ts;
  },
};

export const EVENT_FORMATS: Readonly<Record<Format, EventFormat>> = { parquet, ndjson };

/** Every format, in the order they are written and compacted. */
export const ALL_FORMATS: readonly Format[] = ['parquet', 'ndjson'];
