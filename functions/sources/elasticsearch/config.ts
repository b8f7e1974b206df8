import { readFileSync } from 'node:fs';
import { Client, errors, Serializer, type ClientOptions } from '@elastic/elasticsearch';

export interface EsConfig {
  url?: string;
  cloudId?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  index: string;
  caFile?: string;
  /** Per-request timeout, ms. */
  requestTimeoutMs?: number;
  /**
   * Ask for gzip'd responses. Off by default, as in Elastic's own client: pages shrink about
   * sevenfold on the wire, but gzip and gunzip cost CPU on both ends (measured on one host: the
   * read alone 130k → 82k events/s, the sync 66k → 52k). Worth it on slow or metered links.
   */
  compression?: boolean;
  /**
   * The server and version, for clusters that hide `GET /` and `_nodes` from the reader's role
   * (CLOSER_ES_SERVER, e.g. `elasticsearch 7.17.29` or `opensearch 2.19`); detected otherwise.
   */
  server?: string;
}

export { DEFAULT_INDEX } from '../../config/settings.js';

/**
 * Plain JSON.parse instead of the transport's secure-json-parse, whose prototype-poisoning scan
 * costs a regex pass over every multi-megabyte page. What that scan guards against is harmless
 * here: JSON.parse only creates own `__proto__` properties, and the normaliser copies fields into
 * Maps and prototype-less objects, never merging them into live objects.
 */
export class PlainJsonSerializer extends Serializer {
  override deserialize<T = unknown>(json: string): T {
    try {
      return JSON.parse(json) as T;
    } catch (err) {
      throw new errors.DeserializationError((err as Error).message, json);
    }
  }
}

/** `wire`: how to talk to the server found (product check, media types: see server.ts). */
export function createEsClient(config: EsConfig, wire: Partial<ClientOptions> = {}): Client {
  const options: ClientOptions = {
    // Retries are ours (withRetry): with backoff, jitter and 429s, which the client does not retry.
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs ?? 60_000,
    compression: config.compression ?? false,
    Serializer: PlainJsonSerializer,
    ...wire,
  };
  if (config.cloudId) options.cloud = { id: config.cloudId };
  else if (config.url) options.node = config.url;
  else throw new Error('Elasticsearch needs CLOSER_ES_URL (or CLOSER_ES_CLOUD_ID)');
  if (config.apiKey) options.auth = { apiKey: config.apiKey };
  else if (config.username) options.auth = { username: config.username, password: config.password ?? '' };
  if (config.caFile) options.tls = { ca: readFileSync(config.caFile) };
  return new Client(options);
}

/** The URL without any credentials in it, for messages. */
export function describeEs(config: EsConfig): string {
  const where = config.cloudId
    ? `Elastic Cloud ${config.cloudId.split(':')[0]}`
    : redactUserinfo(config.url ?? '');
  return `Elasticsearch ${where} index ${config.index}`;
}

export function redactUserinfo(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//');
}
