import { createHash } from 'node:crypto';
import type { StoredEvent } from '../../shared/event/columns.js';
import { HOUR_MS } from '../../shared/event/partition.js';
import {
  MANIFEST_FORMAT,
  ManifestHead,
  ManifestIndex,
  parseManifest,
  type Manifest,
  type ManifestEntry,
} from '../../shared/storage/manifest.js';
import type { ObjectWriter } from '../formats/object-writer.js';
import { gzipLines } from '../formats/gzip-lines.js';
import {
  FOLDERS,
  MANIFEST_HEAD_KEY,
  MANIFEST_INTENT_KEY,
  MANIFEST_PREFIX,
  MANIFESTED_PREFIXES,
  dayOfKey,
  hourOfKey,
  isManifested,
  manifestKey,
  manifestSeqOfKey,
} from '../../shared/layout/layout.js';
import { DelegatingStorage } from '../storage/delegating-storage.js';
import type { ObjectSink, Storage } from '../storage/storage.js';
import { hashObject } from './hash.js';

interface Committed {
  size: number;
  sha256: string;
}

type Details = Partial<Pick<ManifestEntry, 'rows' | 'minTs' | 'maxTs' | 'quarantined' | 'supersedes'>>;

/**
 * The manifest side of a run that holds the lease. Every object committed under a manifested
 * prefix is hashed while it streams out; its entry waits in memory until the run's next
 * checkpoint write or delete, which first writes one manifest with every waiting entry. So the
 * order is always data, then manifest, then checkpoint (or the deletion of superseded objects).
 * A crash in between leaves objects without an entry; the next run rewrites them (they lie past
 * the checkpoint) and records them then, so the store converges.
 */
export class ManifestJournal {
  private readonly committed = new Map<string, Committed>();
  private readonly pending = new Map<string, ManifestEntry>();
  /** Quarantined records per hour slot (ms) this run, told by the quarantine writer. */
  private readonly quarantinedPerHour = new Map<number, number>();
  private readonly sourceCounts = new Map<number, number>();
  private head: { seq: number; sha256: string } | null | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: Storage,
    private readonly run: string,
  ) {}

  /** Called by the storage wrapper when an object under a manifested prefix became visible. */
  noteCommitted(key: string, c: Committed): void {
    this.committed.set(key, c);
    const base = this.pending.get(key);
    this.pending.set(key, { ...(base ?? blankEntry(key)), key, size: c.size, sha256: c.sha256 });
  }

  /** An object found after a crash, recorded as it is. */
  noteRecovered(key: string, c: Committed): void {
    this.pending.set(key, { ...blankEntry(key), ...c, recovered: true });
  }

  /** The rows and bounds of a committed object (after its commit). */
  describe(key: string, details: Details): void {
    const entry = this.pending.get(key);
    if (!entry) return;
    Object.assign(entry, details);
    const hour = hourOfKey(key);
    const dt = dayOfKey(key);
    if (key.startsWith('quarantine/')) {
      if (hour !== null && dt !== null && details.rows != null)
        this.quarantinedPerHour.set(Date.parse(`${dt}T00:00:00Z`) + hour * HOUR_MS, details.rows);
      entry.quarantined = null;
      return;
    }
    if (dt === null) return;
    const day = Date.parse(`${dt}T00:00:00Z`);
    const hours =
      hour === null ? Array.from({ length: 24 }, (_, h) => day + h * HOUR_MS) : [day + hour * HOUR_MS];
    if (entry.quarantined === null && !details.supersedes)
      entry.quarantined = hours.reduce((s, h) => s + (this.quarantinedPerHour.get(h) ?? 0), 0);
    const counts = hours.map((h) => this.sourceCounts.get(h));
    if (counts.every((c) => c !== undefined)) entry.sourceCount = counts.reduce((s, c) => s + (c ?? 0), 0);
  }

  /** The source's per-hour counts as the sync read them (hour start in ms → documents). */
  noteSourceCounts(counts: Map<number, number>): void {
    for (const [h, n] of counts) this.sourceCounts.set(h, n);
  }

  /** Writes one manifest with every waiting entry (none waiting: nothing). Serialised. */
  flush(): Promise<void> {
    const next = this.flushing.catch(() => undefined).then(() => this.write());
    this.flushing = next;
    return next;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    if (this.head === undefined) this.head = await findHead(this.storage);
    const entries = [...this.pending.values()];
    if (this.head === null) entries.unshift(...(await this.adoptExisting()));
    const seq = (this.head?.seq ?? 0) + 1;
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      seq,
      previous: this.head?.sha256 ?? null,
      writtenAt: new Date().toISOString(),
      run: this.run,
      entries,
    };
    const body = Buffer.from(JSON.stringify(manifest, null, 1) + '\n');
    // Create-only: two writers can never both write manifest N (the lease already keeps them apart).
    await this.storage.putIfVersion(manifestKey(seq), body, null);
    const sha256 = createHash('sha256').update(body).digest('hex');
    this.head = { seq, sha256 };
    for (const e of entries) this.pending.delete(e.key);
    const head: ManifestHead = { seq, sha256 };
    await this.storage.put(MANIFEST_HEAD_KEY, JSON.stringify(head) + '\n');
  }

  /** The first manifest of a store that already holds data records that data as found. */
  private async adoptExisting(): Promise<ManifestEntry[]> {
    const adopted: ManifestEntry[] = [];
    for (const prefix of MANIFESTED_PREFIXES) {
      for await (const o of this.storage.list(prefix)) {
        if (this.pending.has(o.key)) continue;
        const found = await hashObject(this.storage, o.key);
        if (found) adopted.push({ ...blankEntry(o.key), ...found, adopted: true });
      }
    }
    return adopted;
  }
}

