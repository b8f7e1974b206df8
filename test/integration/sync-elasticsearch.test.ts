import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import { runSync } from '../../functions/ingest/sync.js';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import type { Storage } from '../../functions/storage/storage.js';
import { verifyRange } from '../../functions/verify/verify.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { duckdb, eventsGlob, listKeys, storedRows } from '../support/duckdb.js';
import { createCloserLikeIndex, esUrl, loadHits, testClient, uniqueIndex } from '../support/es.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { startProxy } from '../support/proxy.js';
import { tmpDir } from '../support/tmp.js';

const FROM = Date.UTC(2026, 10, 20);
const NOW = Date.UTC(2026, 10, 23, 12, 0, 0);
const TOTAL = 4_000;

let client: Client;
let base: string;
let pattern: string;
const loaded: RawHit[] = [];
const copies = 40;

function source(
  options: ConstructorParameters<typeof ElasticsearchSource>[1] = {},
  url = esUrl(),
  index = pattern,
) {
  return new ElasticsearchSource({ url, index }, { pageSize: 300, ...options });
}

beforeAll(async () => {
  client = testClient();
  base = uniqueIndex('closer-sync');
  pattern = `${base}-*`;
  for (const [hour, count] of distribute(TOTAL, FROM, NOW)) loaded.push(...generateHour(hour, count));
  await createCloserLikeIndex(client, `${base}-main`);
  await createCloserLikeIndex(client, `${base}-copy`);
  await loadHits(client, `${base}-main`, loaded);
  // The same documents again in a second index (as a reindex leaves them): duplicates to drop.
  await loadHits(client, `${base}-copy`, loaded.slice(100, 100 + copies));
}, 180_000);

afterAll(async () => {
  await client.indices.delete({ index: pattern }).catch(() => undefined);
  await client.close();
});

