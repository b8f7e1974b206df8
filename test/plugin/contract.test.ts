import { describe, expect, it } from '@jest/globals';
import {
  FIELDS_OF,
  FILTER_KEYS,
  QUERY_TYPES,
  type Filters,
  type QueryField,
} from '../../shared/api/contract.js';
import { FiltersSchema, QuerySchema, parseQuery } from '../../shared/query/model.js';
import { interpolateFilters, toApiQuery } from '../../plugin/src/request.js';
import type { CloserFilters, CloserQuery } from '../../plugin/src/types.js';
import { mockTemplateSrv } from './support/grafana.js';

// The plugin sends what the API takes because both read the one contract (shared/api/contract.ts):
// a target with every field of every type set goes out with exactly its type's fields, and the
// server's schema (built from the same lists) accepts it.

/** A value for every filter of the contract. */
const EVERY_FILTER: Required<Filters> = {
  actions: ['agent_login'],
  areas: ['auth'],
  outcomes: ['failure'],
  userIds: ['u1'],
  userRoles: ['ADMIN'],
  sourceIps: ['10.0.0.0/8'],
  httpMethods: ['POST'],
  statuses: [401, '5xx'],
  resourceTypes: ['agent'],
  resourceIds: ['a1'],
  eventIds: ['e1'],
  urlContains: '/api/',
  pathContains: 'agents',
  bodyContains: 'admin',
  knownAction: true,
};

/** Every field any query type takes, set. */
// `statusView` is the plugin's own (GET /status), never sent to POST /query.
const EVERY_FIELD: Required<
  Omit<CloserQuery, 'datasource' | 'hide' | 'key' | 'queryType' | 'type' | 'statusView'>
> = {
  refId: 'A',
  filters: EVERY_FILTER as CloserFilters,
  limit: 7,
  order: 'asc',
  interval: '1h',
  splitBy: 'outcome',
  maxSeries: 3,
  field: 'user_id',
  metric: 'distinct',
  sql: 'SELECT 1 FROM $__table',
  format: 'alerts',
  rules: ['password-brute-force-ip'],
  severities: ['high'],
  alertIds: ['a1'],
};

describe('the plugin and the API share one contract', () => {
  it('the test sets every filter and every field the contract names', () => {
    expect(Object.keys(EVERY_FILTER).sort()).toEqual([...FILTER_KEYS].sort());
    const fields = new Set<QueryField>(QUERY_TYPES.flatMap((t) => [...FIELDS_OF[t]]));
    expect([...fields].sort()).toEqual(
      Object.keys(EVERY_FIELD)
        .filter((k) => k !== 'refId')
        .sort(),
    );
  });

  it.each(QUERY_TYPES)('a %s target goes out with exactly its fields, and the API takes it', (type) => {
    // A detections series splits by rule or severity, not by an events field.
    const splitBy = type === 'detections' ? 'rule' : EVERY_FIELD.splitBy;
    const sent = toApiQuery({ ...EVERY_FIELD, splitBy, type }, mockTemplateSrv());
    expect(Object.keys(sent).sort()).toEqual(['refId', 'type', ...FIELDS_OF[type]].sort());
    expect(parseQuery(sent).type).toBe(type);
  });

  it('every filter survives interpolation and the API validates it', () => {
    const sent = interpolateFilters(EVERY_FILTER as CloserFilters, mockTemplateSrv());
    expect(sent).toEqual(EVERY_FILTER);
    expect(FiltersSchema.parse(sent)).toEqual(EVERY_FILTER);
  });

  it("the server's schema takes each type's fields, no more", () => {
    for (const option of QuerySchema.options) {
      const shape = option.shape as Record<string, unknown>;
      const type = (shape.type as { value: keyof typeof FIELDS_OF }).value;
      expect({ type, keys: Object.keys(shape).sort() }).toEqual({
        type,
        keys: ['refId', 'type', ...FIELDS_OF[type]].sort(),
      });
    }
  });
});
