// Jest global setup of the plugin's projects: installs the matrix's per-version folders
// (test/plugin/grafana/<label>/) with `npm ci` from their own package-lock.json, from the npm
// registry only, skipping a folder whose install matches its lockfile. The first call installs
// every selected version at once (in parallel); later calls find them done. A lock folder per
// version makes a second run (or .ci/run's early `node test/plugin/support/grafana-install.cjs`)
// wait for the install under way instead of running npm ci into the same folder.
const { execFile } = require('node:child_process');
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
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

/** The npm ci processes under way, stopped with this one. */
const children = new Set();

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Takes `<dir>/.installing` (pid inside), waiting while a live process holds it. */
async function lock(dir) {
  const held = path.join(dir, '.installing');
  for (;;) {
    try {
      mkdirSync(held);
      writeFileSync(path.join(held, 'pid'), String(process.pid));
      return () => rmSync(held, { recursive: true, force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let pid = 0;
      try {
        pid = Number(readFileSync(path.join(held, 'pid'), 'utf8'));
      } catch {
        // Just created, pid not written yet.
      }
      let alive = true;
      try {
        if (pid) process.kill(pid, 0);
      } catch {
        alive = false;
      }
      if (!alive) rmSync(held, { recursive: true, force: true });
      else await sleep(2000);
    }
  }
}

async function install(v) {
  const unlock = await lock(v.dir);
  try {
    if (!installed(v.dir)) await npmCi(v);
  } finally {
    unlock();
  }
}

async function npmCi(v) {
  const started = Date.now();
  // Scripts off: nothing in Grafana's packages needs building, and nothing may download.
  const pending = run('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts', '--prefer-offline'], {
    cwd: v.dir,
    maxBuffer: 64 * 1024 * 1024,
  });
  children.add(pending.child);
  await pending.catch((err) => {
    throw new Error(
      `npm ci of Grafana ${v.grafana}'s shared modules in ${v.dir} failed: ${err.stderr || err.message}`,
    );
  });
  writeFileSync(path.join(v.dir, STAMP), lockHash(v.dir));
  process.stderr.write(
    `Grafana ${v.grafana} (React ${v.react}): installed in ${Math.round((Date.now() - started) / 1000)} s\n`,
  );
}

module.exports = async function grafanaInstall(globalConfig = {}) {
  const matrixUrl = pathToFileURL(path.join(__dirname, '../grafana/matrix.js')).href;
  const { GRAFANA_MATRIX, projectName } = await import(matrixUrl);
  const selected = globalConfig.selectProjects;
  const todo = GRAFANA_MATRIX.filter(
    (v) => v.separate && (!selected || selected.includes(projectName(v))) && !installed(v.dir),
  );
  await Promise.all(todo.map(install));
};

// `node test/plugin/support/grafana-install.cjs`: all of them, now (CI, while its servers start).
if (require.main === module) {
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      for (const child of children) child.kill('SIGTERM');
      process.exit(1);
    });
  }
  module.exports().catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
