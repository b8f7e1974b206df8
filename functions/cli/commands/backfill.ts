import cliProgress from 'cli-progress';
import { HOUR_MS } from '../../../shared/event/partition.js';
import { formatSummary } from '../../ingest/summary.js';
import { runBackfill } from '../../ingest/sync.js';
import { parseInstant } from '../options.js';
import { announceSource, ingestContext, onInterrupt, type IngestFlags } from './context.js';

export async function backfillCommand(
  flags: IngestFlags & { from: string; to: string; restart?: boolean },
): Promise<void> {
  const ctx = ingestContext(flags);
  await announceSource(ctx.source).catch(async (err: unknown) => {
    await ctx.source.close();
    throw err;
  });
  const from = parseInstant('--from', flags.from) as number;
  const to = parseInstant('--to', flags.to) as number;
  const hours = Math.max(1, Math.ceil((to - from) / HOUR_MS));
  const bar = new cliProgress.SingleBar(
    {
      format: 'backfill [{bar}] {percentage}% | {hour} | {events} events | ETA {eta_formatted}',
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(hours, 0, { hour: '', events: 0 });
  const detach = onInterrupt(ctx.stop);
  try {
    const summary = await runBackfill(
      {
        ...ctx,
        onSlot: (slot, s) =>
          bar.update(Math.min(hours, Math.ceil((slot + HOUR_MS - from) / HOUR_MS)), {
            hour: new Date(slot).toISOString().slice(0, 13),
            events: s.eventsRead.toLocaleString('en-US'),
          }),
      },
      { from, to, restart: flags.restart },
    );
    if (!summary.stoppedEarly) bar.update(hours);
    bar.stop();
    if (summary.resumedFrom) process.stdout.write(`resumed from     ${summary.resumedFrom}\n`);
    process.stdout.write(`${formatSummary(summary)}\n`);
  } finally {
    bar.stop();
    detach();
    await ctx.source.close();
  }
}
