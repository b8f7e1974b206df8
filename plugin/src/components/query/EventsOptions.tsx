import React from 'react';
import { InlineField, InlineFieldRow, Input, RadioButtonGroup } from '@grafana/ui';
import { LIMITS } from '../../../../shared/api/contract.js';
import { LABEL_WIDTH, onNumberBlur, type PartProps } from './common.js';

/** Events: how many, in which order. */
export function EventsOptions(props: PartProps & { defaultLimit?: number }) {
  const { query, update } = props;
  return (
    <InlineFieldRow>
      <InlineField
        label="Limit"
        labelWidth={LABEL_WIDTH}
        tooltip={`At most ${LIMITS.events.max.toLocaleString('en')}`}
      >
        <Input
          aria-label="Limit"
          type="number"
          width={16}
          placeholder={String(props.defaultLimit ?? LIMITS.events.default)}
          defaultValue={query.limit ?? ''}
          onBlur={onNumberBlur(props, 'limit')}
        />
      </InlineField>
      <InlineField label="Order" labelWidth={12}>
        <RadioButtonGroup<'desc' | 'asc'>
          options={[
            { label: 'Newest first', value: 'desc' },
            { label: 'Oldest first', value: 'asc' },
          ]}
          value={query.order ?? 'desc'}
          onChange={(order) => update({ order })}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
