import React from 'react';
import { InlineField, InlineFieldRow, RadioButtonGroup, Select } from '@grafana/ui';
import type { GroupField } from '../../../../shared/query/fields.js';
import { groupFieldOptions } from '../../catalog.js';
import { LABEL_WIDTH, type PartProps } from './common.js';

/** Stat: a count, or the distinct values of a field. */
export function StatOptions({ query, update, id }: PartProps) {
  return (
    <InlineFieldRow>
      <InlineField label="Metric" labelWidth={LABEL_WIDTH}>
        <RadioButtonGroup<'count' | 'distinct'>
          options={[
            { label: 'Count', value: 'count' },
            { label: 'Distinct', value: 'distinct' },
          ]}
          value={query.metric ?? 'count'}
          onChange={(metric) => update({ metric })}
        />
      </InlineField>
      {query.metric === 'distinct' && (
        <InlineField label="Of field" labelWidth={12}>
          <Select<GroupField>
            aria-label="Distinct field"
            inputId={id('distinct-field')}
            width={30}
            options={groupFieldOptions()}
            value={query.field ?? null}
            onChange={(v) => update({ field: v?.value })}
            placeholder="Choose a field"
          />
        </InlineField>
      )}
    </InlineFieldRow>
  );
}
