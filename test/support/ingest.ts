import { Redactor } from '../../shared/redaction/index.js';
import type { IngestContext } from '../../functions/ingest/sync.js';
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
