import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DAY_MS, HOUR_MS, floorDay, floorHour, partitionOf } from '../../shared/event/partition.js';
import { gzipLines } from '../formats/gzip-lines.js';
import { hourOfKey, partitionPrefix, quarantinePrefix } from '../../shared/layout/layout.js';
import type { TimeRange } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';

export interface StoredCounts {
  rows: Map<number, number>;
  quarantined: Map<number, number>;
}

/** Rows stored per hour slot (read from the `ts` column only) and quarantine records per slot. */
export async function storedCountsPerHour(storage: Storage, range: TimeRange): Promise<StoredCounts> {
  const rows = new Map<number, number>();
  const quarantined = new Map<number, number>();
  const bump = (m: Map<number, number>, ts: number) => {
    if (ts < range.from || ts >= range.to) return;
    const h = floorHour(ts);
    m.set(h, (m.get(h) ?? 0) + 1);
  };
  for (let day = floorDay(range.from); day < range.to; day += DAY_MS) {
    const dt = partitionOf(day);
    for await (const o of storage.list(partitionPrefix('parquet', dt))) {
      if (!o.key.endsWith('.parquet')) continue;
      const object = await storage.openRead(o.key);
      if (!object) continue;
      try {
        const file: AsyncBuffer = {
          byteLength: object.size,
          slice: (s, e) => object.read(s, e ?? object.size),
        };
        const metadata = await parquetMetadataAsync(file);
        const ts = (await parquetReadObjects({ file, metadata, columns: ['ts'], compressors })) as {
          ts: Date;
        }[];
        for (const r of ts) bump(rows, r.ts.getTime());
      } finally {
        await object.close();
      }
    }
    for await (const o of storage.list(quarantinePrefix(dt))) {
      const hour = hourOfKey(o.key);
      if (hour === null) continue;
      const slot = day + hour * HOUR_MS;
      for await (const _line of gzipLines(storage, o.key)) bump(quarantined, slot);
    }
  }
  return { rows, quarantined };
}
