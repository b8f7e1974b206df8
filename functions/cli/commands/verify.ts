import { verifyIntegrity } from '../../integrity/verify-integrity.js';
import { recordVerifyResult } from '../../integrity/verify-record.js';
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
  from?: string;
  to?: string;
  integrity?: boolean;
}): Promise<void> {
  const { from, to } = parseRange(flags);
  if (flags.integrity) {
    if (flags.source !== undefined)
      throw new UsageError('--integrity checks the stored objects only: it takes no --source');
    await integrityCommand(openStorage(flags.out, process.env), from, to);
    return;
  }
  if (from === undefined || to === undefined) throw new UsageError('verify needs --from and --to');
  const settings = readSettings(process.env, { CLOSER_OUT: flags.out });
  const storage = openStorage(settings.CLOSER_OUT, process.env);
  const source = openSource(flags.source, settings, (m) => stderrLogger.warn(m));
  try {
    const started = Date.now();
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
    const ok = report.hours.length > 0 && report.mismatched.length === 0;
    await recordVerifyResult(
      storage,
      {
        kind: 'source',
        at: new Date().toISOString(),
        ok,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        tookMs: Date.now() - started,
        summary:
          report.hours.length === 0
            ? 'nothing to compare'
            : ok
              ? `every hour matches (${n(report.hours.length)} compared)`
              : `${n(report.mismatched.length)} of ${n(report.hours.length)} hour(s) differ`,
        hoursCompared: report.hours.length,
        hoursDiffering: report.mismatched.length,
        sourceTotal: report.sourceTotal,
        storedTotal: report.storedTotal,
        quarantinedTotal: report.quarantinedTotal,
      },
      (m) => stderrLogger.warn(m),
    );
  } finally {
    await source.close();
  }
}

/** `verify --integrity`: the store against its manifests; every problem named, one per line. */
async function integrityCommand(
  storage: Storage,
  from: number | undefined,
  to: number | undefined,
): Promise<void> {
  const report = await verifyIntegrity(storage, { from, to });
  const seconds = report.tookMs / 1000;
  const mb = report.bytesChecked / 1e6;
  const out: string[] = [`target             ${storage.location}`];
  if (from !== undefined || to !== undefined)
    out.push(
      `days               ${from === undefined ? 'the first' : new Date(from).toISOString().slice(0, 10)} → ${to === undefined ? 'the last' : new Date(to - 1).toISOString().slice(0, 10)} (the manifest chain is checked whole)`,
    );
  out.push(
    ...table([
      ['manifests checked', n(report.manifestsChecked)],
      ['objects checked', n(report.objectsChecked)],
      ['bytes checked', `${n(report.bytesChecked)} (${mb.toFixed(1)} MB)`],
      ['time taken', `${n(report.tookMs)} ms (${seconds > 0 ? (mb / seconds).toFixed(1) : '—'} MB/s)`],
    ]),
  );
  if (report.supersededPresent > 0)
    out.push(
      `${n(report.supersededPresent)} superseded hour object(s) still there: a compaction the next run finishes`,
    );
  const nothing =
    report.manifestsChecked === 0 && report.objectsChecked === 0 && report.problems.length === 0;
  if (nothing) {
    out.push(`nothing to verify: ${storage.location} holds no manifests and no objects`);
  } else if (report.problems.length === 0) {
    out.push(
      `every object matches its manifest entry; the chain of ${n(report.manifestsChecked)} manifest(s) holds`,
    );
  } else {
    out.push(`${n(report.problems.length)} problem(s):`);
    out.push(...table(report.problems.map((p) => [p.kind, p.key, p.detail])).map((l) => l.trimEnd()));
  }
  process.stdout.write(out.join('\n') + '\n');
  const ok = !nothing && report.problems.length === 0;
  if (!ok) process.exitCode = 1;
  const count = (k: string) => report.problems.filter((p) => p.kind === k).length;
  await recordVerifyResult(
    storage,
    {
      kind: 'integrity',
      at: new Date().toISOString(),
      ok,
      from: from === undefined ? null : new Date(from).toISOString(),
      to: to === undefined ? null : new Date(to).toISOString(),
      tookMs: report.tookMs,
      summary: nothing
        ? 'nothing to verify'
        : ok
          ? `${n(report.objectsChecked)} objects match their manifests`
          : `${n(report.problems.length)} problem(s): ${report.problems
              .slice(0, 3)
              .map((p) => `${p.kind} ${p.key}`)
              .join(', ')}${report.problems.length > 3 ? ', …' : ''}`,
      objectsChecked: report.objectsChecked,
      bytesChecked: report.bytesChecked,
      manifestsChecked: report.manifestsChecked,
      changed: count('changed'),
      vanished: count('vanished'),
      unlisted: count('unlisted'),
      chainBreaks: count('chain'),
    },
    (m) => stderrLogger.warn(m),
  );
}
