import type { StoredEvent } from '../../shared/event/columns.js';

/** A file format the sync writes events in (Parquet, NDJSON.gz). One object per writer. */
export interface EventWriter {
  /** Returns a promise only when the row had to wait for I/O (a row group or buffer flush). */
  append(event: StoredEvent): void | Promise<void>;
  /** Completes the object; returns the rows written. */
  close(): Promise<number>;
  abort(): Promise<void>;
}
