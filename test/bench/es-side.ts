// The Elasticsearch side of `npm run bench:query`: the same generated events in a test node (one
// shard, Closer's default dynamic mapping), and each dashboard question asked the way Grafana's
// Elasticsearch data source asks it (date_histogram, terms, filters, cardinality, a sorted search),
// with the request cache off, as a moving time range gets.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ACTIONS } from '../../shared/catalog/actions.js';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import type { Filters, Query, TimeRange } from '../../shared/query/model.js';

const execFileAsync = promisify(execFile);
const LOAD_BATCH = 5_000;

export interface EsNode {
  url: string;
  /** Whether this run started the node (and so stops it at the end). */
  started: boolean;
  stop: () => Promise<void>;
}

/**
 * The node named by CLOSER_TEST_ES_URL, else the running test node, else one started with
 * es-node.sh, its data in `home` so a loaded index outlives the run.
 */
export async function ensureEsNode(
  root: string,
  home: string,
  log: (m: string) => void,
  heap?: string,
): Promise<EsNode> {
  const script = path.join(root, 'test/elasticsearch/es-node.sh');
  const named = process.env.CLOSER_TEST_ES_URL;
  if (named) return { url: named.replace(/\/+$/, ''), started: false, stop: async () => {} };
  const status = await execFileAsync('bash', [script, 'status']).catch(() => null);
  const running = status && /(https?:\/\/\S+)/.exec(status.stdout);
  if (running?.[1]) {
    log(`using the running test node ${running[1]}`);
    return { url: running[1], started: false, stop: async () => {} };
  }
  log(`starting the test Elasticsearch node (es-node.sh start, data in ${home})`);
  const env = { ...process.env, ES_HOME_DIR: home, ...(heap ? { ES_HEAP: heap } : {}) };
  const { stdout } = await execFileAsync('bash', [script, 'start'], { env, maxBuffer: 1 << 20 });
  const url = stdout.trim().split('\n').pop()?.trim();
  if (!url || !/^https?:\/\//.test(url)) throw new Error(`es-node.sh start printed no URL: ${stdout}`);
  return {
    url,
    started: true,
    stop: async () => {
      await execFileAsync('bash', [script, 'stop'], { env }).catch((err: unknown) =>
        log(`es-node.sh stop: ${String(err)}`),
      );
    },
  };
}

async function es<T>(url: string, method: string, p: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export function esIndexName(events: number, from: number, days: number): string {
  return `bench-query-${events}-${new Date(from).toISOString().slice(0, 10)}-${days}d`;
}

/**
 * Loads the feed the Parquet side holds (SampleSource with the same `perHour`: generateHour over
 * the same hours and counts) unless a complete index of it is there. Returns whether it loaded.
 */
export async function ensureEsIndex(
  url: string,
  index: string,
  spec: { events: number; from: number; to: number },
  log: (m: string) => void,
): Promise<boolean> {
  const head = await fetch(`${url}/${index}`, { method: 'HEAD' });
  if (head.ok) {
    // A node just started recovers its shards from disk first: counting before that fails.
    await es(url, 'GET', `/_cluster/health/${index}?wait_for_status=yellow&timeout=120s`);
    const mapping = await es<Record<string, { mappings: { _meta?: { bench?: { complete?: boolean } } } }>>(
      url,
      'GET',
      `/${index}/_mapping`,
    );
    const { count } = await es<{ count: number }>(url, 'GET', `/${index}/_count`);
    if (mapping[index]?.mappings._meta?.bench?.complete && count === spec.events) {
      log(`reusing index ${index} (${count.toLocaleString('en-US')} documents)`);
      return false;
    }
    log(`index ${index} is incomplete (${count} documents); loading it again`);
    await es(url, 'DELETE', `/${index}`);
  }
  log(`loading ${spec.events.toLocaleString('en-US')} events into ${index}`);
  const t0 = performance.now();
  // One shard, no replica; only @timestamp is mapped (as a date, the way Closer's index has it):
  // everything else gets the default dynamic mapping, text with a .keyword sub-field.
  await es(url, 'PUT', `/${index}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' },
    mappings: { properties: { '@timestamp': { type: 'date' } } },
  });
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  let lines: string[] = [];
  let sent = 0;
  const send = async () => {
    const body = lines.join('\n') + '\n';
    lines = [];
    const p = fetch(`${url}/_bulk`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body,
    })
      .then(async (res) => {
        const r = (await res.json()) as { errors?: boolean; items?: unknown[] };
        if (!res.ok || r.errors)
          throw new Error(
            `bulk load failed: ${JSON.stringify(r.items?.find((i) => JSON.stringify(i).includes('"error"')))}`,
          );
      })
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    while (inflight.size >= 2) await Promise.race(inflight);
    if (failure) throw failure;
  };
  for (const [hour, c] of distribute(spec.events, spec.from, spec.to)) {
    if (c === 0) continue;
    for (const hit of generateHour(hour, c)) {
      lines.push(JSON.stringify({ index: { _index: index, _id: hit._id } }), JSON.stringify(hit._source));
      if (lines.length >= LOAD_BATCH * 2) {
        sent += LOAD_BATCH;
        await send();
        if (sent % 100_000 === 0) log(`  ${sent.toLocaleString('en-US')} loaded`);
      }
    }
  }
  if (lines.length) await send();
  await Promise.all(inflight);
  if (failure) throw failure;
  await es(url, 'PUT', `/${index}/_settings`, { index: { refresh_interval: '1s' } });
  await es(url, 'POST', `/${index}/_refresh`);
  // One segment, as an index that has stopped taking writes for those days would have after a merge.
  await es(url, 'POST', `/${index}/_forcemerge?max_num_segments=1`);
  const { count } = await es<{ count: number }>(url, 'GET', `/${index}/_count`);
  if (count !== spec.events) throw new Error(`${index} holds ${count} documents, expected ${spec.events}`);
  await es(url, 'PUT', `/${index}/_mapping`, { _meta: { bench: { ...spec, complete: true } } });
  log(`loaded ${index} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return true;
}

// ------------------------------------------------------------------------------- the questions

/** The product's fields as Closer's documents carry them under default dynamic mapping. */
const FIELD: Record<string, string> = {
  action: 'message.event.action.keyword',
  outcome: 'message.event.outcome.keyword',
  user_id: 'message.user.id.keyword',
  source_ip: 'message.source.ip.keyword',
  user_role: 'message.user.roles.keyword',
  http_method: 'message.http.request.method.keyword',
};

const AREA_ACTIONS = new Map<string, string[]>();
for (const a of ACTIONS) AREA_ACTIONS.set(a.area, [...(AREA_ACTIONS.get(a.area) ?? []), a.action]);

function field(name: string): string {
  const f = FIELD[name];
  if (!f) throw new Error(`no Elasticsearch field for ${name}`);
  return f;
}

/** A Grafana user's query for the same filters: terms on keyword fields; an area is its actions. */
function esFilters(range: TimeRange, f: Filters | undefined): unknown[] {
  const out: unknown[] = [
    { range: { '@timestamp': { gte: range.from, lt: range.to, format: 'epoch_millis' } } },
  ];
  if (!f) return out;
  const known = new Set([
    'actions',
    'areas',
    'outcomes',
    'userIds',
    'userRoles',
    'sourceIps',
    'bodyContains',
  ]);
  for (const k of Object.keys(f))
    if (!known.has(k)) throw new Error(`filter ${k} has no Elasticsearch form in this bench`);
  if (f.actions?.length) out.push({ terms: { [FIELD.action as string]: f.actions } });
  if (f.areas?.length)
    out.push({ terms: { [FIELD.action as string]: f.areas.flatMap((a) => AREA_ACTIONS.get(a) ?? []) } });
  if (f.outcomes?.length) out.push({ terms: { [FIELD.outcome as string]: f.outcomes } });
  if (f.userIds?.length) out.push({ terms: { [FIELD.user_id as string]: f.userIds } });
  if (f.userRoles?.length) out.push({ terms: { [FIELD.user_role as string]: f.userRoles } });
  if (f.sourceIps?.length)
    out.push({ terms: { [FIELD.source_ip as string]: f.sourceIps.map((ip) => `/${ip}`) } });
  if (f.bodyContains)
    out.push({
      wildcard: {
        'message.http.request.body.content.keyword': {
          value: `*${f.bodyContains}*`,
          case_insensitive: true,
        },
      },
    });
  return out;
}

export interface EsQuestion {
  body: unknown;
  /** What the answer counts, comparable with the API's count for the same question. */
  count: (res: EsResponse) => number;
}

export interface EsBucket {
  key: unknown;
  doc_count: number;
  [sub: string]: unknown;
}
export interface EsResponse {
  hits: { total?: { value: number }; hits: unknown[] };
  aggregations?: Record<
    string,
    { buckets?: EsBucket[] | Record<string, EsBucket>; sum_other_doc_count?: number; value?: number }
  >;
}

const bucketsOf = (b: EsBucket[] | Record<string, EsBucket> | undefined): EsBucket[] =>
  !b ? [] : Array.isArray(b) ? b : Object.values(b);

/**
 * The request Grafana's Elasticsearch data source sends for the panel, or null where there is
 * none (raw SQL). Counts: a timeseries the events in its series, a top-N the sum of its top counts,
 * a stat its value, events the rows returned.
 */
export function esQuestion(query: Query, range: TimeRange, intervalMs: number): EsQuestion | null {
  // Raw SQL has no Elasticsearch form; alerts are closer-audit's own, not in the source.
  if (query.type === 'sql' || query.type === 'detections') return null;
  const filter = esFilters(range, query.filters);
  const histogram = {
    date_histogram: {
      field: '@timestamp',
      fixed_interval: `${Math.max(1, Math.round(intervalMs / 1000))}s`,
      min_doc_count: 0,
      extended_bounds: { min: range.from, max: range.to - 1 },
      format: 'epoch_millis',
    },
  };
  const base = { size: 0, query: { bool: { filter } } };
  switch (query.type) {
    case 'timeseries': {
      if (!query.splitBy)
        return {
          body: { ...base, aggs: { h: histogram } },
          count: (r) => bucketsOf(r.aggregations?.h?.buckets).reduce((s, b) => s + b.doc_count, 0),
        };
      // Grafana's "Filters" bucket for a grouping Elasticsearch does not store (the area); "Terms" else.
      const split =
        query.splitBy === 'area'
          ? {
              filters: {
                filters: Object.fromEntries(
                  [...AREA_ACTIONS].map(([area, actions]) => [
                    area,
                    { terms: { [FIELD.action as string]: actions } },
                  ]),
                ),
              },
            }
          : {
              terms: { field: field(query.splitBy), size: query.maxSeries ?? 10, order: { _count: 'desc' } },
            };
      return {
        body: { ...base, aggs: { s: { ...split, aggs: { h: histogram } } } },
        count: (r) =>
          bucketsOf(r.aggregations?.s?.buckets).reduce((s, b) => s + b.doc_count, 0) +
          (r.aggregations?.s?.sum_other_doc_count ?? 0),
      };
    }
    case 'topn':
      if (query.field === 'area')
        return {
          body: {
            ...base,
            aggs: {
              s: {
                filters: {
                  filters: Object.fromEntries(
                    [...AREA_ACTIONS].map(([area, actions]) => [
                      area,
                      { terms: { [FIELD.action as string]: actions } },
                    ]),
                  ),
                },
              },
            },
          },
          count: (r) =>
            bucketsOf(r.aggregations?.s?.buckets)
              .map((b) => b.doc_count)
              .sort((a, b) => b - a)
              .slice(0, query.limit ?? 10)
              .reduce((s, c) => s + c, 0),
        };
      return {
        body: {
          ...base,
          aggs: {
            t: { terms: { field: field(query.field), size: query.limit ?? 10, order: { _count: 'desc' } } },
          },
        },
        count: (r) => bucketsOf(r.aggregations?.t?.buckets).reduce((s, b) => s + b.doc_count, 0),
      };
    case 'stat':
      if (query.metric === 'distinct')
        return {
          body: { ...base, aggs: { d: { cardinality: { field: field(query.field as string) } } } },
          count: (r) => r.aggregations?.d?.value ?? NaN,
        };
      return {
        body: { ...base, track_total_hits: true },
        count: (r) => r.hits.total?.value ?? NaN,
      };
    case 'events':
      return {
        body: {
          size: query.limit ?? 500,
          query: { bool: { filter } },
          sort: [{ '@timestamp': { order: 'desc' } }],
        },
        count: (r) => r.hits.hits.length,
      };
  }
}

/** One search, the request cache off; returns the parsed answer. */
export async function esSearch(url: string, index: string, body: unknown): Promise<EsResponse> {
  return es<EsResponse>(url, 'POST', `/${index}/_search?request_cache=false`, body);
}

export async function esVersion(url: string): Promise<string> {
  const info = await es<{
    nodes: Record<string, { version: string; jvm?: { mem?: { heap_max_in_bytes?: number } } }>;
  }>(url, 'GET', '/_nodes/_local/jvm');
  const node = Object.values(info.nodes)[0];
  const heap = node?.jvm?.mem?.heap_max_in_bytes;
  return `Elasticsearch ${node?.version ?? '?'}${heap ? `, heap ${(heap / 2 ** 30).toFixed(1)} GB` : ''}`;
}

export async function esIndexFigures(url: string, index: string): Promise<{ docs: number; bytes: number }> {
  const s = await es<{
    indices: Record<string, { primaries: { docs: { count: number }; store: { size_in_bytes: number } } }>;
  }>(url, 'GET', `/${index}/_stats/docs,store`);
  const p = s.indices[index]?.primaries;
  return { docs: p?.docs.count ?? NaN, bytes: p?.store.size_in_bytes ?? NaN };
}
