import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../../functions/query/engines/athena.js';
import { countPlaceholders } from '../../functions/query/engines/athena/literals.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { QueryService } from '../../functions/query/service.js';
import { ACTIONS, AREAS, type Area } from '../../shared/catalog/actions.js';
import { compileQuery } from '../../shared/query/compile.js';
import { athenaDialect } from '../../shared/query/dialect.js';
import { QueryValidationError, parseQuery, type Query } from '../../shared/query/model.js';
import { expandMacros } from '../../shared/query/raw-sql.js';
import {
  STATUS_DAY_FIELDS,
  STATUS_QUERY_TYPE,
  STATUS_SUMMARY_FIELDS,
  STATUS_VIEWS,
} from '../../shared/status/query.js';
import { tmpDir } from '../support/tmp.js';

// The bundled Grafana dashboards (plugin/dashboards) and their provisioning: every panel target
// must be a query the API accepts, once the plugin has put in the template variables' values.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dashboardsDir = path.join(root, 'plugin/dashboards');
const FILES = [
  'overview.json',
  'authentication.json',
  'configuration-changes.json',
  'agent-lifecycle.json',
  'data-health.json',
  'detections.json',
];
/** Dashboards about the data itself (GET /status): no event filters, a week by default. */
const STATUS_ONLY = ['data-health.json'];
const DATASOURCE_TYPE = 'closer-audit-datasource';
const DATASOURCE_REF = '${datasource}';
/** Grafana-side keys of a target; everything else is the query model's. */
const GRAFANA_KEYS = ['datasource'];
const VARIABLE_QUERIES = ['actions', 'areas', 'users', 'ips', 'roles', 'rules', 'severities'];
/** A plausible value per template variable, as the plugin would put in. */
const SAMPLE_VALUES: Record<string, string> = {
  action: 'agent_login',
  area: 'auth',
  user: '6f1c2d3e-0000-4000-8000-000000000001',
  ip: '1.2.3.4',
  role: 'ADMIN',
  rule: 'password-spraying',
  severity: 'high',
  alert: '0123456789abcdef0123456789abcdef',
};
const RANGE = { from: '2026-11-25T00:00:00Z', to: '2026-11-26T00:00:00Z' };
const CATALOG = new Set(ACTIONS.map((a) => a.action));

const load = (file: string): any => JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8'));
const dashboards: [string, any][] = FILES.map((f) => [f, load(f)]);

const variables = (d: any): any[] => d.templating?.list ?? [];
const allTargets = (d: any): { panel: any; target: any }[] =>
  d.panels.flatMap((panel: any) => (panel.targets ?? []).map((target: any) => ({ panel, target })));
/** Targets of the query model (POST /query); status targets are the plugin's GET /status. */
const targets = (d: any) => allTargets(d).filter(({ target }) => target.type !== STATUS_QUERY_TYPE);
const statusTargets = (d: any) => allTargets(d).filter(({ target }) => target.type === STATUS_QUERY_TYPE);

/** The query fields of a target, as the plugin sends them. */
function queryOf(target: any): Record<string, unknown> {
  return Object.fromEntries(Object.entries(target).filter(([k]) => !GRAFANA_KEYS.includes(k)));
}

const VAR_REF = /^\$([A-Za-z_][A-Za-z0-9_]*)$/;

/** Every `$name` string inside a structured query (raw SQL is looked at separately). */
function variableRefs(value: unknown): string[] {
  if (typeof value === 'string') return value.includes('$') ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(variableRefs);
  if (value && typeof value === 'object') return Object.values(value).flatMap(variableRefs);
  return [];
}

/**
 * What the plugin does to a target's filters: a `$name` element becomes the variable's values
 * (`values`), or, for All (`undefined`), goes away, and a filter left empty is dropped.
 */
function interpolate(query: Record<string, unknown>, value: (name: string) => string[] | undefined): unknown {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      return v.flatMap((x) => {
        const m = typeof x === 'string' ? VAR_REF.exec(x) : null;
        if (!m) return [walk(x)];
        return value(m[1] as string) ?? [];
      });
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x);
        if (Array.isArray(w) && w.length === 0) continue;
        out[k] = w;
      }
      return out;
    }
    return v;
  };
  return walk(query);
}

