import React from 'react';
import type { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';
import type { StatusView } from '../../../shared/status/query.js';
import { statusViewOf } from '../status.js';
import type { CloserQuery } from '../types.js';

const VIEWS: Array<SelectableValue<StatusView>> = [
  {
    label: 'Summary',
    value: 'summary',
    description:
      'One row: sealed_through, synced_through, last_run_at, freshness_lag (s), last_verify (ok, failed, never), last_verify_at, rows, quarantined',
  },
  { label: 'Per day', value: 'days', description: 'A row per day of the range: time, rows, quarantined' },
];

/** The status query's only option: which frame of GET /status the panel gets. */
export function StatusQueryEditor({
  query,
  onChange,
  onRunQuery,
}: {
  query: CloserQuery;
  onChange: (q: CloserQuery) => void;
  onRunQuery: () => void;
}) {
  return (
    <div data-testid="closer-status-editor">
      <InlineFieldRow>
        <InlineField
          label="Status"
          labelWidth={18}
          tooltip="How complete and fresh the stored data is (GET /status): the summary, or rows and quarantined records per day of the range"
        >
          <RadioButtonGroup<StatusView>
            options={VIEWS}
            value={statusViewOf(query)}
            onChange={(statusView) => {
              onChange({ ...query, statusView });
              onRunQuery();
            }}
          />
        </InlineField>
      </InlineFieldRow>
    </div>
  );
}
