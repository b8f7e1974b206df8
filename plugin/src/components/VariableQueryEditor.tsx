import React from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, MultiSelect, Select } from '@grafana/ui';
import { areaOptions } from '../catalog.js';
import type { CloserDataSource } from '../datasource.js';
import { VARIABLES, VARIABLE_KINDS, type VariableKind } from '../../../shared/api/contract.js';
import type { CloserOptions, CloserQuery, CloserVariableQuery } from '../types.js';

type Props = QueryEditorProps<CloserDataSource, CloserQuery, CloserOptions, CloserVariableQuery>;

/** The kinds of values the API lists (the contract's VARIABLES), as the editor offers them. */
const KIND_OPTIONS: Array<SelectableValue<VariableKind>> = VARIABLE_KINDS.map((kind) => ({
  value: kind,
  label: VARIABLES[kind].label,
  description: VARIABLES[kind].description,
}));

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
          options={KIND_OPTIONS}
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
