import { COLUMN_NAMES, type ColumnName } from '../event/columns.js';

/**
 * Fields a query can group, split or rank by. Each is a stored column, except `status_class`
 * (2xx, 4xx...) and `user_role` (one value of the user_roles list), which the compilers derive.
 */
export const GROUP_FIELDS = [
  'action',
  'area',
  'outcome',
  'user_id',
  'user_role',
  'source_ip',
  'http_method',
  'http_status',
  'status_class',
  'resource_type',
  'resource_id',
  'url_path',
  'es_index',
  'known_action',
] as const;

export type GroupField = (typeof GROUP_FIELDS)[number];

/** Stored columns a field reads. */
export function columnsOf(field: GroupField): ColumnName[] {
  if (field === 'user_role') return ['user_roles'];
  if (field === 'status_class') return ['http_status'];
  return [field];
}

// Every group field other than the derived ones must be a stored column.
for (const f of GROUP_FIELDS) {
  for (const c of columnsOf(f)) {
    if (!COLUMN_NAMES.includes(c)) throw new Error(`group field ${f} reads unknown column ${c}`);
  }
}
