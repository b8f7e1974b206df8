import { COLUMN_TYPES } from '../event/column-types.js';
import { EVENT_COLUMNS, PARTITION_COLUMN, type ColumnSpec } from '../event/columns.js';
import { EVENTS_FOLDER } from '../layout/layout.js';

/**
 * The Athena (Glue) table over `events/`, derived from EVENT_COLUMNS. Partition projection on
 * `dt` lets Athena compute partition locations from the query's predicate: no crawler, no
 * MSCK REPAIR, and a day written a minute ago is queryable at once.
 */
export const DEFAULT_DATABASE = 'closer_audit';
export const DEFAULT_TABLE = 'events';
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

/** `location` is the sync target (s3://bucket/prefix); the table reads its `events/` folder. */
export function tableProperties(location: string): Record<string, string> {
  const events = eventsLocation(location).replace(/\/+$/, '');
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

export function eventsLocation(location: string): string {
  return `${location.replace(/\/+$/, '')}/${EVENTS_FOLDER}/`;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** CREATE EXTERNAL TABLE for teams that deploy without serverless.yml. */
export function athenaDdl(location: string, database = DEFAULT_DATABASE, table = DEFAULT_TABLE): string {
  if (!/^s3:\/\/[^/]+/.test(location))
    throw new Error(`the table location must be s3://bucket/prefix, not ${location}`);
  const width = Math.max(...EVENT_COLUMNS.map((c) => c.name.length));
  const cols = glueColumns()
    .map((c) => `  \`${c.Name}\`${' '.repeat(width - c.Name.length)} ${c.Type} COMMENT ${quote(c.Comment)}`)
    .join(',\n');
  const props = Object.entries(tableProperties(location))
    .map(([k, v]) => `  ${quote(k)} = ${quote(v)}`)
    .join(',\n');
  return [
    `CREATE EXTERNAL TABLE IF NOT EXISTS \`${database}\`.\`${table}\` (`,
    cols,
    ')',
    `PARTITIONED BY (\`${PARTITION_COLUMN.name}\` string)`,
    'STORED AS PARQUET',
    `LOCATION ${quote(eventsLocation(location))}`,
    'TBLPROPERTIES (',
    props,
    ');',
  ].join('\n');
}
