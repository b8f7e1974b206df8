import { loadRedactor } from '../../config/redaction-rules.js';
import { readSettings } from '../../config/settings.js';
import type { Logger } from '../../ingest/log.js';
import type { SyncSummary } from '../../ingest/summary.js';
import { runBackfill, runSync } from '../../ingest/sync.js';
import type { HitSource } from '../../sources/source.js';
import { ConcurrentUpdateError, type Storage } from '../../storage/storage.js';
import { LeaseLostError, TargetBusyError } from '../../ingest/lease.js';
import type { IngestRequest } from './events.js';

export interface IngestDeps {
  storage: Storage;
  source: HitSource;
  log: Logger;
  /** Milliseconds left before the Lambda times out. */
  remainingMs: () => number;
  now?: () => number;
  env: NodeJS.ProcessEnv;
}

export type IngestOutcome =
  | { status: 'done' | 'stopped-early'; summary: SyncSummary; freshnessLagSeconds: number | null }
  | { status: 'lost-race'; message: string };

/**
 * The scheduled ingest, the same core the CLI runs, with a Lambda's time limit. Settings are read
 * by the CLI's schema: one given wrong fails the run with the message the CLI would print.
 */
export async function runIngest(request: IngestRequest, deps: IngestDeps): Promise<IngestOutcome> {
  const settings = readSettings(deps.env);
  const margin = settings.CLOSER_STOP_MARGIN_SECONDS * 1000;
  const deadline = new AbortController();
  const ctx = {
    storage: deps.storage,
    source: deps.source,
    formats: settings.CLOSER_FORMAT,
    redactor: loadRedactor(settings.CLOSER_REDACTION_RULES),
    lookbackMs: settings.CLOSER_LOOKBACK,
    now: deps.now,
    log: deps.log,
    shouldStop: () => deps.remainingMs() < margin,
    stopSignal: deadline.signal,
  };
  // The deadline also applies while a request is outstanding, not only between pages.
  const timer = setTimeout(() => deadline.abort(), Math.max(0, deps.remainingMs() - margin));
  timer.unref();
  try {
    const summary =
      request.kind === 'backfill'
        ? await runBackfill(ctx, { from: request.from, to: request.to, restart: request.restart })
        : await runSync(ctx, { initialLookbackMs: settings.CLOSER_FIRST_WINDOW });
    const now = (deps.now ?? Date.now)();
    const through = summary.syncedThrough ? Date.parse(summary.syncedThrough) : null;
    return {
      status: summary.stoppedEarly ? 'stopped-early' : 'done',
      summary,
      freshnessLagSeconds: through === null ? null : Math.max(0, Math.round((now - through) / 1000)),
    };
  } catch (err) {
    if (
      err instanceof ConcurrentUpdateError ||
      err instanceof TargetBusyError ||
      err instanceof LeaseLostError
    ) {
      return { status: 'lost-race', message: err.message };
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
