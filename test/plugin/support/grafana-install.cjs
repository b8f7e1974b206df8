// Jest global setup of the plugin's projects: installs the matrix's per-version folders
// (test/plugin/grafana/<label>/) with `npm ci` from their own package-lock.json, from the npm
// registry only, skipping a folder whose install matches its lockfile. The first call installs
// every selected version at once (in parallel); later calls find them done.
const { execFile } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');
const { promisify } = require('node:util');
const { pathToFileURL } = require('node:url');

const run = promisify(execFile);
const STAMP = 'node_modules/.closer-audit-lock-sha256';

const lockHash = (dir) =>
  createHash('sha256')
    .update(readFileSync(path.join(dir, 'package-lock.json')))
    .digest('hex');

function installed(dir) {
  const stamp = path.join(dir, STAMP);
  return existsSync(stamp) && readFileSync(stamp, 'utf8') === lockHash(dir);
}

async function install(v) {
  const started = Date.now();
  // Scripts off: nothing in Grafana's packages needs building, and nothing may download.
  await run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], {
    cwd: v.dir,
    maxBuffer: 64 * 1024 * 1024,
  }).catch((err) => {
    throw new Error(
      `npm ci of Grafana ${v.grafana}'s shared modules in ${v.dir} failed: ${err.stderr || err.message}`,
    );
  });
  writeFileSync(path.join(v.dir, STAMP), lockHash(v.dir));
  process.stderr.write(
    `Grafana ${v.grafana} (React ${v.react}): installed in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
}

module.exports = async function grafanaInstall(globalConfig) {
  const matrixUrl = pathToFileURL(path.join(__dirname, '../grafana/matrix.js')).href;
  const { GRAFANA_MATRIX, projectName } = await import(matrixUrl);
  const selected = globalConfig.selectProjects;
  const todo = GRAFANA_MATRIX.filter(
    (v) => v.separate && (!selected || selected.includes(projectName(v))) && !installed(v.dir),
  );
  await Promise.all(todo.map(install));
};
