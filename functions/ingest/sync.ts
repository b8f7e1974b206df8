import { DAY_MS, HOUR_MS, ceilHour, floorDay, floorHour, partitionOf } from '../../shared/event/partition.js';
import type { Redactor } from '../../shared/redaction/index.js';
import type { ParquetOptions } from '../formats/parquet-writer.js';
import type { HitSource, SourceHit, TimeRange } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';
import { CompactionPolicy, type PauseStep } from './compaction.js';
import { noteSourceCounts } from '../integrity/journal.js';
import { withLease, type LeaseOptions } from './lease.js';
import {
  backfillStateKey,
  partitionPrefix,
  syncStateKey,
  unslottedQuarantineKey,
  type Format,
} from '../../shared/layout/layout.js';
import { silentLogger, type Logger } from './log.js';
import { QuarantineWriter } from './quarantine.js';
import { planReads, readPlanned, recordReads } from './read-plan.js';
import { quarantineUntimed } from './untimed.js';
import { StateStore, type SyncState } from './state.js';
import { formatSpan } from '../../shared/time/duration.js';
import { endOfStoredData } from './stored-end.js';
import { SlotWriter } from './slot-writer.js';
import { emptySummary, type SyncSummary } from './summary.js';

export interface IngestContext {
  storage: Storage;
  source: HitSource;
  formats: Format[];
  redactor: Redactor;
  /** Slots younger than this are rewritten on every run; older ones are sealed. */
  lookbackMs: number;
  parquet?: ParquetOptions;
  now?: () => number;
  /** Asked between pages: true means stop now (a Lambda about to time out). */
  shouldStop?: () => boolean;
  /** Aborted at the deadline: also stops a run that is waiting for a page, not only between pages. */
  stopSignal?: AbortSignal;
  log?: Logger;
  /** Called after each hour slot is committed (progress bars). */
  onSlot?: (slotStart: number, summary: SyncSummary) => void;
  /** Called after each page read, with the hour slot being written (progress lines). */
  onPage?: (slotStart: number | null, summary: SyncSummary) => void;
  /** The target's lease (TTL, renewal period): one run at a time writes to a target. */
  lease?: LeaseOptions;
  /** Tests: called between the steps of a fold and before a checkpoint write, to let another run in. */
  pause?: (step: PauseStep, dt: string) => Promise<void>;
}

export interface SyncRequest {
  /** An explicit range: rewritten whole, the checkpoint is left where it is. */
  from?: number;
  to?: number;
  /**
   * Where a first run starts when there is no checkpoint and nothing is stored yet (default 7
   * days back). With data stored, a first run continues after it instead.
   */
  initialLookbackMs?: number;
}

export const DEFAULT_INITIAL_LOOKBACK_MS = 7 * DAY_MS;
const YIELD_EVERY = 256;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * One sync run. Without a range it continues from the checkpoint: every slot younger than the
 * lookback is fetched and rewritten whole (late events are picked up, nothing is duplicated),
 * slots older than the lookback are sealed and their days compacted. Data is always committed
 * before the checkpoint that covers it.
 */
export function runSync(ctx: IngestContext, request: SyncRequest = {}): Promise<SyncSummary> {
  return withLease(ctx.storage, 'sync', ctx.lease, (storage) => syncHeld({ ...ctx, storage }, request));
}

