import type { StoredEvent } from '../../shared/event/columns.js';

/** A file format the sync writes events in (Parquet, NDJSON.gz). One object per writer. */
export interface EventWriter {
  append(event: StoredEvent): Promise<void>;
  /** Completes the object; returns the rows written. */
  close(): Promise<number>;
  abort(): Promise<void>;
}
