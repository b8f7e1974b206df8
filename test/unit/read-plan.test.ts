import { describe, expect, it } from '@jest/globals';
import { partsToRead, planReads, readPlanned, recordReads } from '../../functions/ingest/read-plan.js';
import type { SyncState } from '../../functions/ingest/state.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';

const H = 3_600_000;
const T = Date.UTC(2026, 10, 25);
const iso = (ms: number) => new Date(ms).toISOString();

describe('the read plan', () => {
  // The sample feed counts exactly: 1 event in hour 1, 2 in hour 2, 3 in hour 3...
  const source = new SampleSource({ perHour: (h) => (h - T) / H, now: () => T + 6 * H });
  const range = { from: T + H, to: T + 6 * H };

  it('reads sealed hours always, open hours only when their count differs from the one recorded', async () => {
    const state: SyncState = {
      version: 1,
      pendingCompaction: [],
      hourCounts: { [iso(T + 3 * H)]: 3, [iso(T + 4 * H)]: 99, [iso(T + 5 * H)]: 5 },
    };
    const plan = await planReads(source, state, range, T + 3 * H, false);
    expect([...(plan.read ?? [])].map((h) => (h - T) / H)).toEqual([1, 2, 4]);
    expect(plan.unchanged).toBe(2);
    expect(plan.counts?.get(T + 4 * H)).toBe(4);
    expect(plan.untimed).toBe(0);
    expect(partsToRead(plan, range)).toEqual([
      { from: T + H, to: T + 3 * H },
      { from: T + 4 * H, to: T + 5 * H },
    ]);
    const read: number[] = [];
    const done = await readPlanned(plan, range, async (part) => {
      read.push((part.from - T) / H);
      return { complete: true, syncedThrough: part.to };
    });
    expect(done).toEqual({ complete: true, syncedThrough: range.to });
    expect(read).toEqual([1, 4]);
    recordReads(state, plan, range.from, range.to, T + 3 * H);
    expect(state.hourCounts).toEqual({ [iso(T + 3 * H)]: 3, [iso(T + 4 * H)]: 4, [iso(T + 5 * H)]: 5 });
  });

  it('an explicit range, or a source that cannot count, reads everything; a run cut short records only what it read', async () => {
    const state: SyncState = { version: 1, pendingCompaction: [], hourCounts: { [iso(T + 5 * H)]: 5 } };
    const explicit = await planReads(source, state, range, T, true);
    expect(explicit.read).toBeNull();
    expect(partsToRead(explicit, range)).toEqual([range]);
    const plan = await planReads(source, { version: 1, pendingCompaction: [] }, range, T, false);
    const cut = await readPlanned(plan, range, async (part) => ({
      complete: false,
      syncedThrough: part.from + 2 * H,
    }));
    expect(cut).toEqual({ complete: false, syncedThrough: T + 3 * H });
    recordReads(state, plan, range.from, cut.syncedThrough, T);
    expect(state.hourCounts).toEqual({ [iso(T + H)]: 1, [iso(T + 2 * H)]: 2, [iso(T + 5 * H)]: 5 });
    // Read without counts: marked so that the next run reads the hour again.
    recordReads(state, explicit, T + 5 * H, T + 6 * H, T);
    expect(state.hourCounts?.[iso(T + 5 * H)]).toBe(-1);
  });
});
