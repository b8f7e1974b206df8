import type { StoredEvent } from '../../shared/event/columns.js';
import type { EventWriter } from '../formats/event-writer.js';
import { NdjsonGzEventWriter } from '../formats/ndjson-writer.js';
import { ParquetEventWriter, type ParquetOptions } from '../formats/parquet-writer.js';
import type { Storage } from '../storage/storage.js';
import { manifested } from '../integrity/journal.js';
import type { Format } from './layout.js';

/** One unit of stored events (an hour or a day) in every format asked for, opened on the first row. */
export class EventsWriter {
  private writers: EventWriter[] | null = null;
  rows = 0;

  constructor(
    private readonly storage: Storage,
    private readonly formats: Format[],
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

  private async open(format: Format): Promise<EventWriter> {
    const key = this.keyOf(format);
    const sink = await this.storage.openWrite(key);
    const writer =
      format === 'parquet'
        ? await ParquetEventWriter.open(sink, this.parquet)
        : new NdjsonGzEventWriter(sink);
    return manifested(this.storage, key, writer);
  }

  /** Commits every object. A unit with no rows writes nothing and leaves stored rows as they were. */
  async commit(): Promise<void> {
    for (const w of this.writers ?? []) await w.close();
  }

  async abort(): Promise<void> {
    for (const w of this.writers ?? []) await w.abort();
  }
}
