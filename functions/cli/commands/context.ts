import type { IngestContext } from '../../ingest/sync.js';
import type { Logger } from '../../ingest/log.js';
import type { Progress } from '../progress.js';
import { loadRedactor } from '../../config/redaction-rules.js';
import { readSettings, type Settings } from '../../config/settings.js';
import { openSource, openStorage } from '../options.js';
import type { HitSource } from '../../sources/source.js';

export interface IngestFlags {
  source?: string;
  out?: string;
  format?: string;
  lookback?: string;
  redactionRules?: string;
  firstWindow?: string;
  rules?: string;
}

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
export function ingestContext(
  flags: IngestFlags,
  env = process.env,
): IngestContext & { stop: () => void; settings: Settings } {
  let stopping = false;
  // Settings first: one given wrong is reported before any connection is opened.
  const settings = readSettings(env, {
    CLOSER_OUT: flags.out,
    CLOSER_FORMAT: flags.format,
    CLOSER_LOOKBACK: flags.lookback,
    CLOSER_FIRST_WINDOW: flags.firstWindow,
    CLOSER_REDACTION_RULES: flags.redactionRules,
    CLOSER_DETECTION_RULES: flags.rules,
  });
  const redactor = loadRedactor(settings.CLOSER_REDACTION_RULES);
  const storage = openStorage(settings.CLOSER_OUT, env);
  const ctx = {
    settings,
    storage,
    source: openSource(flags.source, settings, (m) => stderrLogger.warn(m)),
    formats: settings.CLOSER_FORMAT,
    redactor,
    lookbackMs: settings.CLOSER_LOOKBACK,
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
