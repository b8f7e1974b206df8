// Stops the servers global-setup started (not ones CI or a developer started and named).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default async function globalTeardown(): Promise<void> {
  if (process.env.CLOSER_TEST_KEEP_SERVERS === '1') return;
  if (process.env.CLOSER_TEST_ES_STARTED === '1') {
    execFileSync('bash', [path.join(root, 'test/elasticsearch/es-node.sh'), 'stop'], { stdio: 'inherit' });
  }
  if (process.env.CLOSER_TEST_S3_STARTED === '1') {
    execFileSync('bash', [path.join(root, 'test/s3/s3-server.sh'), 'stop'], { stdio: 'inherit' });
  }
  if (process.env.CLOSER_TEST_TRINO_STARTED === '1') {
    execFileSync('bash', [path.join(root, 'test/trino/trino-server.sh'), 'stop'], { stdio: 'inherit' });
  }
}
