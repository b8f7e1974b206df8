import React from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, MultiSelect, Select } from '@grafana/ui';
import { areaOptions } from '../catalog.js';
import type { CloserDataSource } from '../datasource.js';
import type { CloserOptions, CloserQuery, CloserVariableQuery, VariableKind } from '../types.js';

type Props = QueryEditorProps<CloserDataSource, CloserQuery, CloserOptions, CloserVariableQuery>;

export const VARIABLE_KINDS: Array<SelectableValue<VariableKind>> = [
  { label: 'Actions', value: 'actions', description: 'event.action: the catalog, and any other action seen' },
  { label: 'Areas', value: 'areas', description: 'Areas of the catalog' },
  { label: 'Users', value: 'users', description: 'user.id of the actors seen in the range' },
  { label: 'Source IPs', value: 'ips', description: 'source.ip addresses seen in the range' },
  { label: 'Roles', value: 'roles', description: "Values of the actors' user.roles" },
  { label: 'Resource types', value: 'resourceTypes', description: 'What the request paths name' },
  { label: 'HTTP methods', value: 'methods', description: 'http.request.method' },
  { label: 'Outcomes', value: 'outcomes', description: 'event.outcome' },
  {
    label: 'Detection rules',
    value: 'rules',
    description: 'Built-in rules, and any rule with alerts in the range',
  },
  { label: 'Severities', value: 'severities', description: 'Alert severities: low, medium, high, critical' },
];

/** A template variable's query: which values, optionally within some areas. */
export function VariableQueryEditor({ query, onChange }: Props) {
  const areas = (query.filters?.areas ?? []).map(String);
  return (
    <InlineFieldRow>
      <InlineField label="Values of" labelWidth={14}>
        <Select<VariableKind>
          aria-label="Variable values"
          inputId="closer-variable"
          width={30}
          options={VARIABLE_KINDS}
          value={query.variable ?? null}
          onChange={(v) => onChange({ ...query, refId: query.refId || 'variable', variable: v.value })}
          placeholder="Choose"
        />
      </InlineField>
      <InlineField label="In areas" labelWidth={12} tooltip="Only values seen in these areas (optional)">
        <MultiSelect<string>
          aria-label="In areas"
          inputId="closer-variable-areas"
          width={40}
          options={areaOptions()}
          value={areas.map((a) => ({ label: a, value: a }))}
          onChange={(vs) => {
            const list = vs.map((v) => v.value).filter((v): v is string => !!v);
            const { areas: _drop, ...rest } = query.filters ?? {};
            const filters = list.length ? { ...rest, areas: list } : rest;
            onChange({ ...query, filters: Object.keys(filters).length ? filters : undefined });
          }}
          allowCustomValue
          placeholder="All areas"
        />
      </InlineField>
    </InlineFieldRow>
  );
}
