import { COLUMN_TYPES } from '../event/column-types.js';
import { EVENT_COLUMNS, PARTITION_COLUMN, type ColumnSpec } from '../event/columns.js';
import {
  DEFAULT_DATABASE,
  DEFAULT_TABLE,
  EVENTS_TABLE,
  PROJECTION_START,
  eventsLocation,
  type TableSpec,
} from './athena.js';

/**
 * The same table for a self-hosted Trino (or Starburst) Hive catalog, derived from EVENT_COLUMNS
 * like the Athena DDL. Trino's Hive connector understands Athena's partition projection (its
 * `partition_projection_*` table and column properties are stored as the same `projection.*`
 * metastore parameters), so by default `dt` partitions are computed from the query's predicate
 * exactly as Athena does. `partitions: 'registered'` leaves projection out, for metastores or
 * Trino versions where it does not work: then every new day must be registered
 * (`CALL <catalog>.system.sync_partition_metadata(...)`, which the DDL ends with).
 */
export const DEFAULT_TRINO_CATALOG = 'hive';

export type TrinoPartitions = 'projection' | 'registered';

export interface TrinoDdlOptions {
  /** The sync target: s3://bucket/prefix (or any location the catalog reads: local://, gs://, abfs://...). */
  location: string;
  catalog?: string;
  schema?: string;
  table?: string;
  partitions?: TrinoPartitions;
  /** Which table: the events (default) or the detections. */
  spec?: TableSpec;
}

const NAME = /^[A-Za-z0-9_]+$/;
/** A file system URI Trino's Hive connector can be given as an external location. */
const LOCATION = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s]+$/;

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

function name(what: string, value: string): string {
  if (!NAME.test(value)) throw new Error(`the Trino ${what} name must match ${NAME}, not ${value}`);
  return value.toLowerCase();
}

export function trinoColumns(
  columns: readonly ColumnSpec[] = EVENT_COLUMNS,
): { name: string; type: string }[] {
  return columns.map((c) => ({ name: c.name, type: COLUMN_TYPES[c.type].trino }));
}

/** `"catalog"."schema"."table"`, the table expression compiled queries read. */
export function trinoTableName(catalog: string, schema: string, table: string): string {
  return [name('catalog', catalog), name('schema', schema), name('table', table)]
    .map((n) => `"${n}"`)
    .join('.');
}

/** `CATALOG.SCHEMA.TABLE` as given on the command line or in CLOSER_TRINO_TABLE. */
export function parseTrinoTable(text: string): { catalog: string; schema: string; table: string } {
  const parts = text.split('.');
  if (parts.length !== 3 || !parts.every((p) => NAME.test(p)))
    throw new Error(`expected CATALOG.SCHEMA.TABLE (letters, digits, _), not ${text}`);
  const [catalog, schema, table] = parts as [string, string, string];
  return { catalog: catalog.toLowerCase(), schema: schema.toLowerCase(), table: table.toLowerCase() };
}

/** CREATE SCHEMA and CREATE TABLE (and, without projection, the partition sync) for Trino. */
export function trinoDdl(options: TrinoDdlOptions): string {
  const { location } = options;
  if (!LOCATION.test(location))
    throw new Error(`the table location must be a URI such as s3://bucket/prefix, not ${location}`);
  const catalog = name('catalog', options.catalog ?? DEFAULT_TRINO_CATALOG);
  const schema = name('schema', options.schema ?? DEFAULT_DATABASE);
  const table = name('table', options.table ?? DEFAULT_TABLE);
  const partitions = options.partitions ?? 'projection';
  if (partitions !== 'projection' && partitions !== 'registered')
    throw new Error(`partitions must be projection or registered, not ${String(partitions)}`);
  const projected = partitions === 'projection';
  const spec = options.spec ?? EVENTS_TABLE;
  const events = eventsLocation(location, spec.folder).replace(/\/+$/, '');

  const width = Math.max(...spec.columns.map((c) => c.name.length), PARTITION_COLUMN.name.length);
  const pad = (n: string) => `"${n}"${' '.repeat(width - n.length)}`;
  const cols = spec.columns.map(
    (c) => `  ${pad(c.name)} ${COLUMN_TYPES[c.type].trino} COMMENT ${quote(c.description)}`,
  );
  // Athena's projection.dt.* properties, as Trino's column properties.
  const dtProps = projected
    ? ` WITH (\n    partition_projection_type = 'DATE',\n    partition_projection_format = 'yyyy-MM-dd',\n` +
      `    partition_projection_range = ARRAY[${quote(PROJECTION_START)}, 'NOW'],\n` +
      `    partition_projection_interval = 1,\n    partition_projection_interval_unit = 'DAYS'\n  )`
    : '';
  cols.push(
    `  ${pad(PARTITION_COLUMN.name)} varchar COMMENT ${quote(PARTITION_COLUMN.description)}${dtProps}`,
  );
  const props = [
    `external_location = ${quote(events)}`,
    `format = 'PARQUET'`,
    `partitioned_by = ARRAY['${PARTITION_COLUMN.name}']`,
    ...(projected
      ? [
          'partition_projection_enabled = true',
          `partition_projection_location_template = ${quote(`${events}/dt=\${dt}/`)}`,
        ]
      : []),
  ];
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS "${catalog}"."${schema}"`,
    [
      `CREATE TABLE IF NOT EXISTS ${trinoTableName(catalog, schema, table)} (`,
      cols.join(',\n'),
      ')',
      `COMMENT ${quote(spec.comment)}`,
      'WITH (',
      props.map((p) => `  ${p}`).join(',\n'),
      ')',
    ].join('\n'),
  ];
  // Without projection the metastore knows only registered partitions: register what is there
  // now (run it again after each new day; 'FULL' also drops partitions whose folder is gone).
  if (!projected)
    statements.push(
      `CALL "${catalog}".system.sync_partition_metadata(${quote(schema)}, ${quote(table)}, 'ADD')`,
    );
  return statements.map((s) => `${s};`).join('\n\n');
}
