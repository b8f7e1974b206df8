import type { ScopedVars } from '@grafana/data';
import type { TemplateSrv } from '@grafana/runtime';
import { FIELDS_OF, LIST_FILTERS, TEXT_FILTERS, type QueryField } from '../../shared/api/contract.js';
import { lexSql, type SqlTokenKind } from '../../shared/query/sql-lexer.js';
import type { CloserFilters, CloserQuery } from './types.js';

/** The detections query's lists, which take template variables like the filters' lists. */
const DETECTION_LISTS: readonly QueryField[] = ['rules', 'severities', 'alertIds'];

/** `$name`, `${name}`, `${name:format}` or `[[name]]`, standing alone. */
const WHOLE_VARIABLE =
  /^(?:\$([A-Za-z_]\w*)|\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\[\[([A-Za-z_]\w*)(?::[^\]]*)?\]\])$/;

const ALL = '$__all';

/**
 * The values a filter element stands for. A template variable standing alone in a filter list
 * becomes its values (several for a multi-value variable), or nothing for All: All means no
 * restriction, so the element goes away (and the filter with it if nothing is left).
 */
function expandElement(element: string, templateSrv: TemplateSrv, scopedVars?: ScopedVars): string[] {
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

const values = (value: unknown): string[] => (Array.isArray(value) ? value : [value]).map((v) => String(v));
const quoteless = (v: string) => v.replace(/'/g, "''");

/** How a variable's value is written where it stands, so it is always data, never SQL. */
const FORMAT: Record<Exclude<SqlTokenKind, 'comment'>, (value: unknown) => string> = {
  // In code: string literals, `'u7'`, or `'a', 'b'` for several values (for `IN ($user)`).
  code: (value) =>
    values(value)
      .map((v) => `'${quoteless(v)}'`)
      .join(', '),
  // Inside a literal the user quoted ('%$user%'): the characters only, quotes doubled.
  string: (value) => values(value).map(quoteless).join(','),
  'escape-string': (value) =>
    values(value)
      .map((v) => quoteless(v.replace(/\\/g, '\\\\')))
      .join(','),
  // Inside a quoted name: its quote character doubled ("..." or `...`).
  identifier: (value) =>
    values(value)
      .map((v) => v.replace(/["`]/g, '$&$&'))
      .join(','),
};

/**
 * Template variables in raw SQL become SQL string literals, quotes doubled: `'u7'`, or
 * `'a', 'b'` for several values (write `user_id IN ($user)`, no quotes of your own). Inside a
 * literal the SQL already quotes, a value is put in escaped, without quotes of its own; in
 * comments, variables stay as written. The API's `$__` macros are shielded from Grafana's
 * interpolation and reach the API as written.
 */
export function interpolateSql(sql: string, templateSrv: TemplateSrv, scopedVars?: ScopedVars): string {
  const shielded = sql.split('$__').join(SHIELD);
  if (!templateSrv.containsTemplate(shielded)) return sql;
  const replaced = lexSql(shielded)
    .map(({ kind, text }) =>
      kind === 'comment' ? text : templateSrv.replace(text, scopedVars, FORMAT[kind]),
    )
    .join('');
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
  const fields: readonly QueryField[] = type === 'status' ? [] : FIELDS_OF[type];
  for (const key of fields) {
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
    if (DETECTION_LISTS.includes(key) && Array.isArray(value)) {
      const list = [...new Set(value.flatMap((x: string) => expandElement(x, templateSrv, scopedVars)))];
      if (list.length) out[key] = list;
      continue;
    }
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
