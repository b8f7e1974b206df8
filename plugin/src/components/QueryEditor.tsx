import React, { useState, type FocusEvent } from 'react';
import type { QueryEditorProps, SelectableValue } from '@grafana/data';
import {
  InlineField,
  InlineFieldRow,
  Input,
  MultiSelect,
  RadioButtonGroup,
  Select,
  TagsInput,
  TextArea,
} from '@grafana/ui';
import type { GroupField } from '../../../shared/query/fields.js';
import { actionOptions, areaOptions, groupFieldOptions } from '../catalog.js';
import type { CloserDataSource } from '../datasource.js';
import { DetectionsEditor } from './DetectionsEditor.js';
import type { CloserFilters, CloserOptions, CloserQuery } from '../types.js';
import { StatusQueryEditor } from './StatusQueryEditor.js';

type Props = QueryEditorProps<CloserDataSource, CloserQuery, CloserOptions>;
type QueryType = NonNullable<CloserQuery['type']>;
type ListFilter = Exclude<
  keyof CloserFilters,
  'urlContains' | 'pathContains' | 'bodyContains' | 'knownAction'
>;
type TextFilter = 'urlContains' | 'pathContains' | 'bodyContains';

const TYPES: Array<SelectableValue<QueryType>> = [
  {
    label: 'Events',
    value: 'events',
    description: 'The matching events, newest first (a logs frame in Explore)',
  },
  {
    label: 'Time series',
    value: 'timeseries',
    description: 'Counts per interval, optionally split by a field',
  },
  { label: 'Top N', value: 'topn', description: "A field's most frequent values with counts" },
  { label: 'Stat', value: 'stat', description: 'One number: a count, or distinct values of a field' },
  { label: 'Raw SQL', value: 'sql', description: 'Your own SELECT, with the $__ macros' },
  { label: 'Data health', value: 'status', description: 'How complete and fresh the data is (GET /status)' },
  {
    label: 'Detections',
    value: 'detections',
    description: 'Alerts the detection rules raised, or their events',
  },
];

const OUTCOMES: Array<SelectableValue<string>> = ['success', 'failure', 'unknown'].map((v) => ({
  label: v,
  value: v,
}));
const METHODS: Array<SelectableValue<string>> = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map((v) => ({
  label: v,
  value: v,
}));
const KNOWN: Array<SelectableValue<string>> = [
  { label: 'Any', value: 'any' },
  { label: 'In the catalog', value: 'known' },
  { label: 'Not in the catalog', value: 'unknown' },
];

/** The raw SQL macros (shared/query/raw-sql.ts): each expands to bound parameters. */
export const MACROS: Array<[macro: string, meaning: string]> = [
  ['$__timeFilter(ts)', "the dashboard's range on ts; prunes the dt partitions too"],
  ['$__timeFrom(), $__timeTo()', "the range's bounds as timestamps"],
  ['$__timeGroup(ts, 1h)', "the bucket start, a timestamp (interval optional: Grafana's)"],
  ['$__interval_ms', "Grafana's interval in ms"],
  ['$__interval', 'the same, also as $__timeGroup(ts, $__interval)'],
  ['$__table', 'the events table'],
  ['$user, $action, ...', 'dashboard variables, as quoted values: write user_id IN ($user)'],
];

export const SQL_EXAMPLE =
  "SELECT $__timeGroup(ts, 1h) AS time, count(*) AS logins\nFROM $__table\nWHERE $__timeFilter(ts) AND action = 'agent_login'\nGROUP BY 1 ORDER BY 1";

