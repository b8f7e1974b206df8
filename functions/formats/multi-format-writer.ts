import type { StoredEvent } from '../../shared/event/columns.js';
import type { Storage } from '../storage/storage.js';
import { manifested } from '../integrity/journal.js';
import type { Format } from '../../shared/layout/layout.js';
import type { ObjectWriter } from './object-writer.js';
import type { ParquetOptions } from './parquet-writer.js';
import { EVENT_FORMATS } from './registry.js';

/**
 * The same rows into one object per format asked for (an hour's or a day's events object in
 * Parquet and/or NDJSON.gz), each an ObjectWriter. The objects are opened on the first row.
 */
export class MultiFormatWriter {
  private writers: ObjectWriter[] | null = null;
  rows = 0;

  constructor(
    private readonly storage: Storage,
    private readonly formats: readonly Format[],
    private readonly keyOf: (format: Format) => string,
    private readonly parquet: ParquetOptions = {},
  ) {}

  append(event: StoredEvent): void | Promise<void> {
    if (this.writers === null) return this.openThenAppend(event);
    this.rows++;
    let wait: Promise<void>[] | null = null;
    for (const w of this.writers) {
      const r = w.append(event);
      if (r) (wait ??= []).push(r);
    }
    if (wait) return Promise.all(wait).then(() => undefined);
  }

  private async openThenAppend(event: StoredEvent): Promise<void> {
    this.writers = await Promise.all(this.formats.map((f) => this.open(f)));
    await this.append(event);
  }

  private async open(format: Format): Promise<ObjectWriter> {
    const key = this.keyOf(format);
    const sink = await this.storage.openWrite(key);
    return manifested(this.storage, key, await EVENT_FORMATS[format].writer(sink, this.parquet));
  }

  /** Commits every object. A unit with no rows writes nothing and leaves stored rows as they were. */
  async commit(): Promise<void> {
    for (const w of this.writers ?? []) await w.close();
  }

  async abort(): Promise<void> {
    for (const w of this.writers ?? []) await w.abort();
  }
}
