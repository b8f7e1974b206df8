import { readFileSync } from 'node:fs';
import {
  DEFAULT_REDACTION_RULES,
  mergeRedactionRules,
  parseRedactionRules,
  Redactor,
} from '../../shared/redaction/index.js';
import { parseTimestamp } from '../../shared/normalise/timestamp.js';
import { parseDuration } from '../ingest/duration.js';
import type { Format } from '../ingest/layout.js';
import { esConfigFromEnv } from '../sources/elasticsearch/config.js';
import { ElasticsearchSource } from '../sources/elasticsearch/es-source.js';
import { FileSource } from '../sources/file/file-source.js';
import { SampleSource } from '../sources/sample/sample-source.js';
import type { HitSource } from '../sources/source.js';
import { openStorage as openTarget } from '../storage/open-storage.js';
import type { Storage } from '../storage/storage.js';

export const DEFAULT_OUT = './closer-audit-data';

export class UsageError extends Error {}

/** `--source es|file:PATH|sample`; without it, Elasticsearch when CLOSER_ES_URL is set, else the sample. */
export function openSource(
  spec: string | undefined,
  env: NodeJS.ProcessEnv,
  notice: (m: string) => void,
): HitSource {
  const es = esConfigFromEnv(env);
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

export function parseFormats(value: string | undefined): Format[] {
  switch (value ?? 'parquet') {
    case 'parquet':
      return ['parquet'];
    case 'json':
      return ['ndjson'];
    case 'both':
      return ['parquet', 'ndjson'];
    default:
      throw new UsageError(`--format ${value}: use parquet, json or both`);
  }
}

export function parseInstant(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseTimestamp(value);
  if (ms === null)
    throw new UsageError(`${name} ${value}: use ISO-8601, e.g. 2026-11-01 or 2026-11-01T06:00Z`);
  return ms;
}

/** Default rules, plus the JSON file named by --redaction-rules or CLOSER_REDACTION_RULES. */
export function loadRedactor(file: string | undefined, env: NodeJS.ProcessEnv): Redactor {
  const source = file ?? env.CLOSER_REDACTION_RULES;
  if (!source) return new Redactor(DEFAULT_REDACTION_RULES);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (err) {
    throw new UsageError(`redaction rules ${source}: ${(err as Error).message}`);
  }
  return new Redactor(mergeRedactionRules(DEFAULT_REDACTION_RULES, parseRedactionRules(json)));
}

/** A duration flag (`90m`, `6h`, `2d`): a usage error naming the flag (and its variable) when unreadable. */
export function parseDurationOption(name: string, value: string, minMs = 0): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    ms = NaN;
  }
  if (!(ms >= minMs))
    throw new UsageError(
      `${name} ${JSON.stringify(value)}: use a duration${minMs > 0 ? ' longer than 0' : ''} such as 90m, 6h, 2d or 1w`,
    );
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
