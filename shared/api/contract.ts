import type { ActionInfo, AREAS } from '../catalog/actions.js';
import type { GroupField } from '../query/fields.js';

/**
 * The query API's contract, stated once: what the Grafana plugin sends (queries, filters,
 * template variable kinds, raw SQL macros) and what the API answers (data frames). The server
 * validates requests with zod schemas built from these lists (shared/query/model.ts); the plugin
 * imports this file as it is. Plain consts and types only, no zod: it is bundled into the plugin.
 * A change to the API starts here.
 */

// ---- Routes ------------------------------------------------------------------------------------

/** The API's routes: GET health (no token) and catalog, POST query and variables. */
export const ROUTES = {
  health: 'health',
  catalog: 'catalog',
  query: 'query',
  variables: 'variables',
  /** GET: how complete and fresh the data is (shared/status/status.ts). */
  status: 'status',
} as const;
export type Route = (typeof ROUTES)[keyof typeof ROUTES];

// ---- Filters -----------------------------------------------------------------------------------

/** Filters that hold a list of values: a row matches when its value is any of them. */
export const LIST_FILTERS = [
  'actions',
  'areas',
  'outcomes',
  'userIds',
  'userRoles',
  'sourceIps',
  'httpMethods',
  'statuses',
  'resourceTypes',
  'resourceIds',
  'eventIds',
] as const;
/** Filters that hold a piece of text a column contains. */
export const TEXT_FILTERS = ['urlContains', 'pathContains', 'bodyContains'] as const;
/** Filters that hold true or false. */
export const FLAG_FILTERS = ['knownAction'] as const;
export const FILTER_KEYS = [...LIST_FILTERS, ...TEXT_FILTERS, ...FLAG_FILTERS] as const;

export type ListFilter = (typeof LIST_FILTERS)[number];
export type TextFilter = (typeof TEXT_FILTERS)[number];
export type FlagFilter = (typeof FLAG_FILTERS)[number];
export type FilterKey = (typeof FILTER_KEYS)[number];

export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** An HTTP status code (100–599) or a class of them. */
export type Status = number | (typeof STATUS_CLASSES)[number];

/** Every filter is optional; filters together narrow (AND), a list's values widen (OR). */
export type Filters = { [K in ListFilter]?: K extends 'statuses' ? Status[] : string[] } & {
  [K in TextFilter]?: string;
} & { [K in FlagFilter]?: boolean };

// ---- Queries -----------------------------------------------------------------------------------

export const QUERY_TYPES = ['events', 'timeseries', 'topn', 'stat', 'sql', 'detections'] as const;
export type QueryType = (typeof QUERY_TYPES)[number];

export const ORDERS = ['desc', 'asc'] as const;
export const METRICS = ['count', 'distinct'] as const;

/** Bounds the API enforces, and the defaults it applies when a query leaves a value out. */
export const LIMITS = {
  /** events: rows returned. */
  events: { default: 500, max: 10_000 },
  /** topn: values returned. */
  topn: { default: 10, max: 1000 },
  /** timeseries: series kept when split (the largest; the rest summed into "other"). */
  maxSeries: { default: 10, max: 50 },
} as const;

interface Common {
  /** The panel's query id; results come back under it. */
  refId?: string;
  filters?: Filters;
}

/** The matching events, newest first unless `order` says otherwise. */
export interface EventsQuery extends Common {
  type: 'events';
  limit?: number;
  order?: (typeof ORDERS)[number];
}

/** Counts per interval (`30s`, `5m`, `1h`, `1d`; default Grafana's), optionally one series per value. */
export interface TimeseriesQuery extends Common {
  type: 'timeseries';
  interval?: string;
  splitBy?: GroupField;
  maxSeries?: number;
}

/** A field's most frequent values with their counts. */
export interface TopnQuery extends Common {
  type: 'topn';
  field: GroupField;
  limit?: number;
}

/** One number: the count of events, or of distinct values of `field`. */
export interface StatQuery extends Common {
  type: 'stat';
  metric?: (typeof METRICS)[number];
  /** Required when metric is distinct. */
  field?: GroupField;
}

/** One read-only SELECT over `$__table`, with the macros below. */
export interface SqlQuery {
  type: 'sql';
  refId?: string;
  sql: string;
}

