import cliProgress from 'cli-progress';
import { HOUR_MS } from '../../shared/event/partition.js';
import { formatDuration } from '../../shared/time/duration.js';
import type { SyncSummary } from '../ingest/summary.js';

export interface ProgressOptions {
  /** Where progress goes: stderr, so stdout keeps only the summary. */
  stream?: NodeJS.WriteStream;
  /** Between two plain lines when the stream is not a terminal (cron, logs). */
  lineEveryMs?: number;
  now?: () => number;
}

export interface Progress {
  /** A page was read or an hour committed; `slot` is the hour being written. */
  update(slot: number | null, summary: SyncSummary): void;
  /** Prints a message on a line of its own, never overwritten by the bar. */
  note(message: string): void;
  /** The hour the run reached when it ends (a bar shows 100% only if the range is done). */
  stop(done: boolean): void;
}

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const hourLabel = (ms: number) => `${new Date(ms).toISOString().slice(0, 13)}:00Z`;

/**
 * A bar on a terminal; elsewhere one plain line every few seconds (events read, rate, the hour
 * being written, share of the range done). The ETA is the whole run's average pace applied to
 * the hours left, which does not jump with each hour's event count as a recent-rate ETA would.
 */
export function startProgress(label: string, opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const now = opts.now ?? Date.now;
  const lineEveryMs = opts.lineEveryMs ?? 5000;
  const started = now();
  const tty = Boolean(stream.isTTY);
  let bar: cliProgress.SingleBar | null = null;
  let lastLine = started;
  let total = 0;
  let done = 0;
  let stopped = false;

  const payload = (slot: number | null, s: SyncSummary) => {
    const elapsed = Math.max(1, now() - started);
    const eta = done > 0 && total > done ? (elapsed * (total - done)) / done : null;
    return {
      hour: slot === null ? '' : hourLabel(slot),
      events: n(s.eventsRead),
      rate: n((s.eventsRead * 1000) / elapsed),
      eta: eta === null ? '-' : eta < 1000 ? '<1 s' : formatDuration(Math.round(eta / 1000) * 1000),
    };
  };

  return {
    update(slot, s) {
      if (stopped || !s.range) return;
      const from = Date.parse(s.range.from);
      total = Math.max(1, Math.ceil((Date.parse(s.range.to) - from) / HOUR_MS));
      if (slot !== null) done = Math.min(total, Math.max(done, Math.floor((slot - from) / HOUR_MS)));
      const p = payload(slot, s);
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: `${label} [{bar}] {percentage}% | {hour} | {events} events | {rate}/s | ETA {eta}`,
              hideCursor: true,
              stream,
              clearOnComplete: false,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, done, p);
        }
        bar.setTotal(total);
        bar.update(done, p);
        return;
      }
      if (now() - lastLine < lineEveryMs) return;
      lastLine = now();
      const share = Math.floor((done * 100) / total);
      stream.write(
        `${label}: ${p.events} events read (${p.rate}/s)${p.hour ? `, writing ${p.hour}` : ''}, ${share}% of ${n(total)} hours, ETA ${p.eta}\n`,
      );
    },
    note(message) {
      if (bar) {
        bar.stop();
        bar = null;
      }
      stream.write(`${message}\n`);
    },
    stop(finished) {
      if (stopped) return;
      stopped = true;
      if (bar) {
        if (finished) bar.update(total);
        bar.stop();
        bar = null;
      }
    },
  };
}
