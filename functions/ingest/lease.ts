import { randomUUID } from 'node:crypto';
import { LEASE_KEY } from '../../shared/layout/layout.js';
import { withManifests } from '../integrity/journal.js';
import { DelegatingStorage } from '../storage/delegating-storage.js';
import { currentOwner, describeOwner, ownerIsGone, type Owner } from '../storage/owner.js';
import { ConcurrentUpdateError, type ObjectSink, type Storage } from '../storage/storage.js';

/** One lease per target (its key is in shared/layout): every run that writes holds it throughout. */
export { LEASE_KEY };

export interface LeaseOptions {
  /** How long a lease stays valid without renewal (default 60 s). */
  ttlMs?: number;
  /** Renewal period while the run works (default a quarter of the TTL). */
  renewEveryMs?: number;
  now?: () => number;
}

interface LeaseRecord extends Owner {
  run: string;
  purpose: string;
  since: string;
  until: string;
  released?: boolean;
}

const DEFAULT_TTL_MS = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** Another run holds the target: this run did nothing. */
export class TargetBusyError extends Error {
  constructor(location: string, holder: string) {
    super(`${location} is in use by another run (${holder}); this run stops without writing anything`);
    this.name = 'TargetBusyError';
  }
}

/** The run lost its lease (it stalled past the expiry and another run took over): it stops at once. */
export class LeaseLostError extends Error {
  constructor(location: string, why: string) {
    super(`this run lost its hold on ${location} (${why}); it stops before changing anything more`);
    this.name = 'LeaseLostError';
  }
}

function describe(record: LeaseRecord): string {
  return `${record.purpose} run by ${describeOwner(record)}, since ${record.since}, held until ${record.until} unless renewed`;
}

function parse(body: Uint8Array): LeaseRecord | null {
  try {
    const r = JSON.parse(Buffer.from(body).toString('utf8')) as LeaseRecord;
    return typeof r === 'object' && r !== null && typeof r.until === 'string' ? r : null;
  } catch {
    return null;
  }
}

/**
 * A lease on the target: an object written with the same conditional writes as the checkpoint
 * (If-None-Match / If-Match on S3, the folder's compare-and-swap locally), with an owner and an
 * expiry, renewed while the run works. A lease is free when it was released, has expired, or its
 * owner process is gone from this machine. Taking a free lease is itself conditional on the
 * version read, so two runs finding the same stale lease cannot both take it.
 */
export class Lease {
  private lost: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private until: number;

