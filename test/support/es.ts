import { Client } from '@elastic/elasticsearch';
import type { RawHit } from '../../shared/normalise/normalise.js';

/** The real node global-setup started (or CI named). */
export function esUrl(): string {
  const url = process.env.CLOSER_TEST_ES_URL;
  if (!url)
    throw new Error('no test Elasticsearch: run without CLOSER_TEST_ES=off, or set CLOSER_TEST_ES_URL');
  return url;
}

export function testClient(url = esUrl()): Client {
  return new Client({ node: url, maxRetries: 0, requestTimeout: 120_000 });
}

let counter = 0;
export function uniqueIndex(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/**
 * An index shaped like Closer's: @timestamp a date, the rest kept in _source unindexed (we only
 * ever query by time), one shard so page boundaries are reproducible, no replica on one node.
 */
export async function createCloserLikeIndex(client: Client, index: string, shards = 1): Promise<void> {
  await client.indices.create({
    index,
    settings: { number_of_shards: shards, number_of_replicas: 0 },
    mappings: { dynamic: false, properties: { '@timestamp': { type: 'date' } } },
  });
}

/** Bulk-loads hits as documents keeping their _id, then refreshes so they are searchable. */
export async function loadHits(
  client: Client,
  index: string,
  hits: Iterable<RawHit>,
  batch = 5_000,
): Promise<number> {
  let body: unknown[] = [];
  let n = 0;
  const flush = async () => {
    if (body.length === 0) return;
    const res = await client.bulk({ operations: body, refresh: false });
    if (res.errors) {
      const first = res.items.find((i) => i.index?.error)?.index?.error;
      throw new Error(`bulk load failed: ${JSON.stringify(first)}`);
    }
    body = [];
  };
  for (const hit of hits) {
    body.push({ index: { _index: index, _id: hit._id as string } }, hit._source);
    n++;
    if (body.length >= batch * 2) await flush();
  }
  await flush();
  await client.indices.refresh({ index });
  return n;
}
