import React from 'react';
import type { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup } from '@grafana/ui';
import { BUILTIN_RULES } from '../../../shared/detections/builtin.js';
import { SEVERITIES } from '../../../shared/detections/columns.js';
import type { CloserQuery, DetectionSplit } from '../types.js';

type Format = NonNullable<CloserQuery['format']>;

const FORMATS: Array<SelectableValue<Format>> = [
  { label: 'Alerts', value: 'alerts', description: 'One row per alert, newest first' },
  { label: 'Over time', value: 'timeseries', description: 'Alerts per interval, by rule or severity' },
  { label: 'Their events', value: 'events', description: 'The events of the alerts (at most 50 alerts)' },
];
const SPLITS: Array<SelectableValue<DetectionSplit>> = [
  { label: 'Rule', value: 'rule' },
  { label: 'Severity', value: 'severity' },
];
const LABEL_WIDTH = 18;
const options = (values: readonly string[]): Array<SelectableValue<string>> =>
  values.map((v) => ({ label: v, value: v }));

interface Props {
  query: CloserQuery;
  update: (patch: Partial<CloserQuery>, run?: boolean) => void;
  id: (name: string) => string;
}

/**
 * The `detections` query type: the alerts of the detection rules, filtered by rule and severity
 * (template variables such as `$rule` are typed in as values).
 */
export function DetectionsEditor({ query, update, id }: Props) {
  const format: Format = query.format ?? 'alerts';
  const list = (key: 'rules' | 'severities' | 'alertIds') => (values: Array<SelectableValue<string>>) => {
    const next = values.map((v) => v.value).filter((v): v is string => !!v);
    update({ [key]: next.length ? next : undefined });
  };
  return (
    <>
      <InlineFieldRow>
        <InlineField label="Show" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<Format>
            options={FORMATS}
            value={format}
            onChange={(v) => update({ format: v, splitBy: v === 'timeseries' ? 'rule' : undefined })}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Rules" labelWidth={LABEL_WIDTH} tooltip="Rule ids; empty: every rule">
          <MultiSelect<string>
            aria-label="Rules"
            inputId={id('rules')}
            width={60}
            options={options([...new Set([...BUILTIN_RULES, ...(query.rules ?? [])])])}
            value={query.rules ?? []}
            onChange={list('rules')}
            allowCustomValue
            placeholder="Any rule"
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label="Severities" labelWidth={LABEL_WIDTH}>
          <MultiSelect<string>
            aria-label="Severities"
            inputId={id('severities')}
            width={60}
            options={options([...new Set([...SEVERITIES, ...(query.severities ?? [])])])}
            value={query.severities ?? []}
            onChange={list('severities')}
            allowCustomValue
            placeholder="Any severity"
          />
        </InlineField>
      </InlineFieldRow>
      {format === 'timeseries' && (
        <InlineFieldRow>
          <InlineField label="Split by" labelWidth={LABEL_WIDTH}>
            <RadioButtonGroup<DetectionSplit>
              options={SPLITS}
              value={(query.splitBy as DetectionSplit | undefined) ?? 'rule'}
              onChange={(splitBy) => update({ splitBy })}
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
        </InlineFieldRow>
      )}
      {format !== 'timeseries' && (
        <InlineFieldRow>
          <InlineField label="Alert ids" labelWidth={LABEL_WIDTH} tooltip="Only these alerts (e.g. $alert)">
            <MultiSelect<string>
              aria-label="Alert ids"
              inputId={id('alert-ids')}
              width={60}
              options={options(query.alertIds ?? [])}
              value={query.alertIds ?? []}
              onChange={list('alertIds')}
              allowCustomValue
              placeholder="Any alert"
            />
          </InlineField>
          {format === 'alerts' && (
            <InlineField label="Limit" labelWidth={12}>
              <Input
                aria-label="Limit"
                type="number"
                width={12}
                placeholder="500"
                defaultValue={query.limit ?? ''}
                onBlur={(e) => {
                  const raw = e.currentTarget.value.trim();
                  const n = raw === '' ? undefined : Math.trunc(Number(raw));
                  if (n !== query.limit && (n === undefined || Number.isFinite(n))) update({ limit: n });
                }}
              />
            </InlineField>
          )}
        </InlineFieldRow>
      )}
    </>
  );
}
