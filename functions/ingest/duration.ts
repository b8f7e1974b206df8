const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90m`, `6h`, `2d`, `1w` (or a combination such as `1d12h`) → milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /(\d+)\s*([mhdw])/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== s.length) {
    throw new Error(`cannot read duration "${text}": use e.g. 90m, 6h, 2d, 1w`);
  }
  return total;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A span as the shortest duration flag that says it exactly: `7d`, `36h`, `90m`. */
export function formatSpan(ms: number): string {
  if (ms % UNITS.d! === 0) return `${ms / UNITS.d!}d`;
  if (ms % UNITS.h! === 0) return `${ms / UNITS.h!}h`;
  return `${Math.round(ms / UNITS.m!)}m`;
}
