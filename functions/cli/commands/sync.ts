import { formatSummary } from '../../ingest/summary.js';
import { runSync } from '../../ingest/sync.js';
import type { Storage } from '../../storage/storage.js';
import { parseRange } from '../options.js';
import { DEFAULT_OUT, type Settings } from '../../config/settings.js';
import { alertTable, detectOnFolder } from './detect.js';
import { startProgress } from '../progress.js';
import { announceSource, ingestContext, onInterrupt, showProgress, type IngestFlags } from './context.js';

export async function syncCommand(
  flags: IngestFlags & { from?: string; to?: string; detect?: boolean },
): Promise<void> {
  const range = parseRange(flags);
  const ctx = ingestContext(flags);
  const initialLookbackMs = ctx.settings.CLOSER_FIRST_WINDOW;
  const progress = startProgress('sync');
  showProgress(progress);
  const detach = onInterrupt(ctx.stop);
  try {
    await announceSource(ctx.source);
    const summary = await runSync(
      { ...ctx, onPage: progress.update, onSlot: progress.update },
      { ...range, initialLookbackMs },
    );
    progress.stop(!summary.stoppedEarly);
    showProgress(null);
    process.stdout.write(`${formatSummary(summary)}\n`);
    if (flags.detect !== false && summary.range)
      await detectAfterSync(ctx.settings, ctx.storage, summary.range);
  } finally {
    progress.stop(false);
    showProgress(null);
    detach();
    await ctx.source.close();
  }
}

/** The detection rules over the hours this run wrote; the new alerts follow the summary. */
async function detectAfterSync(
  settings: Settings,
  storage: Storage,
  written: { from: string; to: string },
): Promise<void> {
  const target = settings.CLOSER_OUT ?? DEFAULT_OUT;
  if (target.startsWith('s3://')) {
    process.stdout.write(
      'detections        not run here: for data in S3 the ingest Lambda runs them on Athena\n',
    );
    return;
  }
  const range = { from: Date.parse(written.from), to: Date.parse(written.to) };
  const report = await detectOnFolder(target, storage, range, settings.CLOSER_DETECTION_RULES);
  const fresh = report.alerts.filter((a) => a.isNew);
  process.stdout.write(
    `detections        ${report.rulesRun} rules, ${fresh.length} new alert${fresh.length === 1 ? '' : 's'}${report.failures.length ? `, ${report.failures.length} rule(s) skipped` : ''}\n`,
  );
  for (const f of report.failures) process.stderr.write(`rule skipped: ${f.message}\n`);
  const shown = 15;
  if (fresh.length) process.stdout.write(`${alertTable(fresh.slice(-shown)).join('\n')}\n`);
  if (fresh.length > shown)
    process.stdout.write(
      `… and ${fresh.length - shown} earlier (closer-audit detect --out ${target} lists them)\n`,
    );
}