const withSamples = (q: Record<string, unknown>) => interpolate(q, (n) => [SAMPLE_VALUES[n] ?? `?${n}`]);
const withAll = (q: Record<string, unknown>) => interpolate(q, () => undefined);

function overlaps(a: any, b: any): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function actionsInFilters(query: Query): string[] {
  return query.type === 'sql' || query.type === 'detections' ? [] : (query.filters?.actions ?? []);
}

describe('bundled dashboards', () => {
  it('are the five files, each valid JSON with its own stable uid, tagged closer-audit', () => {
    expect(dashboards).toHaveLength(FILES.length);
    const uids = dashboards.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(FILES.length);
    for (const [file, d] of dashboards) {
      expect(d.uid).toMatch(/^closer-audit-[a-z-]+$/);
      expect(d.uid.length).toBeLessThanOrEqual(40);
      expect(d.uid).toBe(`closer-audit-${file.replace('.json', '')}`);
      expect(d.id).toBeNull();
      expect(d.tags).toEqual(['closer-audit']);
      expect(typeof d.title).toBe('string');
      expect(d.title).toMatch(/^Closer audit: /);
    }
    expect(new Set(dashboards.map(([, d]) => d.title)).size).toBe(FILES.length);
  });

  it('link to one another (a dashboards link by the shared tag, keeping time and variables)', () => {
    for (const [, d] of dashboards) {
      const link = d.links.find((l: any) => l.type === 'dashboards');
      expect(link).toBeDefined();
      expect(link.tags).toEqual(['closer-audit']);
      expect(link.keepTime).toBe(true);
      expect(link.includeVars).toBe(true);
    }
  });

  it('data links point at a bundled dashboard', () => {
    const uids = new Set(dashboards.map(([, d]) => d.uid));
    let seen = 0;
    for (const [, d] of dashboards) {
      for (const panel of d.panels) {
        for (const o of panel.fieldConfig?.overrides ?? []) {
          for (const p of o.properties) {
            if (p.id !== 'links') continue;
            for (const l of p.value) {
              const m = /^\/d\/([^/?]+)/.exec(l.url);
              expect(m).not.toBeNull();
              expect(uids.has(m?.[1] as string)).toBe(true);
              seen++;
            }
          }
        }
      }
    }
    expect(seen).toBeGreaterThan(0);
  });
});

