import { createGzip, type Gzip } from 'node:zlib';
import type { Redactor } from '../../shared/redaction/index.js';
import type { ObjectSink, Storage } from '../storage/storage.js';
import { noteQuarantined } from '../integrity/journal.js';

/**
 * Records that could not become rows, each with its reason, redacted like the rows are: one
 * gzip'd NDJSON object per hour slot (or per source, for records with no usable time).
 */
export class QuarantineWriter {
  private gzip: Gzip | null = null;
  private sink: ObjectSink | null = null;
  private done: Promise<void> | null = null;
  count = 0;

  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly redactor: Redactor,
  ) {}

  async add(record: unknown, reason: string): Promise<void> {
    if (!this.gzip) {
      this.sink = await this.storage.openWrite(this.key);
      const sink = this.sink;
      const gzip = createGzip();
      this.gzip = gzip;
      this.done = (async () => {
        for await (const chunk of gzip) await sink.write(chunk as Uint8Array);
      })();
      this.done.catch(() => undefined);
    }
    this.count++;
    const quarantinedAt = new Date().toISOString();
    let line: string;
    try {
      line = JSON.stringify({ reason, quarantined_at: quarantinedAt, record: this.redactor.value(record) });
    } catch (err) {
      // A record too deeply nested to walk: its identity is kept, its body cannot be.
      if (!(err instanceof RangeError)) throw err;
      const { _index, _id } = (record ?? {}) as { _index?: unknown; _id?: unknown };
      const stub = {
        _index: String(_index ?? ''),
        _id: String(_id ?? ''),
        note: 'too deeply nested to store',
      };
      line = JSON.stringify({ reason, quarantined_at: quarantinedAt, record: this.redactor.value(stub) });
    }
    if (!this.gzip.write(line + '\n')) await new Promise<void>((r) => this.gzip?.once('drain', r));
  }

  async close(): Promise<void> {
    if (!this.gzip || !this.sink) return;
    this.gzip.end();
    await this.done;
    await this.sink.commit();
    noteQuarantined(this.storage, this.key, this.count);
  }

  async abort(): Promise<void> {
    this.gzip?.destroy();
    await this.sink?.abort();
  }
}
