import type { StoredEvent } from '../../shared/event/columns.js';
import { gzipLinesOf } from './gzip-lines.js';

/** The rows of an NDJSON.gz events object: the inverse of the writer's `toJsonRow`. */
export async function* readNdjsonEvents(body: Uint8Array): AsyncIterable<StoredEvent> {
  for await (const line of gzipLinesOf(body)) yield fromJsonRow(JSON.parse(line) as Record<string, unknown>);
}

export function fromJsonRow(row: Record<string, unknown>): StoredEvent {
  return {
    ...row,
    ts: Date.parse(row.ts as string),
    ingested_at: Date.parse(row.ingested_at as string),
  } as StoredEvent;
}
