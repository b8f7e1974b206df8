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
  close(): Promise<void>;
}
