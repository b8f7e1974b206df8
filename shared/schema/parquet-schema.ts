import type { SchemaElement } from 'hyparquet';
import { EVENT_COLUMNS, type ColumnSpec } from '../event/columns.js';

/**
 * The Parquet schema of the events files, derived from EVENT_COLUMNS: timestamps as INT64 with the
 * TIMESTAMP(MILLIS, UTC) logical type (plus the legacy converted type for older readers), lists
 * as standard three-level LIST groups with an `element` leaf, strings as UTF8 byte arrays.
 */
export function parquetSchema(columns: readonly ColumnSpec[] = EVENT_COLUMNS): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'schema', num_children: columns.length }];
  for (const c of columns) {
    const repetition_type = c.required ? 'REQUIRED' : 'OPTIONAL';
    switch (c.type) {
      case 'timestamp':
        out.push({
          name: c.name,
          type: 'INT64',
          repetition_type,
          converted_type: 'TIMESTAMP_MILLIS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        });
        break;
      case 'string':
        out.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type });
        break;
      case 'boolean':
        out.push({ name: c.name, type: 'BOOLEAN', repetition_type });
        break;
      case 'int':
        out.push({ name: c.name, type: 'INT32', repetition_type });
        break;
      case 'string_list':
        out.push(
          { name: c.name, repetition_type, converted_type: 'LIST', num_children: 1 },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
        );
        break;
    }
  }
  return out;
}