describe.each(dashboards)('%s', (file, d) => {
  it('is a Grafana 10.4+ dashboard model: schemaVersion 39, last 24 hours (data: 7 days), refresh off or 5m', () => {
    expect(d.schemaVersion).toBe(39);
    expect(d.time).toEqual({ from: STATUS_ONLY.includes(file) ? 'now-7d' : 'now-24h', to: 'now' });
    expect(['', '5m']).toContain(d.refresh);
    expect(typeof d.description).toBe('string');
    expect(Array.isArray(d.panels) && d.panels.length).toBeGreaterThan(3);
  });

  it('has the datasource variable, and query variables that ask the plugin for values', () => {
    const vars = variables(d);
    const ds = vars.find((v) => v.name === 'datasource');
    expect(ds).toMatchObject({ type: 'datasource', query: DATASOURCE_TYPE, multi: false });
    expect(new Set(vars.map((v) => v.name)).size).toBe(vars.length);
    // The detections dashboard's alert id: a text box its alerts table's links fill in.
    const alert = vars.find((v) => v.name === 'alert');
    if (alert) expect([file, alert.type]).toEqual(['detections.json', 'textbox']);
    for (const v of vars.filter((x) => x.name !== 'datasource' && x !== alert)) {
      expect(v.type).toBe('query');
      expect(v.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_REF });
      expect(VARIABLE_QUERIES).toContain(v.query?.variable);
      expect(v.multi).toBe(true);
      expect(v.includeAll).toBe(true);
      expect(Object.keys(SAMPLE_VALUES)).toContain(v.name);
    }
    if (STATUS_ONLY.includes(file)) expect(vars.map((v) => v.name)).toEqual(['datasource']);
    else expect(vars.length).toBeGreaterThan(2);
  });

  it('has panels with a type, title, description, options and a unique id, inside the 24-column grid', () => {
    const ids = d.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of d.panels) {
      expect(['timeseries', 'stat', 'piechart', 'bargauge', 'table', 'logs']).toContain(p.type);
      expect(p.title.length).toBeGreaterThan(3);
      expect(p.description.length).toBeGreaterThan(20);
      expect(p.fieldConfig).toMatchObject({ defaults: expect.any(Object), overrides: expect.any(Array) });
      expect(p.options).toEqual(expect.any(Object));
      const g = p.gridPos;
      for (const k of ['x', 'y', 'w', 'h']) expect(Number.isInteger(g[k])).toBe(true);
      expect(g.x).toBeGreaterThanOrEqual(0);
      expect(g.w).toBeGreaterThan(0);
      expect(g.h).toBeGreaterThan(0);
      expect(g.x + g.w).toBeLessThanOrEqual(24);
    }
  });

  it('has no overlapping panels', () => {
    const clashes: string[] = [];
    d.panels.forEach((a: any, i: number) =>
      d.panels.slice(i + 1).forEach((b: any) => {
        if (overlaps(a.gridPos, b.gridPos)) clashes.push(`${a.title} / ${b.title}`);
      }),
    );
    expect(clashes).toEqual([]);
  });

  it('queries through the datasource variable only, never a fixed datasource uid', () => {
    for (const p of d.panels) {
      expect(p.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_REF });
      expect(p.targets.length).toBeGreaterThan(0);
      const refIds = p.targets.map((t: any) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets) expect(t.datasource).toEqual({ type: DATASOURCE_TYPE, uid: DATASOURCE_REF });
    }
  });

  it('references only its own template variables, as whole "$name" filter values', () => {
    const names = new Set(variables(d).map((v) => v.name));
    for (const { target } of targets(d)) {
      const q = queryOf(target);
      if (q.type === 'sql') {
        // Raw SQL takes only the API's $__ macros: no Grafana variable is pasted into SQL text.
        expect(String(q.sql)).not.toMatch(/\$(?!__)/);
        continue;
      }
      for (const ref of variableRefs(q)) {
        const m = VAR_REF.exec(ref);
        expect(m).not.toBeNull();
        expect(names.has(m?.[1] as string)).toBe(true);
        expect(m?.[1]).not.toBe('datasource');
      }
      // Variables sit in list filters, where several values (or All: none) make sense.
      const filters = (q.filters ?? {}) as Record<string, unknown>;
      for (const value of Object.values(filters)) {
        if (!variableRefs(value).length) continue;
        expect(Array.isArray(value)).toBe(true);
        expect(value).toHaveLength(1);
      }
    }
  });

  it('sends targets the query model accepts, with sample variable values and with All', () => {
    for (const { panel, target } of targets(d)) {
      const q = queryOf(target);
      for (const k of Object.keys(q))
        expect([
          'refId',
          'type',
          'filters',
          'field',
          'limit',
          'interval',
          'splitBy',
          'maxSeries',
          'metric',
          'sql',
          'order',
          'format',
          'rules',
          'severities',
          'alertIds',
        ]).toContain(k);
      for (const input of [withSamples(q), withAll(q)]) {
        let parsed: Query | undefined;
        try {
          parsed = parseQuery(input);
        } catch (err) {
          throw new Error(`${file} / ${panel.title}: ${(err as Error).message}`);
        }
        expect(parsed.type).toBe(q.type);
      }
    }
  });

  it('names only catalog actions and areas in its filters', () => {
    for (const { target } of targets(d)) {
      const parsed = parseQuery(withSamples(queryOf(target)));
      for (const a of actionsInFilters(parsed)) expect(CATALOG.has(a)).toBe(true);
      if (parsed.type !== 'sql' && parsed.type !== 'detections')
        for (const area of parsed.filters?.areas ?? []) expect(Object.keys(AREAS)).toContain(area);
    }
    // The raw SQL too: every quoted name that looks like an action is one.
    for (const { target } of targets(d)) {
      if (target.type !== 'sql') continue;
      for (const m of String(target.sql).matchAll(/'([a-z_]+)'/g)) {
        if (m[1] === 'success' || m[1] === 'failure') continue;
        expect(CATALOG.has(m[1] as string)).toBe(true);
      }
    }
  });

  it('compiles every target for Athena, with a placeholder per bound value', async () => {
    const athena = new AthenaEngine({
      client: {
        send: async () => {
          throw new Error('no AWS here');
        },
      } as unknown as AthenaClient,
      workGroup: 'wg',
    });
    const opts = {
      dialect: athenaDialect,
      table: '"awsdatacatalog"."closer_audit"."events"',
      intervalMs: 60_000,
    };
    const range = { from: Date.parse(RANGE.from), to: Date.parse(RANGE.to) };
    for (const { target } of targets(d)) {
      const q = parseQuery(withSamples(queryOf(target)));
      if (q.type === 'sql') {
        const compiled = expandMacros(q.sql, range, opts);
        await expect(athena.checkReadOnly(compiled.sql)).resolves.toBeUndefined();
        expect(countPlaceholders(compiled.sql)).toBe(compiled.params.length);
        expect(compiled.sql).not.toContain('$__');
      } else {
        const compiled = compileQuery(q, range, opts);
        expect(countPlaceholders(compiled.sql)).toBe(compiled.params.length);
      }
    }
  });
});

