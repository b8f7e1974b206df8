import React from 'react';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';
import { LIMITS } from '../../../../shared/api/contract.js';
import type { GroupField } from '../../../../shared/query/fields.js';
import { groupFieldOptions } from '../../catalog.js';
import { LABEL_WIDTH, onNumberBlur, type PartProps } from './common.js';

/** Top N: the field, how many values. */
export function TopnOptions(props: PartProps) {
  const { query, update, id } = props;
  return (
    <InlineFieldRow>
      <InlineField label="Group by" labelWidth={LABEL_WIDTH}>
        <Select<GroupField>
          aria-label="Group by"
          inputId={id('group-by')}
          width={30}
          options={groupFieldOptions()}
          value={query.field ?? null}
          onChange={(v) => update({ field: v?.value })}
          placeholder="Choose a field"
        />
      </InlineField>
      <InlineField label="Limit" labelWidth={12}>
        <Input
          aria-label="Limit"
          type="number"
          width={12}
          placeholder={String(LIMITS.topn.default)}
          defaultValue={query.limit ?? ''}
          onBlur={onNumberBlur(props, 'limit')}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
