// Two projects. `node`: ESM all the way, TypeScript stripped by SWC, Node runs the modules
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
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } },
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
const ESM_PACKAGES = ['d3', 'd3-[a-z-]+', 'internmap', 'delaunator', 'robust-predicates', 'ol', 'uuid'];

const plugin = {
  displayName: 'plugin',
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

export default {
  projects: [node, plugin, servers],
  // Jest's own summary, then the plain `N passed, N failed` line CI reads.
  reporters: ['default', '<rootDir>/test/support/summary-reporter.cjs'],
  testTimeout: 60000,
  maxWorkers: 2,
};
