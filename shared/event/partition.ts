/** The Hive partition value of an event: the UTC day of its timestamp, `YYYY-MM-DD`. */
export function partitionOf(tsMs: number): string {
  return new Date(tsMs).toISOString().slice(0, 10);
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export function floorHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function ceilHour(ms: number): number {
  return Math.ceil(ms / HOUR_MS) * HOUR_MS;
}

/** The whole UTC hours inside a range (empty, from ≥ to, when it holds none). */
export function wholeHours(range: { from: number; to: number }): { from: number; to: number } {
  return { from: ceilHour(range.from), to: floorHour(range.to) };
}

export function floorDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}
