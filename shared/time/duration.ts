/**
 * The one reader of durations a user writes: CLI flags and CLOSER_* settings (`--lookback 3h`),
 * query intervals (`5m`, `$__timeGroup(ts, 1h)`) and detection rules (`window: 10m`).
 */
export const DURATION_UNITS = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;

type Unit = keyof typeof DURATION_UNITS;

/** What a duration looks like, for messages: `use e.g. ${DURATION_EXAMPLES}`. */
export const DURATION_EXAMPLES = '30s, 90m, 6h, 2d or 1w';

export class DurationError extends Error {
  constructor(readonly text: string) {
    super(`cannot read duration ${JSON.stringify(text)}: use e.g. ${DURATION_EXAMPLES}`);
    this.name = 'DurationError';
  }
}

/** `30s`, `90m`, `6h`, `2d`, `1w`, or a sum such as `1d12h` → milliseconds. Throws DurationError. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+)\s*([smhdw])/y;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * DURATION_UNITS[m[2] as Unit];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) throw new DurationError(text);
  return total;
}

export function isDuration(text: string): boolean {
  try {
    parseDuration(text);
    return true;
  } catch {
    return false;
  }
}

/** Elapsed time for people: `850 ms`, `4.2 s`, `3 min 12 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A span as the shortest duration parseDuration reads back exactly: `7d`, `36h`, `90m`. */
export function formatSpan(ms: number): string {
  if (ms % DURATION_UNITS.d === 0) return `${ms / DURATION_UNITS.d}d`;
  if (ms % DURATION_UNITS.h === 0) return `${ms / DURATION_UNITS.h}h`;
  return `${Math.round(ms / DURATION_UNITS.m)}m`;
}
