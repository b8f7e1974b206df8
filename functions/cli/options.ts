import { parseTimestamp } from '../../shared/normalise/timestamp.js';
import { DEFAULT_OUT, esConfigOf, type Settings } from '../config/settings.js';
import { ElasticsearchSource } from '../sources/elasticsearch/es-source.js';
import { FileSource } from '../sources/file/file-source.js';
import { SampleSource } from '../sources/sample/sample-source.js';
import type { HitSource } from '../sources/source.js';
import { openStorage as openTarget } from '../storage/open-storage.js';
import type { Storage } from '../storage/storage.js';

export { DEFAULT_OUT };

export class UsageError extends Error {}

/** `--source es|file:PATH|sample`; without it, Elasticsearch when CLOSER_ES_URL is set, else the sample. */
export function openSource(
  spec: string | undefined,
  settings: Settings,
  notice: (m: string) => void,
): HitSource {
  const es = esConfigOf(settings);
  const chosen = spec ?? (es ? 'es' : 'sample');
  if (chosen === 'sample') {
    // The feed stops at the run's start: no event is younger than the rows' ingestion time.
    const startedAt = Date.now();
    return new SampleSource({ now: () => startedAt });
  }
  if (chosen.startsWith('file:')) return new FileSource(chosen.slice(5));
  if (chosen === 'es') {
    if (!es)
      throw new UsageError(
        '--source es needs CLOSER_ES_URL (and CLOSER_ES_API_KEY or CLOSER_ES_USERNAME/PASSWORD)',
      );
    return new ElasticsearchSource(es, {
      onNotice: notice,
      retry: {
        onRetry: ({ attempt, delayMs, reason }) =>
          notice(`Elasticsearch ${reason}; retry ${attempt} in ${delayMs} ms`),
      },
    });
  }
  throw new UsageError(`unknown --source ${chosen}: use es, file:PATH or sample`);
}

export function openStorage(out: string | undefined, env: NodeJS.ProcessEnv): Storage {
  return openTarget(out ?? env.CLOSER_OUT ?? DEFAULT_OUT, env);
}

export function parseInstant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === null)
    throw new UsageError(`${name} ${value}: use ISO-8601, e.g. 2026-11-01 or 2026-11-01T06:00Z`);
  return ms;
}

/** `--from`/`--to` as a range: both parsed, and `--from` strictly before `--to` when both are given. */
export function parseRange(flags: { from?: string; to?: string }): {
  from: number | undefined;
  to: number | undefined;
} {
  const from = parseInstant('--from', flags.from);
  const to = parseInstant('--to', flags.to);
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError(
      `--from ${flags.from} is not before --to ${flags.to}: the range is empty (--to is exclusive)`,
    );
  return { from, to };
}

/**
 * DuckDB's memory limit for one command: CLOSER_QUERY_MEMORY_LIMIT, else the command's own
 * default (serve answers many small queries, detect runs one large rule at a time).
 */
export function queryMemoryLimit(env: NodeJS.ProcessEnv, fallback: string): string {
  const limit = env.CLOSER_QUERY_MEMORY_LIMIT ?? fallback;
  if (!/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i.test(limit))
    throw new UsageError(`CLOSER_QUERY_MEMORY_LIMIT ${limit}: a size such as 512MB or 2GB`);
  return limit;
}