async function syncHeld(ctx: IngestContext, request: SyncRequest): Promise<SyncSummary> {
  const started = Date.now();
  const now = (ctx.now ?? Date.now)();
  const summary = emptySummary(ctx.source.description, ctx.storage.location);
  const store = new StateStore(ctx.storage, syncStateKey(ctx.source.id));
  const state = await store.load();
  const sealBoundary = floorHour(now - ctx.lookbackMs);
  const compaction = new CompactionPolicy(ctx.storage, sealBoundary, ctx.parquet, ctx.pause);
  await repair(compaction, store, state, summary);

  const explicit = request.from !== undefined || request.to !== undefined;
  let range: TimeRange | null;
  if (explicit) {
    const extent =
      request.from === undefined || request.to === undefined ? await ctx.source.extent?.() : null;
    const from = request.from ?? extent?.from;
    const to = request.to ?? extent?.to ?? now;
    if (from === undefined) throw new Error('--to without --from needs a source that knows its own range');
    range = { from: floorHour(from), to: ceilHour(to) };
  } else {
    const extent = (await ctx.source.extent?.()) ?? null;
    let start: number;
    if (state.sealedThrough) {
      start = Date.parse(state.sealedThrough);
      summary.start = `the checkpoint (sealed through ${state.sealedThrough})`;
    } else if (extent) {
      start = floorHour(extent.from);
      summary.start = "the source's first event";
    } else {
      const stored = await endOfStoredData(ctx.storage, ctx.formats);
      const window = request.initialLookbackMs ?? DEFAULT_INITIAL_LOOKBACK_MS;
      if (stored !== null) {
        // Hours still inside the lookback are re-read like on any run.
        start = Math.min(stored, sealBoundary);
        summary.start = `after the data already stored (through ${iso(stored)}); no checkpoint yet`;
      } else {
        start = floorHour(now - window);
        summary.start = `first run: ${formatSpan(window)} back (--first-window, CLOSER_FIRST_WINDOW)`;
      }
    }
    range = { from: start, to: extent ? ceilHour(extent.to) : ceilHour(now) };
  }
  if (range.from >= range.to) range = null;
  summary.range = range && { from: iso(range.from), to: iso(range.to) };
  summary.sealedThrough = state.sealedThrough ?? null;
  // Which hours to read: those whose count at the source changed, and those this run seals.
  const plan = await planReads(ctx.source, state, range, sealBoundary, explicit);
  summary.slotsUnchanged = plan.unchanged;
  // The source's count of each hour when read: its manifest entry carries it.
  if (plan.counts) noteSourceCounts(ctx.storage, plan.counts);
  if (!explicit) await quarantineUntimed(ctx, state, plan, summary);

  if (range) {
    const unslotted = new QuarantineWriter(ctx.storage, unslottedQuarantineKey(ctx.source.id), ctx.redactor);
    try {
      for (const chunk of days(range)) {
        const dt = partitionOf(chunk.from);
        // A day written straight to its day object has no hour objects to fold.
        const dayMode = await canWriteDayDirectly(ctx, chunk, sealBoundary);
        const result = await readPlanned(plan, chunk, (part) =>
          ingestChunk(ctx, part, dayMode, unslotted, summary),
        );
        const through = result.syncedThrough;
        recordReads(state, plan, chunk.from, through, sealBoundary);
        if (!explicit) state.syncedThrough = iso(Math.min(through, now));
        const sealed = Math.min(through, sealBoundary);
        summary.slotsSealed += Math.max(0, (sealed - chunk.from) / HOUR_MS);
        if (!explicit && sealed > Date.parse(state.sealedThrough ?? iso(0))) {
          state.sealedThrough = iso(sealed);
          summary.sealedThrough = state.sealedThrough;
          await ctx.pause?.('checkpoint', dt);
          await store.save(state);
        }
        if (await compaction.afterChunk(chunk, { complete: result.complete, wroteDayObject: dayMode }))
          summary.daysCompacted++;
        if (!result.complete) {
          summary.stoppedEarly = true;
          break;
        }
      }
      await unslotted.close();
    } catch (err) {
      await unslotted.abort();
      throw err;
    }
  }
  summary.slotsSealed = Math.round(summary.slotsSealed);
  // An explicit range seals its own slots: say how far, not the checkpoint it leaves alone.
  if (explicit && range && summary.slotsSealed > 0 && !summary.stoppedEarly)
    summary.sealedThrough = iso(Math.min(range.to, sealBoundary));
  summary.syncedThrough = explicit ? null : (state.syncedThrough ?? null);
  summary.tookMs = Date.now() - started;
  state.lastRun = { ...summary };
  await store.save(state);
  return summary;
}