function blankEntry(key: string): ManifestEntry {
  return {
    key,
    size: 0,
    sha256: '0'.repeat(64),
    rows: null,
    minTs: null,
    maxTs: null,
    sourceCount: null,
    quarantined: null,
  };
}

/**
 * The newest manifest: HEAD.json, then any later manifest a crash wrote before updating HEAD.
 * Without HEAD, the listing. Null when the store has no manifest yet.
 */
export async function findHead(storage: Storage): Promise<{ seq: number; sha256: string } | null> {
  let head: { seq: number; sha256: string } | null = null;
  const pointer = await storage.get(MANIFEST_HEAD_KEY);
  if (pointer) {
    try {
      head = ManifestHead.parse(JSON.parse(Buffer.from(pointer).toString('utf8')));
    } catch {
      head = null;
    }
  }
  if (head === null) {
    let last: number | null = null;
    for await (const o of storage.list(MANIFEST_PREFIX)) last = manifestSeqOfKey(o.key) ?? last;
    if (last === null) return null;
    head = { seq: last, sha256: '' };
  }
  // The pointer's hash is only a hint: the chain continues from the stored manifest's own bytes.
  const body = await storage.get(manifestKey(head.seq));
  if (body) head = { seq: head.seq, sha256: createHash('sha256').update(body).digest('hex') };
  for (;;) {
    const later = await storage.get(manifestKey(head.seq + 1));
    if (!later) return head;
    head = { seq: head.seq + 1, sha256: createHash('sha256').update(later).digest('hex') };
  }
}

/**
 * A storage that keeps the journal: objects under manifested prefixes are hashed as they are
 * written, a checkpoint write (under `state/`) or a delete of data first writes the manifest.
 */
export class ManifestingStorage extends DelegatingStorage {
  readonly journal: ManifestJournal;

  constructor(inner: Storage, run: string) {
    super(inner);
    this.journal = new ManifestJournal(inner, run);
  }

  override async openWrite(key: string): Promise<ObjectSink> {
    if (!isManifested(key)) return this.inner.openWrite(key);
    await this.declare(key);
    const sink = await this.inner.openWrite(key);
    const hash = createHash('sha256');
    let size = 0;
    return {
      write: async (chunk) => {
        hash.update(chunk);
        size += chunk.byteLength;
        await sink.write(chunk);
      },
      commit: async () => {
        await sink.commit();
        this.journal.noteCommitted(key, { size, sha256: hash.digest('hex') });
      },
      abort: () => sink.abort(),
    };
  }

