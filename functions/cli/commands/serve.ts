import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { DuckDbEngine } from '../../query/engines/duckdb.js';
import { createApi } from '../../query/http/api.js';
import { startServer } from '../../query/http/node-server.js';
import { QueryService } from '../../query/service.js';
import { DEFAULT_OUT, UsageError } from '../options.js';
import { trinoEngineFromFlags, type EngineFlags } from './serve-trino.js';

export async function serveCommand(
  flags: { data?: string; port: string; host: string } & EngineFlags,
): Promise<void> {
  // --engine trino (issue 13): checked first; the data folder is then not read.
  const trino = trinoEngineFromFlags(flags, process.env);
  const dir = path.resolve(flags.data ?? process.env.CLOSER_OUT ?? DEFAULT_OUT);
  if (dir.startsWith('s3:'))
    throw new UsageError('serve reads a local folder; S3 data is queried through Athena');
  const port = Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${flags.port}: a port number`);
  let token = process.env.CLOSER_API_TOKEN ?? '';
  if (!token) {
    token = randomBytes(24).toString('base64url');
    process.stderr.write(`CLOSER_API_TOKEN is not set; this run's token (give it to Grafana):\n  ${token}\n`);
  }
  const engine = trino ?? (await DuckDbEngine.open(dir));
  const service = new QueryService(engine, {
    timeoutMs: Number(process.env.CLOSER_QUERY_TIMEOUT_MS ?? 30_000),
  });
  const fixed = token;
  const server = await startServer(createApi(service, { token: async () => fixed }), {
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
