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