/** What a detections query returns: the alerts, their count over time, or their events. */
export const DETECTION_FORMATS = ['alerts', 'timeseries', 'events'] as const;
/** A detections time series is split by rule or by severity. */
export const DETECTION_SPLITS = ['rule', 'severity'] as const;
/** Alert severities, lowest first (the detections table's `severity`). */
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/**
 * The alerts the detection rules raised (the detections table), whose first event is in the
 * range: as rows (`alerts`, newest first), counted over time (`timeseries`, split by rule or
 * severity), or the events of the alerts named by `alertIds` (`events`: the drill-down).
 */
export interface DetectionsQuery {
  type: 'detections';
  refId?: string;
  format?: (typeof DETECTION_FORMATS)[number];
  rules?: string[];
  severities?: Array<(typeof SEVERITIES)[number]>;
  alertIds?: string[];
  splitBy?: (typeof DETECTION_SPLITS)[number];
  interval?: string;
  limit?: number;
}

export type Query = EventsQuery | TimeseriesQuery | TopnQuery | StatQuery | SqlQuery | DetectionsQuery;
export type QueryOf<T extends QueryType> = Extract<Query, { type: T }>;

/** The fields each query type takes besides `type` and `refId`: nothing else is sent or accepted. */
export const FIELDS_OF = {
  events: ['filters', 'limit', 'order'],
  timeseries: ['filters', 'interval', 'splitBy', 'maxSeries'],
  topn: ['filters', 'field', 'limit'],
  stat: ['filters', 'metric', 'field'],
  sql: ['sql'],
  detections: ['format', 'rules', 'severities', 'alertIds', 'splitBy', 'interval', 'limit'],
} as const satisfies { [T in QueryType]: ReadonlyArray<Exclude<keyof QueryOf<T>, 'type' | 'refId'>> };

/** Every field any query type takes. */
export type QueryField = (typeof FIELDS_OF)[QueryType][number];

// FIELDS_OF names every field of each query type: a field added to a type above and not listed
// there fails this check.
type Missing = {
  [T in QueryType]: Exclude<Exclude<keyof QueryOf<T>, 'type' | 'refId'>, (typeof FIELDS_OF)[T][number]>;
}[QueryType];
const _allFieldsListed: [Missing] extends [never] ? true : Missing = true;
void _allFieldsListed;

/** POST query: the queries of one panel over one time range (ISO-8601 or epoch ms). */
export interface QueryRequest {
  range: { from: string | number; to: string | number };
  /** Grafana's suggested interval and points, for a time series that names none. */
  intervalMs?: number;
  maxDataPoints?: number;
  queries: Query[];
}

/** Each query's answer alone: one failing panel query does not blank the others. */
export interface RefIdResult {
  frames: Frame[];
  /** HTTP-like status of this query: 400 for a query at fault, 499/503/504/500 for the engine. */
  status: number;
  error?: string;
}

export interface QueryResponse {
  results: Record<string, RefIdResult>;
}

// ---- Data frames -------------------------------------------------------------------------------

export type FieldType = 'time' | 'number' | 'string' | 'boolean' | 'other';

/** A Grafana data frame's field as JSON; times in epoch ms. */
export interface FrameField {
  name: string;
  type: FieldType;
  values: unknown[];
  labels?: Record<string, string>;
  config?: Record<string, unknown>;
}

export interface Notice {
  severity: 'info' | 'warning' | 'error';
  text: string;
}

export interface FrameMeta {
  /** The SQL that ran, with `?` where values were bound. */
  executedQueryString?: string;
  preferredVisualisationType?: 'logs' | 'table' | 'graph';
  notices?: Notice[];
  /** bytesScanned, filesRead, truncated, truncatedBy, limit: what the query cost and whether it was cut. */
  custom?: Record<string, unknown>;
}

export interface Frame {
  refId?: string;
  name?: string;
  fields: FrameField[];
  meta: FrameMeta;
}

// ---- Template variables ------------------------------------------------------------------------

