import { HOUR_MS } from '../../shared/event/partition.js';
import type { HitSource, TimeRange } from '../sources/source.js';
import type { SyncState } from './state.js';

/**
 * Which hours a scheduled run reads. Every run used to re-read each hour younger than the lookback
 * whole; now the source's per-hour counts (one aggregation request) are compared with the counts
 * recorded when each hour was last read, and only an hour whose count differs is read again, plus
 * every hour once more in the run that seals it (a deletion and an insertion in one hour leave its
 * count as it was: that final read catches them).
 */
export interface ReadPlan {
  /**
   * The source's documents per hour slot when the plan was made (slot start → count; absent: 0),
   * or null when the source cannot count (then every hour is read). What a manifest records as the
   * source's count for an hour when it was read.
   */
  counts: Map<number, number> | null;
  /** Documents at the source without a readable @timestamp (null: not asked, or unknown). */
  untimed: number | null;
  /** Hour slots to read; null: all of them. */
  read: Set<number> | null;
  /** Hour slots of the range left unread: unchanged since they were last read. */
  unchanged: number;
}

export const READ_ALL: ReadPlan = { counts: null, untimed: null, read: null, unchanged: 0 };

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The plan for a run over `range` (hour-aligned). An explicit range is rewritten whole: no plan.
 * `sealBoundary`: hours before it are sealed by this run, so they are read now whatever their count.
 */
export async function planReads(
  source: HitSource,
  state: SyncState,
  range: TimeRange | null,
  sealBoundary: number,
  explicit: boolean,
): Promise<ReadPlan> {
  if (explicit || !range || !source.counts) return READ_ALL;
  const found = await source.counts(range);
  if (!found) return READ_ALL;
  const recorded = state.hourCounts ?? {};
  const read = new Set<number>();
  let unchanged = 0;
  for (let h = range.from; h < range.to; h += HOUR_MS) {
    const now = found.perHour.get(h) ?? 0;
    if (h < sealBoundary || now !== (recorded[iso(h)] ?? 0)) read.add(h);
    else unchanged++;
  }
  return { counts: found.perHour, untimed: found.untimed, read, unchanged };
}

/** The parts of `chunk` to read, as runs of consecutive planned hours. */
export function partsToRead(plan: ReadPlan, chunk: TimeRange): TimeRange[] {
  if (!plan.read) return [chunk];
  const parts: TimeRange[] = [];
  for (let h = chunk.from; h < chunk.to; h += HOUR_MS) {
    if (!plan.read.has(h)) continue;
    const last = parts[parts.length - 1];
    if (last && last.to === h) last.to = Math.min(h + HOUR_MS, chunk.to);
    else parts.push({ from: h, to: Math.min(h + HOUR_MS, chunk.to) });
  }
  return parts;
}

export interface ChunkResult {
  complete: boolean;
  /** Every hour slot before it is committed. */
  syncedThrough: number;
}

/**
 * Reads the planned parts of one chunk with `ingest` (the sync's slot loop). Hours left out are
 * done already; a part that stops early stops the chunk there. Sealed hours are always read, so a
 * sealed day written whole to its day object is always read whole (one part).
 */
export async function readPlanned(
  plan: ReadPlan,
  chunk: TimeRange,
  ingest: (part: TimeRange) => Promise<ChunkResult>,
): Promise<ChunkResult> {
  for (const part of partsToRead(plan, chunk)) {
    const result = await ingest(part);
    if (!result.complete) return result;
  }
  return { complete: true, syncedThrough: chunk.to };
}

/**
 * After the hours of [from, through) are committed: their counts as planned go into the state
 * (saved with the next checkpoint, after the data), and counts of sealed hours are dropped. A count
 * taken before the read can only be lower than what was read (events arriving meanwhile): the next
 * run then reads that hour once more, never less.
 */
export function recordReads(
  state: SyncState,
  plan: ReadPlan,
  from: number,
  through: number,
  sealBoundary: number,
): void {
  if (!plan.counts && !state.hourCounts) return;
  const counts: Record<string, number> = {};
  for (const [hour, n] of Object.entries(state.hourCounts ?? {})) {
    if (Date.parse(hour) >= sealBoundary) counts[hour] = n;
  }
  for (let h = from; h < through; h += HOUR_MS) {
    if (h < sealBoundary || (plan.read && !plan.read.has(h))) continue;
    // Without counts (an explicit range, a source that cannot count) the next run reads it again.
    const n = plan.counts ? (plan.counts.get(h) ?? 0) : undefined;
    if (n) counts[iso(h)] = n;
    else if (n === undefined) counts[iso(h)] = -1;
    else delete counts[iso(h)];
  }
  state.hourCounts = counts;
}
