// The order `serve`'s background worker takes its queued work in (issue 17): what a query waits
// for, then the rollups, the hours at ranges' ends and the alerts, before the long copies (a body
// text asked once queues a scan of every object); first queued first within a kind.
import { describe, expect, it } from '@jest/globals';
import { nextQueued, type Kind } from '../../functions/query/engines/duckdb-rollups.js';

const queue = (...kinds: Kind[]) =>
  new Map<string, { kind: Kind; urgent?: boolean }>(kinds.map((kind, i) => [`${kind}-${i}`, { kind }]));

function order(q: Map<string, { kind: Kind; urgent?: boolean }>): string[] {
  const out: string[] = [];
  for (let next = nextQueued(q); !next.done; next = nextQueued(q)) {
    out.push(next.value[0]);
    q.delete(next.value[0]);
  }
  return out;
}

describe('the rollup worker queue', () => {
  it('takes rollups, then ends, alerts, texts and copies, each kind in the order queued', () => {
    expect(order(queue('text', 'text', 'copy', 'edges', 'alerts', 'events', 'edges', 'events'))).toEqual([
      'events-5',
      'events-7',
      'edges-3',
      'edges-6',
      'alerts-4',
      'text-0',
      'text-1',
      'copy-2',
    ]);
    expect(nextQueued(new Map()).done).toBe(true);
    // What a query waits for goes first.
    const q = queue('events', 'text', 'edges');
    (q.get('edges-2') as { urgent?: boolean }).urgent = true;
    expect(order(q)).toEqual(['edges-2', 'events-0', 'text-1']);
  });
});
