import { VERIFY_STATE_KEY, type VerifyRecord } from '../../../shared/status/status.js';
import type { Storage } from '../../storage/storage.js';
import { verifyRange } from '../../verify/verify.js';
import { readSettings } from '../../config/settings.js';
import { UsageError, openSource, openStorage, parseRange } from '../options.js';
import { stderrLogger } from './context.js';

const n = (v: number) => v.toLocaleString('en-US');

/** Rows of cells as a table: the first column left-aligned, numbers right-aligned. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  '),
  );
}

export async function verifyCommand(flags: {
  source?: string;
  out?: string;
  from: string;
  to: string;
}): Promise<void> {
  const { from, to } = parseRange(flags);
  if (from === undefined || to === undefined) throw new UsageError('verify needs --from and --to');
  const settings = readSettings(process.env, { CLOSER_OUT: flags.out });
  const storage = openStorage(settings.CLOSER_OUT, process.env);
  const source = openSource(flags.source, settings, (m) => stderrLogger.warn(m));
  try {
    const report = await verifyRange(source, storage, { from, to });
    const out: string[] = [`source          ${source.description}`, `target          ${storage.location}`];
    out.push(
      ...table([
        ['hours compared', n(report.hours.length)],
        ['at the source', n(report.sourceTotal)],
        ['rows stored', n(report.storedTotal)],
        ['quarantined', n(report.quarantinedTotal)],
      ]),
    );
    if (report.hours.length === 0) {
      // Nothing on either side: no evidence either way, so no verdict of success.
      out.push(
        `nothing to compare: neither the source nor ${storage.location} holds events from ${flags.from} to ${flags.to}`,
      );
      process.exitCode = 1;
    } else if (report.mismatched.length === 0) {
      out.push(`every hour matches (${n(report.hours.length)} compared)`);
    } else {
      out.push(`${n(report.mismatched.length)} hour(s) differ:`);
      out.push(
        ...table([
          ['hour (UTC)', 'source', 'stored', 'quarantined', 'difference'],
          ...report.mismatched.map((h) => [
            h.hour,
            n(h.source),
            n(h.stored),
            n(h.quarantined),
            n(h.source - h.stored - h.quarantined),
          ]),
        ]),
      );
      process.exitCode = 1;
    }
    process.stdout.write(out.join('\n') + '\n');
    // The last result, for GET /status and Grafana's Data health dashboard.
    const record: VerifyRecord = {
      kind: 'source',
      at: new Date().toISOString(),
      ok: report.hours.length > 0 && report.mismatched.length === 0,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      hoursCompared: report.hours.length,
      hoursDiffering: report.mismatched.length,
    };
    await recordResult(storage, record);
  } finally {
    await source.close();
  }
}

/**
 * Keeps the result where GET /status finds it, in a target a sync wrote (it has state/): a mistyped
 * --out gets no folder made for it. Best effort: a verify with read-only credentials still
 * reports, and exits with its own verdict.
 */
async function recordResult(storage: Storage, record: VerifyRecord): Promise<void> {
  try {
    for await (const _ of storage.list('state/')) {
      await storage.put(VERIFY_STATE_KEY, JSON.stringify(record, null, 2) + '\n');
      return;
    }
  } catch (err) {
    stderrLogger.warn(
      `verify: the result was not recorded in ${VERIFY_STATE_KEY} (${(err as Error).message.split('\n')[0]})`,
    );
  }
}
