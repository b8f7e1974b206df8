import { createGzip } from 'node:zlib';
import type { StoredEvent } from '../../shared/event/columns.js';
import type { ObjectSink } from '../storage/storage.js';
import type { EventWriter } from './event-writer.js';

/** One JSON object per line, gzip'd; timestamps as ISO-8601 strings, for JSON SerDes and jq. */
export class NdjsonGzEventWriter implements EventWriter {
  private readonly gzip = createGzip({ level: 6 });
  private rows = 0;
  private readonly done: Promise<void>;

  constructor(private readonly sink: ObjectSink) {
    this.done = (async () => {
      for await (const chunk of this.gzip) await sink.write(chunk as Uint8Array);
    })();
    // The consumer above reports errors through `done`; keep them from being unhandled meanwhile.
    this.done.catch(() => undefined);
  }

  async append(event: StoredEvent): Promise<void> {
    const line = JSON.stringify(toJsonRow(event)) + '\n';
    this.rows++;
    if (!this.gzip.write(line)) await new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  async close(): Promise<number> {
    this.gzip.end();
    await this.done;
    await this.sink.commit();
    return this.rows;
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    await this.sink.abort();
  }
}

export function toJsonRow(event: StoredEvent): Record<string, unknown> {
  return {
    ...event,
    ts: new Date(event.ts).toISOString(),
    ingested_at: new Date(event.ingested_at).toISOString(),
  };
}
