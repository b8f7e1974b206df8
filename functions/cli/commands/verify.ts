import { verifyRange } from '../../verify/verify.js';
import { openSource, openStorage, parseInstant } from '../options.js';
import { stderrLogger } from './context.js';

export async function verifyCommand(flags: {
  source?: string;
  out?: string;
  from: string;
  to: string;
}): Promise<void> {
  const source = openSource(flags.source, process.env, (m) => stderrLogger.warn(m));
  const storage = openStorage(flags.out, process.env);
  const range = {
    from: parseInstant('--from', flags.from) as number,
    to: parseInstant('--to', flags.to) as number,
  };
  try {
    const report = await verifyRange(source, storage, range);
    const out: string[] = [];
    out.push(`source ${source.description}`, `target ${storage.location}`);
    out.push(`hours compared  ${report.hours.length}`);
    out.push(`at the source   ${report.sourceTotal}`);
    out.push(`rows stored     ${report.storedTotal}`);
    out.push(`quarantined     ${report.quarantinedTotal}`);
    if (report.mismatched.length === 0) {
      out.push('every hour matches');
    } else {
      out.push(
        `${report.mismatched.length} hour(s) differ:`,
        'hour (UTC)                 source   stored  quarantined',
      );
      for (const h of report.mismatched) {
        out.push(
          `${h.hour}  ${String(h.source).padStart(7)}  ${String(h.stored).padStart(7)}  ${String(h.quarantined).padStart(11)}`,
        );
      }
      process.exitCode = 1;
    }
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await source.close();
  }
}