describe('status targets (GET /status, answered by the plugin)', () => {
  const withStatus = dashboards.filter(([, d]) => statusTargets(d).length > 0);

  it('are on the data health dashboard and the overview', () => {
    expect(withStatus.map(([f]) => f).sort()).toEqual(['data-health.json', 'overview.json']);
    for (const f of STATUS_ONLY) expect(targets(Object.fromEntries(dashboards)[f])).toEqual([]);
  });

  it.each(withStatus)('%s: name a view and only fields that view has', (_file, d) => {
    for (const { panel, target } of statusTargets(d)) {
      expect(Object.keys(target).sort()).toEqual(['datasource', 'refId', 'statusView', 'type']);
      expect(STATUS_VIEWS).toContain(target.statusView);
      const fields: readonly string[] =
        target.statusView === 'days' ? STATUS_DAY_FIELDS : STATUS_SUMMARY_FIELDS;
      // A stat picks its one field by name; a per-day panel keeps the fields it names.
      const picked = /^\/\^(\w+)\$\/$/.exec(panel.options?.reduceOptions?.fields ?? '')?.[1];
      if (panel.type === 'stat') expect(fields).toContain(picked);
      for (const t of panel.transformations ?? [])
        for (const name of t.options?.include?.names ?? []) expect(fields).toContain(name);
    }
  });
});

describe('every target runs on the DuckDB engine', () => {
  let engine: DuckDbEngine;
  let service: QueryService;

  beforeAll(async () => {
    // An empty data folder: the engine's empty table has every column, so each query is planned,
    // bound and run in full (raw SQL included) and answers with no rows.
    engine = await DuckDbEngine.open(await tmpDir('dashboards'));
    service = new QueryService(engine, { timeoutMs: 20_000 });
  });

  afterAll(async () => {
    await engine?.close();
  });

  it.each(dashboards.filter(([, d]) => targets(d).length > 0))('%s', async (_file, d) => {
    const queries = targets(d).map(({ panel, target }, i) => ({
      title: panel.title as string,
      query: { ...(withSamples(queryOf(target)) as object), refId: `Q${i}` },
    }));
    const { results } = await service.query({
      range: RANGE,
      intervalMs: 60_000,
      queries: queries.map((q) => q.query),
    });
    const failed = queries
      .map((q) => ({ title: q.title, res: results[q.query.refId] }))
      .filter((r) => r.res?.status !== 200)
      .map((r) => `${r.title}: ${r.res?.error}`);
    expect(failed).toEqual([]);
  });
});

