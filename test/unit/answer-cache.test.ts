// The answer cache's bounds (issue 17): least recently used answers go first, within a count of
// answers and of bytes, so that events' rows (bodies and all) cannot grow `serve` past its memory.
import { describe, expect, it } from '@jest/globals';
import { AnswerCache, type KeptAnswer } from '../../functions/query/answer-cache.js';

const answer = (rows: number, text = 'x'): KeptAnswer => ({
  columns: [{ name: 'body', type: 'string' }],
  rows: Array.from({ length: rows }, () => [text]),
  executedSql: 'SELECT 1',
});

describe('AnswerCache', () => {
  it('drops the least recently used answer past its count', () => {
    const cache = new AnswerCache(2);
    cache.set('a', answer(1));
    cache.set('b', answer(1));
    expect(cache.get('a')).toBeDefined();
    cache.set('c', answer(1));
    expect([cache.get('a'), cache.get('b'), cache.get('c')].map((x) => x !== undefined)).toEqual([
      true,
      false,
      true,
    ]);
    expect(cache.size).toBe(2);
  });

  it('weighs answers by their values: long texts push out the oldest, and none over a tenth is kept', () => {
    const cache = new AnswerCache(100, 100_000);
    cache.set('counts', answer(10));
    const body = 'b'.repeat(1_000);
    for (let i = 0; i < 20; i++) cache.set(`events-${i}`, answer(8, body));
    expect(cache.heldBytes).toBeLessThanOrEqual(100_000);
    expect(cache.get('counts')).toBeUndefined();
    expect(cache.get('events-19')?.rows.length).toBe(8);
    cache.set('huge', answer(11, body));
    expect(cache.get('huge')).toBeUndefined();
    // Replacing a key does not count it twice.
    const held = cache.heldBytes;
    cache.set('events-19', answer(8, body));
    expect(cache.heldBytes).toBe(held);
  });
});
