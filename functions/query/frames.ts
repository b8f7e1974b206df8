import type { ColumnName } from '../../shared/event/columns.js';
import type { Frame, FrameField, FrameMeta, Notice, Query } from '../../shared/api/contract.js';
import type { FieldType, QueryResult } from './engine.js';

function column(result: QueryResult, i: number, type?: FieldType): FrameField {
  const c = result.columns[i] as { name: string; type: FieldType };
  return { name: c.name, type: type ?? c.type, values: result.rows.map((r) => r[i] ?? null) };
}

function meta(result: QueryResult, extra: FrameMeta = {}): FrameMeta {
  const custom: Record<string, unknown> = { ...(extra.custom ?? {}) };
  if (result.bytesScanned !== undefined) custom.bytesScanned = result.bytesScanned;
  if (result.filesRead !== undefined) custom.filesRead = result.filesRead;
  return { ...extra, executedQueryString: result.executedSql, custom };
}

/** A readable line per event, for Explore's log view. */
function eventLine(row: Partial<Record<ColumnName, unknown>>): string {
  const who = row.user_id ? ` by ${row.user_id}` : '';
  const from = row.source_ip ? ` from ${row.source_ip}` : '';
  const outcome = row.outcome ? `: ${row.outcome}` : '';
  const status = row.http_status ? ` (${row.http_method ?? ''} ${row.http_status})` : '';
  return `${row.action ?? '(no action)'}${who}${from}${outcome}${status}`;
}

/** Alerts as a table (newest first), or counted over time per rule or severity. */
function detectionFrames(
  query: Extract<Query, { type: 'detections' }>,
  result: QueryResult,
  limit?: number,
): Frame[] {
  if (query.format === 'timeseries')
    return toFrames({ refId: query.refId, type: 'timeseries', splitBy: undefined }, result).map((f) => ({
      ...f,
      fields: f.fields.map((x) =>
        x.labels ? { ...x, labels: { [query.splitBy ?? 'rule']: f.name as string } } : x,
      ),
    }));
  const truncated = limit !== undefined && result.rows.length > limit;
  const cut: QueryResult = truncated ? { ...result, rows: result.rows.slice(0, limit) } : result;
  return [
    {
      refId: query.refId,
      name: 'detections',
      fields: result.columns.map((_, i) => column(cut, i)),
      meta: meta(cut, {
        preferredVisualisationType: 'table',
        notices: truncated
          ? [
              {
                severity: 'warning',
                text: `Showing the newest ${limit} alerts: more match. Narrow the range or filters.`,
              },
            ]
          : [],
        custom: { truncated, limit },
      }),
    },
  ];
}

export function toFrames(query: Query, result: QueryResult, limit?: number): Frame[] {
  const refId = query.refId;
  switch (query.type) {
    case 'events': {
      const truncated = limit !== undefined && result.rows.length > limit;
      const rows = truncated ? result.rows.slice(0, limit) : result.rows;
      const cut: QueryResult = { ...result, rows };
      const names = result.columns.map((c) => c.name);
      const fields = names.map((_, i) => column(cut, i));
      const lines = rows.map((r) => eventLine(Object.fromEntries(names.map((n, i) => [n, r[i]]))));
      const notices: Notice[] = truncated
        ? [
            {
              severity: 'warning',
              text: `Showing the newest ${limit} events: more match. Narrow the range or filters, or raise the limit.`,
            },
          ]
        : [];
      return [
        {
          refId,
          name: 'events',
          fields: [
            fields[0] as FrameField,
            { name: 'message', type: 'string', values: lines },
            ...fields.slice(1),
          ],
          meta: meta(cut, {
            preferredVisualisationType: 'logs',
            notices,
            custom: { truncated, limit },
          }),
        },
      ];
    }
    case 'timeseries': {
      const hasSeries = result.columns.some((c) => c.name === 'series');
      if (!hasSeries) {
        return [
          {
            refId,
            name: 'count',
            fields: [column(result, 0, 'time'), column(result, 1, 'number')],
            meta: meta(result),
          },
        ];
      }
      const bySeries = new Map<string, { time: unknown[]; count: unknown[] }>();
      for (const [time, series, count] of result.rows) {
        const key = String(series);
        let s = bySeries.get(key);
        if (!s) bySeries.set(key, (s = { time: [], count: [] }));
        s.time.push(time);
        s.count.push(count);
      }
      const label = query.splitBy ?? 'series';
      return [...bySeries].map(([series, s]) => ({
        refId,
        name: series,
        fields: [
          { name: 'time', type: 'time' as const, values: s.time },
          { name: 'count', type: 'number' as const, values: s.count, labels: { [label]: series } },
        ],
        meta: meta(result),
      }));
    }
    case 'topn':
      return [
        {
          refId,
          name: query.field,
          fields: [{ ...column(result, 0, 'string'), name: query.field }, column(result, 1, 'number')],
          meta: meta(result),
        },
      ];
    case 'stat':
      return [{ refId, name: 'value', fields: [column(result, 0, 'number')], meta: meta(result) }];
    case 'detections':
      return detectionFrames(query, result, limit);
    case 'sql': {
      const notices: Notice[] = result.truncated
        ? [
            {
              severity: 'warning',
              text:
                result.truncatedBy === 'bytes'
                  ? `Only the first ${result.rows.length} rows are shown: the result is larger than the API returns. Select fewer or shorter columns, add a LIMIT or narrow the query.`
                  : `Only the first ${result.rows.length} rows are shown: add a LIMIT or narrow the query.`,
            },
          ]
        : [];
      return [
        {
          refId,
          fields: result.columns.map((_, i) => column(result, i)),
          meta: meta(result, {
            notices,
            custom: {
              truncated: result.truncated === true,
              ...(result.truncatedBy ? { truncatedBy: result.truncatedBy } : {}),
            },
          }),
        },
      ];
    }
  }
}
