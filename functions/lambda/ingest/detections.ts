import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { TimeRange } from '../../../shared/query/model.js';
import { alertJson, runDetections, type RaisedAlert } from '../../detect/detect.js';
import { loadRules } from '../../detect/load-rules.js';
import type { Logger } from '../../ingest/log.js';
import type { QueryEngine } from '../../query/engine.js';
import { AthenaEngine } from '../../query/engines/athena.js';
import type { Storage } from '../../storage/storage.js';

/**
 * The ingest Lambda's detection step: after a sync, the rules run on Athena over the hours the
 * sync wrote (the same compiler and evaluator as `closer-audit detect` on DuckDB), the alerts are
 * stored under `detections/dt=…/`, and each new alert is published to the SNS topic.
 *
 * Publishing is at least once: a new alert goes into the outbox (`state/detections-outbox.json`)
 * before it is sent, and leaves it only once SNS accepted it. A failed publish is logged and
 * counted, and retried on every later run until it goes through; the stored alert is never lost.
 */
export const OUTBOX_KEY = 'state/detections-outbox.json';
/** Alerts the outbox keeps at most: past it the oldest are dropped (and logged; they stay stored). */
export const OUTBOX_MAX = 1000;
/** SNS refuses a subject longer than this. */
const SUBJECT_MAX = 100;

export interface AlertMessage {
  subject: string;
  /** The JSON object `closer-audit detect --json` prints for the alert. */
  message: string;
  severity: string;
  rule: string;
}

/** Where alerts go: SNS in AWS, a fake in the tests. */
export interface AlertPublisher {
  publish(message: AlertMessage): Promise<void>;
}

export interface DetectionStepResult {
  rulesRun: number;
  ruleFailures: number;
  alerts: number;
  newAlerts: number;
  published: number;
  publishFailures: number;
  /** Alerts still waiting to be published (retried next run). */
  pending: number;
  dropped: number;
}

/** `[HIGH] title`: printable ASCII only (SNS's rule for subjects), at most 100 characters. */
export function alertSubject(a: { severity: string; title: string }): string {
  const text = `[${a.severity.toUpperCase()}] ${a.title}`
    .normalize('NFKD')
    .replace(/[\u2026]/g, '...')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length <= SUBJECT_MAX ? text : `${text.slice(0, SUBJECT_MAX - 3)}...`;
}

export function alertMessage(a: RaisedAlert): AlertMessage {
  return {
    subject: alertSubject(a),
    message: JSON.stringify(alertJson(a)),
    severity: a.severity,
    rule: a.rule,
  };
}

/** Publishes to one topic; severity and rule travel as message attributes (for filter policies). */
export function snsPublisher(
  topicArn: string,
  client: Pick<SNSClient, 'send'> = new SNSClient({}),
): AlertPublisher {
  return {
    async publish(m) {
      await client.send(
        new PublishCommand({
          TopicArn: topicArn,
          Subject: m.subject,
          Message: m.message,
          MessageAttributes: {
            severity: { DataType: 'String', StringValue: m.severity },
            rule: { DataType: 'String', StringValue: m.rule },
          },
        }),
      );
    },
  };
}

interface OutboxEntry extends AlertMessage {
  id: string;
}

async function readOutbox(storage: Storage): Promise<OutboxEntry[]> {
  const body = await storage.get(OUTBOX_KEY);
  if (!body) return [];
  const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
  return Array.isArray(parsed) ? (parsed as OutboxEntry[]) : [];
}

async function writeOutbox(storage: Storage, entries: OutboxEntry[]): Promise<void> {
  await storage.put(OUTBOX_KEY, JSON.stringify(entries));
}

export interface DetectionStepDeps {
  engine: QueryEngine;
  storage: Storage;
  /** None: alerts are stored only (no topic configured). */
  publisher?: AlertPublisher;
  log: StepLog;
  rulesDir?: string;
  /** Time the run has left: shared out among the rules' queries, less a margin to publish. */
  remainingMs?: () => number;
  now?: () => number;
}

export type StepLog = Logger & { error(message: string, data?: Record<string, unknown>): void };

