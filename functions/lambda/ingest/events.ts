import { z } from 'zod';
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

const RANGE = 'a backfill event needs "from" and "to" as ISO-8601 instants, from before to';
const instant = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseTimestamp(v);
  if (ms === null) ctx.addIssue({ code: 'custom', message: RANGE });
  return ms ?? Number.NaN;
});

/** `{from, to, restart?}`: a backfill. */
const BackfillSchema = z
  .object({ from: instant, to: instant, restart: z.boolean().optional() }, { message: RANGE })
  .refine((e) => e.from < e.to, { message: RANGE });

/** What EventBridge delivers on a schedule: only its `time` is used (other fields pass). */
const ScheduledSchema = z.looseObject({ time: z.string().optional() });

export function readIngestEvent(event: unknown): IngestRequest {
  const e = (event ?? {}) as Record<string, unknown>;
  if (typeof e === 'object' && (e.from !== undefined || e.to !== undefined)) {
    const parsed = BackfillSchema.safeParse(e);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.length ? ` (${issue.path.join('.')})` : '';
      throw new Error(
        issue?.message === RANGE ? `${RANGE}${field}` : `backfill event${field}: ${issue?.message}`,
      );
    }
    const { from, to, restart } = parsed.data;
    return { kind: 'backfill', from, to, restart: restart === true };
  }
  const scheduled = ScheduledSchema.safeParse(e);
  return { kind: 'scheduled', time: scheduled.success ? (scheduled.data.time ?? null) : null };
}
