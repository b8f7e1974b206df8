// `closer-audit serve` as a user starts it: it refuses a folder it could only answer with nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { runSync } from '../../functions/ingest/sync.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import { ROOT } from '../support/cli.js';
import { HOUR, ingestContext } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const BIN = path.join(ROOT, 'functions/cli/bin.js');

/** Runs `closer-audit serve ARGS` in `cwd`; stops it once it prints its URL (or after 60 s). */
function serve(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; started: boolean }> {
  return new Promise((resolve, reject) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CLOSER_')));
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
      cwd,
      env: { ...clean, CLOSER_API_TOKEN: 'serve-test-token', ...env },
    });
    let stderr = '';
    let started = false;
    const timer = setTimeout(() => child.kill('SIGTERM'), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      if (!started && /query API on http/.test(stderr)) {
        started = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, started });
    });
  });
}

let cwd: string;
let synced: string;

beforeAll(async () => {
  cwd = await tmpDir('serve-cwd');
  synced = await tmpDir('serve-data');
  const from = Date.UTC(2026, 8, 14);
  await runSync(ingestContext(synced, new SampleSource(), { now: () => from + 10 * 24 * HOUR }), {
    from,
    to: from + 6 * HOUR,
  });
  await fs.writeFile(path.join(cwd, 'a-file.txt'), 'not a folder');
  await fs.mkdir(path.join(cwd, 'empty'));
}, 120_000);

afterAll(async () => {
  await fs.rm(cwd, { recursive: true, force: true });
  await fs.rm(synced, { recursive: true, force: true });
});

describe('closer-audit serve', () => {
  it.each([
    [[], {}, /^closer-audit: --data \(default \.\/closer-audit-data\) \.\/closer-audit-data: no such folder/],
    [['--data', 'missing'], {}, /^closer-audit: --data missing: no such folder; sync into it first/],
    [[], { CLOSER_OUT: 'missing-too' }, /^closer-audit: CLOSER_OUT missing-too: no such folder/],
    [['--data', 'a-file.txt'], {}, /^closer-audit: --data a-file\.txt: a file, not the folder a sync wrote/],
    [['--data', 'empty'], {}, /^closer-audit: --data empty: holds no synced data/],
    [
      ['--data', 's3://audit-bucket/closer'],
      {},
      /^closer-audit: --data s3:\/\/audit-bucket\/closer: .*Athena.*Trino/,
    ],
    [
      [],
      { CLOSER_OUT: 's3://audit-bucket/closer' },
      /^closer-audit: CLOSER_OUT s3:\/\/audit-bucket\/closer: .*Athena/,
    ],
  ])(
    'serve %j %j refuses to start: exit 2, one line naming the flag',
    async (args, env, message) => {
      const res = await serve(args, cwd, env);
      expect(res.started).toBe(false);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(message);
      expect(res.stderr.trim().split('\n')).toHaveLength(1);
    },
    60_000,
  );

  it('starts over a folder a sync wrote, named by --data or CLOSER_OUT', async () => {
    const byFlag = await serve(['--data', synced], cwd);
    expect(byFlag.stderr).toContain(`(DuckDB over ${synced})`);
    expect(byFlag.started).toBe(true);
    const byEnv = await serve([], cwd, { CLOSER_OUT: synced });
    expect(byEnv.started).toBe(true);
  }, 120_000);

  it('refuses settings it cannot use, naming them', async () => {
    const timeout = await serve(['--data', synced], cwd, { CLOSER_QUERY_TIMEOUT_MS: 'soon' });
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/^closer-audit: CLOSER_QUERY_TIMEOUT_MS "soon": milliseconds/);
    const memory = await serve(['--data', synced], cwd, { CLOSER_QUERY_MEMORY_LIMIT: 'lots' });
    expect(memory.code).toBe(2);
    expect(memory.stderr).toMatch(/^closer-audit: CLOSER_QUERY_MEMORY_LIMIT lots: a size/);
  }, 60_000);
});
