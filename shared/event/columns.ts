/**
 * The stored event: one definition of every column, in storage order.
 * The Parquet schema, the NDJSON rows, the (Athena, Trino) DDL, DuckDB's table and the query
 * columns are all derived from this list and the type table beside it (column-types.ts); the
 * TypeScript row type below is derived from them as well.
 */

import type { ColumnType, ValueOf } from './column-types.js';

export type { ColumnType };

export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** Never null in storage. */
  readonly required: boolean;
  readonly description: string;
  /**
   * Rows come grouped by it (time, index, mostly-true flags): Parquet keeps min/max statistics, so
   * readers skip row groups. Columns spread at random over a file get none: every row group would
   * span their whole range, and computing them costs the sync time.
   */
  readonly filterable?: boolean;
  /** Unique per row (no dictionary helps it). */
  readonly unique?: boolean;
}

export const EVENT_COLUMNS = [
  {
    name: 'ts',
    type: 'timestamp',
    required: true,
    description: 'When the request was executed (UTC, ms)',
    filterable: true,
  },
  {
    name: 'event_id',
    type: 'string',
    required: true,
    description: 'Elasticsearch document _id',
    unique: true,
  },
  {
    name: 'es_index',
    type: 'string',
    required: true,
    description: 'Elasticsearch index the hit came from',
    filterable: true,
  },
  { name: 'action', type: 'string', required: false, description: 'event.action' },
  {
    name: 'known_action',
    type: 'boolean',
    required: true,
    description: "Whether the action is in Closer's documented catalog",
    filterable: true,
  },
  {
    name: 'area',
    type: 'string',
    required: false,
    description: 'Area the action touches (from the catalog)',
  },
  {
    name: 'outcome',
    type: 'string',
    required: false,
    description: 'event.outcome: success, failure, unknown',
  },
  { name: 'categories', type: 'string_list', required: true, description: 'event.category' },
  { name: 'types', type: 'string_list', required: true, description: 'event.type' },
  { name: 'kinds', type: 'string_list', required: true, description: 'event.kind' },
  {
    name: 'user_id',
    type: 'string',
    required: false,
    description: "user.id: the user's ID in Closer",
  },
  { name: 'user_roles', type: 'string_list', required: true, description: 'user.roles' },
  {
    name: 'source_ip',
    type: 'string',
    required: false,
    description: 'source.ip, bare canonical address',
  },
  {
    name: 'http_method',
    type: 'string',
    required: false,
    description: 'http.request.method, upper case',
  },
  {
    name: 'http_status',
    type: 'int',
    required: false,
    description: 'http.response.status_code',
  },
  { name: 'url', type: 'string', required: false, description: 'url.full, secrets in the query redacted' },
  { name: 'url_path', type: 'string', required: false, description: 'Path of url.full' },
  {
    name: 'resource_type',
    type: 'string',
    required: false,
    description: 'Kind of resource the path names (agent, topic, ...)',
  },
  { name: 'resource_id', type: 'string', required: false, description: 'ID of that resource' },
  { name: 'request_body', type: 'string', required: false, description: 'http.request.body, redacted text' },
  {
    name: 'response_body',
    type: 'string',
    required: false,
    description: 'http.response.body, redacted text',
  },
  { name: 'ecs_version', type: 'string', required: false, description: 'ecs.version' },
  {
    name: 'extra',
    type: 'string',
    required: false,
    description: 'JSON object of the fields not mapped above (redacted)',
  },
  {
    name: 'ingested_at',
    type: 'timestamp',
    required: true,
    description: 'When closer-audit wrote the row',
    filterable: true,
  },
] as const satisfies readonly ColumnSpec[];

/** Hive partition key: the UTC day of `ts`, as YYYY-MM-DD. Not stored inside the files. */
export const PARTITION_COLUMN = {
  name: 'dt',
  description: 'UTC day of ts (YYYY-MM-DD)',
} as const;

type Columns = (typeof EVENT_COLUMNS)[number];
type Nullable<C extends ColumnSpec> = C['required'] extends true
  ? ValueOf<C['type']>
  : ValueOf<C['type']> | null;

/** One stored row, derived from EVENT_COLUMNS. */
export type StoredEvent = { [C in Columns as C['name']]: Nullable<C> };

export type ColumnName = Columns['name'];

export const COLUMN_NAMES: readonly ColumnName[] = EVENT_COLUMNS.map((c) => c.name);
