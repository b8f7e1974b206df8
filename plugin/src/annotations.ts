import type { AnnotationEvent, AnnotationQuery, AnnotationSupport, DataFrame } from '@grafana/data';
import { of, type Observable } from 'rxjs';
import type { Alert } from '../../shared/detections/columns.js';
import type { ColumnName } from '../../shared/event/columns.js';
import { changeActions, describeAction } from './catalog.js';
import type { CloserQuery } from './types.js';

/** The default annotation query: configuration changes and role changes, as events. */
function defaultAnnotationQuery(): CloserQuery {
  return { refId: 'Anno', type: 'events', limit: 500, filters: { actions: changeActions() } };
}

/** An events or alerts column by name (typed: renaming a column fails the type check), or the time field. */
function column(
  frame: DataFrame,
  ...names: Array<ColumnName | keyof Alert | 'timestamp'>
): unknown[] | undefined {
  for (const name of names) {
    const f = frame.fields.find((x) => x.name === name);
    if (f) return f.values;
  }
  return undefined;
}

/**
 * Events frames as annotations: what changed (the action's description), who, from where,
 * with what outcome; tagged with area, action and outcome.
 */
export function eventsToAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const out: AnnotationEvent[] = [];
  for (const frame of frames) {
    const time = column(frame, 'ts', 'timestamp');
    const action = column(frame, 'action');
    if (!time || !action) continue;
    const area = column(frame, 'area');
    const user = column(frame, 'user_id');
    const ip = column(frame, 'source_ip');
    const outcome = column(frame, 'outcome');
    const method = column(frame, 'http_method');
    const path = column(frame, 'url_path');
    const resource = column(frame, 'resource_id');
    for (let i = 0; i < time.length; i++) {
      const a = String(action[i] ?? '(no action)');
      const who = user?.[i] ? String(user[i]) : 'unknown user';
      const where = ip?.[i] ? ` from ${ip[i]}` : '';
      const result = outcome?.[i] ? ` (${outcome[i]})` : '';
      const request = method?.[i] && path?.[i] ? `<br/>${method[i]} ${path[i]}` : '';
      const on = resource?.[i] ? ` on ${resource[i]}` : '';
      out.push({
        time: Number(time[i]),
        title: describeAction(a),
        text: `${a} by ${who}${where}${on}${result}${request}`,
        tags: [area?.[i], a, outcome?.[i]].filter((t): t is string => typeof t === 'string' && t !== ''),
      });
    }
  }
  return out;
}

/** Alerts frames (the `detections` query type) as region annotations: first to last event. */
export function alertsToAnnotations(frames: DataFrame[]): AnnotationEvent[] {
  const out: AnnotationEvent[] = [];
  for (const frame of frames) {
    const first = column(frame, 'first_ts');
    const title = column(frame, 'title');
    if (!first || !title) continue;
    const last = column(frame, 'last_ts');
    const severity = column(frame, 'severity');
    const rule = column(frame, 'rule');
    const technique = column(frame, 'technique');
    const count = column(frame, 'count');
    for (let i = 0; i < first.length; i++) {
      const end = Number(last?.[i] ?? first[i]);
      out.push({
        time: Number(first[i]),
        ...(end > Number(first[i]) ? { timeEnd: end, isRegion: true } : {}),
        title: `${String(severity?.[i] ?? '').toUpperCase()}: ${String(title[i])}`,
        text: `${rule?.[i] ?? ''} (${technique?.[i] ?? ''}), ${count?.[i] ?? '?'} events`,
        tags: ['detection', severity?.[i], rule?.[i]].filter(
          (t): t is string => typeof t === 'string' && t !== '',
        ),
      });
    }
  }
  return out;
}

export const annotationSupport: AnnotationSupport<CloserQuery> = {
  getDefaultQuery: () => defaultAnnotationQuery(),
  prepareAnnotation(json: AnnotationQuery<CloserQuery>): AnnotationQuery<CloserQuery> {
    // Annotations saved before they had a target get the default query.
    return json.target ? json : { ...json, target: defaultAnnotationQuery() };
  },
  prepareQuery(anno: AnnotationQuery<CloserQuery>): CloserQuery | undefined {
    const target = anno.target ?? defaultAnnotationQuery();
    // Alerts of the detection rules, or events (the default). A dashboard's JSON names the
    // detections by Grafana's own `queryType` key, which its annotation schema allows.
    if (target.type === 'detections' || target.queryType === 'detections')
      return { ...target, refId: target.refId || 'Anno', type: 'detections', format: 'alerts' };
    return { ...target, refId: target.refId || 'Anno', type: 'events' };
  },
  processEvents(_anno: AnnotationQuery<CloserQuery>, data: DataFrame[]): Observable<AnnotationEvent[]> {
    const alerts = data.filter((f) => f.name === 'detections');
    return of([
      ...alertsToAnnotations(alerts),
      ...eventsToAnnotations(data.filter((f) => f.name !== 'detections')),
    ]);
  },
};
