import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { readSettings, SettingError } from '../../config/settings.js';
import { ElasticsearchSource } from '../../sources/elasticsearch/es-source.js';
import { openStorage } from '../../storage/open-storage.js';
import type { SyncSummary } from '../../ingest/summary.js';
import type { Storage } from '../../storage/storage.js';
import { esConfigForLambda } from './credentials.js';
import { detectAfterIngest, type DetectionStepResult } from './detections.js';
import { readIngestEvent } from './events.js';
import { runIngest } from './run.js';

const logger = new Logger({ serviceName: 'closer-audit-ingest' });
// The alarms in serverless.yml select these metrics by this namespace and `service` dimension.
const metrics = new Metrics({ namespace: 'CloserAudit', serviceName: 'closer-audit-ingest' });

/**
 * EventBridge schedule → one sync run; `{from, to}` → a resumable backfill. A run that loses the
 * race for the checkpoint returns quietly (the other run does the work); any other failure
 * throws, so Lambda retries it and then sends it to the on-failure destination.
 */
export async function handler(event: unknown, context: Context): Promise<Record<string, unknown>> {
  logger.addContext(context);
  const request = readIngestEvent(event);
  // A setting given wrong fails the run before anything is opened, with the CLI's message.
  const target = readSettings(process.env).CLOSER_OUT;
  if (!target) throw new SettingError('CLOSER_OUT', 'CLOSER_OUT (s3://bucket/prefix) is not set');
  const source = new ElasticsearchSource(await esConfigForLambda(process.env), {
    onNotice: (message) => logger.warn(message),
    retry: { onRetry: (r) => logger.warn('Elasticsearch retry', { ...r }) },
  });
  try {
    // Finds the server and version first: the run's first log line says what it found.
    await source.open();
    logger.info('source', { source: source.description });
    const storage = openStorage(target);
    const outcome = await runIngest(request, {
      storage,
      source,
      log: {
        info: (message, data) => logger.info(message, { ...data }),
        warn: (message, data) => logger.warn(message, { ...data }),
      },
      remainingMs: () => context.getRemainingTimeInMillis(),
      env: process.env,
    });
    if (outcome.status === 'lost-race') {
      logger.warn('another run holds the target or moved its checkpoint; this run stops without writing', {
        reason: outcome.message,
      });
      metrics.addMetric('LostRace', MetricUnit.Count, 1);
      return { status: outcome.status };
    }
    const s = outcome.summary;
    metrics.addMetric('EventsRead', MetricUnit.Count, s.eventsRead);
    metrics.addMetric('RowsWritten', MetricUnit.Count, s.rowsWritten);
    metrics.addMetric('DuplicatesDropped', MetricUnit.Count, s.duplicatesDropped);
    metrics.addMetric('Quarantined', MetricUnit.Count, s.quarantined);
    metrics.addMetric('SlotsSealed', MetricUnit.Count, s.slotsSealed);
    metrics.addMetric('StoppedEarly', MetricUnit.Count, s.stoppedEarly ? 1 : 0);
    if (outcome.freshnessLagSeconds !== null) {
      metrics.addMetric('FreshnessLagSeconds', MetricUnit.Seconds, outcome.freshnessLagSeconds);
    }
    logger.info('sync finished', { ...s });
    const detections = await detectionStep(s.range, storage, context);
    return { status: outcome.status, ...s, ...(detections ? { detections } : {}) };
  } finally {
    metrics.publishStoredMetrics();
    await source.close();
  }
}

/**
 * The detection rules over the hours the sync wrote. The sync is done whatever happens here: a
 * failure is logged and counted (DetectionFailures), and the hours are evaluated again by any
 * later run that rewrites them.
 */
async function detectionStep(
  written: SyncSummary['range'],
  storage: Storage,
  context: Context,
): Promise<DetectionStepResult | null> {
  if (!written) return null;
  try {
    const result = await detectAfterIngest(
      { from: Date.parse(written.from), to: Date.parse(written.to) },
      {
        storage,
        log: {
          info: (message, data) => logger.info(message, { ...data }),
          warn: (message, data) => logger.warn(message, { ...data }),
          error: (message, data) => logger.error(message, { ...data }),
        },
        env: process.env,
        remainingMs: () => context.getRemainingTimeInMillis(),
      },
    );
    if (result) {
      metrics.addMetric('AlertsRaised', MetricUnit.Count, result.newAlerts);
      metrics.addMetric('AlertsPublished', MetricUnit.Count, result.published);
      metrics.addMetric('AlertPublishFailures', MetricUnit.Count, result.publishFailures);
      metrics.addMetric('AlertsPending', MetricUnit.Count, result.pending);
      metrics.addMetric('DetectionRuleFailures', MetricUnit.Count, result.ruleFailures);
      logger.info('detections finished', { ...result });
    }
    return result;
  } catch (err) {
    metrics.addMetric('DetectionFailures', MetricUnit.Count, 1);
    logger.error('detections failed; the sync itself is done', { reason: (err as Error).message });
    return null;
  }
}
