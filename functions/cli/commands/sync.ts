import { formatSummary } from '../../ingest/summary.js';
import { runSync } from '../../ingest/sync.js';
import { parseDurationOption, parseRange } from '../options.js';
import { startProgress } from '../progress.js';
import { ingestContext, onInterrupt, showProgress, type IngestFlags } from './context.js';

export async function syncCommand(
  flags: IngestFlags & { from?: string; to?: string; firstWindow?: string },
): Promise<void> {
  const range = parseRange(flags);
  const initialLookbackMs =
    flags.firstWindow === undefined
      ? undefined
      : parseDurationOption('--first-window (CLOSER_FIRST_WINDOW)', flags.firstWindow, 1);
  const ctx = ingestContext(flags);
  const progress = startProgress('sync');
  showProgress(progress);
  const detach = onInterrupt(ctx.stop);
  try {
    const summary = await runSync(
      { ...ctx, onPage: progress.update, onSlot: progress.update },
      { ...range, initialLookbackMs },
    );
    progress.stop(!summary.stoppedEarly);
    showProgress(null);
    process.stdout.write(`${formatSummary(summary)}\n`);
  } finally {
    progress.stop(false);
    showProgress(null);
    detach();
    await ctx.source.close();
  }
}