/**
 * A past range, day by day, resumable: its own checkpoint records how far it got, so the same
 * command after an interruption continues where it stopped.
 */
export function runBackfill(
  ctx: IngestContext,
  request: { from: number; to: number; restart?: boolean },
): Promise<SyncSummary & { resumedFrom: string | null }> {
  return withLease(ctx.storage, 'backfill', ctx.lease, (storage) =>
    backfillHeld({ ...ctx, storage }, request),
  );
}

async function backfillHeld(
  ctx: IngestContext,
  request: { from: number; to: number; restart?: boolean },
): Promise<SyncSummary & { resumedFrom: string | null }> {
  const started = Date.now();
  const now = (ctx.now ?? Date.now)();
  const range = { from: floorHour(request.from), to: ceilHour(request.to) };
  if (range.from >= range.to) throw new Error('backfill needs --from before --to');
  const summary = emptySummary(ctx.source.description, ctx.storage.location);
  summary.range = { from: iso(range.from), to: iso(range.to) };
  const store = new StateStore(ctx.storage, backfillStateKey(ctx.source.id, range.from, range.to));
  const state: SyncState = request.restart ? { version: 1 } : await store.load();
  if (request.restart) await store.load(); // learn the stored version so the overwrite is conditional
  const sealBoundary = floorHour(now - ctx.lookbackMs);
  const compaction = new CompactionPolicy(ctx.storage, sealBoundary, ctx.parquet, ctx.pause);
  await repair(compaction, store, state, summary);
  const resumedFrom = state.syncedThrough ?? null;
  const start = resumedFrom ? Math.max(range.from, Date.parse(resumedFrom)) : range.from;
  const unslotted = new QuarantineWriter(ctx.storage, unslottedQuarantineKey(ctx.source.id), ctx.redactor);
  try {
    for (const chunk of days({ from: start, to: range.to })) {
      const dayMode = await canWriteDayDirectly(ctx, chunk, sealBoundary);
      const result = await ingestChunk(ctx, chunk, dayMode, unslotted, summary);
      summary.slotsSealed += Math.max(
        0,
        (Math.min(result.syncedThrough, sealBoundary) - chunk.from) / HOUR_MS,
      );
      state.syncedThrough = iso(result.syncedThrough);
      await store.save(state);
      if (await compaction.afterChunk(chunk, { complete: result.complete, wroteDayObject: dayMode }))
        summary.daysCompacted++;
      if (!result.complete) {
        summary.stoppedEarly = true;
        break;
      }
    }
    await unslotted.close();
  } catch (err) {
    await unslotted.abort();
    throw err;
  }
  summary.slotsSealed = Math.round(summary.slotsSealed);
  summary.sealedThrough = state.syncedThrough ?? null;
  summary.syncedThrough = state.syncedThrough ?? null;
  summary.tookMs = Date.now() - started;
  state.lastRun = { ...summary };
  await store.save(state);
  return { ...summary, resumedFrom };
}

/**
 * The start of every run: folds what earlier runs left unfolded, including the days a state file
 * of an earlier release still lists as pending (the list is then dropped from the state).
 */
async function repair(
  compaction: CompactionPolicy,
  store: StateStore,
  state: SyncState,
  summary: SyncSummary,
): Promise<void> {
  summary.daysCompacted += await compaction.repair(state.pendingCompaction);
  if (state.pendingCompaction !== undefined) {
    delete state.pendingCompaction;
    await store.save(state);
  }
}

/** The range cut at UTC midnights. */
function* days(range: TimeRange): Iterable<TimeRange> {
  for (let from = range.from; from < range.to;) {
    const to = Math.min(floorDay(from) + DAY_MS, range.to);
    yield { from, to };
    from = to;
  }
}

