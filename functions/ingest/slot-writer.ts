import { createHash } from 'node:crypto';
import { floorHour } from '../../shared/event/partition.js';
import type { StoredEvent } from '../../shared/event/columns.js';
import { normaliseHit, type NormaliseResult, type RawHit } from '../../shared/normalise/normalise.js';
import type { Redactor } from '../../shared/redaction/index.js';
import { MultiFormatWriter } from '../formats/multi-format-writer.js';
import type { ParquetOptions } from '../formats/parquet-writer.js';
import type { Storage } from '../storage/storage.js';
import { dayKey, hourKey, quarantineKey, type Format } from '../../shared/layout/layout.js';
import { QuarantineWriter } from './quarantine.js';
import type { SyncSummary } from './summary.js';

export interface SlotWriterOptions {
  storage: Storage;
  formats: readonly Format[];
  parquet?: ParquetOptions;
  redactor: Redactor;
  /** The source delivers hits sorted by time: copies of one document arrive side by side. */
  ordered: boolean;
  /** For the error when a source breaks its order. */
  sourceDescription: string;
  /** The `ingested_at` of every row written. */
  ingestedAt: number;
  /** Counts go here: rows, slots, days, duplicates, quarantined records. */
  summary: SyncSummary;
  /**
   * A whole day written to its day object (YYYY-MM-DD): every slot's events go into that one
   * object, committed by `end()`. Without it each hour slot has its own object.
   */
  day?: string;
  /** Called after each hour slot is committed (progress bars). */
  onSlot?: (slotStart: number, summary: SyncSummary) => void;
}

/**
 * Turns the hits of consecutive hour slots into stored objects: normalises and redacts each hit,
 * drops copies of a document, quarantines what cannot become a row, and commits each slot's
 * objects (events and quarantine) when the slot ends. Nothing of a slot is visible before it ends;
 * `abort()` leaves what was stored before the slot as it was.
 *
 * `accept` is synchronous unless a row had to wait for I/O: it is called for nearly every event.
 */
export class SlotWriter {
  private slotStart: number | null = null;
  private slotRows = 0;
  private events: MultiFormatWriter | null = null;
  private quarantine: QuarantineWriter | null = null;
  /** Unsorted sources: a fingerprint of each id's first copy in the slot, to tell a copy from a variant. */
  private readonly seen = new Map<string, string>();
  /** Sorted sources: the hits at the current instant, where copies of one document meet. */
  private group: Tied[] = [];
  private groupTs = NaN;

  constructor(private readonly o: SlotWriterOptions) {
    if (o.day !== undefined) this.events = this.newEvents((f) => dayKey(f, o.day as string));
  }

  /** The start of the slot being written; null before the first hit. */
  get slot(): number | null {
    return this.slotStart;
  }

  /**
   * Takes one hit the source placed at `slotTs` (epoch ms). A hit of a later slot ends the current
   * slot first; a hit of an earlier one is an error (the source broke its order).
   */
  accept(hit: RawHit, slotTs: number): void | Promise<void> {
    const hitSlot = floorHour(slotTs);
    if (hitSlot !== this.slotStart) return this.startSlotThenAccept(hit, slotTs, hitSlot);
    const result = normalise(hit, this.o.redactor, this.o.ingestedAt);
    if (!result.ok) return this.quarantined(hit, result.reason);
    const event = result.event;
    if (floorHour(event.ts) !== hitSlot) {
      return this.quarantined(
        hit,
        `@timestamp reads as ${iso(event.ts)} but Elasticsearch placed it at ${iso(slotTs)}`,
      );
    }
    if (this.o.ordered) {
      const wait = slotTs !== this.groupTs ? this.flushGroup() : undefined;
      this.groupTs = slotTs;
      this.group.push({ event, hit });
      return wait;
    }
    const fingerprint = createHash('sha1').update(contentOf(event)).digest('base64');
    const first = this.seen.get(event.event_id);
    if (first !== undefined) {
      this.o.summary.duplicatesDropped++;
      if (first === fingerprint) return;
      this.o.summary.duplicatesDiffering++;
      return this.quarantined(
        hit,
        `_id ${event.event_id} seen again with different content: this later copy (index ${event.es_index}) is kept here, the first one is stored`,
      );
    }
    this.seen.set(event.event_id, fingerprint);
    return this.append(event);
  }

