import { formatDuration } from '../../shared/time/duration.js';

export interface SyncSummary {
  source: string;
  target: string;
  range: { from: string; to: string } | null;
  /** Why a run without --from/--to started where it did; null for an explicit range. */
  start?: string | null;
  eventsRead: number;
  rowsWritten: number;
  duplicatesDropped: number;
  /** Duplicates whose content differed from the copy stored (each quarantined with the reason). */
  duplicatesDiffering: number;
  quarantined: number;
  slotsWritten: number;
  slotsSealed: number;
  /** Hour slots of the range not read: the source's count was the one recorded when last read. */
  slotsUnchanged: number;
  /** Sealed days written straight to their day object. */
  daysWritten: number;
  daysCompacted: number;
  sealedThrough: string | null;
  /** Everything before this instant was read from the source (freshness). */
  syncedThrough: string | null;
  stoppedEarly: boolean;
  tookMs: number;
}

export function emptySummary(source: string, target: string): SyncSummary {
  return {
    source,
    target,
    range: null,
    eventsRead: 0,
    rowsWritten: 0,
    duplicatesDropped: 0,
    duplicatesDiffering: 0,
    quarantined: 0,
    slotsWritten: 0,
    slotsSealed: 0,
    slotsUnchanged: 0,
    daysWritten: 0,
    daysCompacted: 0,
    sealedThrough: null,
    syncedThrough: null,
    stoppedEarly: false,
    tookMs: 0,
  };
}

export function formatSummary(s: SyncSummary): string {
  const n = (v: number) => v.toLocaleString('en-US');
  const rate = s.tookMs > 0 ? ` (${n(Math.round((s.eventsRead * 1000) / s.tookMs))} events/s)` : '';
  const lines = [
    `source            ${s.source}`,
    `target            ${s.target}`,
    `range             ${s.range ? `${s.range.from} → ${s.range.to}` : 'nothing to do'}`,
    ...(s.start ? [`started from      ${s.start}`] : []),
    `events read       ${n(s.eventsRead)}`,
    `rows written      ${n(s.rowsWritten)}`,
    `duplicates        ${n(s.duplicatesDropped)} dropped${
      s.duplicatesDiffering ? `, ${n(s.duplicatesDiffering)} with different content (quarantined)` : ''
    }`,
    `quarantined       ${n(s.quarantined)}`,
    `hour slots        ${n(s.slotsWritten)} written, ${n(s.slotsSealed)} sealed${
      s.slotsUnchanged ? `, ${n(s.slotsUnchanged)} unchanged (not read)` : ''
    }`,
    `days              ${n(s.daysWritten)} written whole, ${n(s.daysCompacted)} compacted`,
    `sealed through    ${s.sealedThrough ?? '-'}`,
    `time taken        ${formatDuration(s.tookMs)}${rate}`,
  ];
  if (s.stoppedEarly) lines.push('stopped early     the rest continues on the next run');
  return lines.join('\n');
}