/** The kinds of values a template variable can list, the field each reads, and how the editor offers it. */
export const VARIABLES = {
  actions: {
    field: 'action',
    label: 'Actions',
    description: 'event.action: the catalog, and any other action seen',
  },
  areas: { field: 'area', label: 'Areas', description: 'Areas of the catalog' },
  users: { field: 'user_id', label: 'Users', description: 'user.id of the actors seen in the range' },
  ips: { field: 'source_ip', label: 'Source IPs', description: 'source.ip addresses seen in the range' },
  roles: { field: 'user_role', label: 'Roles', description: "Values of the actors' user.roles" },
  resourceTypes: {
    field: 'resource_type',
    label: 'Resource types',
    description: 'What the request paths name',
  },
  methods: { field: 'http_method', label: 'HTTP methods', description: 'http.request.method' },
  outcomes: { field: 'outcome', label: 'Outcomes', description: 'event.outcome' },
  // Read from the detections table, not the events: no events field.
  rules: {
    field: null,
    label: 'Detection rules',
    description: 'The built-in rules, and any rule with alerts in the range',
  },
  severities: { field: null, label: 'Severities', description: 'Alert severities' },
} as const satisfies Record<string, { field: GroupField | null; label: string; description: string }>;

export type VariableKind = keyof typeof VARIABLES;
export const VARIABLE_KINDS = Object.keys(VARIABLES) as VariableKind[];

/** Variables whose values also include the whole catalog, seen in the range or not. */
export const CATALOG_VARIABLES = ['actions', 'areas'] as const satisfies readonly VariableKind[];

/** POST variables: the values seen in the range (at most `limit`, default 500, up to 1000). */
export interface VariablesRequest {
  variable: VariableKind;
  range: QueryRequest['range'];
  filters?: Filters;
  limit?: number;
}

export interface VariablesResponse {
  values: Array<{ text: string; value: string }>;
}

// ---- Health and catalog ------------------------------------------------------------------------

export interface HealthResponse {
  status: 'ok';
  /** duckdb, athena or trino. */
  engine: string;
  /** DuckDB's rollups (counting questions read them once built); absent where the engine keeps none. */
  rollups?: RollupStatus;
}

/** How far DuckDB's rollups are built. */
export interface RollupStatus {
  /** Objects rolled up (or, alerts, copied). */
  objects: number;
  /** Objects waiting to be. */
  pending: number;
  /** Objects that could not be (their questions read the files). */
  failed: number;
}

export interface CatalogResponse {
  areas: typeof AREAS;
  actions: readonly ActionInfo[];
  groupFields: readonly GroupField[];
}

// ---- Raw SQL -----------------------------------------------------------------------------------

/**
 * The raw SQL macros. Each expands to bound parameters, never to pasted values
 * (shared/query/raw-sql.ts); `usage` and `meaning` are what the editor and the docs show.
 */
export const MACROS = [
  {
    name: '$__timeFilter',
    usage: '$__timeFilter(ts)',
    meaning: "the dashboard's range on ts; prunes the dt partitions too",
  },
  { name: '$__timeFrom', usage: '$__timeFrom()', meaning: "the range's start as a timestamp" },
  { name: '$__timeTo', usage: '$__timeTo()', meaning: "the range's end as a timestamp" },
  {
    name: '$__timeGroup',
    usage: '$__timeGroup(ts, 1h)',
    meaning: "the bucket start, a timestamp (interval optional: Grafana's)",
  },
  { name: '$__interval_ms', usage: '$__interval_ms', meaning: "Grafana's interval in ms" },
  {
    name: '$__interval',
    usage: '$__interval',
    meaning: 'the same, also as $__timeGroup(ts, $__interval)',
  },
  { name: '$__table', usage: '$__table', meaning: 'the events table' },
  {
    name: '$__rollup',
    usage: '$__rollup',
    meaning:
      "the range's events counted by day (dt) and the columns below: n events per row, first_ts and last_ts their first and last time",
  },
] as const;

/**
 * The columns of `$__rollup`, besides ts, dt, n, first_ts and last_ts: each row stands for `n`
 * events of the range that share these (a local serve answers from its hourly and daily rollups;
 * Athena and Trino count the events).
 */
export const ROLLUP_COLUMNS = [
  'action',
  'area',
  'outcome',
  'http_method',
  'http_status',
  'resource_type',
  'known_action',
  'user_id',
  'source_ip',
  'user_roles',
] as const;

export type MacroName = (typeof MACROS)[number]['name'];
export const MACRO_NAMES: readonly MacroName[] = MACROS.map((m) => m.name);
