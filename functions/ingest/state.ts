import type { Storage } from '../storage/storage.js';

/**
 * A run's checkpoint, kept as one JSON object written with compare-and-swap: two runs cannot
 * both advance it, and it only ever moves after the data it vouches for is written.
 */
export interface SyncState {
  version: 1;
  /** Every hour slot before this instant is sealed: final, never fetched again. ISO-8601. */
  sealedThrough?: string;
  /** Everything before this instant has been read from the source at least once. ISO-8601. */
  syncedThrough?: string;
  /** Backfills: every slot before this instant is done. ISO-8601. */
  doneThrough?: string;
  /** Days whose hour objects must still be compacted into one day object (YYYY-MM-DD). */
  pendingCompaction: string[];
  /**
   * The source's document count per unsealed hour slot when it was last read (ISO hour → count;
   * absent: none): a run re-reads an hour only when the source's count differs (read-plan.ts).
   */
  hourCounts?: Record<string, number>;
  /** Documents without a readable @timestamp: the source's count when last read, and those quarantined (`_index/_id`). */
  untimed?: { count: number; ids: string[] };
  updatedAt?: string;
  lastRun?: Record<string, unknown>;
}

export class StateStore {
  private version: string | null = null;

  constructor(
    private readonly storage: Storage,
    readonly key: string,
  ) {}

  async load(): Promise<SyncState> {
    const found = await this.storage.getVersioned(this.key);
    this.version = found?.version ?? null;
    if (!found) return { version: 1, pendingCompaction: [] };
    let parsed: SyncState;
    try {
      parsed = JSON.parse(Buffer.from(found.body).toString('utf8')) as SyncState;
    } catch {
      throw new Error(`state object ${this.key} is not valid JSON; fix or remove it to start over`);
    }
    return { ...parsed, pendingCompaction: parsed.pendingCompaction ?? [] };
  }

  /** Throws ConcurrentUpdateError when another run wrote the state since this one read it. */
  async save(state: SyncState): Promise<void> {
    const body = JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2) + '\n';
    this.version = await this.storage.putIfVersion(this.key, body, this.version);
  }
}
