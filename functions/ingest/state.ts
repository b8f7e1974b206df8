import { z } from 'zod';
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

const instant = z.iso.datetime({ offset: true, message: 'not an ISO-8601 instant' });

/**
 * The state file as read back: the fields a run relies on are checked; fields a newer release
 * added pass through untouched, so a rollback does not lose them.
 */
const SyncStateSchema = z.looseObject({
  version: z.literal(1, { message: 'unknown state version (expected 1)' }),
  sealedThrough: instant.optional(),
  syncedThrough: instant.optional(),
  doneThrough: instant.optional(),
  pendingCompaction: z
    .array(z.iso.date({ message: 'not a YYYY-MM-DD day' }), { message: 'not a list of days' })
    .default([]),
  updatedAt: instant.optional(),
  lastRun: z.record(z.string(), z.unknown(), { message: 'not an object' }).optional(),
  hourCounts: z
    .record(instant, z.number().int().min(-1), { message: 'not a map of ISO hours to counts' })
    .optional(),
  untimed: z
    .object({ count: z.number().int().min(0), ids: z.array(z.string()) }, { message: 'not {count, ids}' })
    .optional(),
});

/** A state file that cannot be trusted: its key and the field at fault, in one line. */
export class StateFileError extends Error {
  constructor(key: string, problem: string) {
    super(`state object ${key}: ${problem}; fix or remove it to start over`);
    this.name = 'StateFileError';
  }
}

export function parseSyncState(key: string, text: string): SyncState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StateFileError(key, 'not valid JSON');
  }
  const parsed = SyncStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : '(the object)';
    throw new StateFileError(key, `${field}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data as SyncState;
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
    const parsed = parseSyncState(this.key, Buffer.from(found.body).toString('utf8'));
    // A backfill's checkpoint of an earlier release named its syncedThrough `doneThrough`.
    const { doneThrough, ...state } = parsed as SyncState & { doneThrough?: string };
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
