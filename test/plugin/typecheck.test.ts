/**
 * @jest-environment node
 */
import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './support/build.js';
import { GRAFANA, GRAFANA_NAME } from './support/grafana-version.js';

// The plugin's sources against this Grafana version's own types (@grafana/*, React's): the APIs it
// uses exist, with the shapes it uses, from the minimum it declares (10.4) to React 19's 13.x.

function typeErrors(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'plugin/tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, ' '));
      },
    },
  )!;
  const nm = path.join(GRAFANA.dir, 'node_modules');
  const options: ts.CompilerOptions = {
    ...config.options,
    noEmit: true,
    types: [],
    paths: {
      react: [`${nm}/@types/react`],
      'react-dom': [`${nm}/@types/react-dom`],
      'react-dom/*': [`${nm}/@types/react-dom/*`],
      '@grafana/*': [`${nm}/@grafana/*`],
      '@emotion/css': [`${nm}/@emotion/css`],
      rxjs: [`${nm}/rxjs`],
    },
  };
  const sources = config.fileNames.filter((f) => f.startsWith(path.join(ROOT, 'plugin/src') + path.sep));
  const program = ts.createProgram(sources, options);
  // Where @grafana/data came from: this version's, not the root's.
  const data = program.getSourceFiles().find((f) => /@grafana\/data\/dist\//.test(f.fileName));
  if (!data?.fileName.startsWith(nm))
    throw new Error(`@grafana/data types from ${data?.fileName}, not ${nm}`);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : '';
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe(`the plugin's sources against ${GRAFANA_NAME}'s types`, () => {
  it('type-check', () => {
    expect(typeErrors()).toEqual([]);
  }, 180_000);
});
