import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { startProgress } from '../../functions/cli/progress.js';
import { emptySummary } from '../../functions/ingest/summary.js';

const HOUR = 3_600_000;
const FROM = Date.UTC(2026, 10, 1);

/** A stream that records what was written; `isTTY` as a terminal or a log file would say. */
function sink(isTTY: boolean) {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream & { columns: number };
  Object.assign(stream, {
    isTTY,
    columns: 120,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  });
  return { stream, text: () => text };
}

function summaryAt(events: number) {
  const s = emptySummary('sample', 'folder');
  s.range = { from: new Date(FROM).toISOString(), to: new Date(FROM + 100 * HOUR).toISOString() };
  s.eventsRead = events;
  return s;
}

describe('progress off a terminal (cron, logs)', () => {
  it('prints one plain line every few seconds: events, rate, hour, share and ETA', () => {
    let t = 0;
    const out = sink(false);
    const p = startProgress('sync', { stream: out.stream, lineEveryMs: 5000, now: () => t });
    t = 1000;
    p.update(FROM + 10 * HOUR, summaryAt(1000));
    expect(out.text()).toBe(''); // not yet: less than 5 s
    t = 10_000;
    p.update(FROM + 20 * HOUR, summaryAt(20_000));
    t = 11_000;
    p.update(FROM + 21 * HOUR, summaryAt(21_000));
    const lines = out.text().trim().split('\n');
    expect(lines).toEqual([
      // 20 of 100 hours in 10 s: the other 80 at the same pace take 40 s.
      'sync: 20,000 events read (2,000/s), writing 2026-11-01T20:00Z, 20% of 100 hours, ETA 40.0 s',
    ]);
    p.stop(true);
    expect(out.text()).not.toMatch(/\n\n/);
  });

  it("keeps the ETA steady when one hour is much busier than the others (the run's average pace)", () => {
    let t = 0;
    const out = sink(false);
    const p = startProgress('backfill', { stream: out.stream, lineEveryMs: 1, now: () => t });
    const etas: number[] = [];
    for (let h = 1; h <= 50; h++) {
      t += h === 25 ? 20_000 : 1000; // one hour ten times slower
      p.update(FROM + h * HOUR, summaryAt(h * 100));
      const m = / ETA ([\d.]+) s/.exec(out.text().trim().split('\n').pop() ?? '');
      if (m) etas.push(Number(m[1]));
    }
    // After the slow hour the estimate moves by what that hour cost, not tenfold.
    const jumps = etas.slice(1).map((e, i) => e / (etas[i] as number));
    expect(Math.max(...jumps)).toBeLessThan(2);
    p.stop(false);
  });
});

describe('progress on a terminal', () => {
  it('draws a bar, and a note (Ctrl-C, a warning) gets its own line the bar does not overwrite', () => {
    let t = 0;
    const out = sink(true);
    const p = startProgress('sync', { stream: out.stream, now: () => t });
    t = 1000;
    p.update(FROM + 10 * HOUR, summaryAt(500));
    expect(out.text()).toContain('sync [');
    p.note('interrupted: finishing the current page, then stopping');
    expect(out.text().endsWith('interrupted: finishing the current page, then stopping\n')).toBe(true);
    p.stop(false);
  });
});