describe('what each dashboard shows', () => {
  const byFile = Object.fromEntries(dashboards) as Record<string, any>;
  const queries = (file: string): Query[] =>
    targets(byFile[file]).map(({ target }) => parseQuery(withSamples(queryOf(target))));
  const find = (file: string, pred: (q: any) => boolean): any[] => queries(file).filter(pred);
  const sorted = (xs: readonly string[] | undefined) => [...(xs ?? [])].sort();

  it('data health: complete through, freshness, last run and verify, quarantined per day; the overview says until when', () => {
    const stats = (file: string) =>
      statusTargets(byFile[file])
        .filter(({ panel }) => panel.type === 'stat')
        .map(({ panel }) => /^\/\^(\w+)\$\/$/.exec(panel.options.reduceOptions.fields)?.[1]);
    expect(stats('data-health.json')).toEqual(
      expect.arrayContaining([
        'sealed_through',
        'freshness_lag',
        'last_run_at',
        'last_verify',
        'last_verify_at',
      ]),
    );
    const perDay = statusTargets(byFile['data-health.json']).filter(
      ({ panel, target }) =>
        target.statusView === 'days' &&
        panel.type === 'timeseries' &&
        panel.transformations?.[0]?.options.include.names.includes('quarantined'),
    );
    expect(perDay).toHaveLength(1);
    expect(stats('overview.json')).toEqual(['sealed_through']);
    const complete = byFile['overview.json'].panels.find((p: any) => p.targets[0].type === STATUS_QUERY_TYPE);
    expect(complete.title).toBe('Complete through');
    expect(complete.fieldConfig.defaults.unit).toBe('dateTimeAsIso');
  });

  it('overview: areas over time, outcomes, top actions, users and IPs, latest events', () => {
    const f = 'overview.json';
    expect(find(f, (q) => q.type === 'timeseries' && q.splitBy === 'area')).toHaveLength(1);
    expect(
      find(
        f,
        (q) =>
          (q.type === 'timeseries' && q.splitBy === 'outcome') ||
          (q.type === 'topn' && q.field === 'outcome'),
      ).length,
    ).toBeGreaterThan(0);
    for (const field of ['action', 'user_id', 'source_ip'])
      expect(find(f, (q) => q.type === 'topn' && q.field === field)).toHaveLength(1);
    expect(find(f, (q) => q.type === 'events')).toHaveLength(1);
    expect(sorted(variables(byFile[f]).map((v) => v.name))).toEqual(
      sorted(['datasource', 'area', 'action', 'user', 'ip', 'role']),
    );
  });

  it('authentication: logins by method, failures by IP and user, password events, new IPs in SQL', () => {
    const f = 'authentication.json';
    const logins = ['agent_login', 'agent_login_with_magic_link'];
    const ts = find(f, (q) => q.type === 'timeseries' && q.splitBy === 'action');
    expect(ts).toHaveLength(1);
    expect(sorted(ts[0].filters.actions)).toEqual(logins);
    for (const field of ['source_ip', 'user_id']) {
      const t = find(f, (q) => q.type === 'topn' && q.field === field);
      expect(t).toHaveLength(1);
      expect(t[0].filters).toMatchObject({ areas: ['auth'], outcomes: ['failure'] });
    }
    const pw = find(f, (q) => q.type === 'events');
    expect(pw).toHaveLength(1);
    expect(sorted(pw[0].filters.actions)).toEqual(
      ['agent_password_change', 'agent_password_change_with_token', 'agent_password_reset'].sort(),
    );
    const sql = find(f, (q) => q.type === 'sql');
    expect(sql).toHaveLength(1);
    // The range's events counted (the rollups where serve keeps them), first login by first_ts.
    expect(sql[0].sql).toContain('$__rollup');
    expect(sql[0].sql).toMatch(/min\(first_ts\)/);
    expect(sql[0].sql).toMatch(/sum\(n\)/);
    // The engines read only the range's days: the title says the comparison is within the range.
    const panel = byFile[f].panels.find((p: any) => p.targets.some((t: any) => t.type === 'sql'));
    expect(panel.title).toMatch(/within the selected range/);
  });

  it('configuration changes: the catalog actions of the configuration areas that create, change or delete', () => {
    const f = 'configuration-changes.json';
    const areas: Area[] = [
      'org',
      'widget',
      'forms',
      'bot',
      'ai_suggestions',
      'oauth',
      'proactive_messages',
      'profanities',
      'tag_mapping',
      'topics',
    ];
    const expected = ACTIONS.filter(
      (a) => areas.includes(a.area) && ['creation', 'change', 'deletion'].includes(a.verb),
    ).map((a) => a.action);
    expect(expected.length).toBeGreaterThan(30);
    expect(expected).not.toContain('oauth_authorization');
    const qs = queries(f);
    for (const q of qs) {
      if (q.type === 'sql' || q.type === 'detections') throw new Error('no raw SQL expected here');
      expect(sorted(q.filters?.actions)).toEqual(sorted(expected));
    }
    expect(find(f, (q) => q.type === 'timeseries' && q.splitBy === 'area')).toHaveLength(1);
    const table = find(f, (q) => q.type === 'events');
    expect(table).toHaveLength(1);
    expect(table[0].limit).toBe(500);
    // The area variable offers the configuration areas only.
    const area = variables(byFile[f]).find((v) => v.name === 'area');
    const re = new RegExp(area.regex.slice(1, -1));
    expect(Object.keys(AREAS).filter((a) => re.test(a))).toEqual(
      Object.keys(AREAS).filter((a) => areas.includes(a as Area)),
    );
  });

  it('agent lifecycle: the five actions, their counts, role changes with ADMIN highlighted', () => {
    const f = 'agent-lifecycle.json';
    const five = [
      'agent_invitation',
      'agent_invitation_acceptation',
      'agent_deactivation',
      'agent_restore',
      'agent_role_change',
    ];
    const named = new Set(queries(f).flatMap(actionsInFilters));
    expect(sorted([...named])).toEqual(sorted(five));
    // A count of each (stat panels), and one of the role changes naming ADMIN.
    const counts = find(f, (q) => q.type === 'stat');
    for (const a of five)
      expect(counts.filter((q) => q.filters?.actions?.join() === a && !q.filters.bodyContains)).toHaveLength(
        1,
      );
    expect(counts.filter((q) => q.filters?.bodyContains?.toLowerCase() === 'admin')).toHaveLength(1);
    const roles = byFile[f].panels.find(
      (p: any) =>
        p.type === 'table' &&
        p.targets.some((t: any) => t.type === 'events' && t.filters?.actions?.join() === 'agent_role_change'),
    );
    expect(roles).toBeDefined();
    expect(roles.description).toMatch(/ADMIN/);
    const mappings = roles.fieldConfig.overrides.flatMap((o: any) =>
      o.properties.filter((p: any) => p.id === 'mappings').flatMap((p: any) => p.value),
    );
    const regex = mappings.find((m: any) => m.type === 'regex');
    expect(regex?.options.result.color).toBeTruthy();
    const pattern = /^\/(.*)\/([a-z]*)$/.exec(regex.options.pattern);
    const re = new RegExp(pattern?.[1] as string, pattern?.[2]);
    expect(re.test('{"role":"ADMIN"}')).toBe(true);
    expect(re.test('{"role":"AGENT"}')).toBe(false);
  });
});

