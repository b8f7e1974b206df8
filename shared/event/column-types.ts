/**
 * What each column type is in every place that stores or reads it: the table the Parquet schema,
 * the Hive/Athena and Trino DDL, DuckDB's table, and NDJSON encoding and decoding derive from.
 * A new type (or a changed one) is added here, and the type checker asks for every entry.
 */
export type ColumnType = 'timestamp' | 'string' | 'boolean' | 'int' | 'string_list';

/** The value of a column of this type in a row (StoredEvent), before nullability. */
export type ValueOf<T extends ColumnType> = T extends 'timestamp'
  ? number // epoch milliseconds, UTC
  : T extends 'string'
    ? string
    : T extends 'boolean'
      ? boolean
      : T extends 'int'
        ? number
        : string[];

/** The Parquet leaf a column of this type is stored as (a list: the element inside a LIST group). */
export interface ParquetLeaf {
  type: 'INT64' | 'INT32' | 'BOOLEAN' | 'BYTE_ARRAY';
  converted_type?: 'TIMESTAMP_MILLIS' | 'UTF8';
  logical_type?: { type: 'TIMESTAMP'; isAdjustedToUTC: boolean; unit: 'MILLIS' };
  /** A standard three-level LIST of this leaf. */
  list?: true;
}

export interface TypeSpec<T extends ColumnType> {
  /** Hive DDL / Glue column type (Athena). */
  readonly hive: string;
  /** Trino's type for the same Parquet column, through its Hive connector. */
  readonly trino: string;
  /** DuckDB's type, for the empty table a range without files reads. */
  readonly duckdb: string;
  readonly parquet: ParquetLeaf;
  /** The value as an NDJSON line holds it; undefined when the row value is written as it is. */
  readonly toJson?: (value: ValueOf<T>) => unknown;
  /** Back from an NDJSON line; undefined when JSON gives the row value as it is. */
  readonly fromJson?: (value: unknown) => ValueOf<T> | null;
  /** From what hyparquet reads (a Date for timestamps, a bigint-free number, ...) to the row value. */
  readonly fromParquet: (value: unknown) => ValueOf<T> | null;
}

const orNull = (v: unknown) => v ?? null;

export const COLUMN_TYPES: { readonly [T in ColumnType]: TypeSpec<T> } = {
  timestamp: {
    hive: 'timestamp',
    // Millisecond precision, as stored; Trino's Hive connector reads it at its default precision (ms).
    trino: 'timestamp(3)',
    duckdb: 'TIMESTAMPTZ',
    // TIMESTAMP(MILLIS, UTC), plus the legacy converted type for older readers.
    parquet: {
      type: 'INT64',
      converted_type: 'TIMESTAMP_MILLIS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
    },
    // ISO-8601 in NDJSON, for JSON SerDes and jq.
    toJson: (ms) => new Date(ms).toISOString(),
    fromJson: (v) => (typeof v === 'string' ? Date.parse(v) : typeof v === 'number' ? v : null),
    fromParquet: (v) => (v instanceof Date ? v.getTime() : v == null ? null : Number(v)),
  },
  string: {
    hive: 'string',
    trino: 'varchar',
    duckdb: 'VARCHAR',
    parquet: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
    fromParquet: (v) => orNull(v) as string | null,
  },
  boolean: {
    hive: 'boolean',
    trino: 'boolean',
    duckdb: 'BOOLEAN',
    parquet: { type: 'BOOLEAN' },
    fromParquet: (v) => orNull(v) as boolean | null,
  },
  int: {
    hive: 'int',
    trino: 'integer',
    duckdb: 'INTEGER',
    parquet: { type: 'INT32' },
    fromParquet: (v) => (v == null ? null : Number(v)),
  },
  string_list: {
    hive: 'array<string>',
    trino: 'array(varchar)',
    duckdb: 'VARCHAR[]',
    parquet: { type: 'BYTE_ARRAY', converted_type: 'UTF8', list: true },
    // Lists are never null in storage: an absent list reads as empty.
    fromParquet: (v) => (Array.isArray(v) ? (v as string[]) : []),
  },
};
