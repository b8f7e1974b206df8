import { partitionOf } from '../../shared/event/partition.js';

/**
 * Object keys under the target (bucket prefix or folder). Deterministic: the same hour or day
 * always lands in the same key, so a rerun overwrites instead of adding.
 * NDJSON lives under its own prefix: Athena reads every object under a table's location, and a
 * Parquet table must not meet gzip'd JSON.
 */
export type Format = 'parquet' | 'json';

const EXT: Record<Format, string> = { parquet: 'parquet', json: 'ndjson.gz' };
const ROOT: Record<Format, string> = { parquet: 'events', json: 'events-ndjson' };

/** Where every partition of a format lives: `events/`, `events-ndjson/`. */
export function formatPrefix(format: Format): string {
  return `${ROOT[format]}/`;
}

export function partitionPrefix(format: Format, dt: string): string {
  return `${formatPrefix(format)}dt=${dt}/`;
}

export function hourKey(format: Format, slotStart: number): string {
  const hh = new Date(slotStart).toISOString().slice(11, 13);
  return `${partitionPrefix(format, partitionOf(slotStart))}h${hh}.${EXT[format]}`;
}

export function dayKey(format: Format, dt: string): string {
  return `${partitionPrefix(format, dt)}day.${EXT[format]}`;
}

/** The hour (0-23) an hour object holds, or null for other objects. */
export function hourOfKey(key: string): number | null {
  const m = /\/h(\d{2})\.(?:parquet|ndjson\.gz)$/.exec(key);
  return m ? Number(m[1]) : null;
}

export function quarantineKey(slotStart: number): string {
  const hh = new Date(slotStart).toISOString().slice(11, 13);
  return `quarantine/dt=${partitionOf(slotStart)}/h${hh}.ndjson.gz`;
}

export function unslottedQuarantineKey(sourceId: string): string {
  return `quarantine/unslotted/${sourceId}.ndjson.gz`;
}

export function syncStateKey(sourceId: string): string {
  return `state/sync-${sourceId}.json`;
}

export function backfillStateKey(sourceId: string, from: number, to: number): string {
  const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace(/[-:]/g, '');
  return `state/backfill-${sourceId}-${stamp(from)}-${stamp(to)}.json`;
}

// ---- Manifests (issue 15, tamper evidence) — the lead moves this block into shared/ with the rest.

/** Chained manifests: `manifests/000000000001.json`, … in commit order (format: shared/storage/manifest.ts). */
export const MANIFEST_PREFIX = 'manifests/';
/** The newest manifest's number and hash, rewritten after each manifest (a hint: the chain is the truth). */
export const MANIFEST_HEAD_KEY = `${MANIFEST_PREFIX}HEAD.json`;

export function manifestKey(seq: number): string {
  return `${MANIFEST_PREFIX}${String(seq).padStart(12, '0')}.json`;
}

/** The manifest number a key names, or null for other keys (HEAD.json included). */
export function manifestSeqOfKey(key: string): number | null {
  const m = /^manifests\/(\d{12})\.json$/.exec(key);
  return m ? Number(m[1]) : null;
}

/** The days a run holding the lease is writing objects of; left behind only by a run that crashed. */
export const MANIFEST_INTENT_KEY = 'state/manifest-intent.json';

/** Prefixes whose every object a manifest must list: the events in each format, and quarantine. */
export const MANIFESTED_PREFIXES = [formatPrefix('parquet'), formatPrefix('json'), 'quarantine/'];

export function isManifested(key: string): boolean {
  return MANIFESTED_PREFIXES.some((p) => key.startsWith(p));
}

/** The UTC day (YYYY-MM-DD) a data or quarantine key belongs to, or null (unslotted quarantine). */
export function dayOfKey(key: string): string | null {
  return /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? null;
}
// ---- end of the manifest block
