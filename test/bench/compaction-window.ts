/**
 * The compaction window: how long a sealed day's day object and its hour objects are both under
 * the partition (from the day object's commit to the last hour object's delete), which is what a
 * reader listing the partition, as Athena does, may count twice. The DuckDB engine reads the
 * manifests instead and never does.
 *
 *   npx tsx test/bench/compaction-window.ts [--out DIR|s3://bucket/prefix] [--days N]
 *
 * S3 targets take CLOSER_S3_ENDPOINT, CLOSER_S3_REGION, CLOSER_S3_FORCE_PATH_STYLE as the CLI does.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runSync } from '../../functions/ingest/sync.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { openStorage } from '../../functions/storage/open-storage.js';
import { Redactor } from '../../shared/redaction/index.js';

const HOUR = 3_600_000;
const { values } = parseArgs({
  options: { out: { type: 'string' }, days: { type: 'string', default: '5' } },
});
const out = values.out ?? (await mkdtemp(path.join(os.tmpdir(), 'compaction-window-')));
const days = Number(values.days);
const now = Date.UTC(2026, 10, 20, 14, 30);
const storage = openStorage(out);
const committedAt = new Map<string, number>();
const windows: number[] = [];
// Written by hours first (a whole sealed day on an empty target would go straight to a day object).
await runSync(
  {
    storage,
    source: new SampleSource({ now: () => now - days * 24 * HOUR }),
    formats: ['parquet'],
    redactor: new Redactor(),
    lookbackMs: days * 24 * HOUR,
    now: () => now - days * 24 * HOUR,
  },
  { initialLookbackMs: days * 24 * HOUR },
);
await runSync({
  storage,
  source: new SampleSource({ now: () => now }),
  formats: ['parquet'],
  redactor: new Redactor(),
  lookbackMs: 3 * HOUR,
  now: () => now,
  pause: async (step, dt) => {
    if (step === 'fold-written') committedAt.set(dt, performance.now());
    if (step === 'hours-deleted') windows.push(performance.now() - (committedAt.get(dt) ?? NaN));
  },
});
windows.sort((a, b) => a - b);
const at = (q: number) => windows[Math.min(windows.length - 1, Math.floor(q * windows.length))] ?? NaN;
process.stdout.write(
  `target            ${storage.location}\n` +
    `days compacted    ${windows.length}\n` +
    `window (ms)       median ${at(0.5).toFixed(0)}, max ${at(1).toFixed(0)}\n`,
);
