import { createHash, timingSafeEqual } from 'node:crypto';
import { StatusRangeError, type Status } from '../../../shared/status/status.js';
import { QueryBusyError, QueryTimeoutError } from '../engine.js';
import { ROUTES, type HealthResponse } from '../../../shared/api/contract.js';
import { BadRequest, Unavailable, type QueryService } from '../service.js';

export interface HttpRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string | null;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface ApiOptions {
  /** The bearer token every route but /health requires. */
  token: () => Promise<string>;
  maxBodyBytes?: number;
  /**
   * GET /status (issue 15): the target's completeness; the query string as given. Absent where the
   * API reads no target (serve --engine trino): the route then answers 404 saying so.
   */
  status?: (query: URLSearchParams, signal?: AbortSignal) => Promise<Status>;
}

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

const json = (status: number, body: unknown): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** Compares digests, so the time taken says nothing about how much of the token matched. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && expected.length > 0;
}

/**
 * The query API, served alike by the local server and by Lambda:
 *   GET /health (no token), GET /catalog, POST /query, POST /variables, GET /status.
 * Paths match by their last segment, so a stage or proxy prefix in front does not matter.
 */
export function createApi(service: QueryService, options: ApiOptions) {
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return async function handle(req: HttpRequest, signal?: AbortSignal): Promise<HttpResponse> {
    const route = (req.path.split('?')[0] ?? '').replace(/\/+$/, '').split('/').pop();
    const method = req.method.toUpperCase();
    try {
      if (route === ROUTES.health && method === 'GET')
        return json(200, {
          status: 'ok',
          engine: service.engineName,
          ...(service.rollups ? { rollups: service.rollups } : {}),
        } satisfies HealthResponse);
      if (
        route !== ROUTES.catalog &&
        route !== ROUTES.query &&
        route !== ROUTES.variables &&
        route !== ROUTES.status
      )
        return json(404, { error: `no route ${method} ${req.path}` });

      const header = req.headers.authorization ?? req.headers.Authorization ?? '';
      const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? '';
      if (!given || !tokenMatches(given, await options.token())) {
        return {
          ...json(401, { error: 'missing or wrong bearer token' }),
          headers: { ...json(401, {}).headers, 'www-authenticate': 'Bearer' },
        };
      }

      if (route === ROUTES.status) {
        if (method !== 'GET') return json(405, { error: 'use GET /status' });
        if (!options.status)
          return json(404, { error: 'GET /status: this API reads no target (serve --engine trino)' });
        try {
          return json(200, await statusOf(options.status, req.path, signal));
        } catch (err) {
          if (err instanceof QueryTimeoutError) return json(504, { error: err.message });
          if (err instanceof QueryBusyError) throw new Unavailable(err.message);
          throw err;
        }
      }
      if (route === ROUTES.catalog) {
        if (method !== 'GET') return json(405, { error: 'use GET /catalog' });
        return json(200, service.catalog());
      }
      if (method !== 'POST') return json(405, { error: `use POST /${route}` });
      if (req.body !== null && Buffer.byteLength(req.body) > maxBody) {
        return json(413, { error: `request body over ${maxBody} bytes` });
      }
      let body: unknown;
      try {
        body = JSON.parse(req.body ?? '');
      } catch {
        return json(400, { error: 'the request body is not JSON' });
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return json(400, { error: 'expected a JSON object' });
      if (route === ROUTES.query)
        return json(200, await service.query(body as Record<string, unknown>, signal));
      return json(200, await service.variables(body as Record<string, unknown>, signal));
    } catch (err) {
      if (err instanceof StatusRangeError) return json(400, { error: err.message, field: err.field });
      if (err instanceof BadRequest) return json(400, { error: err.message, field: err.field });
      if (err instanceof Unavailable)
        return {
          ...json(503, { error: err.message }),
          headers: { ...json(503, {}).headers, 'retry-after': '1' },
        };
      // Never a stack trace: the message only, and the detail in the server's own log.
      console.error(err);
      return json(500, { error: 'internal error; see the query API log' });
    }
  };
}

/** The status route's work apart, so its query-string handling stays out of the other routes. */
async function statusOf(
  status: NonNullable<ApiOptions['status']>,
  path: string,
  signal?: AbortSignal,
): Promise<Status> {
  const q = path.indexOf('?');
  return status(new URLSearchParams(q < 0 ? '' : path.slice(q + 1)), signal);
}
