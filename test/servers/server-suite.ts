// The focused suite the version matrix runs against each server (test/servers/*.test.ts, one
// file per server, its own jest project): the node is started here, in this file's setup, from
// Maven Central jars by test/elasticsearch/es-node.sh, and stopped afterwards (unless it was
// already running, or CLOSER_TEST_SERVER_URL names one).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import { runSync } from '../../functions/ingest/sync.js';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import { createEsClient } from '../../functions/sources/elasticsearch/config.js';
import {
  ElasticsearchSource,
  type EsSourceOptions,
} from '../../functions/sources/elasticsearch/es-source.js';
import { detectServer, wireFor, type ServerInfo } from '../../functions/sources/elasticsearch/server.js';
import type { SourceHit } from '../../functions/sources/source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import { verifyRange } from '../../functions/verify/verify.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { listKeys, storedRows } from '../support/duckdb.js';
import { uniqueIndex } from '../support/es.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { startProxy } from '../support/proxy.js';
import { startTlsProxy } from '../support/tls.js';
import { tmpDir } from '../support/tmp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(root, 'test/elasticsearch/es-node.sh');

export interface Expected {
  /** What the source says it found, e.g. "Elasticsearch 6.8.23". */
  server: string;
  /** How it reads: "sorted scroll" or "point-in-time + search_after (tiebreaker _shard_doc)". */
  strategy: string;
  /** Hits come typed (`_type: entry`): a 6.x index. */
  typed: boolean;
}

function nodeCommand(command: 'start' | 'stop' | 'status', server: string): string {
  return execFileSync('bash', [script, command, server], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', command === 'status' ? 'ignore' : 'inherit'],
    // Two matrix nodes may run beside the suite's own: half the default heap is plenty here.
    env: { ...process.env, ES_HEAP: process.env.ES_HEAP ?? '512m' },
  });
}

const FROM = Date.UTC(2026, 10, 20);
const NOW = Date.UTC(2026, 10, 21, 12, 0, 0);
const TOTAL = 2_000;
const COPIES = 30;
/** Documents sharing one millisecond, across two shards: only a true tiebreaker pages them right. */
const SAME_MS = 650;
const PAGE = 200;