  private constructor(
    private readonly storage: Storage,
    private version: string,
    private readonly record: LeaseRecord,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {
    this.until = Date.parse(record.until);
  }

  static async acquire(storage: Storage, purpose: string, options: LeaseOptions = {}): Promise<Lease> {
    const now = options.now ?? Date.now;
    const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    const found = await storage.getVersioned(LEASE_KEY);
    const held = found && parse(found.body);
    if (held && !held.released && Date.parse(held.until) > now() && !ownerIsGone(held)) {
      throw new TargetBusyError(storage.location, describe(held));
    }
    const t = now();
    const record: LeaseRecord = {
      ...currentOwner(),
      run: randomUUID(),
      purpose,
      since: iso(t),
      until: iso(t + ttlMs),
    };
    let version: string;
    try {
      version = await storage.putIfVersion(
        LEASE_KEY,
        JSON.stringify(record, null, 2) + '\n',
        found?.version ?? null,
      );
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const now2 = await storage.getVersioned(LEASE_KEY);
      const winner = now2 && parse(now2.body);
      throw new TargetBusyError(storage.location, winner ? describe(winner) : 'it took the target first');
    }
    const lease = new Lease(storage, version, record, ttlMs, now);
    const every = options.renewEveryMs ?? ttlMs / 4;
    lease.timer = setInterval(() => void lease.renew().catch(() => undefined), every);
    lease.timer.unref();
    return lease;
  }

  get location(): string {
    return this.storage.location;
  }

  /**
   * Called before every destructive step. Renews when less than half the TTL is left, and returns
   * only while at least a quarter is left, so the step finishes before anyone else could take over.
   */
  async check(): Promise<void> {
    if (this.lost) throw new LeaseLostError(this.storage.location, this.lost);
    // A renewal that failed (storage unreachable) is retried by the next check; the step only goes
    // ahead while a quarter of the TTL is still left.
    if (this.until - this.now() < this.ttlMs / 2) await this.renew().catch(() => undefined);
    if (this.lost) throw new LeaseLostError(this.storage.location, this.lost);
    if (this.until - this.now() < this.ttlMs / 4) {
      throw new LeaseLostError(
        this.storage.location,
        `it runs out at ${iso(this.until)} and could not be renewed`,
      );
    }
  }

  /** Serialised with other renewals: one conditional write at a time. */
  renew(): Promise<void> {
    // A failed renewal (a network error) must not poison the next one.
    this.chain = this.chain.catch(() => undefined).then(() => this.write(false));
    return this.chain;
  }

  private async write(release: boolean): Promise<void> {
    if (this.lost) return;
    const t = this.now();
    const record: LeaseRecord = { ...this.record, until: iso(release ? t : t + this.ttlMs) };
    if (release) record.released = true;
    try {
      this.version = await this.storage.putIfVersion(
        LEASE_KEY,
        JSON.stringify(record, null, 2) + '\n',
        this.version,
      );
      this.until = Date.parse(record.until);
    } catch (err) {
      if (!(err instanceof ConcurrentUpdateError)) throw err;
      const found = await this.storage.getVersioned(LEASE_KEY).catch(() => null);
      const other = found && parse(found.body);
      this.lost = other ? `taken over by the ${describe(other)}` : 'the lease object changed';
    }
  }

  /** Gives the target back; a lease already lost is left to its new holder. */
  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain.catch(() => undefined);
    this.chain = this.write(true);
    await this.chain;
  }
}

/**
 * The target as seen by a run that holds the lease: every step that can destroy or replace stored
 * data (publishing an object, a put, a delete, a checkpoint write) checks the lease first, so a
 * run that lost it stops before touching anything.
 */
export class LeasedStorage extends DelegatingStorage {
  constructor(
    inner: Storage,
    private readonly lease: Lease,
  ) {
    super(inner);
  }

  override async openWrite(key: string): Promise<ObjectSink> {
    await this.lease.check();
    const sink = await this.inner.openWrite(key);
    return {
      write: (chunk) => sink.write(chunk),
      commit: async () => {
        try {
          await this.lease.check();
        } catch (err) {
          await sink.abort();
          throw err;
        }
        await sink.commit();
      },
      abort: () => sink.abort(),
    };
  }

  override async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.lease.check();
    await this.inner.put(key, body);
  }

  override async delete(key: string): Promise<void> {
    await this.lease.check();
    await this.inner.delete(key);
  }

  override async putIfVersion(
    key: string,
    body: Uint8Array | string,
    expected: string | null,
  ): Promise<string> {
    await this.lease.check();
    return this.inner.putIfVersion(key, body, expected);
  }
}

/** Runs fn holding the target's lease, with a storage that checks it before every destructive step. */
export async function withLease<T>(
  storage: Storage,
  purpose: string,
  options: LeaseOptions | undefined,
  fn: (storage: Storage, lease: Lease) => Promise<T>,
): Promise<T> {
  const lease = await Lease.acquire(storage, purpose, options);
  // Manifests are written under the lease, like everything else the run writes (functions/integrity).
  const held = withManifests(new LeasedStorage(storage, lease), purpose);
  try {
    await held.recover();
    const result = await fn(held, lease);
    await held.flush();
    return result;
  } catch (err) {
    // Objects committed before the failure still get their manifest entries when storage allows.
    await held.flush().catch(() => undefined);
    throw err;
  } finally {
    await lease.release().catch(() => undefined);
  }
}
