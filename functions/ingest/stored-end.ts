import { DAY_MS, HOUR_MS } from '../../shared/event/partition.js';
import type { Storage } from '../storage/storage.js';
import { formatPrefix, hourOfKey, type Format } from '../../shared/layout/layout.js';

/**
 * The end of the newest data stored under the target, whoever wrote it (a sync with --from/--to,
 * a backfill, another host): the end of the newest hour object, or of the newest day object.
 * Null when nothing is stored. Not a `…Through` checkpoint: older hours may be missing. A plain sync with no checkpoint continues from here rather than
 * leaving a gap between what is stored and its first window.
 */
export async function endOfStoredData(storage: Storage, formats: Format[]): Promise<number | null> {
  let end: number | null = null;
  for (const format of formats) {
    for await (const { key } of storage.list(formatPrefix(format))) {
      const m = /dt=(\d{4}-\d{2}-\d{2})\/([^/]+)$/.exec(key);
      if (!m) continue;
      const day = Date.parse(`${m[1]}T00:00:00Z`);
      if (Number.isNaN(day)) continue;
      const hour = hourOfKey(key);
      const objectEnd =
        hour !== null ? day + (hour + 1) * HOUR_MS : m[2]?.startsWith('day.') ? day + DAY_MS : null;
      if (objectEnd !== null && (end === null || objectEnd > end)) end = objectEnd;
    }
  }
  return end;
}
