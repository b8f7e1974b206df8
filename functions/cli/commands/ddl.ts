import {
  DEFAULT_DATABASE,
  DEFAULT_DETECTIONS_TABLE,
  DEFAULT_TABLE,
  DETECTIONS_TABLE,
  EVENTS_TABLE,
  athenaDdl,
  type TableSpec,
} from '../../../shared/schema/athena.js';
import { DEFAULT_TRINO_CATALOG, trinoDdl, type TrinoPartitions } from '../../../shared/schema/trino.js';
import { UsageError } from '../options.js';

export interface DdlFlags {
  location: string;
  database: string;
  table: string;
  detectionsTable?: string;
  engine?: string;
  catalog?: string;
  partitions?: string;
}

export function ddlCommand(flags: DdlFlags): void {
  const engine = flags.engine ?? 'athena';
  if (engine !== 'athena' && engine !== 'trino') throw new UsageError(`--engine ${engine}: athena or trino`);
  if (engine === 'athena' && (flags.catalog !== undefined || flags.partitions !== undefined))
    throw new UsageError(`--${flags.catalog !== undefined ? 'catalog' : 'partitions'} is for --engine trino`);
  if (
    flags.partitions !== undefined &&
    flags.partitions !== 'projection' &&
    flags.partitions !== 'registered'
  )
    throw new UsageError(`--partitions ${flags.partitions}: projection or registered`);
  // The events table, then the detections table beside it (alerts under detections/dt=…/).
  const one = (table: string, spec: TableSpec) =>
    engine === 'trino'
      ? trinoDdl({
          location: flags.location,
          catalog: flags.catalog ?? DEFAULT_TRINO_CATALOG,
          schema: flags.database,
          table,
          partitions: flags.partitions as TrinoPartitions | undefined,
          spec,
        })
      : athenaDdl(flags.location, flags.database, table, spec);
  try {
    const ddl = [
      one(flags.table, EVENTS_TABLE),
      one(flags.detectionsTable ?? DEFAULT_DETECTIONS_TABLE, DETECTIONS_TABLE),
    ].join('\n\n');
    process.stdout.write(`${ddl}\n`);
  } catch (err) {
    const message = (err as Error).message;
    const flag = /catalog/.test(message)
      ? '--catalog'
      : /schema|database/.test(message)
        ? '--database'
        : /table name/.test(message)
          ? message.includes(flags.detectionsTable ?? '\0')
            ? '--detections-table'
            : '--table'
          : '--location';
    throw new UsageError(`${flag}: ${message}`);
  }
}

export const DDL_DEFAULTS = {
  database: DEFAULT_DATABASE,
  table: DEFAULT_TABLE,
  detectionsTable: DEFAULT_DETECTIONS_TABLE,
};
