import { Redactor } from '../../shared/redaction/index.js';
import { runSync, type IngestContext } from '../../functions/ingest/sync.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import type { HitSource } from '../../functions/sources/source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';

export const HOUR = 3_600_000;

export function ingestContext(
  out: string,
  source: HitSource,
  extra: Partial<IngestContext> = {},
): IngestContext {
  return {
    storage: new LocalFolderStorage(out),
    source,
    formats: ['parquet'],
    redactor: new Redactor(),
    lookbackMs: 3 * HOUR,
    ...extra,
  };
}

/** A sync of the sample source's events from…to into the folder, run at `now`. */
export async function syncSample(dir: string, from: number, to: number, now: number): Promise<void> {
  const source = new SampleSource({ now: () => now });
  await runSync(ingestContext(dir, source, { now: () => now }), { from, to });
}
