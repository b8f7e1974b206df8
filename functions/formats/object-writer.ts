import type { StoredEvent } from '../../shared/event/columns.js';

/** Writes events into one object in one format (a Parquet file, an NDJSON.gz file). */
export interface ObjectWriter {
  /** Returns a promise only when the row had to wait for I/O (a row group or buffer flush). */
  append(event: StoredEvent): void | Promise<void>;
  /** Completes the object; returns the rows written. */
  close(): Promise<number>;
  abort(): Promise<void>;
}