describe('sync from a real Elasticsearch', () => {
  let pitOut: string;

  it('reads every document through PIT + search_after across many pages, drops duplicates', async () => {
    pitOut = await tmpDir('es-pit');
    const summary = await runSync(ingestContext(pitOut, source({ mode: 'pit' }), { now: () => NOW }), {
      from: FROM,
      to: NOW,
    });
    expect(summary.eventsRead).toBe(TOTAL + copies);
    expect(summary.duplicatesDropped).toBe(copies);
    expect(summary.rowsWritten + summary.quarantined).toBe(TOTAL);
    const rows = await storedRows(pitOut);
    expect(rows).toHaveLength(summary.rowsWritten);
    expect(new Set(rows.map((r) => r.event_id)).size).toBe(rows.length);
    const ids = new Set(loaded.map((h) => h._id));
    for (const r of rows) expect(ids.has(r.event_id as string)).toBe(true);
  });

  it('stores the right types, readable by DuckDB with Hive partitions', async () => {
    const db = await duckdb();
    try {
      const types = await db.rows(`DESCRIBE SELECT * FROM ${eventsGlob(pitOut)}`);
      const typeOf = Object.fromEntries(types.map((t) => [t.column_name, t.column_type]));
      expect(typeOf).toMatchObject({
        ts: 'TIMESTAMP WITH TIME ZONE',
        ingested_at: 'TIMESTAMP WITH TIME ZONE',
        known_action: 'BOOLEAN',
        http_status: 'INTEGER',
        categories: 'VARCHAR[]',
        user_roles: 'VARCHAR[]',
        action: 'VARCHAR',
        dt: 'DATE',
      });
      const [check] = await db.rows(
        `SELECT count(*) FILTER (WHERE strftime(ts, '%Y-%m-%d') <> CAST(dt AS VARCHAR)) AS wrong_partition,
                count(DISTINCT action) AS actions, count(*) FILTER (WHERE NOT known_action) AS unknown
         FROM ${eventsGlob(pitOut)}`,
      );
      expect(Number(check?.wrong_partition)).toBe(0);
      expect(Number(check?.actions)).toBeGreaterThan(40);
      const meta = await db.rows(
        `SELECT DISTINCT compression FROM parquet_metadata('${pitOut}/events/*/*.parquet')`,
      );
      expect(meta.map((m) => m.compression)).toEqual(['ZSTD']);
      // Min/max statistics where rows come grouped (readers skip row groups by time), none where
      // values are spread at random.
      const stats = await db.rows(
        `SELECT path_in_schema AS col, bool_and(stats_min_value IS NOT NULL) AS has_stats
         FROM parquet_metadata('${pitOut}/events/*/*.parquet')
         WHERE path_in_schema IN ('ts', 'es_index', 'action', 'user_id') GROUP BY 1 ORDER BY 1`,
      );
      expect(stats).toEqual([
        { col: 'action', has_stats: false },
        { col: 'es_index', has_stats: true },
        { col: 'ts', has_stats: true },
        { col: 'user_id', has_stats: false },
      ]);
    } finally {
      db.close();
    }
  });

  it('reads the same rows with the scroll fallback', async () => {
    const out = await tmpDir('es-scroll');
    await runSync(ingestContext(out, source({ mode: 'scroll' }), { now: () => NOW }), {
      from: FROM,
      to: NOW,
    });
    expect(await listKeys(out, 'events')).toEqual(await listKeys(pitOut, 'events'));
    expect(await storedRows(out)).toEqual(await storedRows(pitOut));
  });

  it('a rerun of the same range leaves the same rows in the same object keys', async () => {
    const before = await listKeys(pitOut, 'events');
    const rows = await storedRows(pitOut);
    await runSync(ingestContext(pitOut, source(), { now: () => NOW }), { from: FROM, to: NOW });
    expect(await listKeys(pitOut, 'events')).toEqual(before);
    expect(await storedRows(pitOut)).toEqual(rows);
  });

  it('compacts sealed days into one object and keeps hour objects for the open window', async () => {
    const keys = await listKeys(pitOut, 'events');
    expect(keys.filter((k) => k.startsWith('events/dt=2026-11-21/'))).toEqual([
      'events/dt=2026-11-21/day.parquet',
    ]);
    const today = keys.filter((k) => k.startsWith('events/dt=2026-11-23/'));
    expect(today.every((k) => /\/h\d\d\.parquet$/.test(k))).toBe(true);
    expect(today.length).toBeGreaterThan(3);
  });

  it('verify finds every hour equal', async () => {
    const report = await verifyRange(source(), new LocalFolderStorage(pitOut), { from: FROM, to: NOW });
    // The copies index doubles 40 documents: Elasticsearch counts them, storage has them once.
    const extra = report.mismatched.reduce((s, h) => s + h.source - h.stored - h.quarantined, 0);
    expect(extra).toBe(copies);
    expect(report.storedTotal + report.quarantinedTotal).toBe(TOTAL);
  });
});