  /** Ends the slot being written: its objects are committed (in day mode, its quarantine only). */
  async endSlot(): Promise<void> {
    const slot = this.slotStart;
    if (slot === null) return;
    await this.flushGroup();
    if (this.slotRows > 0) this.o.summary.slotsWritten++;
    this.slotRows = 0;
    await this.commitSlot();
    this.o.onSlot?.(slot, this.o.summary);
  }

  /** Ends the last slot and, in day mode, commits the day object. */
  async end(): Promise<void> {
    await this.endSlot();
    if (this.o.day !== undefined) await this.commitDay();
  }

  /** Drops every object not yet committed: what is stored stays as it was. */
  async abort(): Promise<void> {
    await this.events?.abort();
    await this.quarantine?.abort();
  }

  /** The commit point of one hour slot: its quarantine object, then (unless day mode) its events. */
  private async commitSlot(): Promise<void> {
    await this.quarantine?.close();
    this.o.summary.quarantined += this.quarantine?.count ?? 0;
    this.quarantine = null;
    if (this.o.day === undefined) await this.commitEvents();
  }

  /** The commit point of a day written whole (day mode): its events object. */
  private async commitDay(): Promise<void> {
    if (this.events && this.events.rows > 0) this.o.summary.daysWritten++;
    await this.commitEvents();
  }

  private async commitEvents(): Promise<void> {
    if (!this.events) return;
    await this.events.commit();
    this.o.summary.rowsWritten += this.events.rows;
    this.events = null;
  }

  private async startSlotThenAccept(hit: RawHit, slotTs: number, hitSlot: number): Promise<void> {
    if (this.slotStart !== null && hitSlot < this.slotStart) {
      throw new Error(`${this.o.sourceDescription} delivered ${iso(slotTs)} after ${iso(this.slotStart)}`);
    }
    await this.endSlot();
    this.slotStart = hitSlot;
    this.quarantine = new QuarantineWriter(this.o.storage, quarantineKey(hitSlot), this.o.redactor);
    if (this.o.day === undefined) this.events = this.newEvents((f) => hourKey(f, hitSlot));
    this.seen.clear();
    this.groupTs = NaN;
    await this.accept(hit, slotTs);
  }

  private newEvents(keyOf: (f: Format) => string): MultiFormatWriter {
    return new MultiFormatWriter(this.o.storage, this.o.formats, keyOf, this.o.parquet);
  }

  private quarantined(hit: RawHit, reason: string): Promise<void> {
    return (this.quarantine as QuarantineWriter).add(hit, reason);
  }

  private append(event: StoredEvent): void | Promise<void> {
    this.slotRows++;
    return (this.events as MultiFormatWriter).append(event);
  }

  private flushGroup(): void | Promise<void> {
    if (this.group.length === 0) return;
    if (this.group.length === 1) {
      const only = (this.group[0] as Tied).event;
      this.group = [];
      return this.append(only);
    }
    return this.flushTies();
  }

  /**
   * Several hits at one instant: copies of one document keep the first index by name, whatever
   * order the reader saw. A copy whose content differs is evidence of something (a re-indexed or
   * altered document): it is counted apart and quarantined with the reason, not silently dropped.
   */
  private async flushTies(): Promise<void> {
    const byId = new Map<string, Tied[]>();
    for (const t of this.group) {
      const copies = byId.get(t.event.event_id);
      if (copies) copies.push(t);
      else byId.set(t.event.event_id, [t]);
    }
    this.group = [];
    for (const id of [...byId.keys()].sort()) {
      const copies = byId.get(id) as Tied[];
      copies.sort((a, b) =>
        a.event.es_index < b.event.es_index ? -1 : a.event.es_index > b.event.es_index ? 1 : 0,
      );
      const kept = copies[0] as Tied;
      for (const other of copies.slice(1)) {
        this.o.summary.duplicatesDropped++;
        if (contentOf(other.event) === contentOf(kept.event)) continue;
        this.o.summary.duplicatesDiffering++;
        await this.quarantined(
          other.hit,
          `_id ${other.event.event_id} seen again with different content: this copy (index ${other.event.es_index}) ` +
            `is kept here, the copy from index ${kept.event.es_index} is stored`,
        );
      }
      await this.append(kept.event);
    }
  }
}

interface Tied {
  event: StoredEvent;
  hit: RawHit;
}

const iso = (ms: number) => new Date(ms).toISOString();

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
