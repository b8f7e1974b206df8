import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const ROOT = process.cwd();

/** Runs `tsx plugin/build.ts` into a folder of its own (test files run in parallel). */
export function buildInto(prefix: string): string {
  const out = mkdtempSync(path.join(os.tmpdir(), prefix));
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'plugin/build.ts', '--out', out],
    {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return out;
}
