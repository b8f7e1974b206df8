import { TrinoEngine } from '../../query/engines/trino.js';
import { parseTrinoTable } from '../../../shared/schema/trino.js';
import { UsageError } from '../options.js';

export interface EngineFlags {
  engine?: string;
  trinoUrl?: string;
  table?: string;
}

/**
 * `serve --engine trino`: the query API over a self-hosted Trino (or Starburst) instead of DuckDB
 * over a folder. Null for the default engine (DuckDB). Every setting is checked here, so a
 * mistake is a usage error naming the flag or variable at fault, before anything listens.
 */
export function trinoEngineFromFlags(flags: EngineFlags, env: NodeJS.ProcessEnv): TrinoEngine | null {
  const engine = flags.engine ?? 'duckdb';
  if (engine === 'duckdb') {
    if (flags.trinoUrl !== undefined || flags.table !== undefined)
      throw new UsageError(`--${flags.trinoUrl !== undefined ? 'trino-url' : 'table'} is for --engine trino`);
    return null;
  }
  if (engine !== 'trino') throw new UsageError(`--engine ${engine}: duckdb or trino`);
  const urlFrom = flags.trinoUrl !== undefined ? '--trino-url' : 'CLOSER_TRINO_URL';
  const url = flags.trinoUrl ?? env.CLOSER_TRINO_URL;
  if (!url) throw new UsageError('--engine trino needs --trino-url URL (or CLOSER_TRINO_URL)');
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:'))
    throw new UsageError(`${urlFrom} ${url}: expected http(s)://host:port`);
  const tableFrom = flags.table !== undefined ? '--table' : 'CLOSER_TRINO_TABLE';
  const table = flags.table ?? env.CLOSER_TRINO_TABLE;
  if (!table)
    throw new UsageError('--engine trino needs --table CATALOG.SCHEMA.TABLE (or CLOSER_TRINO_TABLE)');
  try {
    parseTrinoTable(table);
  } catch (err) {
    throw new UsageError(`${tableFrom}: ${(err as Error).message}`);
  }
  const user = env.CLOSER_TRINO_USER || undefined;
  if (user !== undefined && /[\r\n]/.test(user)) throw new UsageError('CLOSER_TRINO_USER: one line, please');
  const password = env.CLOSER_TRINO_PASSWORD || undefined;
  // Trino accepts passwords only over TLS; sending one in clear text is refused here first.
  if (password !== undefined && parsed.protocol !== 'https:')
    throw new UsageError(`CLOSER_TRINO_PASSWORD is sent only over https: ${urlFrom} must be https://`);
  return new TrinoEngine({ url, table, user, password });
}