describe('detections in Grafana', () => {
  const byFile = Object.fromEntries(dashboards) as Record<string, any>;

  it('detections: alerts over time by rule and by severity, the latest alerts linked to their events', () => {
    const d = byFile['detections.json'];
    const qs = targets(d).map(({ panel, target }) => ({
      panel,
      q: parseQuery(withSamples(queryOf(target))),
    }));
    const of = (pred: (q: any) => boolean) => qs.filter(({ q }) => q.type === 'detections' && pred(q));
    expect(of((q) => q.format === 'timeseries' && q.splitBy === 'rule')).toHaveLength(1);
    expect(of((q) => q.format === 'timeseries' && q.splitBy === 'severity')).toHaveLength(1);
    const [latest] = of((q) => q.format === 'alerts' && q.limit !== undefined);
    expect(latest?.panel.type).toBe('table');
    const links = latest?.panel.fieldConfig.overrides.flatMap((o: any) =>
      o.properties.filter((p: any) => p.id === 'links').flatMap((p: any) => p.value),
    );
    expect(links.map((l: any) => l.url)).toEqual([expect.stringContaining('var-alert=${__data.fields.id}')]);
    const [events] = of((q) => q.format === 'events');
    expect(events?.q).toMatchObject({ alertIds: [SAMPLE_VALUES.alert] });
    // With no alert picked the drill-down shows the latest alerts' events.
    expect(parseQuery(withAll(queryOf(events?.panel.targets[0])))).not.toHaveProperty('alertIds');
  });

  it('every dashboard shows the alerts as annotations', () => {
    for (const [file, d] of dashboards) {
      const anno = d.annotations.list.filter((a: any) => a.datasource?.type === DATASOURCE_TYPE);
      // Grafana's queryType key (its annotation schema has no other); the plugin reads it as the type.
      expect([file, anno.map((a: any) => a.target)]).toEqual([
        file,
        [{ refId: 'Anno', queryType: 'detections' }],
      ]);
      expect(anno[0].datasource.uid).toBe(DATASOURCE_REF);
      expect(parseQuery({ refId: 'Anno', type: anno[0].target.queryType }).type).toBe('detections');
    }
  });
});

