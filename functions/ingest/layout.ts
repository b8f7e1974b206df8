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

/** Documents without a readable @timestamp, quarantined in batches: `first` is how many came before. */
export function untimedQuarantineKey(sourceId: string, first: number): string {
  return `${untimedQuarantinePrefix(sourceId)}from-${first}.ndjson.gz`;
}

export function untimedQuarantinePrefix(sourceId: string): string {
  return `quarantine/untimed/${sourceId}/`;
}

export function syncStateKey(sourceId: string): string {
  return `state/sync-${sourceId}.json`;
}

export function backfillStateKey(sourceId: string, from: number, to: number): string {
  const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace(/[-:]/g, '');
  return `state/backfill-${sourceId}-${stamp(from)}-${stamp(to)}.json`;
}
