import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import {
  COLUMN_NAMES as NAMES,
  EVENT_COLUMNS,
  type ColumnName,
  type StoredEvent,
} from '../../shared/event/columns.js';
import { parquetSchema } from '../../shared/schema/parquet-schema.js';
import type { ObjectSink } from '../storage/storage.js';
import type { ObjectWriter } from './object-writer.js';
import { zstdCompressor } from './zstd.js';

export interface ParquetOptions {
  /** Rows per row group: the unit that is held in memory before it is encoded and written out. */
  rowGroupSize?: number;
  codec?: 'ZSTD' | 'SNAPPY';
}

export const DEFAULT_ROW_GROUP_SIZE = 10_000;
const SCHEMA = parquetSchema();

/**
 * Streams events into one Parquet object, a row group at a time: memory holds at most one row
 * group of rows plus its encoded bytes, however many rows the object ends up with.
 */
export class ParquetEventWriter implements ObjectWriter {
  private columns: unknown[][] = EVENT_COLUMNS.map(() => []);
  private buffered = 0;
  private rows = 0;

  private constructor(
    private readonly sink: ObjectSink,
    private readonly out: SinkByteWriter,
    private readonly parquet: ParquetWriter,
    private readonly rowGroupSize: number,
  ) {}

  static async open(sink: ObjectSink, options: ParquetOptions = {}): Promise<ParquetEventWriter> {
    const codec = options.codec ?? 'ZSTD';
    const out = new SinkByteWriter(sink);
    const parquet = new ParquetWriter({
      writer: out,
      schema: SCHEMA,
      codec,
      compressors: codec === 'ZSTD' ? { ZSTD: await zstdCompressor() } : {},
      createdBy: 'closer-audit',
    });
    return new ParquetEventWriter(sink, out, parquet, options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE);
  }

  append(event: StoredEvent): void | Promise<void> {
    // Timestamps go in as epoch-ms numbers: the writer turns them into INT64 without a Date each.
    for (let i = 0; i < NAMES.length; i++) (this.columns[i] as unknown[]).push(event[NAMES[i] as ColumnName]);
    this.buffered++;
    if (this.buffered >= this.rowGroupSize) return this.flushRowGroup();
  }

  private async flushRowGroup(): Promise<void> {
    if (this.buffered === 0) return;
    const columnData = EVENT_COLUMNS.map((c, i) => ({
      name: c.name,
      data: this.columns[i] as never,
      nullable: !c.required,
      // Min/max statistics pay off only where readers filter; elsewhere (bodies, URLs) they cost time and bytes.
      statistics: 'filterable' in c && c.filterable === true,
      ...('unique' in c && c.unique ? { encoding: 'PLAIN' as const } : {}),
    }));
    await this.parquet.write({ columnData, rowGroupSize: this.buffered });
    await this.out.drain();
    this.rows += this.buffered;
    this.buffered = 0;
    this.columns = EVENT_COLUMNS.map(() => []);
  }

  async close(): Promise<number> {
    await this.flushRowGroup();
    await this.parquet.finish();
    await this.out.drain();
    await this.sink.commit();
    return this.rows;
  }

  async abort(): Promise<void> {
    await this.sink.abort();
  }
}

/** hyparquet-writer's ByteWriter, emptied into the sink after every row group. */
class SinkByteWriter extends ByteWriter {
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly sink: ObjectSink) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    if (this.index === 0) return this.pending;
    const chunk = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    this.pending = this.pending.then(() => this.sink.write(chunk));
    return this.pending;
  }

  override finish(): Promise<void> {
    return this.flush();
  }

  drain(): Promise<void> {
    return this.flush();
  }
}