describe('provisioning', () => {
  const read = (p: string) => {
    const file = path.join(root, 'plugin/provisioning', p);
    expect(existsSync(file)).toBe(true);
    return readFileSync(file, 'utf8');
  };

  it('provisions the datasource: the plugin type, the local API, the token from the environment', () => {
    const text = read('datasources/closer-audit.yaml');
    expect(text).toMatch(/^apiVersion: 1$/m);
    expect(text).toMatch(/^\s+type: closer-audit-datasource$/m);
    expect(text).toMatch(/^\s+- name: Closer audit$/m);
    expect(text).toMatch(/^\s+url: http:\/\/localhost:8787$/m);
    expect(text).toMatch(/^\s+defaultLimit: 500$/m);
    expect(text).toMatch(/^\s+apiToken: \$CLOSER_API_TOKEN$/m);
  });

  it('provisions the dashboards from a folder, into the Closer audit folder', () => {
    const text = read('dashboards/closer-audit.yaml');
    expect(text).toMatch(/^apiVersion: 1$/m);
    expect(text).toMatch(/^\s+type: file$/m);
    expect(text).toMatch(/^\s+folder: Closer audit$/m);
    expect(text).toMatch(/^\s+path: \/var\/lib\/grafana\/dashboards\/closer-audit$/m);
  });
});

describe('the checks can fail', () => {
  it('parseQuery rejects a bad target, and an unfilled variable where an address belongs', () => {
    expect(() => parseQuery({ refId: 'A', type: 'topn', field: 'no_such_field' })).toThrow(
      QueryValidationError,
    );
    expect(() => parseQuery({ refId: 'A', type: 'events', filters: { sourceIps: ['$ip'] } })).toThrow(
      /filters\.sourceIps/,
    );
    expect(() => parseQuery({ refId: 'A', type: 'events', datasource: { uid: DATASOURCE_REF } })).toThrow(
      QueryValidationError,
    );
    expect(() =>
      parseQuery(withSamples({ refId: 'A', type: 'events', filters: { sourceIps: ['$ip'] } })),
    ).not.toThrow();
  });

  it('overlapping panels are told apart from neighbours', () => {
    expect(overlaps({ x: 0, y: 0, w: 12, h: 8 }, { x: 6, y: 4, w: 12, h: 8 })).toBe(true);
    expect(overlaps({ x: 0, y: 0, w: 12, h: 8 }, { x: 12, y: 0, w: 12, h: 8 })).toBe(false);
    expect(overlaps({ x: 0, y: 0, w: 24, h: 8 }, { x: 0, y: 8, w: 24, h: 8 })).toBe(false);
  });

  it('All drops a filter and sample values fill it', () => {
    const q = { refId: 'A', type: 'stat', filters: { actions: ['$action'], outcomes: ['failure'] } };
    expect(withAll(q)).toEqual({ refId: 'A', type: 'stat', filters: { outcomes: ['failure'] } });
    expect(withSamples(q)).toEqual({
      refId: 'A',
      type: 'stat',
      filters: { actions: ['agent_login'], outcomes: ['failure'] },
    });
  });
});