describe('scheduled runs: lookback, late events, crash safety', () => {
  it('picks up late events inside the lookback, seals older hours, never duplicates', async () => {
    const index = uniqueIndex('closer-late');
    await createCloserLikeIndex(client, index);
    const day = Date.UTC(2026, 10, 22);
    const hits = [...distribute(500, day, day + 12 * HOUR)].flatMap(([h, n]) =>
      generateHour(h, n, { seed: 'late' }),
    );
    await loadHits(client, index, hits);
    const out = await tmpDir('es-late');
    let now = day + 12 * HOUR;
    const ctx = () =>
      ingestContext(out, source({}, esUrl(), index), { now: () => now, lookbackMs: 3 * HOUR });
    const first = await runSync(ctx(), { initialLookbackMs: 12 * HOUR });
    expect(first.rowsWritten).toBe(500);
    expect(first.sealedThrough).toBe(new Date(day + 9 * HOUR).toISOString());

    // Indexed now, stamped 10:30 (inside the lookback) and 07:15 (a sealed hour).
    const late = generateHour(day + 10 * HOUR, 2, { seed: 'late-arrivals' });
    const tooLate = generateHour(day + 7 * HOUR, 1, { seed: 'too-late' });
    await loadHits(client, index, [...late, ...tooLate]);
    now += HOUR;
    const second = await runSync(ctx());
    const rows = await storedRows(out);
    const ids = new Set(rows.map((r) => r.event_id));
    expect(rows).toHaveLength(502);
    for (const h of late) expect(ids.has(h._id as string)).toBe(true);
    // An hour that is sealed is final: the documented cost of a lookback too short for the feed.
    expect(ids.has(tooLate[0]?._id as string)).toBe(false);
    expect(second.sealedThrough).toBe(new Date(day + 10 * HOUR).toISOString());
    const report = await verifyRange(source({}, esUrl(), index), new LocalFolderStorage(out), {
      from: day,
      to: day + 13 * HOUR,
    });
    expect(report.mismatched.map((m) => m.hour)).toEqual([new Date(day + 7 * HOUR).toISOString()]);
    await client.indices.delete({ index });
  });

  it('a crash between the data write and the checkpoint loses nothing and duplicates nothing', async () => {
    const index = uniqueIndex('closer-crash');
    await createCloserLikeIndex(client, index);
    const day = Date.UTC(2026, 10, 22);
    const hits = [...distribute(800, day, day + 30 * HOUR)].flatMap(([h, n]) =>
      generateHour(h, n, { seed: 'crash' }),
    );
    await loadHits(client, index, hits);
    const now = day + 30 * HOUR;
    const clean = await tmpDir('es-clean');
    await runSync(ingestContext(clean, source({}, esUrl(), index), { now: () => now }), {
      initialLookbackMs: 30 * HOUR,
    });

    // The fault a real disk will not produce on demand: the state write fails after the data is written.
    const crashed = await tmpDir('es-crash');
    const real = new LocalFolderStorage(crashed);
    let failNext = true;
    const faulty: Storage = Object.assign(Object.create(real) as Storage, {
      putIfVersion: async (key: string, body: Uint8Array | string, expected: string | null) => {
        if (failNext && key.startsWith('state/')) {
          failNext = false;
          throw new Error('simulated crash before the checkpoint');
        }
        return real.putIfVersion(key, body, expected);
      },
    });
    await expect(
      runSync(ingestContext(crashed, source({}, esUrl(), index), { storage: faulty, now: () => now }), {
        initialLookbackMs: 30 * HOUR,
      }),
    ).rejects.toThrow('simulated crash');
    await runSync(ingestContext(crashed, source({}, esUrl(), index), { now: () => now }), {
      initialLookbackMs: 30 * HOUR,
    });
    expect(await listKeys(crashed, 'events')).toEqual(await listKeys(clean, 'events'));
    expect(await storedRows(crashed)).toEqual(await storedRows(clean));
    expect(await storedRows(crashed)).toHaveLength(800);
    await client.indices.delete({ index });
  });
});

describe('response compression', () => {
  it("reads the same rows with gzip'd responses (CLOSER_ES_COMPRESSION=on) as with plain ones", async () => {
    // The proxy only forwards and notes what each side said about encodings.
    const proxy = await startProxy(esUrl());
    try {
      const outs: string[] = [];
      for (const compression of [true, false]) {
        const out = await tmpDir(`es-compression-${compression}`);
        const src = new ElasticsearchSource(
          { url: proxy.url, index: `${base}-main`, compression },
          { pageSize: 300 },
        );
        await runSync(ingestContext(out, src, { now: () => NOW }), { from: FROM, to: NOW });
        await src.close();
        outs.push(out);
      }
      const searches = proxy.seen.filter((r) => r.url.includes('_search'));
      const gzipped = searches.filter((r) => r.acceptEncoding?.includes('gzip'));
      expect(gzipped.length).toBeGreaterThan(3);
      expect(gzipped.every((r) => r.responseEncoding === 'gzip')).toBe(true);
      const plain = searches.filter((r) => !r.acceptEncoding?.includes('gzip'));
      expect(plain.length).toBe(gzipped.length);
      expect(plain.every((r) => r.responseEncoding === undefined)).toBe(true);
      const [withGzip, without] = await Promise.all(outs.map((o) => storedRows(o)));
      expect(withGzip?.length).toBe(TOTAL);
      expect(withGzip).toEqual(without);
    } finally {
      await proxy.close();
    }
  });
});

