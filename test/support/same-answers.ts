import { expect } from '@jest/globals';
import type { QueryResponse } from '../../shared/api/contract.js';

/** A response's frames without their meta (the SQL that ran differs by path, not the answer). */
export const strip = (frames: unknown[]) =>
  JSON.stringify(frames.map((f) => ({ ...(f as object), meta: undefined })));

/**
 * Expects every query of `a` answered (200) with the frames `b` gave it, value by value; returns
 * the refIds whose executed SQL matches `marker` (which path answered).
 */
export function sameAnswers(
  a: QueryResponse,
  b: QueryResponse,
  refIds: string[],
  marker: RegExp,
): Set<string> {
  const matched = new Set<string>();
  for (const refId of refIds) {
    const x = a.results[refId];
    const y = b.results[refId];
    expect({ refId, status: x?.status, error: x?.error }).toEqual({ refId, status: 200, error: undefined });
    expect({ refId, frames: strip(x?.frames ?? []) }).toEqual({ refId, frames: strip(y?.frames ?? []) });
    if (marker.test(String(x?.frames[0]?.meta.executedQueryString ?? ''))) matched.add(refId);
  }
  return matched;
}
