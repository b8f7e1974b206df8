// Stand-ins for what Grafana provides a plugin at run time: there is no Grafana server here.
// The backend service is a mock (it records requests and answers from a handler); the template
// service mimics Grafana's TemplateSrv for the calls the plugin makes (getVariables, replace with
// a format function, containsTemplate). Both are installed through @grafana/runtime's own setters.
import { jest } from '@jest/globals';
import { dateTime, type DataQueryRequest, type ScopedVars, type TypedVariableModel } from '@grafana/data';
import { setBackendSrv, setTemplateSrv, type BackendSrv, type BackendSrvRequest } from '@grafana/runtime';
import { Observable } from 'rxjs';
import { CloserDataSource } from '../../../plugin/src/datasource.js';
import type { CloserOptions, CloserQuery } from '../../../plugin/src/types.js';
import { instanceSettings } from './datasource-settings.js';

export interface Answer {
  status?: number;
  data: unknown;
}

/** A backendSrv whose fetch answers with `handler`; a status >= 400 errors as Grafana's does. */
export function mockBackend(handler: (req: BackendSrvRequest) => Answer) {
  const requests: BackendSrvRequest[] = [];
  const fetch = jest.fn((req: BackendSrvRequest) => {
    requests.push(req);
    return new Observable((sub) => {
      let answer: Answer;
      try {
        answer = handler(req);
      } catch (err) {
        sub.error(err);
        return;
      }
      const status = answer.status ?? 200;
      if (status >= 400 || status === 0) {
        sub.error({ status, statusText: `status ${status}`, data: answer.data, config: req });
      } else {
        sub.next({ status, ok: true, data: answer.data, config: req, headers: {} });
        sub.complete();
      }
    });
  });
  setBackendSrv({ fetch } as unknown as BackendSrv);
  return { requests, fetch };
}

export interface Variable {
  name: string;
  /** The current value: a string, a list (multi-value), or '$__all'. */
  value: string | string[];
  /** The options, for All. */
  options?: string[];
}

const REF = /\$(\w+)|\$\{(\w+)(?::[^}]*)?\}|\[\[(\w+)\]\]/g;

/** Grafana's TemplateSrv, for the calls the plugin makes. */
export function mockTemplateSrv(variables: Variable[] = []) {
  const byName = new Map(variables.map((v) => [v.name, v]));
  const valueOf = (name: string, scopedVars?: ScopedVars): string | string[] | undefined => {
    const scoped = scopedVars?.[name];
    if (scoped) return scoped.value as string | string[];
    const v = byName.get(name);
    if (!v) return undefined;
    const all = v.value === '$__all' || (Array.isArray(v.value) && v.value.includes('$__all'));
    return all ? (v.options ?? []) : v.value;
  };
  const srv = {
    getVariables: () =>
      variables.map(
        (v) => ({ name: v.name, type: 'query', current: { value: v.value, text: v.value } }) as unknown,
      ) as TypedVariableModel[],
    containsTemplate: (target?: string) =>
      !!target && [...target.matchAll(REF)].some((m) => byName.has((m[1] ?? m[2] ?? m[3]) as string)),
    replace: (target?: string, scopedVars?: ScopedVars, format?: string | ((v: unknown) => string)) =>
      (target ?? '').replace(REF, (whole, a, b, c) => {
        const name = (a ?? b ?? c) as string;
        const value = valueOf(name, scopedVars);
        if (value === undefined) return whole;
        if (typeof format === 'function') return format(value);
        return Array.isArray(value) ? `{${value.join(',')}}` : value;
      }),
    updateTimeRange: () => {},
  };
  setTemplateSrv(srv);
  return srv;
}

export function makeDataSource(jsonData: Partial<CloserOptions> = { apiUrl: 'http://localhost:8787' }) {
  return new CloserDataSource(instanceSettings(jsonData));
}

export function makeRequest(
  targets: CloserQuery[],
  extra: Partial<DataQueryRequest<CloserQuery>> = {},
): DataQueryRequest<CloserQuery> {
  const from = dateTime('2026-11-25T00:00:00Z');
  const to = dateTime('2026-11-26T00:00:00Z');
  return {
    requestId: 'Q1',
    app: 'dashboard',
    interval: '1m',
    intervalMs: 60000,
    maxDataPoints: 1000,
    range: { from, to, raw: { from: 'now-24h', to: 'now' } },
    scopedVars: {},
    targets,
    timezone: 'utc',
    startTime: 0,
    ...extra,
  } as DataQueryRequest<CloserQuery>;
}
