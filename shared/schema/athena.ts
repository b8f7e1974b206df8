import { DETECTION_COLUMNS } from '../detections/columns.js';
import { COLUMN_TYPES } from '../event/column-types.js';
import { EVENT_COLUMNS, PARTITION_COLUMN, type ColumnSpec } from '../event/columns.js';
import { FOLDERS } from '../layout/layout.js';

/**
 * The Athena (Glue) table over `events/`, derived from EVENT_COLUMNS. Partition projection on
 * `dt` lets Athena compute partition locations from the query's predicate: no crawler, no
 * MSCK REPAIR, and a day written a minute ago is queryable at once.
 */
export const DEFAULT_DATABASE = 'closer_audit';
export const DEFAULT_TABLE = 'events';
/** The alerts the detection rules raise (shared/detections/columns.ts), beside the events table. */
export const DEFAULT_DETECTIONS_TABLE = 'detections';

/** What a table reads: its columns and its folder under the sync target. */
export interface TableSpec {
  columns: readonly ColumnSpec[];
  folder: string;
  comment: string;
}

export const EVENTS_TABLE: TableSpec = {
  columns: EVENT_COLUMNS,
  folder: FOLDERS.events,
  comment: 'Closer audit events, written by closer-audit',
};
export const DETECTIONS_TABLE: TableSpec = {
  columns: DETECTION_COLUMNS,
  folder: FOLDERS.detections,
  comment: 'Alerts raised by the closer-audit detection rules',
};
/** First day projection enumerates; older `dt` values simply match nothing. */
export const PROJECTION_START = '2020-01-01';

export interface GlueColumn {
  Name: string;
  Type: string;
  Comment: string;
}

export function glueColumns(columns: readonly ColumnSpec[] = EVENT_COLUMNS): GlueColumn[] {
  return columns.map((c) => ({ Name: c.name, Type: COLUMN_TYPES[c.type].hive, Comment: c.description }));
}

export function partitionKeys(): GlueColumn[] {
  return [{ Name: PARTITION_COLUMN.name, Type: 'string', Comment: PARTITION_COLUMN.description }];
}

/** `location` is the sync target (s3://bucket/prefix); the table reads its `events/` (or `folder`) folder. */
export function tableProperties(location: string, folder = EVENTS_TABLE.folder): Record<string, string> {
  const events = `${location.replace(/\/+$/, '')}/${folder}`;
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${PROJECTION_START},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'storage.location.template': `${events}/dt=\${dt}/`,
    'parquet.compression': 'ZSTD',
    classification: 'parquet',
  };
}

export function eventsLocation(location: string, folder = EVENTS_TABLE.folder): string {
  return `${location.replace(/\/+$/, '')}/${folder}/`;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** CREATE EXTERNAL TABLE for teams that deploy without serverless.yml. */
export function athenaDdl(
  location: string,
  database = DEFAULT_DATABASE,
  table = DEFAULT_TABLE,
  spec: TableSpec = EVENTS_TABLE,
): string {
  if (!/^s3:\/\/[^/]+/.test(location))
    throw new Error(`the table location must be s3://bucket/prefix, not ${location}`);
  const width = Math.max(...spec.columns.map((c) => c.name.length));
  const cols = glueColumns(spec.columns)
    .map((c) => `  \`${c.Name}\`${' '.repeat(width - c.Name.length)} ${c.Type} COMMENT ${quote(c.Comment)}`)
    .join(',\n');
  const props = Object.entries(tableProperties(location, spec.folder))
    .map(([k, v]) => `  ${quote(k)} = ${quote(v)}`)
    .join(',\n');
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${database}\`.\`${table}\` (`,
    cols,
    ')',
    `PARTITIONED BY (\`${PARTITION_COLUMN.name}\` string)`,
    'STORED AS PARQUET',
    `LOCATION ${quote(eventsLocation(location, spec.folder))}`,
    'TBLPROPERTIES (',
    props,
    ');',
  ].join('\n');
}