const PUBLISH_MARGIN_MS = 30_000;

export async function runDetectionStep(
  range: TimeRange,
  deps: DetectionStepDeps,
): Promise<DetectionStepResult> {
  const { rules, errors } = await loadRules(deps.rulesDir);
  for (const e of errors) deps.log.warn('detection rule skipped', { reason: e.message });
  const budget = deps.remainingMs ? deps.remainingMs() - PUBLISH_MARGIN_MS : undefined;
  const report = await runDetections(deps.engine, rules, range, {
    storage: deps.storage,
    timeoutMs:
      budget === undefined
        ? undefined
        : Math.max(5_000, Math.min(120_000, budget / Math.max(1, rules.length))),
    now: deps.now,
  });
  for (const f of report.failures)
    deps.log.warn('detection rule failed', { file: f.file, reason: f.message });
  const fresh = report.alerts.filter((a) => a.isNew);
  const result: DetectionStepResult = {
    rulesRun: report.rulesRun,
    ruleFailures: report.failures.length + errors.length,
    alerts: report.alerts.length,
    newAlerts: fresh.length,
    published: 0,
    publishFailures: 0,
    pending: 0,
    dropped: 0,
  };
  for (const a of fresh)
    deps.log.info('alert', {
      id: a.id,
      rule: a.rule,
      severity: a.severity,
      title: a.title,
      entity: a.entity,
    });
  if (!deps.publisher) return result;

  // Queued before sending: a run that dies mid-way leaves them for the next one.
  let outbox = await readOutbox(deps.storage);
  const queued = new Set(outbox.map((e) => e.id));
  const added = fresh.filter((a) => !queued.has(a.id)).map((a) => ({ id: a.id, ...alertMessage(a) }));
  outbox.push(...added);
  if (outbox.length > OUTBOX_MAX) {
    result.dropped = outbox.length - OUTBOX_MAX;
    deps.log.error('alert outbox full: the oldest unpublished alerts are dropped (they stay stored)', {
      dropped: result.dropped,
    });
    outbox = outbox.slice(-OUTBOX_MAX);
  }
  if (added.length) await writeOutbox(deps.storage, outbox);

  const left: OutboxEntry[] = [];
  for (const entry of outbox) {
    try {
      await deps.publisher.publish(entry);
      result.published++;
    } catch (err) {
      result.publishFailures++;
      deps.log.error('alert not published; retried on the next run', {
        id: entry.id,
        rule: entry.rule,
        reason: (err as Error).message,
      });
      left.push(entry);
    }
  }
  result.pending = left.length;
  if (left.length !== outbox.length) await writeOutbox(deps.storage, left);
  return result;
}

/**
 * The step as the Lambda runs it, from its environment: Athena's work group (the step is off
 * without one), the Glue database and table, the topic (alerts are only stored without one).
 */
export async function detectAfterIngest(
  range: TimeRange,
  deps: { storage: Storage; log: StepLog; env: NodeJS.ProcessEnv; remainingMs: () => number },
): Promise<DetectionStepResult | null> {
  const env = deps.env;
  if (!env.CLOSER_ATHENA_WORKGROUP) {
    deps.log.info('detections off: CLOSER_ATHENA_WORKGROUP is not set');
    return null;
  }
  const engine = new AthenaEngine({
    workGroup: env.CLOSER_ATHENA_WORKGROUP,
    database: env.CLOSER_ATHENA_DATABASE || undefined,
    table: env.CLOSER_ATHENA_TABLE || undefined,
    // Every run must see the events it has just written, not a result from minutes ago.
    resultReuseMinutes: 0,
  });
  try {
    return await runDetectionStep(range, {
      engine,
      storage: deps.storage,
      publisher: env.CLOSER_ALERT_TOPIC_ARN ? snsPublisher(env.CLOSER_ALERT_TOPIC_ARN) : undefined,
      log: deps.log,
      rulesDir: env.CLOSER_DETECTION_RULES || undefined,
      remainingMs: deps.remainingMs,
    });
  } finally {
    await engine.close();
  }
}
