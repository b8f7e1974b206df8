import { FieldType, LoadingState, toDataFrame, type DataFrame, type DataQueryResponse } from '@grafana/data';
import { STATUS_QUERY_TYPE, STATUS_VIEWS, type StatusView } from '../../shared/status/query.js';
import type { Status } from '../../shared/status/status.js';
import type { CloserQuery } from './types.js';

/**
 * The status query (Data health dashboard, the Overview's "complete through"): GET /status for the
 * panel's range, turned into frames. Self-contained: the datasource only routes these targets here.
 */
export function isStatusQuery(query: CloserQuery): boolean {
  return query.type === STATUS_QUERY_TYPE;
}

export function statusViewOf(query: CloserQuery): StatusView {
  return STATUS_VIEWS.includes(query.statusView as StatusView) ? (query.statusView as StatusView) : 'summary';
}

const ms = (iso: string | null | undefined): number | null => {
  const v = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(v) ? v : null;
};

/**
 * The API's answer, checked for what the frames need: a proxy or an older API answering something
 * else gets an error naming what is missing, not a panel of blanks.
 */
export function checkStatus(body: unknown): Status {
  const s = body as Partial<Status> | null;
  if (!s || typeof s !== 'object' || !Array.isArray(s.days) || typeof s.now !== 'string')
    throw new Error(
      'GET /status did not answer with the status (no days or now): is the query API up to date?',
    );
  return s as Status;
}

export function statusFrames(status: Status, query: CloserQuery): DataFrame[] {
  const refId = query.refId;
  if (statusViewOf(query) === 'days') {
    return [
      toDataFrame({
        refId,
        name: 'days',
        fields: [
          {
            name: 'time',
            type: FieldType.time,
            values: status.days.map((d) => Date.parse(`${d.day}T00:00:00Z`)),
          },
          { name: 'rows', type: FieldType.number, values: status.days.map((d) => d.rows) },
          { name: 'quarantined', type: FieldType.number, values: status.days.map((d) => d.quarantined) },
        ],
      }),
    ];
  }
  const time = (name: string, value: number | null) => ({
    name,
    type: FieldType.number,
    values: [value],
    config: { unit: 'dateTimeAsIso' },
  });
  const sum = (key: 'rows' | 'quarantined') => status.days.reduce((n, d) => n + d[key], 0);
  const verify = status.lastVerify;
  return [
    toDataFrame({
      refId,
      name: 'status',
      fields: [
        time('sealed_through', ms(status.sealedThrough)),
        time('synced_through', ms(status.syncedThrough)),
        time('last_run_at', ms(status.lastRunAt)),
        {
          name: 'freshness_lag',
          type: FieldType.number,
          values: [status.freshnessLagSeconds],
          config: { unit: 's' },
        },
        {
          name: 'last_verify',
          type: FieldType.string,
          values: [verify ? (verify.ok ? 'ok' : 'failed') : 'never'],
        },
        time('last_verify_at', ms(verify?.at)),
        { name: 'last_verify_kind', type: FieldType.string, values: [verify?.kind ?? null] },
        { name: 'rows', type: FieldType.number, values: [sum('rows')] },
        { name: 'quarantined', type: FieldType.number, values: [sum('quarantined')] },
        { name: 'quarantined_undated', type: FieldType.number, values: [status.quarantinedUndated] },
      ],
    }),
  ];
}

/** One response from the status part and the model part of a request: frames and errors side by side. */
export function mergeResponses(parts: DataQueryResponse[]): DataQueryResponse {
  const data = parts.flatMap((p) => p.data ?? []);
  const errors = parts.flatMap((p) => p.errors ?? (p.error ? [p.error] : []));
  return errors.length
    ? { data, errors, error: errors[0], state: LoadingState.Error }
    : { data, state: LoadingState.Done };
}
