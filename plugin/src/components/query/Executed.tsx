import React from 'react';
import type { PanelData } from '@grafana/data';

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** What the API reported for this query: the SQL it ran, what it read. */
export function Executed({ data, refId }: { data: PanelData | undefined; refId: string }) {
  const frame = data?.series.find((f) => f.refId === refId);
  const executed = frame?.meta?.executedQueryString;
  const custom = (frame?.meta?.custom ?? {}) as Record<string, unknown>;
  const bytes = typeof custom.bytesScanned === 'number' ? custom.bytesScanned : undefined;
  const files = typeof custom.filesRead === 'number' ? custom.filesRead : undefined;
  if (!executed && bytes === undefined && files === undefined) return null;
  return (
    <div data-testid="closer-executed" style={{ fontSize: 12, marginTop: 8 }}>
      {bytes !== undefined && <div>Bytes scanned: {formatBytes(bytes)}</div>}
      {files !== undefined && <div>Files read: {files}</div>}
      {executed && (
        <details>
          <summary>Executed SQL</summary>
          <pre style={{ whiteSpace: 'pre-wrap' }}>{executed}</pre>
        </details>
      )}
    </div>
  );
}
