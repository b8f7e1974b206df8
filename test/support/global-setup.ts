// Starts (or reuses) the real Elasticsearch node the integration tests talk to.
// CLOSER_TEST_ES_URL points the tests at a node that is already running (CI starts one first);
// CLOSER_TEST_ES=off skips the start, for a quick run of unit tests only.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalSetup(): Promise<void> {
  if (process.env.CLOSER_TEST_ES_URL || process.env.CLOSER_TEST_ES === 'off') return;
  const script = path.join(root, 'test/elasticsearch/es-node.sh');
  const out = execFileSync('bash', [script, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = out.trim().split('\n').pop()?.trim();
  if (!url || !/^https?:\/\//.test(url)) throw new Error(`es-node.sh start printed no URL: ${out}`);
  process.env.CLOSER_TEST_ES_URL = url;
  process.env.CLOSER_TEST_ES_STARTED = '1';
}
