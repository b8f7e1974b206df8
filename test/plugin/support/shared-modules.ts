// The modules Grafana shares with plugins, registered in SystemJS the way Grafana does it: each
// under a `package:` id, named in an import map, so the plugin's AMD `define` deps resolve to them.
import * as emotionCss from '@emotion/css';
import * as grafanaData from '@grafana/data';
import * as grafanaRuntime from '@grafana/runtime';
import * as grafanaUi from '@grafana/ui';
import * as ReactNs from 'react';
import * as ReactDom from 'react-dom';
import * as rxjs from 'rxjs';
import * as rxjsOperators from 'rxjs/operators';

export interface SharedModuleRegistry {
  set(id: string, module: object): unknown;
  addImportMap(map: { imports: Record<string, string> }): void;
}

export function registerSharedModules(System: SharedModuleRegistry): void {
  const shared: Record<string, object> = {
    '@grafana/data': grafanaData,
    '@grafana/runtime': grafanaRuntime,
    '@grafana/ui': grafanaUi,
    '@emotion/css': emotionCss,
    react: { ...ReactNs, default: ReactNs },
    'react-dom': { ...ReactDom, default: ReactDom },
    rxjs,
    'rxjs/operators': rxjsOperators,
  };
  const imports: Record<string, string> = {};
  for (const [name, module] of Object.entries(shared)) {
    System.set(`package:${name}`, module);
    imports[name] = `package:${name}`;
  }
  System.addImportMap({ imports });
}
