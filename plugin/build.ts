// Builds the Grafana plugin: plugin/dist/module.js as an AMD module whose dependencies are
// exactly the modules Grafana shares with plugins, plugin.json (version and date filled), the
// images, README, CHANGELOG and dashboards, and a zip with the closer-audit-datasource/ folder.
//   npm run build:plugin
import { build, type Metafile, type PluginBuild } from 'esbuild';
import { zipSync, type Zippable } from 'fflate';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { removedReactApis } from './react19.js';

export const PLUGIN_ID = 'closer-audit-datasource';

/**
 * What Grafana 10.4–12 shares with plugins through SystemJS (its sharedDependencies map).
 * Matched exactly: `react` is shared, `react/jsx-runtime` is not before Grafana 12.0.10, so JSX
 * is compiled with the classic transform (React.createElement) and never imports it.
 */
export const SHARED_MODULES = [
  '@emotion/css',
  '@emotion/react',
  '@grafana/data',
  '@grafana/runtime',
  '@grafana/ui',
  '@grafana/slate-react',
  'd3',
  'emotion',
  'i18next',
  'jquery',
  'lodash',
  'moment',
  'prismjs',
  'react',
  'react-dom',
  'react-inlinesvg',
  'react-redux',
  'react-router',
  'react-router-dom',
  'redux',
  'rxjs',
  'rxjs/operators',
  'slate',
  'slate-plain-serializer',
  'slate-react',
] as const;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const SHARED_FILTER = new RegExp(`^(${SHARED_MODULES.map(escape).join('|')})$`);

export interface BuildResult {
  dist: string;
  deps: string[];
  /** How many bundled source files the React 19 check read. */
  react19Checked: number;
  zip: string;
  version: string;
}

/** The shared modules the bundle imports, in a stable order. */
function externalImports(metafile: Metafile): string[] {
  const deps = new Set<string>();
  for (const input of Object.values(metafile.inputs)) {
    for (const imp of input.imports) if (imp.external && !imp.path.startsWith('<')) deps.add(imp.path);
  }
  const list = [...deps].sort();
  const unknown = list.filter((d) => !SHARED_FILTER.test(d));
  if (unknown.length) throw new Error(`not shared by Grafana, cannot be external: ${unknown.join(', ')}`);
  return list;
}

function amdWrapper(deps: string[]): { banner: string; footer: string } {
  const params = deps.map((_, i) => `__shared${i}`);
  const map = deps.map((d, i) => `${JSON.stringify(d)}: __shared${i}`).join(', ');
  return {
    banner:
      `define(${JSON.stringify(deps)}, function (${params.join(', ')}) {\n` +
      `var __deps = { ${map} };\n` +
      `var require = function (name) {\n` +
      `  if (Object.prototype.hasOwnProperty.call(__deps, name)) return __deps[name];\n` +
      `  throw new Error(${JSON.stringify(PLUGIN_ID + ': module not shared by Grafana: ')} + name);\n` +
      `};\n` +
      `var module = { exports: {} }, exports = module.exports;`,
    footer: `return module.exports;\n});`,
  };
}

/**
 * Fails the build if anything it bundles uses an API React 19 removed (Grafana 13.2+ runs plugins
 * on React 19). Returns how many source files were read.
 */
function checkReact19(root: string, metafile: Metafile): number {
  const files = Object.keys(metafile.inputs).filter((f) => /\.[cm]?[jt]sx?$/.test(f) && !f.includes(':'));
  const problems = files.flatMap((f) => removedReactApis(f, readFileSync(path.resolve(root, f), 'utf8')));
  if (problems.length) {
    throw new Error(
      `React 19 removed APIs the plugin bundles: ${problems.map((p) => `${p.file}:${p.line} ${p.api}`).join('; ')}`,
    );
  }
  return files.length;
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

function addTree(files: Zippable, dir: string, prefix: string): void {
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) addTree(files, full, `${prefix}${name}/`);
    else files[`${prefix}${name}`] = [readFileSync(full), { mtime: new Date('2020-01-01T00:00:00Z') }];
  }
}

export async function buildPlugin(
  root = process.cwd(),
  options: { minify?: boolean; outDir?: string } = {},
): Promise<BuildResult> {
  const pluginDir = path.join(root, 'plugin');
  const dist = path.resolve(root, options.outDir ?? 'plugin/dist');
  const version = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string })
    .version;
  const common = {
    absWorkingDir: root,
    entryPoints: [path.join(pluginDir, 'src/module.ts')],
    bundle: true,
    format: 'cjs' as const,
    platform: 'browser' as const,
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'transform' as const,
    jsxFactory: 'React.createElement',
    jsxFragment: 'React.Fragment',
    define: { 'process.env.NODE_ENV': '"production"' },
    tsconfig: path.join(pluginDir, 'tsconfig.json'),
    logLevel: 'warning' as const,
    plugins: [
      {
        name: 'grafana-shared-modules',
        setup(b: PluginBuild) {
          b.onResolve({ filter: SHARED_FILTER }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  };
  // First pass: which shared modules the code imports; second: the AMD module around them.
  const probe = await build({ ...common, write: false, metafile: true });
  const deps = externalImports(probe.metafile);
  const react19Checked = checkReact19(root, probe.metafile);

  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  await build({
    ...common,
    outfile: path.join(dist, 'module.js'),
    minify: options.minify ?? true,
    sourcemap: true,
    legalComments: 'none',
    ...(() => {
      const w = amdWrapper(deps);
      return { banner: { js: w.banner }, footer: { js: w.footer } };
    })(),
  });

  const pluginJson = readFileSync(path.join(pluginDir, 'src/plugin.json'), 'utf8')
    .replaceAll('%VERSION%', version)
    .replaceAll('%TODAY%', today());
  writeFileSync(path.join(dist, 'plugin.json'), pluginJson);
  cpSync(path.join(pluginDir, 'src/img'), path.join(dist, 'img'), { recursive: true });
  cpSync(path.join(pluginDir, 'dashboards'), path.join(dist, 'dashboards'), { recursive: true });
  for (const doc of ['README.md', 'CHANGELOG.md']) cpSync(path.join(pluginDir, doc), path.join(dist, doc));

  const files: Zippable = {};
  addTree(files, dist, `${PLUGIN_ID}/`);
  const zip = path.join(dist, `${PLUGIN_ID}-${version}.zip`);
  writeFileSync(zip, zipSync(files, { level: 9 }));
  return { dist, deps, react19Checked, zip, version };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  const started = Date.now();
  // --out DIR builds elsewhere than plugin/dist (the tests build into their own folders).
  const out = process.argv.indexOf('--out');
  const r = await buildPlugin(
    process.cwd(),
    out > 0 && process.argv[out + 1] ? { outDir: process.argv[out + 1] } : {},
  );
  console.log(
    `${PLUGIN_ID} ${r.version}: ${path.relative(process.cwd(), r.dist)}/module.js (AMD; shared: ${r.deps.join(', ')}; ${r.react19Checked} bundled files free of APIs React 19 removed), ${path.relative(process.cwd(), r.zip)} in ${Date.now() - started} ms`,
  );
}
