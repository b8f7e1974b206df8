import React from 'react';
import { InlineField, InlineFieldRow, Input, Select } from '@grafana/ui';
import { LIMITS } from '../../../../shared/api/contract.js';
import type { GroupField } from '../../../../shared/query/fields.js';
import { groupFieldOptions } from '../../catalog.js';
import { LABEL_WIDTH, onNumberBlur, type PartProps } from './common.js';

/** Time series: split by a field, the interval, how many series. */
export function TimeseriesOptions(props: PartProps) {
  const { query, update, id } = props;
  return (
    <InlineFieldRow>
      <InlineField label="Split by" labelWidth={LABEL_WIDTH} tooltip="One series per value of the field">
        <Select<GroupField>
          aria-label="Split by"
          inputId={id('split-by')}
          width={30}
          options={groupFieldOptions()}
          value={(query.splitBy as GroupField | undefined) ?? null}
          onChange={(v) => update({ splitBy: v?.value })}
          isClearable
          placeholder="No split"
        />
      </InlineField>
      <InlineField label="Interval" labelWidth={12} tooltip="30s, 5m, 1h, 1d; empty: Grafana's interval">
        <Input
          aria-label="Interval"
          width={12}
          placeholder="auto"
          defaultValue={query.interval ?? ''}
          onBlur={(e) => {
            const v = e.currentTarget.value.trim() || undefined;
            if (v !== query.interval) update({ interval: v });
          }}
        />
      </InlineField>
      <InlineField label="Max series" labelWidth={12} tooltip="The largest; the rest summed as other">
        <Input
          aria-label="Max series"
          type="number"
          width={10}
          placeholder={String(LIMITS.maxSeries.default)}
          defaultValue={query.maxSeries ?? ''}
          onBlur={onNumberBlur(props, 'maxSeries')}
        />
      </InlineField>
    </InlineFieldRow>
  );
}
