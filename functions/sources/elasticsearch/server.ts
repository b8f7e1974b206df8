import { errors, Transport, type Client, type ClientOptions } from '@elastic/elasticsearch';

/**
 * Which server Closer's cluster is, and how it is read best. Elasticsearch 6.x to 9.x and
 * OpenSearch 1.x to 3.x speak nearly the same search API; the differences that matter here:
 * point-in-time (Elasticsearch 7.10+ `_pit`, OpenSearch 2.4+ `_search/point_in_time`), its
 * tiebreaker (`_shard_doc`: Elasticsearch 7.12+, OpenSearch 3.3+), the sort options the server
 * knows, the histogram's interval parameter, and the media types and product header of the
 * official client, which only Elasticsearch 7.14+ (header) and 8+ (media types) accept.
 */
export type Product = 'Elasticsearch' | 'OpenSearch';

export interface ServerInfo {
  product: Product;
  /** null when the cluster hides it (then the newest behaviour is assumed, see detectServer). */
  version: string | null;
  major: number;
  minor: number;
  /** Where the product and version came from. */
  foundBy: 'GET /' | '_nodes' | 'CLOSER_ES_SERVER' | 'X-Elastic-Product';
}

export type ReadStrategy =
  | { kind: 'pit'; api: 'elasticsearch' | 'opensearch'; tiebreak: Record<string, 'asc'>[] }
  | { kind: 'scroll' };

/** A setup problem: one line naming the setting at fault, no stack (the CLI prints it as is). */
export class EsSetupError extends Error {
  override name = 'EsSetupError';
}

const at = (server: ServerInfo, major: number, minor = 0) =>
  server.major > major || (server.major === major && server.minor >= minor);

export function describeServer(server: ServerInfo): string {
  return `${server.product} ${server.version ?? '(version hidden)'}`;
}

/** The best consistent read the server offers. */
export function readStrategy(server: ServerInfo): ReadStrategy {
  if (server.product === 'Elasticsearch') {
    // `_shard_doc` (shard ordinal + Lucene doc id, unique and stable inside a PIT) arrived in
    // 7.12; 7.10 and 7.11 have PIT but no tiebreaker that is cheap and exact: scroll there.
    return at(server, 7, 12)
      ? { kind: 'pit', api: 'elasticsearch', tiebreak: [{ _shard_doc: 'asc' }] }
      : { kind: 'scroll' };
  }
  if (at(server, 3, 3)) return { kind: 'pit', api: 'opensearch', tiebreak: [{ _shard_doc: 'asc' }] };
  // OpenSearch 2.4–3.2 has PIT but no `_shard_doc`, and `_doc` alone repeats across shards, so
  // search_after on (time, _doc) could skip a document at a page boundary. `_index` then `_id`
  // is unique per document (an _id is unique within its index) and is what OpenSearch's own
  // Data Prepper sorts by; `_id` sorts from fielddata, which the node builds per segment.
  if (at(server, 2, 4))
    return { kind: 'pit', api: 'opensearch', tiebreak: [{ _index: 'asc' }, { _id: 'asc' }] };
  return { kind: 'scroll' };
}

export function describeStrategy(strategy: ReadStrategy): string {
  if (strategy.kind === 'scroll') return 'sorted scroll';
  const tiebreak = strategy.tiebreak.map((t) => Object.keys(t)[0]).join(', ');
  return `point-in-time + search_after (tiebreaker ${tiebreak})`;
}

/**
 * The sort on @timestamp, with only the options the server knows: `numeric_type: date` (7.2+,
 * OpenSearch) sorts date and date_nanos indices alike; `format: epoch_millis` (7.13+, not
 * OpenSearch) returns millis whatever the field's resolution. 6.x knows neither (and has no
 * date_nanos, so its sort values are millis anyway).
 */
export function timeSort(server: ServerInfo): Record<string, unknown> {
  const options: Record<string, unknown> = { order: 'asc' };
  if (server.product === 'OpenSearch' || at(server, 7, 2)) options.numeric_type = 'date';
  if (server.product === 'Elasticsearch' && at(server, 7, 13)) options.format = 'epoch_millis';
  return { '@timestamp': options };
}

