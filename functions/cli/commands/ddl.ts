import { DEFAULT_DATABASE, DEFAULT_TABLE, athenaDdl } from '../../../shared/schema/athena.js';
import { UsageError } from '../options.js';

export function ddlCommand(flags: { location: string; database: string; table: string }): void {
  try {
    process.stdout.write(`${athenaDdl(flags.location, flags.database, flags.table)}\n`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export const DDL_DEFAULTS = { database: DEFAULT_DATABASE, table: DEFAULT_TABLE };
