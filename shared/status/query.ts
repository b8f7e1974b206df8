/**
 * The Grafana data source's status query: a panel target `{type: 'status', statusView}` that the
 * plugin answers from GET /status (shared/status/status.ts), not from POST /query. Kept apart
 * from the response schema so the plugin's bundle takes these names without zod.
 */
export const STATUS_QUERY_TYPE = 'status';

/** summary: one row (sealed through, freshness, last run, last verify, totals); days: a row per day. */
export const STATUS_VIEWS = ['summary', 'days'] as const;
export type StatusView = (typeof STATUS_VIEWS)[number];

/** The summary frame's fields, as dashboards pick them (times as epoch ms, lag in seconds). */
export const STATUS_SUMMARY_FIELDS = [
  'sealed_through',
  'synced_through',
  'last_run_at',
  'freshness_lag',
  'last_verify',
  'last_verify_at',
  'last_verify_kind',
  'rows',
  'quarantined',
  'quarantined_undated',
] as const;

/** The days frame's fields: the day's start (UTC), rows stored, records quarantined. */
export const STATUS_DAY_FIELDS = ['time', 'rows', 'quarantined'] as const;

/** What `last_verify` says: the last verify passed, failed, or none was recorded. */
export const VERIFY_VERDICTS = ['ok', 'failed', 'never'] as const;
export type StatusQueryType = typeof STATUS_QUERY_TYPE;
