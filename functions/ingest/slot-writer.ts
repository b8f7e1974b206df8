import type { StoredEvent } from '../../shared/event/columns.js';
import type { Redactor } from '../../shared/redaction/index.js';
import type { EventWriter } from '../formats/event-writer.js';
import { NdjsonGzEventWriter } from '../formats/ndjson-writer.js';
import { ParquetEventWriter, type ParquetOptions } from '../formats/parquet-writer.js';
import type { Storage } from '../storage/storage.js';
import { hourKey, quarantineKey, type Format } from './layout.js';
import { QuarantineWriter } from './quarantine.js';

export interface SlotWriterOptions {
  storage: Storage;
  formats: Format[];
  redactor: Redactor;
  parquet?: ParquetOptions;
}

/** Everything one hour slot produces: its events in each format and its quarantine object. */
export class SlotWriter {
  private writers: EventWriter[] | null = null;
  private readonly quarantine: QuarantineWriter;
  rows = 0;

  constructor(
    readonly slotStart: number,
    private readonly options: SlotWriterOptions,
  ) {
    this.quarantine = new QuarantineWriter(options.storage, quarantineKey(slotStart), options.redactor);
  }

  get quarantined(): number {
    return this.quarantine.count;
  }

  async append(event: StoredEvent): Promise<void> {
    this.writers ??= await Promise.all(this.options.formats.map((f) => this.open(f)));
    for (const w of this.writers) await w.append(event);
    this.rows++;
  }

  private async open(format: Format): Promise<EventWriter> {
    const sink = await this.options.storage.openWrite(hourKey(format, this.slotStart));
    return format === 'parquet'
      ? ParquetEventWriter.open(sink, this.options.parquet)
      : new NdjsonGzEventWriter(sink);
  }

  addQuarantine(record: unknown, reason: string): Promise<void> {
    return this.quarantine.add(record, reason);
  }

  /** Commits every object of the slot. A slot with no rows leaves stored rows as they were. */
  async commit(): Promise<void> {
    for (const w of this.writers ?? []) await w.close();
    await this.quarantine.close();
  }

  async abort(): Promise<void> {
    for (const w of this.writers ?? []) await w.abort();
    await this.quarantine.abort();
  }
}
