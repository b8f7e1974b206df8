import type { ScheduledEvent } from 'aws-lambda';
import { parseTimestamp } from '../../../shared/normalise/timestamp.js';

/** A manual backfill: `{"from": "2026-11-01", "to": "2026-11-08"}`. */
export interface BackfillEvent {
  from: string;
  to: string;
  restart?: boolean;
}

export type IngestRequest =
  | { kind: 'scheduled'; time: string | null }
  | { kind: 'backfill'; from: number; to: number; restart: boolean };

export function readIngestEvent(event: unknown): IngestRequest {
  const e = (event ?? {}) as Partial<ScheduledEvent> & Partial<BackfillEvent>;
  if (e.from !== undefined || e.to !== undefined) {
    const from = parseTimestamp(e.from);
    const to = parseTimestamp(e.to);
    if (from === null || to === null || from >= to) {
      throw new Error('a backfill event needs "from" and "to" as ISO-8601 instants, from before to');
    }
    return { kind: 'backfill', from, to, restart: e.restart === true };
  }
  return { kind: 'scheduled', time: typeof e.time === 'string' ? e.time : null };
}
