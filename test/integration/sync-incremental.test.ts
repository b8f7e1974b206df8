// Scheduled runs read only what changed (issue 15): per-hour counts from the real node decide which
// hours are read again; documents without a readable @timestamp are quarantined once each. The
// node's requests are counted by the proxy in front of it (it forwards every request unchanged).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Client } from '@elastic/elasticsearch';
import { runSync } from '../../functions/ingest/sync.js';
import { gzipLines } from '../../functions/formats/gzip-lines.js';
import { syncStateKey, untimedQuarantinePrefix } from '../../shared/layout/layout.js';
import type { SyncState } from '../../functions/ingest/state.js';
import { generateHour } from '../../functions/sample/generator.js';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import { verifyRange } from '../../functions/verify/verify.js';
import type { RawHit } from '../../shared/normalise/normalise.js';
import { storedRows } from '../support/duckdb.js';
import { createCloserLikeIndex, esUrl, loadHits, testClient, uniqueIndex } from '../support/es.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { startProxy } from '../support/proxy.js';
import { tmpDir } from '../support/tmp.js';

const START = Date.UTC(2026, 10, 25, 6);
const NOW = START + 6 * HOUR;
const PER_HOUR = 50;

let client: Client;
let proxy: Awaited<ReturnType<typeof startProxy>>;
const created: string[] = [];

beforeAll(async () => {
  client = testClient();
  proxy = await startProxy(esUrl());
});

afterAll(async () => {
  for (const index of created) await client.indices.delete({ index }).catch(() => undefined);
  await client.close();
  await proxy.close();
});

async function feed(name: string): Promise<{ index: string; hits: RawHit[] }> {
  const index = uniqueIndex(name);
  created.push(index);
  await createCloserLikeIndex(client, index);
  const hits: RawHit[] = [];
  for (let h = START; h < NOW; h += HOUR) hits.push(...generateHour(h, PER_HOUR, { seed: name }));
  await loadHits(client, index, hits);
  return { index, hits };
}

/** A plain scheduled run through the proxy: the searches the node received and the summary. */
async function scheduled(out: string, index: string, now: number) {
  const source = new ElasticsearchSource({ url: proxy.url, index }, { pageSize: 100 });
  proxy.seen.length = 0;
  try {
    const summary = await runSync(ingestContext(out, source, { now: () => now, lookbackMs: 3 * HOUR }), {
      initialLookbackMs: 6 * HOUR,
    });
    const searches = proxy.seen.filter((r) => r.url.includes('_search')).length;
    return { summary, searches };
  } finally {
    await source.close();
  }
}

describe('a scheduled run re-reads only the hours whose count changed', () => {
  let index: string;
  let hits: RawHit[];
  let out: string;

  beforeAll(async () => {
    ({ index, hits } = await feed('closer-incremental'));
    out = await tmpDir('incremental');
  });

  it('the first run reads every hour; a run with nothing new sends one count request and reads no hit', async () => {
    const first = await scheduled(out, index, NOW);
    expect(first.summary.eventsRead).toBe(6 * PER_HOUR);
    expect(first.summary.slotsUnchanged).toBe(0);
    const again = await scheduled(out, index, NOW);
    expect(again.summary.eventsRead).toBe(0);
    expect(again.summary.slotsUnchanged).toBe(3);
    expect(again.searches).toBe(1);
    expect(proxy.seen.some((r) => r.url.includes('_pit'))).toBe(false);
    expect(await storedRows(out)).toHaveLength(6 * PER_HOUR);
  });

  it('a late event changes its hour count: that hour alone is read again', async () => {
    const late = generateHour(START + 4 * HOUR, 1, { seed: 'late-one' });
    await loadHits(client, index, late);
    const run = await scheduled(out, index, NOW);
    expect(run.summary.eventsRead).toBe(PER_HOUR + 1);
    expect(run.summary.slotsUnchanged).toBe(2);
    const ids = new Set((await storedRows(out)).map((r) => r.event_id));
    expect(ids.has(late[0]?._id as string)).toBe(true);
    expect(ids.size).toBe(6 * PER_HOUR + 1);
  });

  it('a same-count replacement is not seen while the count holds, and is caught by the read before sealing', async () => {
    const hour = START + 5 * HOUR;
    const slotOf = (h: RawHit) =>
      Math.floor(Date.parse(String((h._source as Record<string, unknown>)['@timestamp'])) / HOUR) * HOUR;
    const gone = hits.find((h) => slotOf(h) === hour);
    const replacement = generateHour(hour, 1, { seed: 'replacement' });
    await client.delete({ index, id: gone?._id as string, refresh: true });
    await loadHits(client, index, replacement);

    const unchanged = await scheduled(out, index, NOW);
    expect(unchanged.summary.eventsRead).toBe(0);
    let ids = new Set((await storedRows(out)).map((r) => r.event_id));
    expect(ids.has(gone?._id as string)).toBe(true);

    // Three hours on, hours 09-11 fall out of the lookback: each is read once more, then sealed.
    const sealing = await scheduled(out, index, NOW + 3 * HOUR);
    expect(sealing.summary.eventsRead).toBe(3 * PER_HOUR + 1);
    expect(sealing.summary.sealedThrough).toBe(new Date(NOW).toISOString());
    ids = new Set((await storedRows(out)).map((r) => r.event_id));
    expect(ids.has(gone?._id as string)).toBe(false);
    expect(ids.has(replacement[0]?._id as string)).toBe(true);
    expect(ids.size).toBe(6 * PER_HOUR + 1);
    const src = new ElasticsearchSource({ url: esUrl(), index });
    const report = await verifyRange(src, new LocalFolderStorage(out), { from: START, to: NOW });
    await src.close();
    expect(report.mismatched).toEqual([]);
    expect(report.sourceTotal).toBe(6 * PER_HOUR + 1);
  });
});

