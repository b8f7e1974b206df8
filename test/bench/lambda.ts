// Lambda artifact figures: the zipped size of each function as `serverless package` builds it,
// and the time a cold Node.js process takes to import the bundle and hold the handler, under the
// Lambda runtime's Node.js version (installed from the npm registry by test/deploy/setup.sh).
//   npm run bench:lambda [-- --runs 15]
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FUNCTIONS } from '../../functions/build.js';
import { deployTools } from '../support/deploy-tools.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;

const PROBE = `
const t0 = performance.now();
const m = await import(process.argv[1]);
const ms = performance.now() - t0;
if (typeof m.handler !== 'function') throw new Error('no handler export');
process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));
`;

const { node, nodeVersion } = await deployTools();

function coldImport(file: string): Promise<{ ms: number; rss: number; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(node, ['--input-type=module', '-e', PROBE, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`probe exited ${code}`));
      resolve({ ...(JSON.parse(out) as { ms: number; rss: number }), wallMs: performance.now() - t0 });
    });
  });
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number;

await promisify(execFile)(
  'npm',
  [
    'run',
    'package',
    '--',
    '--param=esUrl=https://closer-es.example:9200',
    '--param=esSecretArn=arn:aws:secretsmanager:eu-central-1:123456789012:secret:closer-es-AbCdEf',
  ],
  { cwd: root },
);
process.stdout.write(`node ${nodeVersion} (the Lambda runtime's), ${runs} cold processes per function\n\n`);
process.stdout.write(
  'function   zipped      bundle     import p50   import p95   process wall p50   RSS after import\n',
);
for (const name of Object.keys(FUNCTIONS)) {
  const zip = (await fs.stat(path.join(root, `.serverless/${name}.zip`))).size;
  const bundle = path.join(root, `dist/functions/${name}/index.mjs`);
  const size = (await fs.stat(bundle)).size;
  const samples = [];
  for (let i = 0; i < runs; i++) samples.push(await coldImport(bundle));
  const ms = samples.map((s) => s.ms);
  const wall = samples.map((s) => s.wallMs);
  const rss = samples.map((s) => s.rss / 1048576);
  process.stdout.write(
    `${name.padEnd(10)} ${(zip / 1048576).toFixed(2).padStart(5)} MB  ${(size / 1048576).toFixed(2).padStart(6)} MB` +
      `  ${pct(ms, 0.5).toFixed(0).padStart(7)} ms  ${pct(ms, 0.95).toFixed(0).padStart(8)} ms` +
      `  ${pct(wall, 0.5).toFixed(0).padStart(12)} ms  ${pct(rss, 0.5).toFixed(0).padStart(12)} MB\n`,
  );
}
