import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrinoEngine } from '../../functions/query/engines/trino.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function trinoUrl(): string {
  const url = process.env.CLOSER_TEST_TRINO_URL;
  if (!url) throw new Error('no test Trino: run without CLOSER_TEST_TRINO=off, or set CLOSER_TEST_TRINO_URL');
  return url;
}

/** The folder the test Trino's `local` catalog calls local:///. */
export function trinoRoot(): string {
  return (
    process.env.CLOSER_TEST_TRINO_ROOT ??
    execFileSync('bash', [path.join(root, 'test/trino/trino-server.sh'), 'root'], { encoding: 'utf8' }).trim()
  );
}

/** Runs statements (DDL) on the test Trino, one by one; `;`-separated as the ddl command prints them. */
export async function trinoExec(script: string): Promise<void> {
  const admin = new TrinoEngine({ url: trinoUrl(), table: 'system.runtime.nodes' });
  for (const statement of script.split(/;\s*(?:\n|$)/).map((s) => s.trim())) {
    if (statement) await admin.run(statement, []);
  }
}
