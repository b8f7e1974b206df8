import { HOUR_MS, partitionOf } from '../event/partition.js';
// The folder names, in JSON so that serverless.yml reads the same ones (`${file(...):events}`).
import FOLDERS from './layout.json' with { type: 'json' };

/**
 * Object keys under the target (bucket prefix or folder), for the writer, the readers (DuckDB,
 * verify), the DDL and serverless.yml alike. Deterministic: the same hour or day always lands in
 * the same key, so a rerun overwrites instead of adding.
 * NDJSON lives under its own prefix: Athena reads every object under a table's location, and a
 * Parquet table must not meet gzip'd JSON.
 */
export type Format = 'parquet' | 'ndjson';

export { FOLDERS, HOUR_MS };

const EXT: Record<Format, string> = { parquet: 'parquet', ndjson: 'ndjson.gz' };
const ROOT: Record<Format, string> = { parquet: FOLDERS.events, ndjson: FOLDERS.eventsNdjson };

/** Where every partition of a format lives: `events/`, `events-ndjson/`. */
export function formatPrefix(format: Format): string {
  return `${ROOT[format]}/`;
}

/** The folder (no slash) the Parquet events live in: the table's location under the target. */
export const EVENTS_FOLDER: string = FOLDERS.events;

export function partitionPrefix(format: Format, dt: string): string {
  return `${formatPrefix(format)}dt=${dt}/`;
}

const hourOfDay = (slotStart: number) => new Date(slotStart).toISOString().slice(11, 13);

export function hourKey(format: Format, slotStart: number): string {
  return `${partitionPrefix(format, partitionOf(slotStart))}h${hourOfDay(slotStart)}.${EXT[format]}`;
}

export function dayKey(format: Format, dt: string): string {
  return `${partitionPrefix(format, dt)}day.${EXT[format]}`;
}

/** The hour (0-23) an hour object (events or quarantine) holds, or null for other objects. */
export function hourOfKey(key: string): number | null {
  const m = /\/h(\d{2})\.(?:parquet|ndjson\.gz)$/.exec(key);
  return m ? Number(m[1]) : null;
}

export function quarantinePrefix(dt: string): string {
  return `${FOLDERS.quarantine}/dt=${dt}/`;
}

export function quarantineKey(slotStart: number): string {
  return `${quarantinePrefix(partitionOf(slotStart))}h${hourOfDay(slotStart)}.ndjson.gz`;
}

export function unslottedQuarantineKey(sourceId: string): string {
  return `${FOLDERS.quarantine}/unslotted/${sourceId}.ndjson.gz`;
}

/** Documents without a readable @timestamp, quarantined in batches: `first` is how many came before. */
export function untimedQuarantineKey(sourceId: string, first: number): string {
  return `${untimedQuarantinePrefix(sourceId)}from-${first}.ndjson.gz`;
}

export function untimedQuarantinePrefix(sourceId: string): string {
  return `${FOLDERS.quarantine}/untimed/${sourceId}/`;
}

export function syncStateKey(sourceId: string): string {
  return `${FOLDERS.state}/sync-${sourceId}.json`;
}

export function backfillStateKey(sourceId: string, from: number, to: number): string {
  const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace(/[-:]/g, '');
  return `${FOLDERS.state}/backfill-${sourceId}-${stamp(from)}-${stamp(to)}.json`;
}

/** One lease per target: every run that writes to it holds it for its whole duration. */
export const LEASE_KEY = `${FOLDERS.state}/lease.json`;

/** Stored alerts: `detections/dt=…/<rule>.parquet`. */
export function detectionsPrefix(dt?: string): string {
  return dt ? `${FOLDERS.detections}/dt=${dt}/` : `${FOLDERS.detections}/`;
}

// ---- Manifests (tamper evidence; format: shared/storage/manifest.ts)

/** Chained manifests: `manifests/000000000001.json`, … in commit order (format: shared/storage/manifest.ts). */
export const MANIFEST_PREFIX = `${FOLDERS.manifests}/`;
/** The newest manifest's number and hash, rewritten after each manifest (a hint: the chain is the truth). */
export const MANIFEST_HEAD_KEY = `${MANIFEST_PREFIX}HEAD.json`;

export function manifestKey(seq: number): string {
  return `${MANIFEST_PREFIX}${String(seq).padStart(12, '0')}.json`;
}

/** The manifest number a key names, or null for other keys (HEAD.json included). */
export function manifestSeqOfKey(key: string): number | null {
  const m = /^(\d{12})\.json$/.exec(key.startsWith(MANIFEST_PREFIX) ? key.slice(MANIFEST_PREFIX.length) : '');
  return m ? Number(m[1]) : null;
}

/** The days a run holding the lease is writing objects of; left behind only by a run that crashed. */
export const MANIFEST_INTENT_KEY = `${FOLDERS.state}/manifest-intent.json`;

/** Prefixes whose every object a manifest must list: the events in each format, and quarantine. */
export const MANIFESTED_PREFIXES = [
  formatPrefix('parquet'),
  formatPrefix('ndjson'),
  `${FOLDERS.quarantine}/`,
];

export function isManifested(key: string): boolean {
  return MANIFESTED_PREFIXES.some((p) => key.startsWith(p));
}

/** The UTC day (YYYY-MM-DD) a data or quarantine key belongs to, or null (unslotted quarantine). */
export function dayOfKey(key: string): string | null {
  return /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1] ?? null;
}
