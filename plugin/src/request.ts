import type { ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import type { CloserFilters, CloserQuery } from './types.js';

/** Model fields each query type takes (shared/query/model.ts); nothing else is sent. */
const FIELDS_OF: Record<NonNullable<CloserQuery['type']>, ReadonlyArray<keyof CloserQuery>> = {
  events: ['filters', 'limit', 'order'],
  timeseries: ['filters', 'interval', 'splitBy', 'maxSeries'],
  topn: ['filters', 'field', 'limit'],
  stat: ['filters', 'metric', 'field'],
  sql: ['sql'],
};

const LIST_FILTERS = [
  'actions',
  'areas',
  'outcomes',
  'userIds',
  'userRoles',
  'sourceIps',
  'httpMethods',
  'statuses',
  'resourceTypes',
  'resourceIds',
] as const;
const TEXT_FILTERS = ['urlContains', 'pathContains', 'bodyContains'] as const;

/** `$name`, `${name}`, `${name:format}` or `[[name]]`, standing alone. */
const WHOLE_VARIABLE =
  /^(?:\$([A-Za-z_]\w*)|\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\])$/;

const ALL = '$__all';

/**
 * The values a filter element stands for. A template variable standing alone in a filter list
 * becomes its values (several for a multi-value variable), or nothing for All: All means no
 * restriction, so the element goes away (and the filter with it if nothing is left).
 */
export function expandElement(element: string, templateSrv: TemplateSrv, scopedVars?: ScopedVars): string[] {
  const m = WHOLE_VARIABLE.exec(element.trim());
  if (!m) {
    // Text around a variable (`10.0.$octet.0/24`): one value, Grafana's plain interpolation.
    return templateSrv.containsTemplate(element) ? [templateSrv.replace(element, scopedVars)] : [element];
  }
  const name = (m[1] ?? m[2] ?? m[3]) as string;
  const scoped = scopedVars?.[name];
  if (scoped !== undefined) {
    const v = scoped.value;
    return (Array.isArray(v) ? v : [v]).map(String).filter((x) => x !== ALL);
  }
  const variable = templateSrv.getVariables().find((v) => v.name === name);
  if (!variable) return [element];
  if (isAll(variable)) return [];
  let values: string[] = [];
  templateSrv.replace(element, scopedVars, (value: unknown) => {
    values = (Array.isArray(value) ? value : [value]).map((x) => String(x));
    return '';
  });
  return values.filter((x) => x !== ALL && x !== '');
}

function isAll(variable: unknown): boolean {
  const current = (variable as { current?: { value?: unknown } }).current;
  const value = current?.value;
  return value === ALL || (Array.isArray(value) && value.includes(ALL));
}

/** The filters with template variables put in, empty filters dropped. */
export function interpolateFilters(
  filters: CloserFilters | undefined,
  templateSrv: TemplateSrv,
  scopedVars?: ScopedVars,
): CloserFilters | undefined {
  if (!filters) return undefined;
  const out: Record<string, unknown> = {};
  for (const key of LIST_FILTERS) {
    const list = filters[key];
    if (!Array.isArray(list)) continue;
    const values = list.flatMap((x): Array<string | number> =>
      typeof x === 'string' ? expandElement(x, templateSrv, scopedVars) : [x],
    );
    const cleaned = key === 'statuses' ? values.map(toStatus) : values;
    const unique = [...new Set(cleaned)];
    if (unique.length) out[key] = unique;
  }
  for (const key of TEXT_FILTERS) {
    const text = filters[key];
    if (typeof text !== 'string' || text.trim() === '') continue;
    const value = templateSrv.containsTemplate(text) ? templateSrv.replace(text, scopedVars) : text;
    if (value.trim() !== '') out[key] = value;
  }
  if (typeof filters.knownAction === 'boolean') out.knownAction = filters.knownAction;
  return Object.keys(out).length ? (out as CloserFilters) : undefined;
}

/** `404` → 404; `4xx` stays a class. */
function toStatus(v: string | number): string | number {
  if (typeof v === 'number') return v;
  return /^\d{3}$/.test(v) ? Number(v) : v.toLowerCase();
}

const SHIELD = '\u0000__';

/**
 * Template variables in raw SQL become SQL string literals, quotes doubled: `'u7'`, or
 * `'a', 'b'` for several values (write `user_id IN ($user)`, no quotes of your own). The API's
 * `$__` macros are shielded from Grafana's interpolation and reach the API as written.
 */
export function interpolateSql(sql: string, templateSrv: TemplateSrv, scopedVars?: ScopedVars): string {
  const shielded = sql.split('$__').join(SHIELD);
  if (!templateSrv.containsTemplate(shielded)) return sql;
  const replaced = templateSrv.replace(shielded, scopedVars, (value: unknown) =>
    (Array.isArray(value) ? value : [value]).map((v) => `'${String(v).replace(/'/g, "''")}'`).join(', '),
  );
  return replaced.split(SHIELD).join('$__');
}

/**
 * A target as the query API takes it: only the model fields of its type, Grafana's keys
 * (datasource, hide, key, queryType...) dropped, template variables put into the filters and,
 * as quoted literals, into raw SQL.
 */
export function toApiQuery(
  query: CloserQuery,
  templateSrv: TemplateSrv,
  scopedVars?: ScopedVars,
  defaults: { limit?: number } = {},
): Record<string, unknown> {
  const type = query.type ?? 'timeseries';
  const out: Record<string, unknown> = { refId: query.refId, type };
  for (const key of FIELDS_OF[type] ?? []) {
    const value = query[key];
    if (value === undefined || value === null || value === '') continue;
    if (key === 'filters') {
      const filters = interpolateFilters(value as CloserFilters, templateSrv, scopedVars);
      if (filters) out.filters = filters;
      continue;
    }
    if (key === 'interval' && typeof value === 'string') {
      const interval = templateSrv.containsTemplate(value) ? templateSrv.replace(value, scopedVars) : value;
      if (interval.trim()) out.interval = interval.trim();
      continue;
    }
    if (key === 'field' && type === 'stat' && query.metric !== 'distinct') continue;
    if (key === 'sql' && typeof value === 'string') {
      out.sql = interpolateSql(value, templateSrv, scopedVars);
      continue;
    }
    out[key] = value;
  }
  if (type === 'events' && out.limit === undefined && defaults.limit) out.limit = defaults.limit;
  return out;
}

/** Whether a target is worth sending: not hidden, and raw SQL not empty. */
export function isRunnable(query: CloserQuery): boolean {
  if (query.hide) return false;
  if (query.type === 'sql') return typeof query.sql === 'string' && query.sql.trim() !== '';
  return true;
}
