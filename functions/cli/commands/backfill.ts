import { formatSummary } from '../../ingest/summary.js';
import { runBackfill } from '../../ingest/sync.js';
import { UsageError, parseRange } from '../options.js';
import { startProgress } from '../progress.js';
import { announceSource, ingestContext, onInterrupt, showProgress, type IngestFlags } from './context.js';

export async function backfillCommand(
  flags: IngestFlags & { from: string; to: string; restart?: boolean },
): Promise<void> {
  const { from, to } = parseRange(flags);
  if (from === undefined || to === undefined) throw new UsageError('backfill needs --from and --to');
  const ctx = ingestContext(flags);
  await announceSource(ctx.source).catch(async (err: unknown) => {
    await ctx.source.close();
    throw err;
  });
  const progress = startProgress('backfill');
  showProgress(progress);
  const detach = onInterrupt(ctx.stop);
  try {
    const summary = await runBackfill(
      { ...ctx, onPage: progress.update, onSlot: progress.update },
      { from, to, restart: flags.restart },
    );
    progress.stop(!summary.stoppedEarly);
    showProgress(null);
    if (summary.resumedFrom) process.stdout.write(`resumed from      ${summary.resumedFrom}\n`);
    process.stdout.write(`${formatSummary(summary)}\n`);
  } finally {
    progress.stop(false);
    showProgress(null);
    detach();
    await ctx.source.close();
  }
}
