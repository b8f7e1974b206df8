import { createHash } from 'node:crypto';
import type { Alert } from '../../shared/detections/columns.js';
import { ALERT_EVENT_IDS, compileRule, readRange } from '../../shared/detections/compile.js';
import { durationMs, renderTitle, type Rule } from '../../shared/detections/rule.js';
import { partitionOf } from '../../shared/event/partition.js';
import type { TimeRange } from '../../shared/query/model.js';
import type { QueryEngine } from '../query/engine.js';
import type { Storage } from '../storage/storage.js';
import type { LoadedRule } from './load-rules.js';
import { readAlerts, writeAlerts } from './store.js';

export interface RaisedAlert extends Alert {
  /** First raised by this run (published and printed as new); false when an earlier run raised it. */
  isNew: boolean;
  description: string;
  next_steps: string;
}

export interface DetectionReport {
  alerts: RaisedAlert[];
  /** Rules that could not run: the file and what went wrong; the other rules ran. */
  failures: { file: string; message: string }[];
  rulesRun: number;
}

export function alertId(rule: string, entity: string, windowStart: number): string {
  return createHash('sha256').update(`${rule}\n${entity}\n${windowStart}`).digest('hex').slice(0, 32);
}

/**
 * Runs every rule over the windows of `range` on the engine that holds the events, then stores
 * the alerts under `detections/` (when a storage is given): an alert already stored keeps its
 * `raised_at` and is updated, a new one is marked new. The same (rule, entity, window) is
 * therefore raised once, however many runs see it.
 */
export async function runDetections(
  engine: QueryEngine,
  rules: LoadedRule[],
  range: TimeRange,
  opts: { storage?: Storage; now?: () => number; timeoutMs?: number } = {},
): Promise<DetectionReport> {
  const now = (opts.now ?? Date.now)();
  const report: DetectionReport = { alerts: [], failures: [], rulesRun: 0 };
  for (const { rule, file } of rules) {
    try {
      const found = await evaluate(engine, rule, file, range, now, opts.timeoutMs);
      report.rulesRun++;
      report.alerts.push(...(opts.storage ? await upsert(opts.storage, rule, found) : found));
    } catch (err) {
      report.failures.push({ file, message: (err as Error).message.split('\n')[0] ?? String(err) });
    }
  }
  report.alerts.sort((a, b) => a.window_start - b.window_start || a.rule.localeCompare(b.rule));
  return report;
}

async function evaluate(
  engine: QueryEngine,
  rule: Rule,
  file: string,
  range: TimeRange,
  now: number,
  timeoutMs?: number,
): Promise<RaisedAlert[]> {
  const table = await engine.tableFor(readRange(rule, range));
  const compiled = compileRule(rule, range, { dialect: engine.dialect, table, file });
  await engine.checkReadOnly(compiled.sql);
  const result = await engine.run(compiled.sql, compiled.params, { timeoutMs });
  const at = (name: string) => result.columns.findIndex((c) => c.name === name);
  const [iEntity, iStart, iMeasure, iCount, iFirst, iLast, iIds] = [
    'entity',
    'window_start',
    'measure',
    'event_count',
    'first_ts',
    'last_ts',
    'event_ids',
  ].map(at) as number[];
  const w = durationMs(rule.window);
  const windows = result.rows.map((row): RaisedAlert => {
    const entity = String(row[iEntity as number]);
    const windowStart = Number(row[iStart as number]);
    const count = Number(row[iCount as number]);
    const measure = Number(row[iMeasure as number]);
    return {
      id: alertId(rule.id, entity, windowStart),
      rule: rule.id,
      title: renderTitle(rule, { entity, count, measure }),
      severity: rule.severity,
      technique: rule.technique,
      key: rule.key,
      entity,
      window_start: windowStart,
      window_end: windowStart + w,
      first_ts: Number(row[iFirst as number]),
      last_ts: Number(row[iLast as number]),
      count,
      measure,
      event_ids: (row[iIds as number] as string[] | null) ?? [],
      raised_at: now,
      updated_at: now,
      isNew: true,
      description: rule.description,
      next_steps: rule.next_steps,
    };
  });
  return mergeOverlapping(windows);
}

/** Overlapping windows of one entity that both fired are one alert: the first window's id. */
function mergeOverlapping(windows: RaisedAlert[]): RaisedAlert[] {
  const out: RaisedAlert[] = [];
  const open = new Map<string, RaisedAlert>();
  for (const a of [...windows].sort((x, y) => x.window_start - y.window_start)) {
    const prev = open.get(a.entity);
    if (prev && a.window_start < prev.window_end) {
      absorb(prev, a);
      continue;
    }
    const copy = { ...a, event_ids: [...a.event_ids] };
    open.set(a.entity, copy);
    out.push(copy);
  }
  return out;
}

/** `into` becomes the alert for both: the wider window, the larger counts, the ids of both. */
function absorb(into: Alert, other: Alert): void {
  into.window_end = Math.max(into.window_end, other.window_end);
  into.first_ts = Math.min(into.first_ts, other.first_ts);
  into.last_ts = Math.max(into.last_ts, other.last_ts);
  into.count = Math.max(into.count, other.count);
  into.measure = Math.max(into.measure, other.measure);
  into.event_ids = [...new Set([...into.event_ids, ...other.event_ids])].slice(0, ALERT_EVENT_IDS);
}

async function upsert(storage: Storage, rule: Rule, found: RaisedAlert[]): Promise<RaisedAlert[]> {
  const byDay = new Map<string, RaisedAlert[]>();
  for (const a of found) {
    const dt = partitionOf(a.window_start);
    byDay.set(dt, [...(byDay.get(dt) ?? []), a]);
  }
  const out: RaisedAlert[] = [];
  for (const [dt, alerts] of byDay) {
    const stored = new Map((await readAlerts(storage, dt, rule.id)).map((a) => [a.id, a]));
    for (const a of alerts) {
      // The same alert as a stored one: the same id, or the same entity in an overlapping window
      // (a later run whose range starts inside the burst).
      const earlier =
        stored.get(a.id) ??
        [...stored.values()].find(
          (s) => s.entity === a.entity && s.window_start < a.window_end && a.window_start < s.window_end,
        );
      let merged: RaisedAlert = a;
      if (earlier) {
        merged = { ...a, id: earlier.id, raised_at: earlier.raised_at, isNew: false };
        if (earlier.window_start < a.window_start) merged.window_start = earlier.window_start;
        absorb(merged, { ...earlier, event_ids: [...a.event_ids, ...earlier.event_ids] });
      }
      stored.set(merged.id, stripRaised(merged));
      out.push(merged);
    }
    await writeAlerts(storage, dt, rule.id, [...stored.values()]);
  }
  return out;
}

function stripRaised(a: RaisedAlert): Alert {
  const { isNew: _n, description: _d, next_steps: _s, ...alert } = a;
  return alert;
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** An alert as one JSON object: what `detect --json` prints and the Lambda publishes to SNS. */
export function alertJson(a: RaisedAlert): Record<string, unknown> {
  return {
    rule: a.rule,
    title: a.title,
    severity: a.severity,
    technique: a.technique,
    entity: a.entity,
    key: a.key,
    first_ts: iso(a.first_ts),
    last_ts: iso(a.last_ts),
    window_start: iso(a.window_start),
    count: a.count,
    measure: a.measure,
    event_ids: a.event_ids,
    new: a.isNew,
    id: a.id,
  };
}
