import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FOLDERS } from '../../../shared/layout/layout.js';
import { readSettings } from '../../config/settings.js';
import { DuckDbEngine } from '../../query/engines/duckdb.js';
import { createApi } from '../../query/http/api.js';
import { startServer } from '../../query/http/node-server.js';
import { QueryService } from '../../query/service.js';
import { StatusReader } from '../../query/status.js';
import { LocalFolderStorage } from '../../storage/local-folder.js';
import { DEFAULT_OUT, UsageError, queryMemoryLimit } from '../options.js';
import { trinoEngineFromFlags, type EngineFlags } from './serve-trino.js';

/**
 * The folder serve reads, checked before anything starts: a query API over nothing would answer
 * every panel with no rows and no error. Names the flag (or variable) the folder came from.
 */
export async function dataFolder(given: string | undefined, env = process.env): Promise<string> {
  const [flag, raw] =
    given !== undefined
      ? ['--data', given]
      : env.CLOSER_OUT
        ? ['CLOSER_OUT', env.CLOSER_OUT]
        : [`--data (default ${DEFAULT_OUT})`, DEFAULT_OUT];
  // Before the path is made absolute, which would turn s3://b/p into <cwd>/s3:/b/p.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw))
    throw new UsageError(
      `${flag} ${raw}: serve reads a local folder with DuckDB; for data on S3 query the table with Athena (the deployed query API, README "Deploying to AWS") or Trino`,
    );
  if (!raw.trim()) throw new UsageError(`${flag} is empty: give the folder a sync wrote (sync --out)`);
  const dir = path.resolve(raw);
  const stat = await fs.stat(dir).catch(() => null);
  if (!stat)
    throw new UsageError(
      `${flag} ${raw}: no such folder; sync into it first (closer-audit sync --out ${raw})`,
    );
  if (!stat.isDirectory()) throw new UsageError(`${flag} ${raw}: a file, not the folder a sync wrote`);
  const has = async (sub: string) => (await fs.stat(path.join(dir, sub)).catch(() => null))?.isDirectory();
  if (!(await has(FOLDERS.events)) && !(await has(FOLDERS.state)))
    throw new UsageError(
      `${flag} ${raw}: holds no synced data (no events/ or state/ folder); give the folder a sync wrote (sync --out)`,
    );
  return dir;
}

export async function serveCommand(
  flags: { data?: string; port: string; host: string } & EngineFlags,
): Promise<void> {
  // --engine trino (issue 13): checked first; the data folder is then not read.
  const trino = trinoEngineFromFlags(flags, process.env);
  const dir = trino ? '' : await dataFolder(flags.data);
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${flags.port}: a port number`);
  let token = process.env.CLOSER_API_TOKEN ?? '';
  if (!token) {
    token = randomBytes(24).toString('base64url');
    process.stderr.write(`CLOSER_API_TOKEN is not set; this run's token (give it to Grafana):\n  ${token}\n`);
  }
  const timeoutMs = readSettings(process.env).CLOSER_QUERY_TIMEOUT_MS ?? 30_000;
  const memoryLimit = queryMemoryLimit(process.env, '1GB');
  const duckdb = trino
    ? null
    : await DuckDbEngine.open(dir, { memoryLimit, onWarning: (m) => process.stderr.write(`${m}\n`) });
  // The rollups are built while the first dashboards are asked for (those read the events meanwhile).
  await duckdb?.warmRollups();
  const engine = trino ?? (duckdb as DuckDbEngine);
  const service = new QueryService(engine, { timeoutMs });
  const fixed = token;
  // GET /status reads the folder's state/ and quarantine/ (Trino's table has no folder here).
  const status = trino
    ? undefined
    : new StatusReader(new LocalFolderStorage(dir), engine, {
        timeoutMs,
        warn: (m) => process.stderr.write(`${m}\n`),
      }).route();
  const server = await startServer(createApi(service, { token: async () => fixed, status }), {
    port,
    host: flags.host,
  });
  const over = trino ? `Trino, ${await trino.tableFor({ from: 0, to: 1 })}` : `DuckDB over ${dir}`;
  process.stderr.write(`closer-audit query API on ${server.url} (${over}); Ctrl-C stops it\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await engine.close();
}