const LABEL_WIDTH = 18;
const asOptions = (list: Array<string | number> | undefined): Array<SelectableValue<string>> =>
  (list ?? []).map((v) => ({ label: String(v), value: String(v) }));

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/** The query editor: one query of the API's model, or raw SQL. */
export function QueryEditor({ query, onChange, onRunQuery, data, datasource }: Props) {
  const type: QueryType = query.type ?? 'timeseries';
  const filters: CloserFilters = query.filters ?? {};
  const [sql, setSql] = useState(query.sql ?? '');
  /** Element ids, unique per query row (a panel has several editors). */
  const id = (name: string) => `closer-${name}-${query.refId}`;

  const update = (patch: Partial<CloserQuery>, run = true) => {
    onChange({ ...query, ...patch });
    if (run) onRunQuery();
  };
  const setFilter = <K extends keyof CloserFilters>(key: K, value: CloserFilters[K] | undefined) => {
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
  const setNumber = (key: 'limit' | 'maxSeries') => (e: FocusEvent<HTMLInputElement>) => {
    const raw = e.currentTarget.value.trim();
    const n = raw === '' ? undefined : Math.trunc(Number(raw));
    if (n !== query[key] && (n === undefined || Number.isFinite(n))) update({ [key]: n });
  };

  // What the API reported for this query: the SQL it ran, what it read.
  const frame = data?.series.find((f) => f.refId === query.refId);
  const executed = frame?.meta?.executedQueryString;
  const custom = (frame?.meta?.custom ?? {}) as Record<string, unknown>;
  const bytes = typeof custom.bytesScanned === 'number' ? custom.bytesScanned : undefined;
  const files = typeof custom.filesRead === 'number' ? custom.filesRead : undefined;

  return (
    <div data-testid="closer-query-editor">
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<QueryType>
            options={TYPES}
            value={type}
            onChange={(v) => {
              if (v === 'sql' && !query.sql) {
                setSql(SQL_EXAMPLE);
                update({ type: v, sql: SQL_EXAMPLE }, false);
              } else update({ type: v });
            }}
          />
        </InlineField>
      </InlineFieldRow>

      {type === 'status' ? (
        <StatusQueryEditor query={query} onChange={onChange} onRunQuery={onRunQuery} />
      ) : type === 'detections' ? (
        <DetectionsEditor query={query} update={update} id={id} />
      ) : type === 'sql' ? (
        <>
          <InlineFieldRow>
            <InlineField
              label="SQL"
              labelWidth={LABEL_WIDTH}
              grow
              tooltip="One read-only SELECT, with the $__ macros listed below. Template variables become quoted SQL literals: user_id IN ($user), not '$user'."
            >
              <TextArea
                aria-label="SQL query"
                rows={8}
                style={{ fontFamily: 'monospace' }}
                value={sql}
                onChange={(e) => setSql(e.currentTarget.value)}
                onBlur={() => {
                  if (sql !== query.sql) update({ sql });
                }}
              />
            </InlineField>
          </InlineFieldRow>
          <table aria-label="SQL macros" style={{ fontSize: 12, marginBottom: 8 }}>
            <tbody>
              {MACROS.map(([macro, meaning]) => (
                <tr key={macro}>
                  <td style={{ paddingRight: 16 }}>
                    <code>{macro}</code>
                  </td>
                  <td>{meaning}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <>
          <InlineFieldRow>
            <InlineField
              label="Actions"
              labelWidth={LABEL_WIDTH}
              grow
              tooltip="Closer's actions, grouped by area; a template variable ($action) or an action outside the catalog can be typed in"
            >
              <MultiSelect<string>
                aria-label="Actions"
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
            <InlineField label="Areas" labelWidth={LABEL_WIDTH}>
              <MultiSelect<string>
                aria-label="Areas"
                inputId={id('areas')}
                width={40}
                options={areaOptions()}
                value={asOptions(filters.areas)}
                onChange={setList('areas')}
                allowCustomValue
                placeholder="Any area"
              />
            </InlineField>
            <InlineField label="Outcomes" labelWidth={12}>
              <MultiSelect<string>
                aria-label="Outcomes"
                inputId={id('outcomes')}
                width={30}
                options={OUTCOMES}
                value={asOptions(filters.outcomes)}
                onChange={setList('outcomes')}
                allowCustomValue
                placeholder="Any"
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Users"
              labelWidth={LABEL_WIDTH}
              htmlFor={id('users')}
              tooltip="user.id values, or $user"
            >
              <TagsInput
                id={id('users')}
                width={40}
                placeholder="user id, Enter"
                tags={(filters.userIds ?? []).map(String)}
                onChange={setTags('userIds')}
              />
            </InlineField>
            <InlineField
              label="Roles"
              labelWidth={12}
              htmlFor={id('roles')}
              tooltip="Any of the actor's user.roles, or $role"
            >
              <TagsInput
                id={id('roles')}
                width={30}
                placeholder="e.g. ADMIN, Enter"
                tags={(filters.userRoles ?? []).map(String)}
                onChange={setTags('userRoles')}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Source IPs / CIDRs"
              htmlFor={id('ips')}
              labelWidth={LABEL_WIDTH}
              tooltip="Addresses or networks, e.g. 185.220.0.0/16 or 2a02::/16, or $ip"
            >
              <TagsInput
                id={id('ips')}
                width={40}
                placeholder="10.0.0.0/8, Enter"
                tags={(filters.sourceIps ?? []).map(String)}
                onChange={setTags('sourceIps')}
              />
            </InlineField>
            <InlineField label="Methods" labelWidth={12}>
              <MultiSelect<string>
                aria-label="HTTP methods"
                inputId={id('methods')}
                width={30}
                options={METHODS}
                value={asOptions(filters.httpMethods)}
                onChange={setList('httpMethods')}
                allowCustomValue
                placeholder="Any"
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Statuses"
              labelWidth={LABEL_WIDTH}
              htmlFor={id('statuses')}
              tooltip="Codes (401) or classes (4xx)"
            >
              <TagsInput
                id={id('statuses')}
                width={40}
                placeholder="4xx, 500, Enter"
                tags={(filters.statuses ?? []).map(String)}
                onChange={setTags('statuses')}
              />
            </InlineField>
            <InlineField label="Known action" labelWidth={12}>
              <RadioButtonGroup<string>
                options={KNOWN}
                value={filters.knownAction === undefined ? 'any' : filters.knownAction ? 'known' : 'unknown'}
                onChange={(v) => setFilter('knownAction', v === 'any' ? undefined : v === 'known')}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField
              label="Resource types"
              labelWidth={LABEL_WIDTH}
              htmlFor={id('resource-types')}
              tooltip="e.g. agent, topic"
            >
              <TagsInput
                id={id('resource-types')}
                width={40}
                placeholder="agent, Enter"
                tags={(filters.resourceTypes ?? []).map(String)}
                onChange={setTags('resourceTypes')}
              />
            </InlineField>
            <InlineField label="Resource ids" labelWidth={12} htmlFor={id('resource-ids')}>
              <TagsInput
                id={id('resource-ids')}
                width={30}
                placeholder="id, Enter"
                tags={(filters.resourceIds ?? []).map(String)}
                onChange={setTags('resourceIds')}
              />
            </InlineField>
          </InlineFieldRow>
          <InlineFieldRow>
            <InlineField label="URL contains" labelWidth={LABEL_WIDTH}>
              <Input
                aria-label="URL contains"
                width={26}
                defaultValue={filters.urlContains ?? ''}
                onBlur={setText('urlContains')}
              />
            </InlineField>
            <InlineField label="Path contains" labelWidth={14}>
              <Input
                aria-label="Path contains"
                width={26}
                defaultValue={filters.pathContains ?? ''}
                onBlur={setText('pathContains')}
              />
            </InlineField>
            <InlineField
              label="Body contains"
              labelWidth={14}
              tooltip="In the redacted request body; case-insensitive"
            >
              <Input
                aria-label="Body contains"
                width={26}
                defaultValue={filters.bodyContains ?? ''}
                onBlur={setText('bodyContains')}
              />
            </InlineField>
          </InlineFieldRow>

          {type === 'events' && (
            <InlineFieldRow>
              <InlineField label="Limit" labelWidth={LABEL_WIDTH} tooltip="At most 10,000">
                <Input
                  aria-label="Limit"
                  type="number"
                  width={16}
                  placeholder={String(datasource.defaultLimit ?? 500)}
                  defaultValue={query.limit ?? ''}
                  onBlur={setNumber('limit')}
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
          )}
          {type === 'timeseries' && (
            <InlineFieldRow>
              <InlineField
                label="Split by"
                labelWidth={LABEL_WIDTH}
                tooltip="One series per value of the field"
              >
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
              <InlineField
                label="Interval"
                labelWidth={12}
                tooltip="30s, 5m, 1h, 1d; empty: Grafana's interval"
              >
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
                  placeholder="10"
                  defaultValue={query.maxSeries ?? ''}
                  onBlur={setNumber('maxSeries')}
                />
              </InlineField>
            </InlineFieldRow>
          )}
          {type === 'topn' && (
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
                  placeholder="10"
                  defaultValue={query.limit ?? ''}
                  onBlur={setNumber('limit')}
                />
              </InlineField>
            </InlineFieldRow>
          )}
          {type === 'stat' && (
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
          )}
        </>
      )}

      {(executed || bytes !== undefined || files !== undefined) && (
        <div data-testid="closer-executed" style={{ fontSize: 12, marginTop: 8 }}>
          {bytes !== undefined && <div>Bytes scanned: {formatBytes(bytes)}</div>}
          {files !== undefined && <div>Files read: {files}</div>}
          {executed && (
            <details>
              <summary>Executed SQL</summary>
              <pre style={{ whiteSpace: 'pre-wrap' }}>{executed}</pre>
            </details>
          )}
        </div>
      )}
    </div>
  );
}
