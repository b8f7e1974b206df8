/**
 * Bundles each Lambda handler with esbuild into dist/functions/<name>/ (one ES module plus the
 * zstd WebAssembly it loads from beside itself; serverless.yml zips each folder on its own), and
 * the CLI into dist/cli/ (bin.js runs it when it is fresher than the sources). `npm ci` runs this
 * through the `prepare` script.
 */
import { copyFile, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import {
  DETECTIONS_TABLE,
  EVENTS_TABLE,
  glueColumns,
  partitionKeys,
  tableProperties,
} from '../shared/schema/athena.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/functions');

export const FUNCTIONS: Record<string, string> = {
  ingest: 'functions/lambda/ingest/handler.ts',
  query: 'functions/lambda/query/handler.ts',
};

// Bundled dependencies written as CommonJS expect require and __dirname; an ES module has neither.
const banner = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  "import { dirname as __pathDirname } from 'node:path';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join('\n');

// The Lambda runtime in serverless.yml (nodejs24.x) runs the functions; the CLI (and anything
// else bundled to run here) on the oldest Node.js line `engines` in package.json lets it start on.
export const LAMBDA_NODE = 'node24';
const CLI_NODE = 'node20';

/** One entry point as a minified ES module at `outDir/index.mjs`, zstd.wasm beside it. */
export async function bundle(entry: string, outDir: string, target = CLI_NODE): Promise<number> {
  await mkdir(outDir, { recursive: true });
  const outfile = path.join(outDir, 'index.mjs');
  await build({
    entryPoints: [path.resolve(root, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target,
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: { js: banner },
    // DuckDB is a native addon: it stays in node_modules (the CLI's local engine; no Lambda uses it).
    external: ['@duckdb/*'],
    logLevel: 'warning',
  });
  await copyFile(
    path.join(root, 'node_modules/@bokuweb/zstd-wasm/dist/common/zstd.wasm'),
    path.join(outDir, 'zstd.wasm'),
  );
  // The built-in detection rules, read beside the bundle (functions/detect/load-rules.ts).
  await cp(path.join(root, 'shared/detections/rules'), path.join(outDir, 'detection-rules'), {
    recursive: true,
  });
  return (await stat(outfile)).size;
}

export async function bundleFunctions(): Promise<Record<string, number>> {
  await rm(out, { recursive: true, force: true });
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(FUNCTIONS))
    sizes[name] = await bundle(entry, path.join(out, name), LAMBDA_NODE);
  return sizes;
}

/** Built beside, then swapped in: a CLI started meanwhile never finds a half-written bundle. */
export async function bundleCli(): Promise<number> {
  const dir = path.join(root, 'dist/cli');
  const next = path.join(root, `dist/.cli-${process.pid}`);
  await rm(next, { recursive: true, force: true });
  const size = await bundle('functions/cli/main.ts', next);
  await rm(dir, { recursive: true, force: true });
  await rename(next, dir);
  return size;
}

/**
 * The Glue table's columns and properties for serverless.yml, derived from the shared schema.
 * `${AuditBucket}` is left to CloudFormation's Fn::Sub, `${self:...}` to the Serverless
 * Framework; `${!dt}` is Fn::Sub's escape for the literal `${dt}` partition projection expects.
 */
export async function writeGlueTable(): Promise<string> {
  const location = 's3://${AuditBucket}/${self:custom.dataPrefix}';
  const parametersOf = (folder: string) => {
    const parameters: Record<string, unknown> = { ...tableProperties(location, folder) };
    parameters['storage.location.template'] = {
      'Fn::Sub': (parameters['storage.location.template'] as string).replace('${dt}', '${!dt}'),
    };
    return parameters;
  };
  const file = path.join(root, 'dist/deploy/glue-table.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    JSON.stringify(
      {
        columns: glueColumns(),
        partitionKeys: partitionKeys(),
        parameters: parametersOf(EVENTS_TABLE.folder),
        // The detections table (alerts under detections/dt=…/), the same way.
        detectionsColumns: glueColumns(DETECTIONS_TABLE.columns),
        detectionsParameters: parametersOf(DETECTIONS_TABLE.folder),
      },
      null,
      2,
    ) + '\n',
  );
  return file;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // `--functions`: the Lambda bundles and the Glue table only (what serverless.yml packages).
  const sizes = await bundleFunctions();
  await writeGlueTable();
  if (!process.argv.includes('--functions')) sizes.cli = await bundleCli();
  for (const [name, size] of Object.entries(sizes)) {
    process.stdout.write(`${name}: ${(size / 1024).toFixed(0)} KiB\n`);
  }
}
