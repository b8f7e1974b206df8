import { HOUR_MS } from '../../../shared/event/partition.js';
import type { TimeRange } from '../../../shared/query/model.js';
import { alertJson, runDetections, type DetectionReport, type RaisedAlert } from '../../detect/detect.js';
import { loadRules } from '../../detect/load-rules.js';
import { DuckDbEngine } from '../../query/engines/duckdb.js';
import type { Storage } from '../../storage/storage.js';
import { DEFAULT_OUT, UsageError, openStorage, parseRange, queryMemoryLimit } from '../options.js';
import { table } from './verify.js';

export interface DetectFlags {
  out?: string;
  from?: string;
  to?: string;
  rules?: string;
  json?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The folder DuckDB reads, or a usage error for a bucket (DuckDB here reads no S3). */
export function localFolder(out: string | undefined, env = process.env): string {
  const target = out ?? env.CLOSER_OUT ?? DEFAULT_OUT;
  if (target.startsWith('s3://'))
    throw new UsageError(
      `--out ${target}: detect runs DuckDB over a local folder; for data in S3 the ingest Lambda runs the rules on Athena after every sync`,
    );
  return target;
}

/**
 * Runs the rules over a synced folder with DuckDB and stores the alerts beside the events. Rules
 * that fail are reported (file and reason); the others still run.
 */
export async function detectOnFolder(
  dir: string,
  storage: Storage,
  range: TimeRange,
  rulesDir: string | undefined,
): Promise<DetectionReport> {
  const { rules, errors } = await loadRules(rulesDir);
  // A month of a busy tenant grouped per user or IP needs more than serve's 1 GB per query; the
  // rules run one at a time, so the batch can take more (CLOSER_QUERY_MEMORY_LIMIT bounds it).
  const memoryLimit = queryMemoryLimit(process.env, '3GB');
  // Rules are raw SQL over the events: rollups would not serve them.
  const engine = await DuckDbEngine.open(dir, { memoryLimit, rollups: false });
  try {
    const report = await runDetections(engine, rules, range, { storage });
    report.failures.unshift(...errors.map((e) => ({ file: e.file, message: e.message })));
    return report;
  } finally {
    await engine.close();
  }
}

/** One alert as the JSON line `--json` prints (the same object the Lambda publishes to SNS). */
export function alertLine(a: RaisedAlert): string {
  return JSON.stringify(alertJson(a));
}

export function alertTable(alerts: RaisedAlert[]): string[] {
  return table([
    ['window (UTC)', 'severity', 'technique', 'rule', 'entity', 'events', 'new'],
    ...alerts.map((a) => [
      iso(a.window_start),
      a.severity,
      a.technique,
      a.rule,
      a.entity.length > 40 ? `${a.entity.slice(0, 39)}…` : a.entity,
      String(a.count),
      a.isNew ? 'yes' : '',
    ]),
  ]).map((line) => line.trimEnd());
}

export async function detectCommand(flags: DetectFlags): Promise<void> {
  const parsed = parseRange(flags);
  const to = parsed.to ?? Math.ceil(Date.now() / HOUR_MS) * HOUR_MS;
  const from = parsed.from ?? to - 7 * 24 * HOUR_MS;
  if (from >= to) throw new UsageError('--from must be before --to');
  const dir = localFolder(flags.out);
  const rulesDir = flags.rules ?? process.env.CLOSER_DETECTION_RULES;
  const storage = openStorage(dir, process.env);
  const report = await detectOnFolder(dir, storage, { from, to }, rulesDir);
  for (const f of report.failures) process.stderr.write(`rule skipped: ${f.file}: ${f.message}\n`);
  if (flags.json) {
    for (const a of report.alerts) process.stdout.write(`${alertLine(a)}\n`);
  } else {
    const fresh = report.alerts.filter((a) => a.isNew).length;
    process.stdout.write(
      `${report.rulesRun} rules over ${iso(from)} → ${iso(to)}: ${report.alerts.length} alerts (${fresh} new)\n`,
    );
    if (report.alerts.length) process.stdout.write(`${alertTable(report.alerts).join('\n')}\n`);
  }
  if (report.failures.length) process.exitCode = 1;
}
