import { VERIFY_RESULT_KEY, parseVerifyRecord } from '../../shared/status/verify-result.js';
import { DAY_MS, partitionOf } from '../../shared/event/partition.js';
import { compileQuery } from '../../shared/query/compile.js';
import { parseStatusRange, type Status } from '../../shared/status/status.js';
import { gzipLines } from '../formats/gzip-lines.js';
import type { SyncState } from '../ingest/state.js';
import type { Storage } from '../storage/storage.js';
import type { QueryEngine } from './engine.js';

export interface StatusOptions {
  timeoutMs?: number;
  now?: () => number;
  /** Where problems with the state objects are reported (never their content). */
  warn?: (message: string) => void;
}

const SYNC_STATE = /^state\/sync-[^/]+\.json$/;
const QUARANTINE_HOUR = /^quarantine\/dt=(\d{4}-\d{2}-\d{2})\/[^/]+\.ndjson\.gz$/;
const QUARANTINE_UNDATED = /^quarantine\/unslotted\/[^/]+\.ndjson\.gz$/;

const iso = (ms: number) => new Date(ms).toISOString();
const instantOf = (v: unknown): number | null => {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(ms) ? ms : null;
};

/**
 * GET /status's answer, from what the target holds: the sync checkpoints under state/, the last
 * verify (state/verify.json), quarantine objects per day, and rows per day as the engine counts
 * them (so the figure is what every other panel's query sees). Same code for a local folder with
 * DuckDB and for the bucket with Athena.
 */
export class StatusReader {
  constructor(
    private readonly storage: Storage,
    private readonly engine: QueryEngine,
    private readonly options: StatusOptions = {},
  ) {}

  /** The API's GET /status: `?from=&to=` checked (StatusRangeError names the one at fault), then read. */
  route(): (query: URLSearchParams, signal?: AbortSignal) => Promise<Status> {
    return (query, signal) => this.read(parseStatusRange(query, (this.options.now ?? Date.now)()), signal);
  }

  async read(range: { from: number; to: number }, signal?: AbortSignal): Promise<Status> {
    const now = (this.options.now ?? Date.now)();
    // Only keys a listing showed are read: in the bucket, a GET of a missing key is refused (403,
    // not 404) to a role that may list only some prefixes, as the query role may.
    const stateKeys: string[] = [];
    for await (const { key } of this.storage.list('state/')) stateKeys.push(key);
    const [checkpoint, lastVerify, rows, quarantine] = await Promise.all([
      this.newestCheckpoint(stateKeys),
      stateKeys.includes(VERIFY_RESULT_KEY) ? this.lastVerify() : null,
      this.rowsPerDay(range, signal),
      this.quarantinePerDay(range),
    ]);
    const sealed = instantOf(checkpoint?.sealedThrough);
    const synced = instantOf(checkpoint?.syncedThrough) ?? sealed;
    const lastRun = checkpoint?.lastRun ? instantOf(checkpoint.updatedAt) : null;
    const days: Status['days'] = [];
    for (let d = range.from; d < range.to; d += DAY_MS) {
      const dt = partitionOf(d);
      days.push({ day: dt, rows: rows.get(dt) ?? 0, quarantined: quarantine.perDay.get(dt) ?? 0 });
    }
    return {
      now: iso(now),
      sealedThrough: sealed === null ? null : iso(sealed),
      syncedThrough: synced === null ? null : iso(synced),
      lastRunAt: lastRun === null ? null : iso(lastRun),
      freshnessLagSeconds: synced === null ? null : Math.max(0, Math.round((now - synced) / 1000)),
      lastVerify,
      range: { from: iso(range.from), to: iso(range.to) },
      days,
      quarantinedUndated: quarantine.undated,
    };
  }

  /**
   * The checkpoint of the sync that keeps the target current, when several sources synced into it
   * (sample, a file, Elasticsearch): the one that has read furthest; one-off `sync --from/--to`
   * runs (no syncedThrough) only count when there is nothing else.
   */
  private async newestCheckpoint(stateKeys: string[]): Promise<SyncState | null> {
    let best: SyncState | null = null;
    const rank = (s: SyncState | null): [number, number] => [
      instantOf(s?.syncedThrough) ?? -1,
      instantOf(s?.updatedAt) ?? -1,
    ];
    for (const key of stateKeys) {
      if (!SYNC_STATE.test(key)) continue;
      const body = await this.storage.get(key);
      if (!body) continue;
      let state: SyncState;
      try {
        state = JSON.parse(Buffer.from(body).toString('utf8')) as SyncState;
      } catch {
        this.options.warn?.(`status: ${key} is not valid JSON; left out`);
        continue;
      }
      const [a, b] = [rank(state), rank(best)];
      if (best === null || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1])) best = state;
    }
    return best;
  }

  private async lastVerify(): Promise<Status['lastVerify']> {
    const body = await this.storage.get(VERIFY_RESULT_KEY);
    if (!body) return null;
    const record = parseVerifyRecord(body);
    if (!record) {
      this.options.warn?.(`status: ${VERIFY_RESULT_KEY} is not a verify record; left out`);
      return null;
    }
    const v = record.last;
    const at = (s: string | undefined) => (s === undefined ? undefined : iso(Date.parse(s)));
    return {
      kind: v.kind,
      at: iso(Date.parse(v.at)),
      ok: v.ok,
      ...(v.from ? { from: at(v.from) } : {}),
      ...(v.to ? { to: at(v.to) } : {}),
    };
  }

  /** The compiler's day-wide time series: the same SQL (and partition pruning) as any panel's. */
  private async rowsPerDay(
    range: { from: number; to: number },
    signal?: AbortSignal,
  ): Promise<Map<string, number>> {
    const table = await this.engine.tableFor(range);
    const compiled = compileQuery({ type: 'timeseries', interval: '1d' }, range, {
      dialect: this.engine.dialect,
      table,
    });
    const result = await this.engine.run(compiled.sql, compiled.params, {
      signal,
      timeoutMs: this.options.timeoutMs,
    });
    const out = new Map<string, number>();
    for (const [time, n] of result.rows) out.set(partitionOf(Number(time)), Number(n));
    return out;
  }

  /**
   * Quarantine records per day (one gzip'd NDJSON object per hour slot), and those with no usable
   * time. Quarantine holds only what could not be stored, so reading it whole stays small.
   */
  private async quarantinePerDay(range: {
    from: number;
    to: number;
  }): Promise<{ perDay: Map<string, number>; undated: number }> {
    const perDay = new Map<string, number>();
    let undated = 0;
    const [first, last] = [partitionOf(range.from), partitionOf(range.to - 1)];
    for await (const { key } of this.storage.list('quarantine/')) {
      const dated = QUARANTINE_HOUR.exec(key);
      const dt = dated?.[1];
      if (dt !== undefined && (dt < first || dt > last)) continue;
      if (dt === undefined && !QUARANTINE_UNDATED.test(key)) continue;
      let n = 0;
      for await (const _line of gzipLines(this.storage, key)) n++;
      if (dt === undefined) undated += n;
      else perDay.set(dt, (perDay.get(dt) ?? 0) + n);
    }
    return { perDay, undated };
  }
}
