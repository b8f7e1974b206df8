// Stops the node global-setup started (not one CI or a developer started and named in CLOSER_TEST_ES_URL).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalTeardown(): Promise<void> {
  if (process.env.CLOSER_TEST_ES_STARTED !== '1' || process.env.CLOSER_TEST_KEEP_ES === '1') return;
  execFileSync('bash', [path.join(root, 'test/elasticsearch/es-node.sh'), 'stop'], { stdio: 'inherit' });
}
