import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { COLUMN_TYPES } from '../../shared/event/column-types.js';
import { EVENT_COLUMNS, type StoredEvent } from '../../shared/event/columns.js';
import type { RandomAccessObject } from '../storage/storage.js';

/** Reads an events object back, one row group at a time (compaction must stay in bounded memory). */
export async function* readParquetEvents(object: RandomAccessObject): AsyncIterable<StoredEvent> {
  const file = asyncBuffer(object);
  const metadata = await parquetMetadataAsync(file);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    const rows = (await parquetReadObjects({ file, metadata, compressors, rowStart, rowEnd })) as Record<
      string,
      unknown
    >[];
    for (const row of rows) yield fromParquetRow(row);
    rowStart = rowEnd;
  }
}

const DECODERS = EVENT_COLUMNS.map((c) => [c.name, COLUMN_TYPES[c.type].fromParquet] as const);

/** A stored object as hyparquet reads it: ranges fetched on demand. */
export function asyncBuffer(object: RandomAccessObject): AsyncBuffer {
  return { byteLength: object.size, slice: (start, end) => object.read(start, end ?? object.size) };
}

function fromParquetRow(row: Record<string, unknown>): StoredEvent {
  const out: Record<string, unknown> = {};
  for (const [name, decode] of DECODERS) out[name] = decode(row[name]);
  return out as StoredEvent;
}
