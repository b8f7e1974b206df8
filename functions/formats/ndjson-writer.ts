import { createGzip } from 'node:zlib';
import type { StoredEvent } from '../../shared/event/columns.js';
import type { ObjectSink } from '../storage/storage.js';
import type { ObjectWriter } from './object-writer.js';
import { toJsonRow } from './ndjson-row.js';

/** One JSON object per line, gzip'd; timestamps as ISO-8601 strings, for JSON SerDes and jq. */
const CHUNK_BYTES = 512 * 1024;

export class NdjsonGzEventWriter implements ObjectWriter {
  private readonly gzip = createGzip({ level: 6 });
  private rows = 0;
  // Lines are gathered into chunks: one gzip write per line costs a native round trip each.
  private pending: string[] = [];
  private pendingBytes = 0;
  private readonly done: Promise<void>;

  constructor(private readonly sink: ObjectSink) {
    this.done = (async () => {
      for await (const chunk of this.gzip) await sink.write(chunk as Uint8Array);
    })();
    // The consumer above reports errors through `done`; keep them from being unhandled meanwhile.
    this.done.catch(() => undefined);
  }

  append(event: StoredEvent): void | Promise<void> {
    const line = JSON.stringify(toJsonRow(event));
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    this.rows++;
    if (this.pendingBytes >= CHUNK_BYTES) return this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = this.pending.join('\n') + '\n';
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.gzip.write(chunk)) await new Promise<void>((resolve) => this.gzip.once('drain', resolve));
  }

  async close(): Promise<number> {
    await this.flush();
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
