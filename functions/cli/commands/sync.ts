import { formatSummary } from '../../ingest/summary.js';
import { runSync } from '../../ingest/sync.js';
import { parseInstant } from '../options.js';
import { announceSource, ingestContext, onInterrupt, type IngestFlags } from './context.js';

export async function syncCommand(flags: IngestFlags & { from?: string; to?: string }): Promise<void> {
  const ctx = ingestContext(flags);
  const detach = onInterrupt(ctx.stop);
  try {
    await announceSource(ctx.source);
    const summary = await runSync(ctx, {
      from: parseInstant('--from', flags.from),
      to: parseInstant('--to', flags.to),
    });
    process.stdout.write(`${formatSummary(summary)}\n`);
  } finally {
    detach();
    await ctx.source.close();
  }
}
