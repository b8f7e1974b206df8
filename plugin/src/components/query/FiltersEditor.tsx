import React, { type FocusEvent } from 'react';
import type { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, Input, MultiSelect, RadioButtonGroup, TagsInput } from '@grafana/ui';
import type { FilterKey, ListFilter, TextFilter } from '../../../../shared/api/contract.js';
import { actionOptions, areaOptions } from '../../catalog.js';
import type { CloserFilters } from '../../types.js';
import { LABEL_WIDTH, asOptions, type PartProps } from './common.js';

/**
 * Each filter of the API's contract, by its label here: a filter added to the contract and not
 * to this editor fails the type check.
 */
export const FILTER_LABELS: Record<FilterKey, string> = {
  actions: 'Actions',
  areas: 'Areas',
  outcomes: 'Outcomes',
  userIds: 'Users',
  userRoles: 'Roles',
  sourceIps: 'Source IPs / CIDRs',
  httpMethods: 'HTTP methods',
  statuses: 'Statuses',
  resourceTypes: 'Resource types',
  resourceIds: 'Resource ids',
  eventIds: 'Event ids',
  urlContains: 'URL contains',
  pathContains: 'Path contains',
  bodyContains: 'Body contains',
  knownAction: 'Known action',
};

const OUTCOMES: Array<SelectableValue<string>> = asOptions(['success', 'failure', 'unknown']);
const METHODS: Array<SelectableValue<string>> = asOptions(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const KNOWN: Array<SelectableValue<string>> = [
  { label: 'Any', value: 'any' },
  { label: 'In the catalog', value: 'known' },
  { label: 'Not in the catalog', value: 'unknown' },
];

/** The filters every structured query type takes. */
export function FiltersEditor({ query, update, id }: PartProps) {
  const filters: CloserFilters = query.filters ?? {};
  const setFilter = <K extends FilterKey>(key: K, value: CloserFilters[K] | undefined) => {
    const next: CloserFilters = { ...filters };
    const empty = value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
    if (empty) delete next[key];
    else next[key] = value;
    update({ filters: Object.keys(next).length ? next : undefined });
  };
  const setList = (key: ListFilter) => (values: Array<SelectableValue<string>>) =>
    setFilter(
      key,
      values.map((v) => v.value).filter((v): v is string => !!v),
    );
  const setTags = (key: ListFilter) => (tags: string[]) => setFilter(key, tags);
  const setText = (key: TextFilter) => (e: FocusEvent<HTMLInputElement>) => {
    const v = e.currentTarget.value;
    if ((filters[key] ?? '') !== v) setFilter(key, v.trim() === '' ? undefined : v);
  };
  const multi = (
    key: ListFilter,
    options: Array<SelectableValue<string>>,
    width: number,
    placeholder: string,
  ) => (
    <MultiSelect<string>
      aria-label={FILTER_LABELS[key]}
      inputId={id(key)}
      width={width}
      options={options}
      value={asOptions(filters[key])}
      onChange={setList(key)}
      allowCustomValue
      placeholder={placeholder}
    />
  );
  const tags = (key: ListFilter, elementId: string, width: number, placeholder: string) => (
    <TagsInput
      id={id(elementId)}
      width={width}
      placeholder={placeholder}
      tags={(filters[key] ?? []).map(String)}
      onChange={setTags(key)}
    />
  );
  const text = (key: TextFilter) => (
    <Input
      aria-label={FILTER_LABELS[key]}
      width={26}
      defaultValue={filters[key] ?? ''}
      onBlur={setText(key)}
    />
  );

  return (
    <>
      <InlineFieldRow>
        <InlineField
          label={FILTER_LABELS.actions}
          labelWidth={LABEL_WIDTH}
          grow
          tooltip="Closer's actions, grouped by area; a template variable ($action) or an action outside the catalog can be typed in"
        >
          <MultiSelect<string>
            aria-label={FILTER_LABELS.actions}
            inputId={id('actions')}
            options={actionOptions()}
            value={asOptions(filters.actions)}
            onChange={setList('actions')}
            allowCustomValue
            placeholder="Any action"
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label={FILTER_LABELS.areas} labelWidth={LABEL_WIDTH}>
          {multi('areas', areaOptions(), 40, 'Any area')}
        </InlineField>
        <InlineField label={FILTER_LABELS.outcomes} labelWidth={12}>
          {multi('outcomes', OUTCOMES, 30, 'Any')}
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label={FILTER_LABELS.userIds}
          labelWidth={LABEL_WIDTH}
          htmlFor={id('users')}
          tooltip="user.id values, or $user"
        >
          {tags('userIds', 'users', 40, 'user id, Enter')}
        </InlineField>
        <InlineField
          label={FILTER_LABELS.userRoles}
          labelWidth={12}
          htmlFor={id('roles')}
          tooltip="Any of the actor's user.roles, or $role"
        >
          {tags('userRoles', 'roles', 30, 'e.g. ADMIN, Enter')}
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label={FILTER_LABELS.sourceIps}
          htmlFor={id('ips')}
          labelWidth={LABEL_WIDTH}
          tooltip="Addresses or networks, e.g. 185.220.0.0/16 or 2a02::/16, or $ip"
        >
          {tags('sourceIps', 'ips', 40, '10.0.0.0/8, Enter')}
        </InlineField>
        <InlineField label="Methods" labelWidth={12}>
          {multi('httpMethods', METHODS, 30, 'Any')}
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label={FILTER_LABELS.statuses}
          labelWidth={LABEL_WIDTH}
          htmlFor={id('statuses')}
          tooltip="Codes (401) or classes (4xx)"
        >
          {tags('statuses', 'statuses', 40, '4xx, 500, Enter')}
        </InlineField>
        <InlineField label={FILTER_LABELS.knownAction} labelWidth={12}>
          <RadioButtonGroup<string>
            options={KNOWN}
            value={filters.knownAction === undefined ? 'any' : filters.knownAction ? 'known' : 'unknown'}
            onChange={(v) => setFilter('knownAction', v === 'any' ? undefined : v === 'known')}
          />
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField
          label={FILTER_LABELS.resourceTypes}
          labelWidth={LABEL_WIDTH}
          htmlFor={id('resource-types')}
          tooltip="e.g. agent, topic"
        >
          {tags('resourceTypes', 'resource-types', 40, 'agent, Enter')}
        </InlineField>
        <InlineField label={FILTER_LABELS.resourceIds} labelWidth={12} htmlFor={id('resource-ids')}>
          {tags('resourceIds', 'resource-ids', 30, 'id, Enter')}
        </InlineField>
        <InlineField label={FILTER_LABELS.eventIds} labelWidth={12} htmlFor={id('event-ids')}>
          {tags('eventIds', 'event-ids', 30, 'event id, Enter')}
        </InlineField>
      </InlineFieldRow>
      <InlineFieldRow>
        <InlineField label={FILTER_LABELS.urlContains} labelWidth={LABEL_WIDTH}>
          {text('urlContains')}
        </InlineField>
        <InlineField label={FILTER_LABELS.pathContains} labelWidth={14}>
          {text('pathContains')}
        </InlineField>
        <InlineField
          label={FILTER_LABELS.bodyContains}
          labelWidth={14}
          tooltip="In the redacted request body; case-insensitive"
        >
          {text('bodyContains')}
        </InlineField>
      </InlineFieldRow>
    </>
  );
}
