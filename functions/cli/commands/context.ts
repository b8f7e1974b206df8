import type { IngestContext } from '../../ingest/sync.js';
import type { Logger } from '../../ingest/log.js';
import type { Progress } from '../progress.js';
import { loadRedactor, openSource, openStorage, parseDurationOption, parseFormats } from '../options.js';
import type { HitSource } from '../../sources/source.js';

export interface IngestFlags {
  source?: string;
  out?: string;
  format?: string;
  lookback?: string;
  redactionRules?: string;
}

export const DEFAULT_LOOKBACK = '3h';

/** While a progress bar is drawn, messages go through it so the bar never overwrites them. */
let progressShown: Progress | null = null;
const say = (line: string) => (progressShown ? progressShown.note(line) : process.stderr.write(`${line}\n`));

export const stderrLogger: Logger = {
  info: (message) => say(message),
  warn: (message) => say(`warning: ${message}`),
};

export function showProgress(progress: Progress | null): void {
  progressShown = progress;
}

/** The run's first line, for a source that connects: what it found there and how it reads. */
export async function announceSource(source: HitSource): Promise<void> {
  if (!source.open) return;
  await source.open();
  stderrLogger.info(`source  ${source.description}`);
}

/** Builds the core's context from flags and CLOSER_* variables; Ctrl-C stops cleanly between pages. */
export function ingestContext(flags: IngestFlags, env = process.env): IngestContext & { stop: () => void } {
  let stopping = false;
  // Flags first: a usage error is reported before any connection is opened.
  const formats = parseFormats(flags.format);
  const lookbackMs = parseDurationOption('--lookback (CLOSER_LOOKBACK)', flags.lookback ?? DEFAULT_LOOKBACK);
  const redactor = loadRedactor(flags.redactionRules, env);
  const storage = openStorage(flags.out, env);
  const ctx = {
    storage,
    source: openSource(flags.source, env, (m) => stderrLogger.warn(m)),
    formats,
    redactor,
    lookbackMs,
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
    say('\ninterrupted: finishing the current page, then stopping (the checkpoint stays valid)');
    stop();
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
