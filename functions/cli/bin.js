#!/usr/bin/env node
// `npx closer-audit`: runs the bundle `npm ci` built (dist/cli, see functions/build.ts) when it is
// newer than every source file, else the TypeScript sources directly through tsx, so an edit is
// never shadowed by a stale bundle.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; the lockfile
// pins the versions this CLI ships with, so the warning says nothing about this install.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bundle = path.join(root, 'dist/cli/index.mjs');

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(file));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(file).mtimeMs);
  }
  return newest;
}

function bundleIsFresh() {
  try {
    const built = statSync(bundle).mtimeMs;
    return (
      built >= newestSource(path.join(root, 'functions')) && built >= newestSource(path.join(root, 'shared'))
    );
  } catch {
    return false;
  }
}

let main;
if (process.env.CLOSER_AUDIT_FROM_SOURCE !== '1' && bundleIsFresh()) {
  ({ main } = await import(bundle));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('./main.ts'));
}
process.exitCode = await main(process.argv);
