import type { IngestContext } from '../../ingest/sync.js';
import { parseDuration } from '../../ingest/duration.js';
import type { Logger } from '../../ingest/log.js';
import type { HitSource } from '../../sources/source.js';
import { loadRedactor, openSource, openStorage, parseFormats } from '../options.js';

export interface IngestFlags {
  source?: string;
  out?: string;
  format?: string;
  lookback?: string;
  redactionRules?: string;
}

export const DEFAULT_LOOKBACK = '3h';

export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`${message}\n`),
  warn: (message) => process.stderr.write(`warning: ${message}\n`),
};

/** The run's first line, for a source that connects: what it found there and how it reads. */
export async function announceSource(source: HitSource): Promise<void> {
  if (!source.open) return;
  await source.open();
  stderrLogger.info(`source  ${source.description}`);
}

/** Builds the core's context from flags and CLOSER_* variables; Ctrl-C stops cleanly between pages. */
export function ingestContext(flags: IngestFlags, env = process.env): IngestContext & { stop: () => void } {
  let stopping = false;
  const ctx = {
    storage: openStorage(flags.out, env),
    source: openSource(flags.source, env, (m) => stderrLogger.warn(m)),
    formats: parseFormats(flags.format),
    redactor: loadRedactor(flags.redactionRules, env),
    lookbackMs: parseDuration(flags.lookback ?? DEFAULT_LOOKBACK),
    log: stderrLogger,
    shouldStop: () => stopping,
    stop: () => {
      stopping = true;
    },
  };
  return ctx;
}

export function onInterrupt(stop: () => void): () => void {
  const handler = () => {
    process.stderr.write(
      '\ninterrupted: finishing the current page, then stopping (the checkpoint stays valid)\n',
    );
    stop();
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
