import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { DAY_MS, floorDay, floorHour, partitionOf } from '../../shared/event/partition.js';
import { gzipLines } from '../formats/gzip-lines.js';
import { partitionPrefix, unslottedQuarantineKey, untimedQuarantinePrefix } from '../ingest/layout.js';
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
    for await (const o of storage.list(`quarantine/dt=${dt}/`)) {
      const m = /\/h(\d{2})\.ndjson\.gz$/.exec(o.key);
      if (!m) continue;
      const slot = day + Number(m[1]) * 3_600_000;
      for await (const _line of gzipLines(storage, o.key)) bump(quarantined, slot);
    }
  }
  return { rows, quarantined };
}

/**
 * Records quarantined without an hour for one source: documents without a readable @timestamp
 * (batches under `quarantine/untimed/`) and records the source could not read (`unslotted`).
 */
export async function storedUntimed(storage: Storage, sourceId: string): Promise<number> {
  const count = async (key: string) => {
    let n = 0;
    for await (const _line of gzipLines(storage, key)) n++;
    return n;
  };
  let n = await count(unslottedQuarantineKey(sourceId));
  for await (const o of storage.list(untimedQuarantinePrefix(sourceId))) n += await count(o.key);
  return n;
}
