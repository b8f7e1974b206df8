import { Logger } from '@aws-lambda-powertools/logger';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { getParameter } from '@aws-lambda-powertools/parameters/ssm';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { QueryEngine } from '../../query/engine.js';
import { readSettings } from '../../config/settings.js';
import { AthenaEngine } from '../../query/engines/athena.js';
import { createApi } from '../../query/http/api.js';
import { QueryService } from '../../query/service.js';
import { StatusReader } from '../../query/status.js';
import { openStorage } from '../../storage/open-storage.js';

const logger = new Logger({ serviceName: 'closer-audit-query' });
// Warm invocations reuse the token this long before asking again.
const TOKEN_CACHE_SECONDS = 300;

let api: ReturnType<typeof createApi> | null = null;

async function apiToken(): Promise<string> {
  const env = process.env;
  let raw: unknown;
  if (env.CLOSER_API_TOKEN_SECRET_ID)
    raw = await getSecret(env.CLOSER_API_TOKEN_SECRET_ID, { maxAge: TOKEN_CACHE_SECONDS });
  else if (env.CLOSER_API_TOKEN_SSM_PARAMETER) {
    raw = await getParameter(env.CLOSER_API_TOKEN_SSM_PARAMETER, {
      decrypt: true,
      maxAge: TOKEN_CACHE_SECONDS,
    });
  }
  if (typeof raw !== 'string' || raw.length < 16) {
    // Without a usable token every request is refused; the value itself is never logged.
    throw new Error('the API token secret is missing or shorter than 16 characters');
  }
  return raw.trim();
}

/**
 * The API from the environment. `engine` is for tests only: Athena cannot run outside AWS, so they
 * pass another engine and keep everything else (the bucket, the token, the routes) real.
 */
export function build(
  env: NodeJS.ProcessEnv = process.env,
  overrides: { engine?: QueryEngine; token?: () => Promise<string> } = {},
): ReturnType<typeof createApi> {
  let engine = overrides.engine;
  if (!engine) {
    if (!env.CLOSER_ATHENA_WORKGROUP) throw new Error('CLOSER_ATHENA_WORKGROUP is not set');
    engine = new AthenaEngine({
      workGroup: env.CLOSER_ATHENA_WORKGROUP,
      database: env.CLOSER_ATHENA_DATABASE || undefined,
      table: env.CLOSER_ATHENA_TABLE || undefined,
      detectionsTable: env.CLOSER_ATHENA_DETECTIONS_TABLE || undefined,
    });
  }
  const timeoutMs = readSettings(env).CLOSER_QUERY_TIMEOUT_MS ?? 25_000;
  const service = new QueryService(engine, {
    timeoutMs,
    // Lambda answers at most 6 MB: raw SQL stops well before, with its notice, not a failed invoke.
    maxResultBytes: 4 * 1024 * 1024,
  });
  // GET /status reads the checkpoints and quarantine in the bucket (CLOSER_OUT, as the ingest has it).
  const target = env.CLOSER_OUT;
  if (target !== undefined && !target.startsWith('s3://'))
    throw new Error(`CLOSER_OUT ${target}: expected s3://bucket/prefix`);
  const status = target
    ? new StatusReader(openStorage(target, env), engine, {
        timeoutMs,
        warn: (m) => logger.warn(m),
      }).route()
    : undefined;
  return createApi(service, { token: overrides.token ?? apiToken, status });
}

/**
 * The query API behind API Gateway (HTTP API, payload 2.0) or a Function URL: the same handler
 * `closer-audit serve` runs locally, with Athena as the engine.
 */
export async function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  logger.addContext(context);
  api ??= build();
  // API Gateway gives up after 30 s: queries still running then are stopped.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(),
    Math.max(1000, context.getRemainingTimeInMillis() - 1500),
  );
  try {
    const body = event.body
      ? event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body
      : null;
    const res = await api(
      {
        method: event.requestContext.http.method,
        // The query string rides along for GET /status's ?from=&to=.
        path: event.rawQueryString ? `${event.rawPath}?${event.rawQueryString}` : event.rawPath,
        headers: event.headers ?? {},
        body,
      },
      controller.signal,
    );
    logger.info('request', {
      method: event.requestContext.http.method,
      path: event.rawPath,
      status: res.status,
    });
    return { statusCode: res.status, headers: res.headers, body: res.body };
  } finally {
    clearTimeout(timer);
  }
}
