import type { DataQuery, DataSourceJsonData } from '@grafana/data';
import type { GroupField } from '../../shared/query/fields.js';
import type { Filters, QueryType } from '../../shared/query/model.js';
import type { StatusQueryType, StatusView } from '../../shared/status/query.js';

/**
 * A panel target: the query API's model (shared/query/model.ts) plus Grafana's own keys
 * (refId, datasource, hide, key, queryType), which the datasource strips before sending.
 * Every model field is optional here because the editor builds a query up step by step and
 * keeps fields across type switches; the datasource sends only those of the current type.
 */
export interface CloserQuery extends DataQuery {
  /** A query of the model, or `status`: the data's completeness from GET /status (./status.ts). */
  type?: QueryType | StatusQueryType;
  filters?: CloserFilters;
  /** events: rows (default from the data source settings); topn: values. */
  limit?: number;
  order?: 'desc' | 'asc';
  /** timeseries */
  interval?: string;
  /** timeseries: a field; detections (over time): rule or severity. */
  splitBy?: GroupField | DetectionSplit;
  maxSeries?: number;
  /** topn, stat (distinct) */
  field?: GroupField;
  metric?: 'count' | 'distinct';
  /** sql */
  sql?: string;
  /** status: the summary row or a row per day */
  statusView?: StatusView;
  /** detections: alerts (rows), timeseries (counts), events (of the alerts). */
  format?: 'alerts' | 'timeseries' | 'events';
  rules?: string[];
  severities?: string[];
  alertIds?: string[];
}

export type DetectionSplit = 'rule' | 'severity';

/**
 * The model's filters, as stored in a target: a list may hold template variables (`"$user"`)
 * as whole elements, and statuses may be strings until they are sent.
 */
export type CloserFilters = {
  [K in keyof Filters]?: Filters[K] extends (infer E)[] | undefined ? Array<E | string> : Filters[K];
};

export type VariableKind =
  | 'actions'
  | 'areas'
  | 'users'
  | 'ips'
  | 'roles'
  | 'resourceTypes'
  | 'methods'
  | 'outcomes'
  | 'rules'
  | 'severities';

/** A template variable's query, e.g. `{"variable": "users"}`. */
export interface CloserVariableQuery extends DataQuery {
  variable?: VariableKind;
  filters?: CloserFilters;
}

export interface CloserOptions extends DataSourceJsonData {
  /** The query API's base URL: the local `closer-audit serve` or the stack's QueryApiUrl. */
  apiUrl?: string;
  /** Rows an events query returns when it sets no limit. */
  defaultLimit?: number;
}

export interface CloserSecureOptions {
  apiToken?: string;
}

/** The query API's frame JSON (functions/query/frames.ts). */
export interface ApiFrame {
  refId?: string;
  name?: string;
  fields: Array<{
    name: string;
    type: 'time' | 'number' | 'string' | 'boolean' | 'other';
    values: unknown[];
    labels?: Record<string, string>;
    config?: Record<string, unknown>;
  }>;
  meta?: {
    executedQueryString?: string;
    preferredVisualisationType?: 'logs' | 'table' | 'graph';
    notices?: Array<{ severity: 'info' | 'warning' | 'error'; text: string }>;
    custom?: Record<string, unknown>;
  };
}

export interface ApiQueryResponse {
  results: Record<string, { frames?: ApiFrame[]; status?: number; error?: string }>;
}

export interface ApiVariablesResponse {
  values: Array<{ text: string; value: string }>;
}

export const DEFAULT_QUERY: Partial<CloserQuery> = { type: 'timeseries' };
