import type { RawHit } from '../../shared/normalise/normalise.js';
import type { TimeRange } from '../../shared/query/model.js';

// Half-open epoch ms, [from, to): one type with the query side's.
export type { TimeRange };

export interface SourceHit {
  hit: RawHit;
  /** Epoch ms the source placed the hit at (Elasticsearch's own sort value); null if it had none. */
  slotTs: number | null;
  /** Set when the source could not even read the record (e.g. a line that is not JSON). */
  rejected?: string;
}

export interface SourceCounts {
  /** Documents per hour slot of the range (slot start → count); hours without any are absent. */
  perHour: Map<number, number>;
  /**
   * Documents in the whole source (not only the range) without a readable @timestamp: missing,
   * null, or a value the index could not parse as a date. No hour slot holds them.
   */
  untimed: number;
}

/**
 * Where events come from: Closer's Elasticsearch, an export file, or the generated sample.
 * Every source delivers hits in ascending hour-slot order, so the sync can finish one hour slot
 * before it starts the next.
 */
export interface HitSource {
  /** Stable name, used to key this source's checkpoint. */
  readonly id: string;
  /** For messages; never contains credentials. */
  readonly description: string;
  /** Hits arrive sorted by slotTs: duplicates of one document are then adjacent. */
  readonly ordered: boolean;
  /**
   * Connects and learns what the source is (Elasticsearch: the server, its version and how it is
   * read); `description` says so afterwards. Optional: sources that need no connection have none.
   */
  open?(): Promise<void>;
  pages(range: TimeRange): AsyncIterable<SourceHit[]>;
  /** The data's own range, for sources that have one (an export file). */
  extent?(): Promise<TimeRange | null>;
  /** Documents per hour slot (slot start → count), for verify. */
  countPerHour(range: TimeRange): Promise<Map<number, number>>;
  /**
   * Per-hour counts over the range and the documents no hour slot holds, in one request where the
   * source can: the sync re-reads only the hours whose count changed. Absent, or null: the source
   * cannot tell, and every hour is read.
   */
  counts?(range: TimeRange): Promise<SourceCounts | null>;
  /**
   * The documents no hour slot holds (no readable @timestamp), for sources whose pages() never
   * deliver them (a range query on @timestamp cannot match them). Delivered with slotTs null and
   * the reason in `rejected`.
   */
  untimedPages?(): AsyncIterable<SourceHit[]>;
  close(): Promise<void>;
}
