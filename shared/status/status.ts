import { z } from 'zod';

/**
 * GET /status: how complete and how fresh the stored audit trail is. One contract for the query
 * API (local `serve` and the query Lambda answer it) and the Grafana plugin (which reads it).
 */

const instant = z.iso.datetime();
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const count = z.number().int().min(0);

export const StatusSchema = z
  .object({
    /** When the API answered: the lag below is measured to this instant. */
    now: instant,
    /** Every hour before this instant is sealed: stored for good, never re-read. Null: nothing sealed yet. */
    sealedThrough: instant.nullable(),
    /** Everything before this instant has been read from the source at least once. */
    syncedThrough: instant.nullable(),
    /** When the last sync run ended (its checkpoint's last write). */
    lastRunAt: instant.nullable(),
    /** Seconds from syncedThrough to now: how old the newest data may be. Null before a first run. */
    freshnessLagSeconds: z.number().min(0).nullable(),
    /** The last verify (either kind), or null when none was recorded. */
    lastVerify: z
      .object({ kind: z.enum(['source', 'integrity']), at: instant, ok: z.boolean() })
      .extend({ from: instant.optional(), to: instant.optional() })
      .nullable(),
    /** The whole UTC days the asked range touches. */
    range: z.object({ from: instant, to: instant }),
    /** One entry per day of the range, oldest first: rows queryable and records quarantined. */
    days: z.array(z.object({ day, rows: count, quarantined: count })),
    /** Quarantined records with no usable time (no day to count them under), over all time. */
    quarantinedUndated: count,
  })
  .strict();
export type Status = z.infer<typeof StatusSchema>;

/** The longest range one /status request may ask for, in days (a row per day comes back). */
export const MAX_STATUS_DAYS = 3660;

export class StatusRangeError extends Error {
  constructor(
    readonly field: 'from' | 'to',
    reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'StatusRangeError';
  }
}

const DAY_MS = 86_400_000;

function instantParam(raw: string | null, field: 'from' | 'to', fallback: number): number {
  if (raw === null || raw === '') return fallback;
  const ms = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (!Number.isFinite(ms) || ms < 0 || ms > Date.UTC(10000, 0, 1))
    throw new StatusRangeError(
      field,
      `${JSON.stringify(raw.slice(0, 40))} is not an ISO-8601 instant or epoch ms`,
    );
  return ms;
}

/**
 * `?from=&to=` (ISO-8601 or epoch ms; defaults: the 7 days before now) widened to whole UTC days.
 * Throws StatusRangeError naming the parameter at fault.
 */
export function parseStatusRange(query: URLSearchParams, now: number): { from: number; to: number } {
  const to = instantParam(query.get('to'), 'to', now);
  const from = instantParam(query.get('from'), 'from', to - 7 * DAY_MS);
  if (from >= to) throw new StatusRangeError('from', 'must be before to');
  const first = Math.floor(from / DAY_MS) * DAY_MS;
  const end = Math.ceil(to / DAY_MS) * DAY_MS;
  if ((end - first) / DAY_MS > MAX_STATUS_DAYS)
    throw new StatusRangeError('from', `the range spans more than ${MAX_STATUS_DAYS} days`);
  return { from: first, to: end };
}
