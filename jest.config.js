import { GRAFANA_MATRIX, projectName } from './test/plugin/grafana/matrix.js';

// Two kinds of project. `node`: ESM all the way, TypeScript stripped by SWC, Node runs the modules
// natively (hence --experimental-vm-modules in the npm script). `plugin`: the Grafana plugin's
// tests (test/plugin), in jsdom, compiled by SWC to CommonJS like Grafana's own plugin tests, so
// that @grafana/* load as the CommonJS builds they ship.
const node = {
  displayName: 'node',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript' },
          target: 'es2022',
          // JSON modules (shared/layout/layout.json) keep their `with { type: 'json' }`.
          experimental: { keepImportAttributes: true },
        },
        module: { type: 'es6' },
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/plugin/', '<rootDir>/test/servers/'],
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};

// `servers`: the version matrix (test/servers), a focused suite per Elasticsearch/OpenSearch
// version; each file starts and stops its own node (test/elasticsearch/es-node.sh SERVER).
const { globalSetup: _setup, globalTeardown: _teardown, ...nodeOptions } = node;
const servers = {
  ...nodeOptions,
  displayName: 'servers',
  testMatch: ['<rootDir>/test/servers/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};

/** Packages in node_modules that ship only ESM, which the plugin's tests load through @grafana/*. */
const ESM_PACKAGES = [
  ...['d3', 'd3-[a-z-]+', 'internmap', 'delaunator', 'robust-predicates', 'ol', 'uuid'],
  // ...and those Grafana 12/13's packages load.
  ...['marked', '@react-hookz/web', '@ver0/deep-equal', '@grafana/react-data-grid', 'react-calendar'],
  ...['get-user-locale', '@wojtekmaj/date-utils', 'memoize', 'mimic-function', 'quick-lru'],
];

const plugin = {
  testEnvironment: 'jsdom',
  testMatch: ['<rootDir>/test/plugin/**/*.test.{ts,tsx}'],
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', tsx: true },
          target: 'es2022',
          transform: { react: { runtime: 'classic' } },
        },
        module: { type: 'commonjs' },
      },
    ],
    // ESM-only packages @grafana/* require (d3's parts...): to CommonJS as well.
    '^.+\\.m?js$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '\\.(css|scss|svg)$': '<rootDir>/test/plugin/support/style-stub.cjs',
  },
  setupFiles: ['<rootDir>/test/plugin/support/polyfills.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/plugin/support/setup.ts'],
};

// The plugin's tests once per Grafana version of the matrix (test/plugin/grafana/matrix.js): each
// project resolves Grafana's shared modules from that version's own install, which its global
// setup installs when missing.
const pluginProjects = GRAFANA_MATRIX.map((v) => ({
  ...plugin,
  displayName: projectName(v),
  globals: { GRAFANA: { label: v.label, grafana: v.grafana, react: v.react, dir: v.dir } },
  globalSetup: '<rootDir>/test/plugin/support/grafana-install.cjs',
  ...(v.separate ? { resolver: `${v.dir}/resolver.cjs` } : {}),
}));

export default {
  projects: [node, ...pluginProjects, servers],
  // Jest's own summary, then the plain `N passed, N failed` line CI reads.
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  testTimeout: 60000,
  maxWorkers: 2,
};
