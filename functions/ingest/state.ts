import type { Storage } from '../storage/storage.js';

/**
 * A run's checkpoint, kept as one JSON object written with compare-and-swap: two runs cannot
 * both advance it, and it only ever moves after the data it vouches for is written.
 * Every `…Through` is an ISO-8601 instant that every hour slot before it has reached a stage:
 * synced (read from the source and committed at least once), then sealed (final).
 */
export interface SyncState {
  version: 1;
  /** Every hour slot before this instant is sealed: final, never fetched again. */
  sealedThrough?: string;
  /** Every hour slot before this instant was read from the source and committed at least once. */
  syncedThrough?: string;
  /**
   * Days an earlier release recorded as still to fold into one day object (YYYY-MM-DD): folded at
   * the start of the next run, then dropped. No longer written.
   */
  pendingCompaction?: string[];
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
    if (!found) return { version: 1 };
    let parsed: SyncState & { doneThrough?: string };
    try {
      parsed = JSON.parse(Buffer.from(found.body).toString('utf8')) as SyncState;
    } catch {
      throw new Error(`state object ${this.key} is not valid JSON; fix or remove it to start over`);
    }
    // A backfill's checkpoint of an earlier release named its syncedThrough `doneThrough`.
    const { doneThrough, ...state } = parsed;
    return doneThrough !== undefined && state.syncedThrough === undefined
      ? { ...state, syncedThrough: doneThrough }
      : state;
  }

  /** Throws ConcurrentUpdateError when another run wrote the state since this one read it. */
  async save(state: SyncState): Promise<void> {
    const body = JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2) + '\n';
    this.version = await this.storage.putIfVersion(this.key, body, this.version);
  }
}