export function serverSuite(name: string, expected: Expected): void {
  let url: string;
  let started = false;
  let client: Client;
  let found: ServerInfo;
  let base: string;
  const loaded: RawHit[] = [];

  const source = (options: EsSourceOptions = {}, at = url, index = `${base}-*`) =>
    new ElasticsearchSource({ url: at, index }, { pageSize: PAGE, ...options });

  /** An index shaped like Closer's; on 6.x with a mapping type, as Closer's cluster has it. */
  async function createIndex(index: string, shards = 1, lenient = false): Promise<void> {
    const properties = { '@timestamp': { type: 'date', ...(lenient ? { ignore_malformed: true } : {}) } };
    const mappings = expected.typed
      ? { entry: { dynamic: false, properties } }
      : { dynamic: false, properties };
    await client.indices.create({
      index,
      settings: { number_of_shards: shards, number_of_replicas: 0 },
      mappings: mappings as never,
    });
  }

  async function load(index: string, hits: RawHit[]): Promise<void> {
    const operations: unknown[] = [];
    for (const hit of hits) {
      operations.push(
        { index: { _index: index, _id: hit._id as string, ...(expected.typed ? { _type: 'entry' } : {}) } },
        hit._source,
      );
    }
    for (let i = 0; i < operations.length; i += 4_000) {
      const res = await client.bulk({ operations: operations.slice(i, i + 4_000) });
      if (res.errors)
        throw new Error(`bulk load failed: ${JSON.stringify(res.items.find((x) => x.index?.error))}`);
    }
    await client.indices.refresh({ index });
  }

  beforeAll(async () => {
    url = process.env.CLOSER_TEST_SERVER_URL ?? '';
    if (!url) {
      let running = false;
      try {
        nodeCommand('status', name);
        running = true;
      } catch {
        running = false;
      }
      url = nodeCommand('start', name).trim().split('\n').pop() ?? '';
      started = !running;
    }
    const probe = createEsClient({ url, index: 'x' }, wireFor(null));
    found = await detectServer(probe, url, 'none');
    await probe.close();
    client = createEsClient({ url, index: 'x' }, wireFor(found));
    base = uniqueIndex(`closer-${name}`);
    for (const [hour, count] of distribute(TOTAL, FROM, NOW)) loaded.push(...generateHour(hour, count));
    // The same millisecond for many documents, spread over two shards.
    const tie = FROM + 5 * HOUR + 1234;
    const tied = generateHour(FROM + 5 * HOUR, SAME_MS, { seed: 'same-ms' }).map((h) => ({
      ...h,
      _source: { ...(h._source as Record<string, unknown>), '@timestamp': new Date(tie).toISOString() },
    }));
    loaded.push(...tied);
    await createIndex(`${base}-main`, 2);
    await createIndex(`${base}-copy`);
    await load(`${base}-main`, loaded);
    // The same documents again in a second index (as a reindex leaves them): duplicates to drop.
    await load(`${base}-copy`, loaded.slice(100, 100 + COPIES));
  }, 600_000);

  afterAll(async () => {
    await client?.indices.delete({ index: `${base}-*` }).catch(() => undefined);
    await client?.close();
    if (started && process.env.CLOSER_TEST_KEEP_SERVERS !== '1') nodeCommand('stop', name);
  }, 120_000);

  describe(`${name}: ${expected.server}, ${expected.strategy}`, () => {
    let out: string;

    it('finds the server and version, and says how it reads', async () => {
      expect(`${found.product} ${found.version}`).toBe(expected.server);
      const src = source();
      await src.open();
      expect(src.description).toBe(`${expected.server} at ${url} index ${base}-*, ${expected.strategy}`);
      await src.close();
    });

    it('reads every document across many pages, ties at one millisecond included; drops duplicates', async () => {
      out = await tmpDir(`matrix-${name}`);
      const src = source();
      const summary = await runSync(ingestContext(out, src, { now: () => NOW }), { from: FROM, to: NOW });
      await src.close();
      const all = TOTAL + SAME_MS;
      expect(summary.rowsWritten + summary.quarantined).toBe(all);
      expect(summary.duplicatesDropped).toBe(COPIES);
      expect(summary.eventsRead).toBe(all + COPIES);
      const rows = await storedRows(out);
      expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
      expect(rows.filter((r) => !String(r.es_index).startsWith(base))).toEqual([]);
    });

    it(`hits read like any other${expected.typed ? ' (typed: _type entry)' : ''}, es_index the index name`, async () => {
      const src = source({}, url, `${base}-copy`);
      const hits: SourceHit[] = [];
      for await (const page of src.pages({ from: FROM, to: NOW })) hits.push(...page);
      await src.close();
      expect(hits).toHaveLength(COPIES);
      const types = new Set(hits.map((h) => (h.hit as { _type?: unknown })._type));
      // 7.x names the one type `_doc`; 8+ and OpenSearch send none.
      if (expected.typed) expect([...types]).toEqual(['entry']);
      else expect([...types].every((t) => t === undefined || t === '_doc')).toBe(true);
      expect(hits.every((h) => h.hit._index === `${base}-copy` && typeof h.slotTs === 'number')).toBe(true);
      // Sort values are epoch millis, the slot key.
      const first = hits[0];
      expect(first?.slotTs).toBe(Date.parse((first?.hit._source as { '@timestamp': string })['@timestamp']));
    });

    it('a rerun of the same range leaves the same rows in the same object keys', async () => {
      const before = await listKeys(out, 'events');
      const rows = await storedRows(out);
      const src = source();
      await runSync(ingestContext(out, src, { now: () => NOW }), { from: FROM, to: NOW });
      await src.close();
      expect(await listKeys(out, 'events')).toEqual(before);
      expect(await storedRows(out)).toEqual(rows);
    });

    it('reads the same rows with a sorted scroll', async () => {
      const scrolled = await tmpDir(`matrix-${name}-scroll`);
      const src = source({ mode: 'scroll' });
      await runSync(ingestContext(scrolled, src, { now: () => NOW }), { from: FROM, to: NOW });
      await src.close();
      expect(await storedRows(scrolled)).toEqual(await storedRows(out));
    });

    it('verify finds every hour equal (the copies counted at the source once more)', async () => {
      const src = source();
      const report = await verifyRange(src, new LocalFolderStorage(out), { from: FROM, to: NOW });
      await src.close();
      const extra = report.mismatched.reduce((s, h) => s + h.source - h.stored - h.quarantined, 0);
      expect(extra).toBe(COPIES);
      expect(report.storedTotal + report.quarantinedTotal).toBe(TOTAL + SAME_MS);
      const main = source({}, url, `${base}-main`);
      const exact = await verifyRange(main, new LocalFolderStorage(out), { from: FROM, to: NOW });
      await main.close();
      expect(exact.mismatched).toEqual([]);
      expect(exact.hours.length).toBeGreaterThan(20);
    });

    it('picks up late events inside the lookback, never duplicates', async () => {
      const index = `${base}-late`;
      await createIndex(index);
      const day = Date.UTC(2026, 10, 22);
      await load(
        index,
        [...distribute(300, day, day + 12 * HOUR)].flatMap(([h, n]) => generateHour(h, n, { seed: 'late' })),
      );
      const lateOut = await tmpDir(`matrix-${name}-late`);
      let now = day + 12 * HOUR;
      const run = async (request = {}) => {
        const src = source({}, url, index);
        try {
          return await runSync(
            ingestContext(lateOut, src, { now: () => now, lookbackMs: 3 * HOUR }),
            request,
          );
        } finally {
          await src.close();
        }
      };
      expect((await run({ initialLookbackMs: 12 * HOUR })).rowsWritten).toBe(300);
      const late = generateHour(day + 10 * HOUR, 2, { seed: 'late-arrivals' });
      await load(index, late);
      now += HOUR;
      await run();
      const rows = await storedRows(lateOut);
      expect(rows).toHaveLength(302);
      const ids = new Set(rows.map((r) => r.event_id));
      for (const h of late) expect(ids.has(h._id as string)).toBe(true);
    });

    it('counts per hour and the documents without a readable @timestamp in one request, and reads those apart', async () => {
      // Outside `${base}-*`: the other tests' counts stay as they are.
      const index = `${base}_untimed`;
      await createIndex(index, 1, true);
      try {
        const timed = [...distribute(40, FROM, FROM + 2 * HOUR)].flatMap(([h, n]) =>
          generateHour(h, n, { seed: 'timed' }),
        );
        const body = timed[0]?._source as Record<string, unknown>;
        const { '@timestamp': _ts, ...noTime } = body;
        await load(index, [
          ...timed,
          { _id: 'no-time', _source: noTime },
          { _id: 'null-time', _source: { ...noTime, '@timestamp': null } },
          { _id: 'bad-time', _source: { ...noTime, '@timestamp': 'yesterday' } },
        ]);
        const proxy = await startProxy(url);
        try {
          const src = source({}, proxy.url, index);
          await src.open();
          proxy.seen.length = 0;
          const counts = await src.counts({ from: FROM, to: FROM + 3 * HOUR });
          expect(proxy.seen.map((r) => r.url.split('?')[0])).toEqual([`/${index}/_search`]);
          expect([...counts.perHour.values()].reduce((a, b) => a + b, 0)).toBe(40);
          expect(counts.perHour.size).toBe(2);
          expect(counts.untimed).toBe(3);
          await src.close();
        } finally {
          await proxy.close();
        }
        for (const mode of ['auto', 'scroll'] as const) {
          const src = source({ mode }, url, index);
          const read: SourceHit[] = [];
          for await (const page of src.untimedPages()) read.push(...page);
          await src.close();
          expect(Object.fromEntries(read.map((h) => [h.hit._id, [h.slotTs, h.rejected]]))).toEqual({
            'no-time': [null, 'no @timestamp'],
            'null-time': [null, '@timestamp is null'],
            'bad-time': [null, '@timestamp "yesterday" is not a date the index could read'],
          });
        }
      } finally {
        await client.indices.delete({ index }).catch(() => undefined);
      }
    });

    it('retries 429s and still reads every document once', async () => {
      // A real node will not answer 429 on demand: the proxy refuses every third search.
      let searches = 0;
      let refused = 0;
      const proxy = await startProxy(url, (req) => {
        if (!req.url?.includes('_search') || ++searches % 3 !== 0) return null;
        refused++;
        return {
          status: 429,
          body: { error: { type: 'es_rejected_execution_exception', reason: 'queue full' } },
        };
      });
      try {
        const retryOut = await tmpDir(`matrix-${name}-429`);
        const retries: string[] = [];
        const src = source(
          { retry: { baseDelayMs: 5, onRetry: ({ reason }) => retries.push(reason) } },
          proxy.url,
          `${base}-main`,
        );
        const summary = await runSync(ingestContext(retryOut, src, { now: () => NOW }), {
          from: FROM,
          to: NOW,
        });
        await src.close();
        expect(refused).toBeGreaterThan(3);
        expect(retries.filter((r) => r === 'HTTP 429')).toHaveLength(refused);
        expect(summary.rowsWritten + summary.quarantined).toBe(TOTAL + SAME_MS);
      } finally {
        await proxy.close();
      }
    });

    it('sends the credentials it is given', async () => {
      const proxy = await startProxy(url);
      try {
        const range = { from: FROM, to: FROM + HOUR };
        const basic = new ElasticsearchSource({
          url: proxy.url,
          index: `${base}-main`,
          username: 'reader',
          password: 'p4ss',
        });
        expect((await basic.countPerHour(range)).size).toBe(1);
        await basic.close();
        const header = `Basic ${Buffer.from('reader:p4ss').toString('base64')}`;
        expect(proxy.seen.length).toBeGreaterThan(1);
        expect(proxy.seen.every((r) => r.authorization === header)).toBe(true);
        const withKey = new ElasticsearchSource({
          url: proxy.url,
          index: `${base}-main`,
          apiKey: 'a2V5OnNlY3JldA==',
        });
        if (found.product === 'OpenSearch') {
          // OpenSearch has no API keys: one line saying so, and what to use instead.
          await expect(withKey.countPerHour(range)).rejects.toThrow(
            /^CLOSER_ES_API_KEY is set, but OpenSearch .* has no API keys: use CLOSER_ES_USERNAME and CLOSER_ES_PASSWORD$/,
          );
        } else {
          proxy.seen.length = 0;
          expect((await withKey.countPerHour(range)).size).toBe(1);
          expect(proxy.seen.every((r) => r.authorization === 'ApiKey a2V5OnNlY3JldA==')).toBe(true);
        }
        await withKey.close();
      } finally {
        await proxy.close();
      }
    });

    it('reaches the server over TLS with a private CA (CLOSER_ES_CA_FILE), and only with it', async () => {
      const tls = await startTlsProxy(url);
      try {
        const range = { from: FROM, to: FROM + HOUR };
        const trusted = new ElasticsearchSource({ url: tls.url, index: `${base}-main`, caFile: tls.caFile });
        expect((await trusted.countPerHour(range)).size).toBe(1);
        expect(trusted.description).toContain(`${expected.server} at ${tls.url}`);
        await trusted.close();
        const untrusted = new ElasticsearchSource(
          { url: tls.url, index: `${base}-main` },
          { retry: { attempts: 1 } },
        );
        await expect(untrusted.countPerHour(range)).rejects.toThrow(
          new RegExp(`^CLOSER_ES_URL ${tls.url}: ConnectionError \\(.*certificate.*\\)$`),
        );
        await untrusted.close();
      } finally {
        await tls.close();
      }
    });
  });
}
