import { z } from 'zod';

/**
 * The outcome of the last `verify` (against the source) and `verify --integrity` (the store
 * against its manifests), kept at VERIFY_RESULT_KEY under the target so the query API's status and
 * the Data health dashboard can show it. Every run of either command rewrites its own entry.
 */
export const VERIFY_RESULT_KEY = 'state/verify.json';

const common = {
  /** When the run finished, ISO-8601. */
  at: z.string(),
  ok: z.boolean(),
  /** The range checked (ISO-8601), null when the whole store was checked. */
  from: z.string().nullable(),
  to: z.string().nullable(),
  tookMs: z.number(),
  /** One line for people: what was checked and what was found. */
  summary: z.string(),
};

export const SourceVerifyResult = z.object({
  kind: z.literal('source'),
  ...common,
  hoursCompared: z.number(),
  hoursDiffering: z.number(),
  sourceTotal: z.number(),
  storedTotal: z.number(),
  quarantinedTotal: z.number(),
});

export const IntegrityVerifyResult = z.object({
  kind: z.literal('integrity'),
  ...common,
  objectsChecked: z.number(),
  bytesChecked: z.number(),
  manifestsChecked: z.number(),
  /** Objects whose bytes no longer match their manifest entry. */
  changed: z.number(),
  /** Objects a manifest lists (and nothing superseded) that are gone. */
  vanished: z.number(),
  /** Objects under a data prefix that no manifest lists. */
  unlisted: z.number(),
  /** Manifests whose chain link (the previous manifest's hash) does not hold. */
  chainBreaks: z.number(),
});

export const VerifyResult = z.discriminatedUnion('kind', [SourceVerifyResult, IntegrityVerifyResult]);
export type SourceVerifyResult = z.infer<typeof SourceVerifyResult>;
export type IntegrityVerifyResult = z.infer<typeof IntegrityVerifyResult>;
export type VerifyResult = z.infer<typeof VerifyResult>;

/** The object at VERIFY_RESULT_KEY: the last result of each kind, and which of them is the newest. */
export const VerifyRecord = z.object({
  version: z.literal(1),
  last: VerifyResult,
  source: SourceVerifyResult.optional(),
  integrity: IntegrityVerifyResult.optional(),
});
export type VerifyRecord = z.infer<typeof VerifyRecord>;

/** The record with `result` added; `previous` may be null (no run yet) or unreadable (then replaced). */
export function withVerifyResult(previous: VerifyRecord | null, result: VerifyResult): VerifyRecord {
  const next: VerifyRecord = { ...(previous ?? {}), version: 1, last: result };
  if (result.kind === 'source') next.source = result;
  else next.integrity = result;
  return next;
}

/** Parses the stored record; null when absent or not a record of this shape. */
export function parseVerifyRecord(body: Uint8Array | string | null): VerifyRecord | null {
  if (body === null) return null;
  try {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    const parsed = VerifyRecord.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
