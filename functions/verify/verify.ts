import type { HitSource, TimeRange } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';
import { storedCountsPerHour, storedUntimed } from './stored-counts.js';

export interface HourComparison {
  hour: string;
  source: number;
  stored: number;
  quarantined: number;
}

export interface VerifyReport {
  hours: HourComparison[];
  mismatched: HourComparison[];
  sourceTotal: number;
  storedTotal: number;
  quarantinedTotal: number;
  /**
   * Documents no hour slot holds (no readable @timestamp), in the whole index whatever the range:
   * the source's count (null: the source cannot tell) and the records quarantined for them.
   */
  untimed: { source: number | null; quarantined: number };
}

/** Per-hour counts at the source against rows stored (quarantined records counted apart). */
export async function verifyRange(
  source: HitSource,
  storage: Storage,
  range: TimeRange,
): Promise<VerifyReport> {
  const [counts, stored, untimedStored] = await Promise.all([
    source.counts ? source.counts(range) : null,
    storedCountsPerHour(storage, range),
    storedUntimed(storage, source.id),
  ]);
  const expected = counts?.perHour ?? (await source.countPerHour(range));
  const hours = [...new Set([...expected.keys(), ...stored.rows.keys(), ...stored.quarantined.keys()])].sort(
    (a, b) => a - b,
  );
  const rows = hours.map((h) => ({
    hour: new Date(h).toISOString(),
    source: expected.get(h) ?? 0,
    stored: stored.rows.get(h) ?? 0,
    quarantined: stored.quarantined.get(h) ?? 0,
  }));
  const sum = (k: 'source' | 'stored' | 'quarantined') => rows.reduce((s, r) => s + r[k], 0);
  return {
    hours: rows,
    mismatched: rows.filter((r) => r.source !== r.stored + r.quarantined),
    sourceTotal: sum('source'),
    storedTotal: sum('stored'),
    quarantinedTotal: sum('quarantined'),
    untimed: { source: counts?.untimed ?? null, quarantined: untimedStored },
  };
}
