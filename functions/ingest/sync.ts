import { createHash } from 'node:crypto';
import { DAY_MS, HOUR_MS, floorDay, floorHour, partitionOf } from '../../shared/event/partition.js';
import type { StoredEvent } from '../../shared/event/columns.js';
import { normaliseHit, type NormaliseResult, type RawHit } from '../../shared/normalise/normalise.js';
import type { Redactor } from '../../shared/redaction/index.js';
import type { ParquetOptions } from '../formats/parquet-writer.js';
import type { HitSource, SourceHit, TimeRange } from '../sources/source.js';
import type { Storage } from '../storage/storage.js';
import { compactDay, repairTarget, type PauseStep } from './compaction.js';
import { withLease, type LeaseOptions } from './lease.js';
import {
  backfillStateKey,
  dayKey,
  hourKey,
  partitionPrefix,
  quarantineKey,
  syncStateKey,
  unslottedQuarantineKey,
  type Format,
} from './layout.js';
import { EventsWriter } from './events-writer.js';
import { silentLogger, type Logger } from './log.js';
import { QuarantineWriter } from './quarantine.js';
import { planReads, readPlanned, recordReads } from './read-plan.js';
import { quarantineUntimed } from './untimed.js';
import { StateStore, type SyncState } from './state.js';
import { formatSpan } from './duration.js';
import { storedThrough } from './stored-through.js';
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
const ceilHour = (ms: number) => Math.ceil(ms / HOUR_MS) * HOUR_MS;

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
  summary.daysCompacted += await repairTarget(ctx.storage, sealBoundary, ctx.parquet, ctx.pause);
  await finishPendingCompactions(ctx, store, state, summary);

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
      const stored = await storedThrough(ctx.storage, ctx.formats);
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
  if (!explicit) await quarantineUntimed(ctx, state, plan, summary);

  if (range) {
    const unslotted = new QuarantineWriter(ctx.storage, unslottedQuarantineKey(ctx.source.id), ctx.redactor);
    try {
      for (const chunk of days(range)) {
        const dt = partitionOf(chunk.from);
        const daySealed = floorDay(chunk.from) + DAY_MS <= sealBoundary;
        // A day written straight to its day object has no hour objects to fold.
        const dayMode = await canWriteDayDirectly(ctx, chunk, sealBoundary);
        if (explicit && daySealed && !dayMode && !state.pendingCompaction.includes(dt)) {
          // Recorded first: a crash before compaction leaves the day to the next run to fold.
          state.pendingCompaction.push(dt);
          await store.save(state);
        }
        const result = await readPlanned(plan, chunk, (part) =>
          ingestChunk(ctx, part, dayMode, unslotted, summary),
        );
        const through = result.complete ? chunk.to : result.doneThrough;
        recordReads(state, plan, chunk.from, through, sealBoundary);
        if (!explicit) state.syncedThrough = iso(Math.min(through, now));
        const sealed = Math.min(through, sealBoundary);
        summary.slotsSealed += Math.max(0, (sealed - chunk.from) / HOUR_MS);
        if (!explicit && sealed > Date.parse(state.sealedThrough ?? iso(0))) {
          state.sealedThrough = iso(sealed);
          summary.sealedThrough = state.sealedThrough;
          if (result.complete && daySealed && !dayMode && !state.pendingCompaction.includes(dt)) {
            state.pendingCompaction.push(dt);
          }
          await ctx.pause?.('checkpoint', dt);
          await store.save(state);
        }
        await finishPendingCompactions(ctx, store, state, summary);
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
 * A past range, day by day, resumable: its own checkpoint records the days done, so the same
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
  const state: SyncState = request.restart ? { version: 1, pendingCompaction: [] } : await store.load();
  if (request.restart) await store.load(); // learn the stored version so the overwrite is conditional
  const sealBoundary = floorHour(now - ctx.lookbackMs);
  summary.daysCompacted += await repairTarget(ctx.storage, sealBoundary, ctx.parquet, ctx.pause);
  const resumedFrom = state.doneThrough ?? null;
  const start = resumedFrom ? Math.max(range.from, Date.parse(resumedFrom)) : range.from;
  const unslotted = new QuarantineWriter(ctx.storage, unslottedQuarantineKey(ctx.source.id), ctx.redactor);
  try {
    for (const chunk of days({ from: start, to: range.to })) {
      const dayMode = await canWriteDayDirectly(ctx, chunk, sealBoundary);
      const result = await ingestChunk(ctx, chunk, dayMode, unslotted, summary);
      const through = result.complete ? chunk.to : result.doneThrough;
      summary.slotsSealed += Math.max(0, (Math.min(through, sealBoundary) - chunk.from) / HOUR_MS);
      if (result.complete && chunk.to <= sealBoundary && floorDay(chunk.from) + DAY_MS <= sealBoundary) {
        if (await compactDay(ctx.storage, partitionOf(chunk.from), ctx.parquet, ctx.pause)) {
          summary.daysCompacted++;
        }
      }
      state.doneThrough = iso(result.complete ? chunk.to : result.doneThrough);
      await store.save(state);
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
  summary.sealedThrough = state.doneThrough ?? null;
  summary.syncedThrough = state.doneThrough ?? null;
  summary.tookMs = Date.now() - started;
  state.lastRun = { ...summary };
  await store.save(state);
  return { ...summary, resumedFrom };
}

async function finishPendingCompactions(
  ctx: IngestContext,
  store: StateStore,
  state: SyncState,
  summary: SyncSummary,
): Promise<void> {
  while (state.pendingCompaction.length > 0) {
    const dt = state.pendingCompaction[0] as string;
    if (await compactDay(ctx.storage, dt, ctx.parquet, ctx.pause)) summary.daysCompacted++;
    state.pendingCompaction.shift();
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
 * Streams one chunk (at most a day) of the source into storage: one object per hour slot, or in
 * day mode one object for the whole day. Quarantine objects are per hour slot either way.
 * Returns how far it got: everything before `doneThrough` is committed when it stops early.
 */
async function ingestChunk(
  ctx: IngestContext,
  range: TimeRange,
  dayMode: boolean,
  unslotted: QuarantineWriter,
  summary: SyncSummary,
): Promise<{ complete: boolean; doneThrough: number }> {
  const log = ctx.log ?? silentLogger;
  const ingestedAt = (ctx.now ?? Date.now)();
  // Unsorted sources: every id of the slot is remembered. Sorted sources deliver copies of one
  // document side by side (same @timestamp), so only the group at the current instant is held;
  // the copy kept is the one from the first index by name, whatever order the reader saw.
  const seen = new Map<string, string>();
  let group: Tied[] = [];
  let groupTs = NaN;
  let slotRows = 0;
  let slot: number | null = null;
  let events: EventsWriter | null = null;
  let quarantine: QuarantineWriter | null = null;
  const newEvents = (keyOf: (f: Format) => string) =>
    new EventsWriter(ctx.storage, ctx.formats, keyOf, ctx.parquet);
  const commitEvents = async () => {
    if (!events) return;
    await events.commit();
    summary.rowsWritten += events.rows;
    events = null;
  };
  const append = (event: StoredEvent): void | Promise<void> => {
    slotRows++;
    return (events as EventsWriter).append(event);
  };
  // Synchronous unless a row had to wait for I/O: called for nearly every event.
  const flushGroup = (): void | Promise<void> => {
    if (group.length === 0) return;
    if (group.length === 1) {
      const only = (group[0] as Tied).event;
      group = [];
      return append(only);
    }
    return flushTies();
  };
  // Several hits at one instant: copies of one document keep the first index by name. A copy
  // whose content differs is evidence of something (a re-indexed or altered document): it is
  // counted apart and quarantined with the reason, not silently dropped.
  const flushTies = async () => {
    const byId = new Map<string, Tied[]>();
    for (const t of group) {
      const copies = byId.get(t.event.event_id);
      if (copies) copies.push(t);
      else byId.set(t.event.event_id, [t]);
    }
    group = [];
    for (const id of [...byId.keys()].sort()) {
      const copies = byId.get(id) as Tied[];
      copies.sort((a, b) =>
        a.event.es_index < b.event.es_index ? -1 : a.event.es_index > b.event.es_index ? 1 : 0,
      );
      const kept = copies[0] as Tied;
      for (const other of copies.slice(1)) {
        summary.duplicatesDropped++;
        if (contentOf(other.event) !== contentOf(kept.event))
          await differingCopy(other.hit, other.event, kept.event);
      }
      await append(kept.event);
    }
  };
  const differingCopy = async (hit: RawHit, dropped: StoredEvent, kept: StoredEvent) => {
    summary.duplicatesDiffering++;
    await (quarantine as QuarantineWriter).add(
      hit,
      `_id ${dropped.event_id} seen again with different content: this copy (index ${dropped.es_index}) ` +
        `is kept here, the copy from index ${kept.es_index} is stored`,
    );
  };
  const endSlot = async () => {
    if (slot === null) return;
    await flushGroup();
    if (slotRows > 0) summary.slotsWritten++;
    slotRows = 0;
    await quarantine?.close();
    summary.quarantined += quarantine?.count ?? 0;
    quarantine = null;
    if (!dayMode) await commitEvents();
    ctx.onSlot?.(slot, summary);
  };
  const abort = async () => {
    await events?.abort();
    await quarantine?.abort();
  };
  if (dayMode) events = newEvents((f) => dayKey(f, partitionOf(range.from)));
  const pages = ctx.source.pages(range)[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await untilStopped(pages.next(), ctx.stopSignal);
      if (next === STOPPED) {
        // The source is still waiting on its request: left behind, never awaited.
        void pages.return?.(undefined)?.catch(() => undefined);
        const doneThrough = dayMode || slot === null ? range.from : slot;
        await abort();
        log.info('stopping at the time limit while waiting for the source', {
          doneThrough: iso(doneThrough),
        });
        return { complete: false, doneThrough };
      }
      if (next.done) break;
      const page = next.value;
      if (ctx.shouldStop?.()) {
        const doneThrough = dayMode || slot === null ? range.from : slot;
        await abort();
        log.info('stopping before the time limit', { doneThrough: iso(doneThrough) });
        return { complete: false, doneThrough };
      }
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
        const hitSlot = floorHour(slotTs);
        if (hitSlot !== slot) {
          if (slot !== null && hitSlot < slot) {
            throw new Error(`${ctx.source.description} delivered ${iso(slotTs)} after ${iso(slot)}`);
          }
          await endSlot();
          slot = hitSlot;
          quarantine = new QuarantineWriter(ctx.storage, quarantineKey(slot), ctx.redactor);
          if (!dayMode) events = newEvents((f) => hourKey(f, hitSlot));
          seen.clear();
          groupTs = NaN;
        }
        const q = quarantine as QuarantineWriter;
        const result = normalise(hit, ctx.redactor, ingestedAt);
        if (!result.ok) {
          await q.add(hit, result.reason);
          continue;
        }
        const event = result.event;
        if (floorHour(event.ts) !== hitSlot) {
          await q.add(
            hit,
            `@timestamp reads as ${iso(event.ts)} but Elasticsearch placed it at ${iso(slotTs)}`,
          );
          continue;
        }
        if (ctx.source.ordered) {
          if (slotTs !== groupTs) {
            const wait = flushGroup();
            if (wait) await wait;
          }
          groupTs = slotTs;
          group.push({ event, hit });
          continue;
        }
        // Unsorted sources: a fingerprint of each id's first copy, to tell a copy from a variant.
        const fingerprint = createHash('sha1').update(contentOf(event)).digest('base64');
        const first = seen.get(event.event_id);
        if (first !== undefined) {
          summary.duplicatesDropped++;
          if (first !== fingerprint) {
            summary.duplicatesDiffering++;
            await q.add(
              hit,
              `_id ${event.event_id} seen again with different content: this later copy (index ${event.es_index}) is kept here, the first one is stored`,
            );
          }
          continue;
        }
        seen.set(event.event_id, fingerprint);
        const wait = append(event);
        if (wait) await wait;
      }
      ctx.onPage?.(slot, summary);
    }
    await endSlot();
    if (dayMode && events && (events as EventsWriter).rows > 0) summary.daysWritten++;
    await commitEvents();
    return { complete: true, doneThrough: range.to };
  } catch (err) {
    await abort();
    throw err;
  }
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

interface Tied {
  event: StoredEvent;
  hit: RawHit;
}

/** A row's content, without what differs between faithful copies (index, time of ingestion). */
function contentOf(event: StoredEvent): string {
  return JSON.stringify(event, (k, v: unknown) => (k === 'es_index' || k === 'ingested_at' ? undefined : v));
}

/** normaliseHit, with a record too deeply nested to walk quarantined instead of failing the run. */
function normalise(hit: RawHit, redactor: Redactor, ingestedAt: number): NormaliseResult {
  try {
    return normaliseHit(hit, { redactor, ingestedAt });
  } catch (err) {
    if (err instanceof RangeError)
      return { ok: false, reason: `cannot be read: ${err.message} (nested too deeply?)` };
    throw err;
  }
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
