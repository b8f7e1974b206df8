import type { ColumnName } from '../../shared/event/columns.js';
import {
  DataFrameType,
  FieldType,
  toDataFrame,
  type DataFrame,
  type FieldDTO,
  type QueryResultMeta,
} from '@grafana/data';
import type { Frame, FrameField, FieldType as ApiFieldType } from '../../shared/api/contract.js';

const FIELD_TYPES: Record<ApiFieldType, FieldType> = {
  time: FieldType.time,
  number: FieldType.number,
  string: FieldType.string,
  boolean: FieldType.boolean,
  other: FieldType.other,
};

/** Labels of a log line: the few fields one filters logs by. */
const LABELS: Array<[label: string, field: ColumnName]> = [
  ['action', 'action'],
  ['area', 'area'],
  ['outcome', 'outcome'],
  ['user', 'user_id'],
  ['ip', 'source_ip'],
];

const hidden = { custom: { hidden: true } };

function isEventsFrame(frame: Frame): boolean {
  return frame.meta?.preferredVisualisationType === 'logs' && frame.fields.some((f) => f.name === 'message');
}

function toFieldDTO(f: FrameField): FieldDTO {
  return {
    name: f.name,
    type: FIELD_TYPES[f.type] ?? FieldType.other,
    values: f.values,
    ...(f.labels ? { labels: f.labels } : {}),
    ...(f.config ? { config: f.config } : {}),
  };
}

function severityOf(outcome: unknown): string {
  if (outcome === 'failure') return 'error';
  if (outcome === 'success') return 'info';
  return 'unknown';
}

function rowLabels(fields: FrameField[], length: number): Array<Record<string, string>> {
  const byName = new Map(fields.map((f) => [f.name, f]));
  return Array.from({ length }, (_, i) => {
    const labels: Record<string, string> = {};
    for (const [label, name] of LABELS) {
      const v = byName.get(name)?.values[i];
      if (v !== null && v !== undefined && v !== '') labels[label] = String(v);
    }
    return labels;
  });
}

/**
 * An events frame as a logs frame (Grafana's data plane contract: `timestamp`, `body`,
 * `severity`, `id`, `labels`), the API's `message` line as the body; every other column stays
 * as a field, shown in the log line's details. Used in Explore.
 */
function toLogsFrame(frame: Frame): DataFrame {
  const fields = frame.fields;
  const length = fields[0]?.values.length ?? 0;
  const get = (name: string) => fields.find((f) => f.name === name);
  const time = get('ts') ?? fields.find((f) => f.type === 'time');
  const message = get('message');
  const outcome = get('outcome');
  const id = get('event_id');
  const used = new Set([time?.name, message?.name, id?.name]);
  const dto: FieldDTO[] = [
    { name: 'timestamp', type: FieldType.time, values: time?.values ?? [] },
    { name: 'body', type: FieldType.string, values: message?.values ?? [] },
    {
      name: 'severity',
      type: FieldType.string,
      values: Array.from({ length }, (_, i) => severityOf(outcome?.values[i])),
    },
    ...(id ? [{ name: 'id', type: FieldType.string, values: id.values.map(String) }] : []),
    { name: 'labels', type: FieldType.other, values: rowLabels(fields, length) },
    ...fields.filter((f) => !used.has(f.name)).map(toFieldDTO),
  ];
  return toDataFrame({
    refId: frame.refId,
    name: frame.name,
    fields: dto,
    meta: {
      ...(frame.meta as QueryResultMeta),
      type: DataFrameType.LogLines,
      typeVersion: [0, 0],
      preferredVisualisationType: 'logs',
    },
  });
}

/**
 * An events frame for dashboards: the API's columns under their own names (the bundled
 * dashboards' tables organise them by name: ts, message, action...), plus hidden `labels` and
 * `level` fields so that a logs panel shows it as log lines too (Grafana's labelled-lines
 * shape: time, then the `message` line as the first string field).
 */
function toEventsTableFrame(frame: Frame): DataFrame {
  const length = frame.fields[0]?.values.length ?? 0;
  const outcome = frame.fields.find((f) => f.name === 'outcome');
  return toDataFrame({
    refId: frame.refId,
    name: frame.name,
    fields: [
      ...frame.fields.map(toFieldDTO),
      {
        name: 'level',
        type: FieldType.string,
        config: hidden,
        values: Array.from({ length }, (_, i) => severityOf(outcome?.values[i])),
      },
      { name: 'labels', type: FieldType.other, config: hidden, values: rowLabels(frame.fields, length) },
    ],
    meta: {
      ...(frame.meta as QueryResultMeta),
      preferredVisualisationType: 'logs',
      custom: { ...(frame.meta?.custom ?? {}), frameType: 'LabeledTimeValues' },
    },
  });
}

/** The API's frames as Grafana data frames, each carrying its refId. */
export function toDataFrames(frames: Frame[], refId: string, options: { logs: boolean }): DataFrame[] {
  return frames.map((f) => {
    const frame = { ...f, refId: f.refId ?? refId };
    if (isEventsFrame(frame)) return options.logs ? toLogsFrame(frame) : toEventsTableFrame(frame);
    return toDataFrame({
      refId: frame.refId,
      name: frame.name,
      fields: frame.fields.map(toFieldDTO),
      meta: frame.meta as QueryResultMeta,
    });
  });
}
