import type { SchemaElement } from 'hyparquet';
import { COLUMN_TYPES } from '../event/column-types.js';
import { EVENT_COLUMNS, type ColumnSpec } from '../event/columns.js';

/**
 * The Parquet schema of the events files, derived from EVENT_COLUMNS and the type table: each
 * column's leaf as COLUMN_TYPES gives it; lists as standard three-level LIST groups with an
 * `element` leaf.
 */
export function parquetSchema(columns: readonly ColumnSpec[] = EVENT_COLUMNS): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'schema', num_children: columns.length }];
  for (const c of columns) {
    const repetition_type = c.required ? 'REQUIRED' : 'OPTIONAL';
    const { list, ...leaf } = COLUMN_TYPES[c.type].parquet;
    if (list)
      out.push(
        { name: c.name, repetition_type, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', ...leaf, repetition_type: 'REQUIRED' },
      );
    else out.push({ name: c.name, ...leaf, repetition_type });
  }
  return out;
}