/** `fixed_interval` since 7.2 (and in OpenSearch); 6.x only knows `interval`. */
export function hourHistogram(server: ServerInfo): Record<string, unknown> {
  const interval = server.product === 'Elasticsearch' && !at(server, 7, 2) ? 'interval' : 'fixed_interval';
  return { field: '@timestamp', [interval]: '1h', min_doc_count: 1 };
}

/**
 * Client options per server. Elasticsearch 8+ gets the client as it comes (product check,
 * `compatible-with=8` media types). Everything else gets plain `application/json`, which 6.x,
 * 7.x and OpenSearch answer 406 otherwise; the product check stays on where the server sends
 * `X-Elastic-Product` (Elasticsearch 7.14+), off where it cannot (6.x, 7.0–7.13, OpenSearch).
 */
export function wireFor(server: ServerInfo | null): Partial<ClientOptions> {
  // A hidden version may be 7.14–7.16, which refuse `compatible-with=8`: plain JSON there too.
  if (server?.product === 'Elasticsearch' && server.version !== null && at(server, 8)) return {};
  const productCheck = server?.product === 'Elasticsearch' && at(server, 7, 14) ? 'Elasticsearch' : undefined;
  class PlainTransport extends Transport {
    constructor(options: ConstructorParameters<typeof Transport>[0]) {
      super({
        ...options,
        productCheck,
        vendoredHeaders: {
          jsonContentType: 'application/json',
          ndjsonContentType: 'application/x-ndjson',
          accept: 'application/json, text/plain',
        },
      });
    }
  }
  return { Transport: PlainTransport };
}

const SERVER_SETTING = /^(elasticsearch|es|opensearch|os)[\s:@_-]*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/i;

/** CLOSER_ES_SERVER: `elasticsearch 7.17.29`, `es-6.8`, `opensearch 2.19`, `os:3`. */
export function parseServerSetting(value: string): ServerInfo {
  const m = SERVER_SETTING.exec(value.trim());
  if (!m) {
    throw new EsSetupError(
      `CLOSER_ES_SERVER ${JSON.stringify(value)}: use elasticsearch or opensearch and a version, e.g. "elasticsearch 7.17" or "opensearch 2.19"`,
    );
  }
  const product: Product = /^(opensearch|os)$/i.test(m[1] ?? '') ? 'OpenSearch' : 'Elasticsearch';
  const version = [m[2], m[3], m[4]].filter((p) => p !== undefined).join('.');
  return checkSupported(server(product, version, 'CLOSER_ES_SERVER'), 'CLOSER_ES_SERVER');
}

function server(product: Product, version: string, foundBy: ServerInfo['foundBy']): ServerInfo {
  const [major = 0, minor = 0] = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return { product, version, major, minor, foundBy };
}

function checkSupported(found: ServerInfo, setting: string, where = ''): ServerInfo {
  if (found.product === 'Elasticsearch' && found.major < 6) {
    throw new EsSetupError(
      `${setting}${where}: ${describeServer(found)} is too old; closer-audit reads Elasticsearch 6.x to 9.x and OpenSearch`,
    );
  }
  return found;
}

interface Probe {
  status: number;
  body: unknown;
  headers: Record<string, unknown>;
}

async function probe(client: Client, path: string): Promise<Probe> {
  try {
    const res = await client.transport.request(
      { method: 'GET', path },
      { meta: true, maxRetries: 0, ignore: [400, 401, 403, 404, 405, 406] },
    );
    return { status: res.statusCode ?? 0, body: res.body, headers: res.headers ?? {} };
  } catch (err) {
    if (err instanceof errors.ResponseError) {
      return { status: err.meta.statusCode ?? 0, body: err.meta.body, headers: err.meta.headers ?? {} };
    }
    throw err;
  }
}

