// The DuckDB engine keeps folder listings and Parquet footers between queries (issue 17): a sync
// that adds, rewrites or compacts objects under a running engine must show in its next answer, never
// stale and never counted twice. Every answer is checked against an engine opened afresh (no cache)
// and against the feed itself.
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { QueryService } from '../../functions/query/service.js';
import { defaultHourlyCount } from '../../functions/sample/generator.js';
import { HOUR, syncSample } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const DAY = Date.UTC(2026, 8, 14);
const RANGE = { from: new Date(DAY).toISOString(), to: new Date(DAY + 24 * HOUR).toISOString() };
/** Past the time a folder must be left alone before the engine keeps its listing. */
const SETTLE_MS = 2_200;

let dir: string;
let engine: DuckDbEngine;
let service: QueryService;

beforeAll(async () => {
  dir = await tmpDir('query-cache');
});

afterAll(async () => {
  await engine?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Events the feed holds in [from, to): what the store must answer once those hours are synced. */
function feed(from: number, to: number): number {
  let n = 0;
  for (let h = from; h < to; h += HOUR) n += defaultHourlyCount(h);
  return n;
}

const sync = (from: number, to: number, now: number) => syncSample(dir, from, to, now);

async function count(s: QueryService): Promise<{ value: number; files: unknown }> {
  const { results } = await s.query({ range: RANGE, queries: [{ refId: 'A', type: 'stat' }] });
  const frame = results.A?.frames[0];
  if (!frame) throw new Error(results.A?.error ?? 'no result');
  return { value: frame.fields[0]?.values[0] as number, files: frame.meta.custom?.filesRead };
}

/** The same question asked of an engine opened now: no listing or footer kept from before. */
async function fresh(): Promise<number> {
  const e = await DuckDbEngine.open(dir);
  try {
    return (await count(new QueryService(e))).value;
  } finally {
    await e.close();
  }
}

const objects = async () => (await fs.readdir(path.join(dir, 'events', 'dt=2026-09-14'))).sort();

describe('DuckDB engine caches under a changing store', () => {
  it('answers with what each sync added, rewrote or compacted, through one running engine', async () => {
    // Six open hours (younger than the lookback: hour objects).
    await sync(DAY, DAY + 6 * HOUR, DAY + 7 * HOUR);
    engine = await DuckDbEngine.open(dir);
    service = new QueryService(engine, { timeoutMs: 20_000 });
    await sleep(SETTLE_MS);
    const first = await count(service);
    expect(first.value).toBe(feed(DAY, DAY + 6 * HOUR));
    expect(first.files).toBe(6);
    // Asked again: from the kept listing and footers, the same answer.
    expect((await count(service)).value).toBe(first.value);

    // More hours, and the young ones of the first sync rewritten in place (the lookback).
    await sync(DAY + 3 * HOUR, DAY + 12 * HOUR, DAY + 13 * HOUR);
    const second = await count(service);
    expect(second.value).toBe(feed(DAY, DAY + 12 * HOUR));
    expect(second.files).toBe(12);
    expect(second.value).toBe(await fresh());

    // Kept again once settled, then the day is sealed: its hours fold into one day object and
    // are deleted. Counted once, from the day object alone.
    await sleep(SETTLE_MS);
    expect((await count(service)).value).toBe(second.value);
    await sync(DAY + 12 * HOUR, DAY + 24 * HOUR, DAY + 3 * 24 * HOUR);
    expect(await objects()).toEqual(['day.parquet']);
    const third = await count(service);
    expect(third.value).toBe(feed(DAY, DAY + 24 * HOUR));
    expect(third.files).toBe(1);
    expect(third.value).toBe(await fresh());

    // The day object rewritten whole (a sync over the sealed day again): the same rows, once.
    await sleep(SETTLE_MS);
    expect((await count(service)).value).toBe(third.value);
    await sync(DAY, DAY + 24 * HOUR, DAY + 3 * 24 * HOUR);
    expect(await objects()).toEqual(['day.parquet']);
    expect((await count(service)).value).toBe(third.value);
  }, 120_000);
});
