import type { DataQuery, DataSourceJsonData } from '@grafana/data';
import type { StatusQueryType, StatusView } from '../../shared/status/query.js';
import type { Filters, QueryField, QueryOf, QueryType, VariableKind } from '../../shared/api/contract.js';

/** A field's type in whichever query types take it. */
type FieldValue<K extends QueryField> = NonNullable<
  { [T in QueryType]: K extends keyof QueryOf<T> ? QueryOf<T>[K] : never }[QueryType]
>;

/** Every field some query type of the API's contract takes (shared/api/contract.ts), optional. */
type ModelFields = { [K in Exclude<QueryField, 'filters' | 'severities'>]?: FieldValue<K> };

/**
 * A panel target: the API's query (shared/api/contract.ts) plus Grafana's own keys (refId,
 * datasource, hide, key, queryType), which the datasource strips before sending. Every model
 * field is optional here because the editor builds a query up step by step and keeps fields
 * across type switches; the datasource sends only those of the current type (FIELDS_OF).
 */
export interface CloserQuery extends DataQuery, ModelFields {
  /** A query of the API's contract, or `status`: the data's completeness from GET /status (./status.ts). */
  type?: QueryType | StatusQueryType;
  filters?: CloserFilters;
  /** status: the summary row or a row per day */
  statusView?: StatusView;
  /** detections: severities, or template variables (`$severity`) standing for them. */
  severities?: string[];
}

export type DetectionSplit = 'rule' | 'severity';

/**
 * The API's filters, as stored in a target: a list may hold template variables (`"$user"`) as
 * whole elements, and statuses may be strings until they are sent.
 */
export type CloserFilters = {
  [K in keyof Filters]?: Filters[K] extends (infer E)[] | undefined ? Array<E | string> : Filters[K];
};

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
