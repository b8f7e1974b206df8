import type { SelectableValue } from '@grafana/data';
import { ACTIONS, AREAS, lookupAction, type Area } from '../../shared/catalog/actions.js';
import { GROUP_FIELDS, type GroupField } from '../../shared/query/fields.js';

// Everything the editors offer comes from the shared catalog and query model: nothing restated.

/** The action picker's options: one group per area, in the catalog's order, with descriptions. */
export function actionOptions(): Array<SelectableValue<string>> {
  return (Object.keys(AREAS) as Area[]).map((area) => ({
    label: AREAS[area],
    // Grafana 10.4's Select folds every group until clicked, unless the group says `expanded`
    // (11.x on ignore it and always show groups open): every area's actions in view on all.
    expanded: true,
    options: ACTIONS.filter((a) => a.area === area).map((a) => ({
      label: a.action,
      value: a.action,
      description: a.description,
    })),
  }));
}

export function areaOptions(): Array<SelectableValue<string>> {
  return (Object.keys(AREAS) as Area[]).map((area) => ({
    label: AREAS[area],
    value: area,
    description: `${ACTIONS.filter((a) => a.area === area).length} actions`,
  }));
}

const FIELD_LABELS: Record<GroupField, string> = {
  action: 'Action',
  area: 'Area',
  outcome: 'Outcome',
  user_id: 'User',
  user_role: 'User role',
  source_ip: 'Source IP',
  http_method: 'HTTP method',
  http_status: 'HTTP status',
  status_class: 'Status class (2xx, 4xx...)',
  resource_type: 'Resource type',
  resource_id: 'Resource id',
  url_path: 'URL path',
  es_index: 'Elasticsearch index',
  known_action: 'Known action',
};

export function groupFieldOptions(): Array<SelectableValue<GroupField>> {
  return GROUP_FIELDS.map((f) => ({ label: FIELD_LABELS[f], value: f, description: f }));
}

/**
 * Configuration changes and role changes: the actions annotations mark by default. The
 * configuration category's creations, changes and deletions, and the role change.
 */
export function changeActions(): string[] {
  return ACTIONS.filter(
    (a) =>
      (a.category === 'configuration' && ['creation', 'change', 'deletion'].includes(a.verb)) ||
      a.action === 'agent_role_change',
  ).map((a) => a.action);
}

export function describeAction(action: string): string {
  return lookupAction(action)?.description ?? action;
}
