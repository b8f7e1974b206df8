import React from 'react';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { ACTIONS, AREAS } from '../../shared/catalog/actions.js';
import { buildInto, ROOT } from './support/build.js';
import { mockTemplateSrv } from './support/grafana.js';
import * as grafanaData from '@grafana/data';
import { registerSharedModules } from './support/shared-modules.js';
import { menuOptions } from './support/select.js';
import { GRAFANA, GRAFANA_NAME } from './support/grafana-version.js';

// The built plugin as Grafana loads it: dist/module.js through SystemJS 6.15.1 with its AMD
// extra (Grafana's loader), the real @grafana/* packages registered as the shared modules the
// way Grafana registers them (a `package:` URL per module, mapped by an import map).

const PLUGIN_URL = 'http://localhost/public/plugins/closer-audit-datasource/module.js';
let dist: string;

type SystemJS = {
  set(id: string, module: object): void;
  addImportMap(map: { imports: Record<string, string> }): void;
  import(id: string): Promise<Record<string, unknown>>;
  shouldFetch: (url: string) => boolean;
  fetch: (url: string) => Promise<unknown>;
};

function loadSystemJs(): SystemJS {
  // The loader's own scripts, run in this page as <script> tags would run them.
  for (const file of ['dist/system.js', 'dist/extras/amd.js']) {
    new Function(readFileSync(path.join(ROOT, 'node_modules/systemjs', file), 'utf8'))();
  }
  const System = (globalThis as unknown as { System: SystemJS }).System;
  // Grafana serves module.js from public/plugins/<id>/; here it comes from the build folder.
  System.shouldFetch = () => true;
  System.fetch = async (url: string) => {
    const file = url === PLUGIN_URL ? path.join(dist, 'module.js') : '';
    if (!file) return { ok: false, status: 404, statusText: 'Not Found', headers: { get: () => null } };
    const text = readFileSync(file, 'utf8');
    return {
      ok: true,
      status: 200,
      headers: { get: () => 'application/javascript' },
      text: async () => text,
    };
  };
  registerSharedModules(System);
  return System;
}

beforeAll(() => {
  dist = buildInto('closer-plugin-loader-');
});

afterAll(() => {
  if (dist) rmSync(dist, { recursive: true, force: true });
});

describe('the build', () => {
  it('is an AMD module whose dependencies are exactly the shared modules it uses', () => {
    const code = readFileSync(path.join(dist, 'module.js'), 'utf8');
    const m = /^define\((\[[^\]]*\]), function \(/.exec(code);
    expect(m).not.toBeNull();
    const deps = JSON.parse(m![1]!) as string[];
    const required = [...new Set([...code.matchAll(/\brequire\("([^"]+)"\)/g)].map((r) => r[1]))].sort();
    expect(deps).toEqual(required);
    expect(deps).toEqual(
      expect.arrayContaining(['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react']),
    );
    // Nothing of theirs bundled, and no JSX runtime (not shared before Grafana 12.0.10).
    expect(code).not.toContain('jsx-runtime');
    expect(code).not.toMatch(/__SECRET_INTERNALS|react\.production|ReactCurrentDispatcher/);
    expect(code.length).toBeLessThan(200_000);
  });

  it('fills plugin.json and lays out the dist folder and the zip Grafana installs', () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version as string;
    const json = JSON.parse(readFileSync(path.join(dist, 'plugin.json'), 'utf8'));
    expect(json).toMatchObject({
      type: 'datasource',
      id: 'closer-audit-datasource',
      metrics: true,
      logs: true,
      annotations: true,
      dependencies: { grafanaDependency: '>=10.4.0' },
      routes: [
        {
          path: 'api',
          url: '{{ .JsonData.apiUrl }}',
          headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.apiToken }}' }],
        },
      ],
    });
    expect(json.info.version).toBe(version);
    expect(json.info.updated).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(json.id).toMatch(/^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource)$/);
    for (const logo of Object.values(json.info.logos) as string[])
      expect(existsSync(path.join(dist, logo))).toBe(true);
    expect(json.includes.map((i: any) => [i.type, i.path])).toEqual(
      ['overview', 'authentication', 'configuration-changes', 'agent-lifecycle', 'data-health'].map((f) => [
        'dashboard',
        `dashboards/${f}.json`,
      ]),
    );
    for (const inc of json.includes) expect(existsSync(path.join(dist, inc.path))).toBe(true);
    for (const f of ['README.md', 'CHANGELOG.md', 'module.js', 'module.js.map']) {
      expect(existsSync(path.join(dist, f))).toBe(true);
    }
    const zip = unzipSync(readFileSync(path.join(dist, `closer-audit-datasource-${version}.zip`)));
    const names = Object.keys(zip).sort();
    expect(names.every((n) => n.startsWith('closer-audit-datasource/'))).toBe(true);
    expect(names).toEqual(
      expect.arrayContaining([
        'closer-audit-datasource/module.js',
        'closer-audit-datasource/plugin.json',
        'closer-audit-datasource/img/logo.svg',
        'closer-audit-datasource/dashboards/overview.json',
      ]),
    );
  });
});