/** What an unexpected answer was, in a few words, for the one-line error. */
function whatWasFound(p: Probe): string {
  const type = String(p.headers['content-type'] ?? 'no content type').split(';')[0];
  if (typeof p.body === 'string') {
    const text = p.body.trim();
    if (/^<(!doctype html|html)/i.test(text) || type === 'text/html') {
      const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
      return `an HTML page${title ? ` ("${title.slice(0, 60)}")` : ''}`;
    }
    return `${type}: ${JSON.stringify(text.slice(0, 60))}`;
  }
  return `JSON without a version: ${JSON.stringify(p.body).slice(0, 80)}`;
}

function productHeader(p: Probe): boolean {
  return p.headers['x-elastic-product'] === 'Elasticsearch';
}

/**
 * The server behind the client, from `GET /` (every server has it, but proxies and clusters
 * without the rest-root module hide it), else from the local node's info, else from the
 * `X-Elastic-Product` header Elasticsearch 7.14+ sends on every answer (then it is read as a
 * current Elasticsearch). `describeUrl` names what was reached in messages (no credentials).
 */
export async function detectServer(
  client: Client,
  describeUrl: string,
  credentials: string,
): Promise<ServerInfo> {
  const where = ` ${describeUrl}`;
  const root = await probe(client, '/');
  if (root.status === 401) throw credentialsError(describeUrl, credentials);
  if (root.status >= 200 && root.status < 300) {
    const body = root.body as { version?: { number?: unknown; distribution?: unknown } } | null;
    const number = body && typeof body === 'object' ? body.version?.number : undefined;
    if (typeof number !== 'string') {
      throw new EsSetupError(
        `CLOSER_ES_URL${where} is neither Elasticsearch nor OpenSearch: GET / answered ${whatWasFound(root)}`,
      );
    }
    const product = body?.version?.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
    return checkSupported(server(product, number, 'GET /'), 'CLOSER_ES_URL', where);
  }
  const nodes = await probe(
    client,
    '/_nodes/_local?filter_path=nodes.*.version,nodes.*.build_flavor,nodes.*.build_type',
  );
  if (nodes.status === 401) throw credentialsError(describeUrl, credentials);
  if (nodes.status >= 200 && nodes.status < 300) {
    const info = Object.values(
      (nodes.body as { nodes?: Record<string, { version?: unknown; build_flavor?: unknown }> } | null)
        ?.nodes ?? {},
    )[0];
    if (typeof info?.version === 'string') {
      const found = server('Elasticsearch', info.version, '_nodes');
      // OpenSearch sends no product header and has no build flavour; its majors are 1 to 3,
      // which no Elasticsearch that has these fields shares.
      if (!productHeader(nodes) && info.build_flavor === undefined && found.major <= 3) {
        found.product = 'OpenSearch';
      }
      return checkSupported(found, 'CLOSER_ES_URL', where);
    }
    throw new EsSetupError(
      `CLOSER_ES_URL${where} is neither Elasticsearch nor OpenSearch: GET /_nodes answered ${whatWasFound(nodes)}`,
    );
  }
  if (productHeader(root) || productHeader(nodes)) {
    return { product: 'Elasticsearch', version: null, major: 99, minor: 0, foundBy: 'X-Elastic-Product' };
  }
  if (typeof root.body === 'string' && root.status !== 405) {
    throw new EsSetupError(
      `CLOSER_ES_URL${where} is neither Elasticsearch nor OpenSearch: GET / answered HTTP ${root.status}, ${whatWasFound(root)}`,
    );
  }
  throw new EsSetupError(
    `CLOSER_ES_URL${where}: could not tell the server and version (GET / answered HTTP ${root.status}, GET /_nodes HTTP ${nodes.status}); set CLOSER_ES_SERVER, e.g. "elasticsearch 7.17" or "opensearch 2.19"`,
  );
}

export function credentialsError(describeUrl: string, credentials: string): EsSetupError {
  return new EsSetupError(`${describeUrl} refused the credentials (HTTP 401): ${credentials}`);
}