describe('transient Elasticsearch failures', () => {
  it('retries 429s with backoff and still reads every document once', async () => {
    // A real node will not answer 429 on demand: the proxy refuses every third search with 429,
    // everything else reaches the real node unchanged.
    let searches = 0;
    let refused = 0;
    const proxy = await startProxy(esUrl(), (req) => {
      if (!req.url?.includes('_search') || ++searches % 3 !== 0) return null;
      refused++;
      return {
        status: 429,
        body: { error: { type: 'es_rejected_execution_exception', reason: 'queue full' } },
      };
    });
    try {
      const out = await tmpDir('es-429');
      const retries: string[] = [];
      const src = source(
        { retry: { baseDelayMs: 5, onRetry: ({ reason }) => retries.push(reason) } },
        proxy.url,
        `${base}-main`,
      );
      const summary = await runSync(ingestContext(out, src, { now: () => NOW }), { from: FROM, to: NOW });
      expect(refused).toBeGreaterThan(3);
      expect(retries.filter((r) => r === 'HTTP 429')).toHaveLength(refused);
      expect(summary.rowsWritten + summary.quarantined).toBe(TOTAL);
      expect(new Set((await storedRows(out)).map((r) => r.event_id)).size).toBe(summary.rowsWritten);
    } finally {
      await proxy.close();
    }
  });

  it('falls back to scroll by itself where point-in-time is refused', async () => {
    // Simulates a cluster (or a role) without point-in-time: the proxy answers 405 to _pit.
    const proxy = await startProxy(esUrl(), (req) =>
      req.url?.includes('/_pit') ? { status: 405, body: { error: 'Incorrect HTTP method for uri' } } : null,
    );
    try {
      const out = await tmpDir('es-nopit');
      const notices: string[] = [];
      const src = source({ onNotice: (m) => notices.push(m) }, proxy.url, `${base}-main`);
      const summary = await runSync(ingestContext(out, src, { now: () => NOW }), { from: FROM, to: NOW });
      expect(notices[0]).toMatch(/point-in-time unavailable \(HTTP 405\); reading with scroll/);
      expect(proxy.seen.some((r) => r.url.includes('scroll'))).toBe(true);
      expect(summary.rowsWritten + summary.quarantined).toBe(TOTAL);
    } finally {
      await proxy.close();
    }
  });

  it('sends the API key, or basic credentials, and never prints them', async () => {
    const proxy = await startProxy(esUrl());
    try {
      const range = { from: FROM, to: FROM + HOUR };
      const withKey = new ElasticsearchSource({
        url: proxy.url,
        index: `${base}-main`,
        apiKey: 'a2V5aWQ6c2VjcmV0LWtleQ==',
      });
      await withKey.countPerHour(range);
      const withBasic = new ElasticsearchSource({
        url: proxy.url,
        index: `${base}-main`,
        username: 'reader',
        password: 'p4ss-w0rd',
      });
      await withBasic.countPerHour(range);
      expect(proxy.seen[0]?.authorization).toBe('ApiKey a2V5aWQ6c2VjcmV0LWtleQ==');
      expect(proxy.seen.at(-1)?.authorization).toBe(
        `Basic ${Buffer.from('reader:p4ss-w0rd').toString('base64')}`,
      );
      expect(withKey.description + withBasic.description).not.toMatch(/a2V5aWQ|p4ss/);
      const inUrl = new ElasticsearchSource({ url: 'http://reader:p4ss-w0rd@127.0.0.1:9', index: 'closer' });
      expect(inUrl.description).toBe('Elasticsearch http://127.0.0.1:9 index closer');
      await Promise.all([withKey.close(), withBasic.close(), inUrl.close()]);
    } finally {
      await proxy.close();
    }
  });
});