describe('documents without a readable @timestamp', () => {
  it('are counted by verify, quarantined by the sync once each with the reason, so stored + quarantined = the index', async () => {
    const { index } = await feed('closer-untimed-main');
    // A second index whose @timestamp skips what it cannot parse, as `ignore_malformed` does.
    const lenient = uniqueIndex('closer-untimed-lenient');
    created.push(lenient);
    await client.indices.create({
      index: lenient,
      settings: { number_of_shards: 1, number_of_replicas: 0 },
      mappings: { dynamic: false, properties: { '@timestamp': { type: 'date', ignore_malformed: true } } },
    });
    const body = (generateHour(START, 1, { seed: 'untimed' })[0]?._source ?? {}) as Record<string, unknown>;
    const { '@timestamp': _ts, ...noTime } = body;
    await loadHits(client, index, [
      { _id: 'no-time', _source: noTime },
      { _id: 'null-time', _source: { ...noTime, '@timestamp': null } },
    ]);
    await loadHits(client, lenient, [{ _id: 'bad-time', _source: { ...noTime, '@timestamp': 'yesterday' } }]);
    const both = `${index},${lenient}`;
    const out = await tmpDir('untimed');
    const storage = new LocalFolderStorage(out);
    const verifyNow = async () => {
      const src = new ElasticsearchSource({ url: esUrl(), index: both });
      try {
        return await verifyRange(src, storage, { from: START, to: NOW });
      } finally {
        await src.close();
      }
    };

    expect((await verifyNow()).untimed).toEqual({ source: 3, quarantined: 0 });
    const first = await scheduled(out, both, NOW);
    expect(first.summary.quarantined).toBe(3);
    expect(first.summary.rowsWritten).toBe(6 * PER_HOUR);
    const report = await verifyNow();
    expect(report.untimed).toEqual({ source: 3, quarantined: 3 });
    expect(report.storedTotal + report.quarantinedTotal + report.untimed.quarantined).toBe(6 * PER_HOUR + 3);

    const source = new ElasticsearchSource({ url: esUrl(), index: both });
    const prefix = untimedQuarantinePrefix(source.id);
    await source.close();
    const records = async () => {
      const lines: { reason: string; record: { _id: string } }[] = [];
      for await (const o of storage.list(prefix))
        for await (const line of gzipLines(storage, o.key)) lines.push(JSON.parse(line) as never);
      return lines;
    };
    expect(Object.fromEntries((await records()).map((l) => [l.record._id, l.reason]))).toEqual({
      'no-time': 'no @timestamp',
      'null-time': '@timestamp is null',
      'bad-time': '@timestamp "yesterday" is not a date the index could read',
    });

    // Nothing new: the count alone, no hit read, nothing quarantined twice.
    const again = await scheduled(out, both, NOW);
    expect(again.summary.quarantined).toBe(0);
    expect(again.summary.eventsRead).toBe(0);
    expect(again.searches).toBe(1);

    // One more: only it is added.
    await loadHits(client, index, [{ _id: 'no-time-2', _source: noTime }]);
    const more = await scheduled(out, both, NOW);
    expect(more.summary.quarantined).toBe(1);
    expect((await records()).map((l) => l.record._id).sort()).toEqual([
      'bad-time',
      'no-time',
      'no-time-2',
      'null-time',
    ]);
    const state = JSON.parse(
      Buffer.from((await storage.get(syncStateKey(source.id))) as Uint8Array).toString('utf8'),
    ) as SyncState;
    expect(state.untimed?.count).toBe(4);
    expect((await verifyNow()).untimed).toEqual({ source: 4, quarantined: 4 });
  });
});
