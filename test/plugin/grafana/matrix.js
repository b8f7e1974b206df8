// The Grafana versions the plugin is tested against: one jest project per version (jest.config.js),
// each resolving Grafana's shared modules (react, react-dom, @grafana/*, @emotion/*, rxjs) from
// its own small npm install under test/plugin/grafana/<label>/ (package.json + package-lock.json,
// installed by test/plugin/support/grafana-install.cjs). 11.6 is the build's own devDependencies.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** label, why it is in the matrix, and the folder whose node_modules hold its shared modules. */
const VERSIONS = [
  {
    label: '10.4',
    why: 'the declared minimum (grafanaDependency >=10.4.0)',
    dir: 'test/plugin/grafana/10.4',
  },
  { label: '11.6', why: 'the @grafana/* the plugin is built and type-checked with', dir: '.' },
  { label: '12.4', why: 'the newest 12.x', dir: 'test/plugin/grafana/12.4' },
  { label: '13.2', why: 'the newest 13.x: React 19', dir: 'test/plugin/grafana/13.2' },
];

/** The pinned versions, read from each folder's package.json (before anything is installed). */
export const GRAFANA_MATRIX = VERSIONS.map((v) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, v.dir, 'package.json'), 'utf8'));
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  return {
    ...v,
    dir: path.join(ROOT, v.dir),
    grafana: deps['@grafana/data'],
    ui: deps['@grafana/ui'],
    runtime: deps['@grafana/runtime'],
    schema: deps['@grafana/schema'],
    react: deps.react,
    /** Whether the folder is a separate install (the root's own is installed by `npm ci`). */
    separate: v.dir !== '.',
  };
});

/** The jest project's name, as the test output shows it. */
export const projectName = (v) => `plugin · Grafana ${v.grafana} (React ${v.react})`;