/**
 * Streams one chunk (at most a day) of the source into storage through a slot writer: one object
 * per hour slot, or in day mode one object for the whole day. Quarantine objects are per hour slot
 * either way. Returns how far it got: everything before `syncedThrough` is committed when it stops
 * early.
 */
async function ingestChunk(
  ctx: IngestContext,
  range: TimeRange,
  dayMode: boolean,
  unslotted: QuarantineWriter,
  summary: SyncSummary,
): Promise<ChunkResult> {
  const log = ctx.log ?? silentLogger;
  const writer = new SlotWriter({
    storage: ctx.storage,
    formats: ctx.formats,
    parquet: ctx.parquet,
    redactor: ctx.redactor,
    ordered: ctx.source.ordered,
    sourceDescription: ctx.source.description,
    ingestedAt: (ctx.now ?? Date.now)(),
    summary,
    onSlot: ctx.onSlot,
    ...(dayMode ? { day: partitionOf(range.from) } : {}),
  });
  const stop = async (why: string): Promise<ChunkResult> => {
    // Only whole slots count: the one being written is dropped and read again by the next run.
    const syncedThrough = dayMode || writer.slot === null ? range.from : writer.slot;
    await writer.abort();
    log.info(why, { syncedThrough: iso(syncedThrough) });
    return { complete: false, syncedThrough };
  };
  const pages = ctx.source.pages(range)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await untilStopped(pages.next(), ctx.stopSignal);
      if (next === STOPPED) {
        // The source is still waiting on its request: left behind, never awaited.
        void pages.return?.(undefined)?.catch(() => undefined);
        return await stop('stopping at the time limit while waiting for the source');
      }
      if (next.done) break;
      const page = next.value;
      if (ctx.shouldStop?.()) return await stop('stopping before the time limit');
      let sinceYield = 0;
      for (let i = 0; i < page.length; i++) {
        const { hit, slotTs, rejected } = page[i] as SourceHit;
        // Let go of each hit once read: the rest of the page stays live, the read part is garbage
        // the next scavenge does not have to copy.
        (page as (SourceHit | null)[])[i] = null;
        summary.eventsRead++;
        // Let the event loop read the next page off the socket while this one is processed: a
        // page held up in the kernel's buffer stalls Elasticsearch, and fetching stops overlapping.
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await yieldToIo();
        }
        if (rejected !== undefined || slotTs === null) {
          await unslotted.add(hit, rejected ?? 'no @timestamp');
          summary.quarantined++;
          continue;
        }
        const wait = writer.accept(hit, slotTs);
        if (wait) await wait;
      }
      ctx.onPage?.(writer.slot, summary);
    }
    await writer.end();
    return { complete: true, syncedThrough: range.to };
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

interface ChunkResult {
  /** The whole chunk was read and committed. */
  complete: boolean;
  /** Every slot before this instant (epoch ms) was read and committed. */
  syncedThrough: number;
}

const STOPPED = Symbol('stopped');

function untilStopped<T>(wait: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof STOPPED> {
  if (!signal) return wait;
  if (signal.aborted) {
    // Left behind: its failure (the source closed under it) must not surface as unhandled.
    wait.catch(() => undefined);
    return Promise.resolve(STOPPED);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
    wait.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * A whole, sealed day that has nothing stored yet is written straight to its day object,
 * skipping hour objects and their compaction. A day with stored objects is always rewritten by
 * hour and merged, so hours the source no longer has (expired indices) keep their rows.
 */
async function canWriteDayDirectly(
  ctx: IngestContext,
  chunk: TimeRange,
  sealBoundary: number,
): Promise<boolean> {
  const day = floorDay(chunk.from);
  if (chunk.from !== day || chunk.to !== day + DAY_MS || chunk.to > sealBoundary) return false;
  const dt = partitionOf(day);
  for (const format of ctx.formats) {
    for await (const _ of ctx.storage.list(partitionPrefix(format, dt))) return false;
  }
  return true;
}
