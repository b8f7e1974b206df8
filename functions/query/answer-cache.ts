import type { PartialResult } from '../../shared/query/partial.js';

/** A kept answer, with the SQL that computed it (shown in the frame's meta). */
export interface KeptAnswer extends PartialResult {
  executedSql: string;
}

/**
 * Answers over the whole hours of a range, kept between requests: a dashboard refreshed every few
 * seconds (now-30d to now) moves its range by those seconds, so its middle — every whole hour —
 * stays the same while its objects do, and only its ends are asked again (the split a query front
 * end such as Thanos' or Cortex's makes, but exact: the ends are read event by event).
 *
 * A key names the query's partial form, its hours and the identities of the objects they read
 * (QueryEngine.versionOf): a sync that adds or replaces an object changes the key, so a kept answer
 * is never served for data that changed. Least recently used answers go first, within a count of
 * answers and of their size (events' rows, with their bodies, weigh far more than counts').
 */
export class AnswerCache {
  private readonly entries = new Map<string, { answer: KeptAnswer; bytes: number }>();
  private bytes = 0;

  constructor(
    readonly maxEntries = 512,
    /** About this many bytes of values kept in all (an answer over a tenth of it is not kept). */
    readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  get(key: string): KeptAnswer | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.answer;
  }

  set(key: string, answer: KeptAnswer): void {
    const bytes = sizeOf(answer);
    if (bytes > this.maxBytes / 10) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { answer, bytes });
    this.bytes += bytes;
    for (const [k, v] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= v.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** About how many bytes the kept answers hold. */
  get heldBytes(): number {
    return this.bytes;
  }
}

/** An answer's values, about, in bytes: a string by its length, a list by its items, anything else a word. */
function sizeOf(answer: KeptAnswer): number {
  let bytes = answer.executedSql.length;
  for (const row of answer.rows) bytes += valueBytes(row);
  return bytes;
}

function valueBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + v.length;
  if (!Array.isArray(v)) return 8;
  let bytes = 16;
  for (const x of v) bytes += valueBytes(x);
  return bytes;
}
