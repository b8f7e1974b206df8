import type { PartialResult } from '../../shared/query/partial.js';

/** A kept answer, with the SQL that computed it (shown in the frame's meta). */
export interface KeptAnswer extends PartialResult {
  executedSql: string;
}

/**
 * Counting answers over the whole hours of a range, kept between requests: a dashboard refreshed
 * every few seconds (now-30d to now) moves its range by those seconds, so its middle — every whole
 * hour — stays the same while its objects do, and only its ends are asked again (the split a
 * query front end such as Thanos' or Cortex's makes, but exact: the ends are read event by event).
 *
 * A key names the query's partial form, its hours and the identities of the objects they read
 * (QueryEngine.versionOf): a sync that adds or replaces an object changes the key, so a kept answer
 * is never served for data that changed. Least recently used answers go first, within a count of
 * answers and of rows.
 */
export class AnswerCache {
  private readonly entries = new Map<string, KeptAnswer>();
  private rows = 0;

  constructor(
    readonly maxEntries = 512,
    /** Rows kept in all (an answer larger than a tenth of it is not kept). */
    readonly maxRows = 200_000,
  ) {}

  get(key: string): KeptAnswer | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: KeptAnswer): void {
    if (value.rows.length > this.maxRows / 10) return;
    const old = this.entries.get(key);
    if (old) {
      this.rows -= old.rows.length;
      this.entries.delete(key);
    }
    this.entries.set(key, value);
    this.rows += value.rows.length;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.rows <= this.maxRows) break;
      this.entries.delete(k);
      this.rows -= v.rows.length;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
