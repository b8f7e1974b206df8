// The page the browser test opens: Grafana's plugin loader in miniature. It registers the real
// @grafana/* packages (bundled for the browser) as SystemJS shared modules, loads the built
// module.js through SystemJS with the AMD extra, and renders the plugin's editors.
import React, { useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as rxjs from 'rxjs';
import { instanceSettings } from '../support/datasource-settings.js';
import { registerSharedModules } from '../support/shared-modules.js';

interface SystemJS {
  set(id: string, module: object): void;
  addImportMap(map: { imports: Record<string, string> }): void;
  import(id: string): Promise<{ plugin: grafanaData.DataSourcePlugin<any, any, any, any> }>;
}

declare global {
  interface Window {
    System: SystemJS;
    harness: { ready: boolean; error?: string; react: string };
  }
}

export const PLUGIN_URL = '/public/plugins/closer-audit-datasource/module.js';

/** Grafana's backend service, for the page: the data proxy is the test's server. */
function installServices(): void {
  grafanaRuntime.setTemplateSrv({
    getVariables: () => [],
    replace: (s?: string) => s ?? '',
    containsTemplate: () => false,
    updateTimeRange: () => {},
  });
  const fetchJson = async (opts: grafanaRuntime.BackendSrvRequest) => {
    const res = await fetch(opts.url, {
      method: opts.method ?? 'GET',
      headers: { 'content-type': 'application/json' },
      ...(opts.data ? { body: JSON.stringify(opts.data) } : {}),
    });
    const data = await res.json();
    if (!res.ok) throw { status: res.status, statusText: res.statusText, data };
    return { data, status: res.status, ok: true };
  };
  grafanaRuntime.setBackendSrv({
    fetch: (opts: grafanaRuntime.BackendSrvRequest) => rxjs.from(fetchJson(opts)),
  } as unknown as grafanaRuntime.BackendSrv);
}

async function main(): Promise<void> {
  registerSharedModules(window.System);
  installServices();
  const { plugin } = await window.System.import(PLUGIN_URL);
  const QueryEditor = plugin.components.QueryEditor!;
  const ConfigEditor = plugin.components.ConfigEditor!;
  const ds = new plugin.DataSourceClass(
    instanceSettings({ apiUrl: 'http://localhost:8787', defaultLimit: 500 }),
  );
  const theme = grafanaData.createTheme({ colors: { mode: 'dark' } });

  function App() {
    const [query, setQuery] = useState<Record<string, unknown>>({ refId: 'A', type: 'events' });
    // The latest query, for onRunQuery (called right after onChange, before React re-renders).
    const latest = useRef(query);
    const [data, setData] = useState<grafanaData.PanelData | undefined>(undefined);
    const [options, setOptions] = useState({
      jsonData: { apiUrl: 'http://localhost:8787', defaultLimit: 500 },
      secureJsonFields: { apiToken: true },
    } as unknown as grafanaData.DataSourceSettings);
    const run = (q: Record<string, unknown>) => {
      const now = grafanaData.dateTime();
      const range = {
        from: grafanaData.dateTime(now.valueOf() - 86_400_000),
        to: now,
        raw: { from: 'now-24h', to: 'now' },
      };
      void Promise.resolve(
        ds.query({ targets: [q], range, intervalMs: 60000, maxDataPoints: 500, app: 'explore' } as never),
      ).then((res) =>
        setData({ series: res.data, state: grafanaData.LoadingState.Done, timeRange: range } as never),
      );
    };
    return (
      <grafanaData.ThemeContext.Provider value={theme}>
        <grafanaUi.GlobalStyles />
        <div id="query-editor" style={{ padding: 16, width: 1180 }}>
          <QueryEditor
            query={query}
            datasource={ds}
            data={data}
            onChange={(q: Record<string, unknown>) => {
              latest.current = q;
              setQuery(q);
            }}
            onRunQuery={() => run(latest.current)}
          />
        </div>
        <pre id="query-json">{JSON.stringify(query)}</pre>
        <div id="config-editor" style={{ padding: 16, width: 900 }}>
          <ConfigEditor options={options} onOptionsChange={setOptions} />
        </div>
        <pre id="options-json">{JSON.stringify(options.jsonData)}</pre>
      </grafanaData.ThemeContext.Provider>
    );
  }
  createRoot(document.getElementById('root')!).render(<App />);
}

// React's version, for the test to check the page runs the Grafana version's own.
window.harness = { ready: false, react: React.version };
// After the page's last script, SystemJS's AMD extra, has run.
const start = () =>
  main().then(
    () => {
      window.harness.ready = true;
    },
    (err: unknown) => {
      window.harness.error = err instanceof Error ? `${err.message}\n${err.stack}` : String(err);
    },
  );
if (document.readyState === 'complete') void start();
else window.addEventListener('load', () => void start());
