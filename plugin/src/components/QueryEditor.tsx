import React from 'react';
import type { SelectableValue } from '@grafana/data';
import { InlineField, InlineFieldRow, RadioButtonGroup } from '@grafana/ui';
import type { QueryType } from '../../../shared/api/contract.js';
import type { StatusQueryType } from '../../../shared/status/query.js';
import type { CloserQuery } from '../types.js';
import { DetectionsEditor } from './DetectionsEditor.js';
import { LABEL_WIDTH, type PartProps, type Props } from './query/common.js';
import { EventsOptions } from './query/EventsOptions.js';
import { Executed } from './query/Executed.js';
import { FiltersEditor } from './query/FiltersEditor.js';
import { SQL_EXAMPLE, SqlEditor } from './query/SqlEditor.js';
import { StatOptions } from './query/StatOptions.js';
import { TimeseriesOptions } from './query/TimeseriesOptions.js';
import { TopnOptions } from './query/TopnOptions.js';
import { StatusQueryEditor } from './StatusQueryEditor.js';

/** What the editor offers: the contract's query types, and the plugin's own data-health type. */
type EditorType = QueryType | StatusQueryType;

/** The query types, as the editor offers them: every type of the contract, in its order. */
const TYPES: Record<EditorType, Omit<SelectableValue<EditorType>, 'value'>> = {
  events: { label: 'Events', description: 'The matching events, newest first (a logs frame in Explore)' },
  timeseries: { label: 'Time series', description: 'Counts per interval, optionally split by a field' },
  topn: { label: 'Top N', description: "A field's most frequent values with counts" },
  stat: { label: 'Stat', description: 'One number: a count, or distinct values of a field' },
  sql: { label: 'Raw SQL', description: 'Your own SELECT, with the $__ macros' },
  detections: { label: 'Detections', description: 'Alerts the detection rules raised, or their events' },
  status: { label: 'Data health', description: 'How complete and fresh the data is (GET /status)' },
};
const TYPE_OPTIONS = (Object.keys(TYPES) as EditorType[]).map((value) => ({ ...TYPES[value], value }));

/** The query editor: the query type, then that type's own part (and the filters, but for raw SQL). */
export function QueryEditor({ query, onChange, onRunQuery, data, datasource }: Props) {
  const type: EditorType = query.type ?? 'timeseries';
  const part: PartProps = {
    query,
    update: (patch, run = true) => {
      onChange({ ...query, ...patch });
      if (run) onRunQuery();
    },
    id: (name) => `closer-${name}-${query.refId}`,
  };
  const switchTo = (next: EditorType) => {
    // Raw SQL starts from an example the user edits; it runs once edited.
    if (next === 'sql' && !query.sql) part.update({ type: next, sql: SQL_EXAMPLE }, false);
    else part.update({ type: next } satisfies Partial<CloserQuery>);
  };

  return (
    <div data-testid="closer-query-editor">
      <InlineFieldRow>
        <InlineField label="Query type" labelWidth={LABEL_WIDTH}>
          <RadioButtonGroup<EditorType> options={TYPE_OPTIONS} value={type} onChange={switchTo} />
        </InlineField>
      </InlineFieldRow>
      {type === 'status' ? (
        <StatusQueryEditor query={query} onChange={onChange} onRunQuery={onRunQuery} />
      ) : type === 'detections' ? (
        <DetectionsEditor {...part} />
      ) : type === 'sql' ? (
        <SqlEditor key={query.refId} {...part} />
      ) : (
        <>
          <FiltersEditor {...part} />
          {type === 'events' && <EventsOptions {...part} defaultLimit={datasource.defaultLimit} />}
          {type === 'timeseries' && <TimeseriesOptions {...part} />}
          {type === 'topn' && <TopnOptions {...part} />}
          {type === 'stat' && <StatOptions {...part} />}
        </>
      )}
      <Executed data={data} refId={query.refId} />
    </div>
  );
}