  override async put(key: string, body: Uint8Array | string): Promise<void> {
    if (isManifested(key)) await this.declare(key);
    await this.inner.put(key, body);
    if (isManifested(key)) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      this.journal.noteCommitted(key, {
        size: bytes.byteLength,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
  }

  override async delete(key: string): Promise<void> {
    // A superseded object goes only once the manifest saying so is written.
    if (isManifested(key)) await this.journal.flush();
    await this.inner.delete(key);
  }

  override async putIfVersion(
    key: string,
    body: Uint8Array | string,
    expected: string | null,
  ): Promise<string> {
    // A checkpoint only ever vouches for data whose manifest is written. (The lease itself is
    // renewed through the storage underneath, never through this one.)
    if (key.startsWith(`${FOLDERS.state}/`)) await this.journal.flush();
    return this.inner.putIfVersion(key, body, expected);
  }

  private readonly declared = new Set<string>();

  /**
   * Before the first object of a day is written, the day is added to the intent object: if the
   * run dies before that object's manifest, the next run knows where to look (recover()).
   */
  private async declare(key: string): Promise<void> {
    const day = dayOfKey(key) ?? UNSLOTTED;
    if (this.declared.has(day)) return;
    this.declared.add(day);
    const intent: Intent = { days: [...this.declared].sort() };
    await this.inner.put(MANIFEST_INTENT_KEY, JSON.stringify(intent) + '\n');
  }

  /**
   * After a crash: the objects of the days the crashed run declared that no manifest lists as
   * they are (committed, manifest never written) are recorded as found, marked `recovered`.
   * Called first thing by the run holding the lease; nothing to do after a clean run.
   */
  async recover(): Promise<number> {
    const body = await this.inner.get(MANIFEST_INTENT_KEY);
    if (!body) return 0;
    let days: string[];
    try {
      days = (JSON.parse(Buffer.from(body).toString('utf8')) as Intent).days ?? [];
    } catch {
      days = [];
    }
    const index = await readIndex(this.inner);
    let found = 0;
    for (const prefix of MANIFESTED_PREFIXES) {
      for await (const o of this.inner.list(prefix)) {
        const day = dayOfKey(o.key) ?? UNSLOTTED;
        if (!days.includes(day)) continue;
        const listed = index.objects.get(o.key);
        const now = await hashObject(this.inner, o.key);
        if (!now || (listed && listed.entry.size === now.size && listed.entry.sha256 === now.sha256))
          continue;
        this.journal.noteRecovered(o.key, now);
        found++;
      }
    }
    await this.journal.flush();
    await this.inner.delete(MANIFEST_INTENT_KEY);
    return found;
  }

  /** Writes what is still waiting, then clears the intent (the end of a run, or a failure storage survived). */
  async flush(): Promise<void> {
    await this.journal.flush();
    if (this.declared.size > 0) await this.inner.delete(MANIFEST_INTENT_KEY);
    this.declared.clear();
  }
}

const UNSLOTTED = 'unslotted';

interface Intent {
  days: string[];
}

/** Every manifest read into an index (the chain is verify's business, not checked here). */
async function readIndex(storage: Storage): Promise<ManifestIndex> {
  const index = new ManifestIndex();
  const seqs: number[] = [];
  for await (const o of storage.list(MANIFEST_PREFIX)) {
    const seq = manifestSeqOfKey(o.key);
    if (seq !== null) seqs.push(seq);
  }
  for (const seq of seqs.sort((a, b) => a - b)) {
    const body = await storage.get(manifestKey(seq));
    if (!body) continue;
    try {
      index.add(parseManifest(body));
    } catch {
      // An unreadable manifest is verify's finding; recovery goes on with the others.
    }
  }
  return index;
}

export function withManifests(storage: Storage, run: string): ManifestingStorage {
  return new ManifestingStorage(storage, run);
}

function journalOf(storage: Storage): ManifestJournal | null {
  return storage instanceof ManifestingStorage ? storage.journal : null;
}

/** The sync's per-hour source counts, for the entries of the hours it writes next (issue 15b). */
export function noteSourceCounts(storage: Storage, counts: Map<number, number>): void {
  journalOf(storage)?.noteSourceCounts(counts);
}

/** A quarantine object was committed with this many records. */
export function noteQuarantined(storage: Storage, key: string, records: number): void {
  journalOf(storage)?.describe(key, { rows: records });
}

/**
 * An events writer whose object gets its rows and `ts` bounds (and, for a compacted day, the
 * objects it supersedes and the day's quarantined records) into the manifest entry on close.
 * Storage without a journal (tests of a writer alone): the writer as it is.
 */
export function manifested(
  storage: Storage,
  key: string,
  writer: ObjectWriter,
  options: { supersedes?: string[] } = {},
): ObjectWriter {
  const journal = journalOf(storage);
  if (!journal) return writer;
  let min = Infinity;
  let max = -Infinity;
  return {
    append(event: StoredEvent) {
      if (event.ts < min) min = event.ts;
      if (event.ts > max) max = event.ts;
      return writer.append(event);
    },
    async close() {
      const rows = await writer.close();
      const details: Details = {
        rows,
        minTs: rows > 0 ? new Date(min).toISOString() : null,
        maxTs: rows > 0 ? new Date(max).toISOString() : null,
      };
      if (options.supersedes) {
        details.supersedes = options.supersedes;
        details.quarantined = await quarantinedOfDay(storage, dayOfKey(key));
      }
      journal.describe(key, details);
      return rows;
    },
    abort: () => writer.abort(),
  };
}

/** The quarantine records stored for a day (a compacted day's entry). */
async function quarantinedOfDay(storage: Storage, dt: string | null): Promise<number | null> {
  if (dt === null) return null;
  let n = 0;
  for await (const o of storage.list(`quarantine/dt=${dt}/`))
    for await (const _ of gzipLines(storage, o.key)) n++;
  return n;
}