describe(`loaded through SystemJS with the AMD extra, as ${GRAFANA_NAME} loads it`, () => {
  let exports: Record<string, unknown>;

  beforeAll(async () => {
    const System = loadSystemJs();
    exports = await System.import(PLUGIN_URL);
  });

  it(`shares this project's modules: ${GRAFANA_NAME}`, () => {
    expect(React.version).toBe(GRAFANA.react);
    expect(grafanaData.DataSourcePlugin).toBeDefined();
  });

  it('yields a DataSourcePlugin with its data source class and editors', () => {
    const plugin = exports.plugin as grafanaData.DataSourcePlugin<any, any, any, any>;
    expect(plugin).toBeInstanceOf(grafanaData.DataSourcePlugin);
    expect(typeof plugin.DataSourceClass).toBe('function');
    expect(typeof plugin.components.QueryEditor).toBe('function');
    expect(typeof plugin.components.ConfigEditor).toBe('function');
    const ds = new plugin.DataSourceClass({
      id: 1,
      uid: 'x',
      type: 'closer-audit-datasource',
      name: 'Closer audit',
      url: '/api/datasources/proxy/uid/x',
      jsonData: { apiUrl: 'http://localhost:8787' },
      meta: { id: 'closer-audit-datasource', info: {} },
    } as any);
    expect(ds).toBeInstanceOf(grafanaData.DataSourceApi);
    expect(ds.variables.getType()).toBe('custom');
    expect(ds.annotations).toBeDefined();
  });

  it('renders its query editor, with the action picker from the catalog', async () => {
    mockTemplateSrv();
    const plugin = exports.plugin as grafanaData.DataSourcePlugin<any, any, any, any>;
    const QueryEditor = plugin.components.QueryEditor!;
    const ds = new plugin.DataSourceClass({
      id: 1,
      uid: 'x',
      url: '/p',
      jsonData: {},
      meta: { info: {} },
    } as any);
    render(
      <QueryEditor
        query={{ refId: 'A', type: 'events' }}
        onChange={() => {}}
        onRunQuery={() => {}}
        datasource={ds}
      />,
    );
    expect(screen.getByTestId('closer-query-editor')).toBeInTheDocument();
    await userEvent.click(screen.getByLabelText('Actions'));
    expect(menuOptions()).toHaveLength(ACTIONS.length);
    expect(screen.getAllByText(AREAS.auth).length).toBeGreaterThan(0);
  });

  it('renders its config editor', () => {
    const plugin = exports.plugin as grafanaData.DataSourcePlugin<any, any, any, any>;
    const ConfigEditor = plugin.components.ConfigEditor!;
    render(
      <ConfigEditor
        options={
          { jsonData: { apiUrl: 'http://localhost:8787' }, secureJsonFields: { apiToken: true } } as any
        }
        onOptionsChange={() => {}}
      />,
    );
    expect(screen.getByLabelText('API URL')).toHaveValue('http://localhost:8787');
    expect(screen.getByLabelText('API token')).toHaveValue('configured');
  });
});
