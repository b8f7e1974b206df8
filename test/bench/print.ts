// Formatting shared by the benchmark scripts' printed tables.

export const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Rows as aligned columns; the columns named in `right` are right-aligned. */
export function table(rows: string[][], right: number[] = []): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((cell, i) => (right.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
