import { DAY_MS, HOUR_MS, floorDay, floorHour, partitionOf } from '../../shared/event/partition.js';
import { gzipLines } from '../formats/gzip-lines.js';
import { EVENT_FORMATS } from '../formats/registry.js';
import {
  hourOfKey,
  partitionPrefix,
  quarantinePrefix,
  unslottedQuarantineKey,
  untimedQuarantinePrefix,
} from '../../shared/layout/layout.js';
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
    // Rows are counted in the Parquet objects (NDJSON copies, when written too, hold the same rows).
    for await (const o of storage.list(partitionPrefix('parquet', dt))) {
      if (!o.key.endsWith('.parquet')) continue;
      for await (const ts of EVENT_FORMATS.parquet.timestamps(storage, o.key)) bump(rows, ts);
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
