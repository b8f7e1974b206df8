import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { DETECTION_COLUMNS, detectionsKey, type Alert } from '../../shared/detections/columns.js';
import { parquetSchema } from '../../shared/schema/parquet-schema.js';
import { zstdCompressor } from '../formats/zstd.js';
import type { Storage } from '../storage/storage.js';

/** The alerts of one rule on one day; none when the object is absent. */
export async function readAlerts(storage: Storage, dt: string, rule: string): Promise<Alert[]> {
  const object = await storage.openRead(detectionsKey(dt, rule));
  if (!object) return [];
  try {
    const file: AsyncBuffer = { byteLength: object.size, slice: (s, e) => object.read(s, e ?? object.size) };
    const metadata = await parquetMetadataAsync(file);
    const rows = (await parquetReadObjects({ file, metadata, compressors })) as Record<string, unknown>[];
    return rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const c of DETECTION_COLUMNS) {
        const v = row[c.name];
        out[c.name] =
          c.type === 'timestamp'
            ? v instanceof Date
              ? v.getTime()
              : Number(v)
            : c.type === 'int'
              ? Number(v)
              : c.type === 'string_list'
                ? Array.isArray(v)
                  ? v
                  : []
                : v;
      }
      return out as Alert;
    });
  } finally {
    await object.close();
  }
}

/** Replaces the object of one rule on one day, whole (a small object: one row per alert). */
export async function writeAlerts(
  storage: Storage,
  dt: string,
  rule: string,
  alerts: Alert[],
): Promise<void> {
  const out = new ByteWriter();
  const writer = new ParquetWriter({
    writer: out,
    schema: parquetSchema(DETECTION_COLUMNS),
    codec: 'ZSTD',
    compressors: { ZSTD: await zstdCompressor() },
    createdBy: 'closer-audit',
  });
  const sorted = [...alerts].sort(
    (a, b) => a.window_start - b.window_start || a.entity.localeCompare(b.entity),
  );
  await writer.write({
    columnData: DETECTION_COLUMNS.map((c) => ({
      name: c.name,
      data: sorted.map((a) => a[c.name]) as never,
      nullable: false,
    })),
  });
  await writer.finish();
  await storage.put(detectionsKey(dt, rule), new Uint8Array(out.getBuffer()));
}
