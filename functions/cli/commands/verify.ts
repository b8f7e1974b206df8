import { verifyRange } from '../../verify/verify.js';
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
  const storage = openStorage(flags.out, process.env);
  const source = openSource(flags.source, process.env, (m) => stderrLogger.warn(m));
  try {
    const report = await verifyRange(source, storage, { from, to });
    const out: string[] = [`source          ${source.description}`, `target          ${storage.location}`];
    out.push(
      ...table([
        ['hours compared', n(report.hours.length)],
        ['at the source', n(report.sourceTotal)],
        ['rows stored', n(report.storedTotal)],
        ['quarantined', n(report.quarantinedTotal)],
        [
          'no @timestamp',
          `${report.untimed.source === null ? 'unknown' : n(report.untimed.source)} in the index, ${n(report.untimed.quarantined)} quarantined`,
        ],
      ]),
    );
    // Documents without a readable time belong to no hour: counted apart, in the whole index.
    const untimedMissing = (report.untimed.source ?? 0) - report.untimed.quarantined;
    if (untimedMissing > 0) {
      out.push(
        `${n(untimedMissing)} document(s) without a readable @timestamp not quarantined yet (the next sync does)`,
      );
      process.exitCode = 1;
    }
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
  } finally {
    await source.close();
  }
}
