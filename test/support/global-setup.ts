// Starts (or reuses) the real servers the integration tests talk to, on 127.0.0.1: an
// Elasticsearch node and an S3-compatible server (Versity S3 Gateway).
// CLOSER_TEST_ES_URL / CLOSER_TEST_S3_URL point the tests at servers already running (CI starts
// them first); CLOSER_TEST_ES=off / CLOSER_TEST_S3=off skip a start, for a quick unit-test run.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Whether the server is up already (then it is reused, and left running afterwards). */
function running(script: string): boolean {
  try {
    execFileSync('bash', [path.join(root, script), 'status'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function start(script: string, env: NodeJS.ProcessEnv = process.env): string {
  const out = execFileSync('bash', [path.join(root, script), 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env,
  });
  const url = out.trim().split('\n').pop()?.trim();
  if (!url || !/^https?:\/\//.test(url)) throw new Error(`${script} start printed no URL: ${out}`);
  return url;
}

export default async function globalSetup(): Promise<void> {
  if (!process.env.CLOSER_TEST_ES_URL && process.env.CLOSER_TEST_ES !== 'off') {
    const was = running('test/elasticsearch/es-node.sh');
    process.env.CLOSER_TEST_ES_URL = start('test/elasticsearch/es-node.sh');
    if (!was) process.env.CLOSER_TEST_ES_STARTED = '1';
  }
  if (!process.env.CLOSER_TEST_S3_URL && process.env.CLOSER_TEST_S3 !== 'off') {
    const was = running('test/s3/s3-server.sh');
    process.env.CLOSER_TEST_S3_URL = start('test/s3/s3-server.sh');
    if (!was) process.env.CLOSER_TEST_S3_STARTED = '1';
  }
  // Trino (issue 13): after S3, so its `s3` catalog reads the test S3 server.
  // CLOSER_TEST_TRINO_URL reuses a running one; CLOSER_TEST_TRINO=off skips the start.
  if (!process.env.CLOSER_TEST_TRINO_URL && process.env.CLOSER_TEST_TRINO !== 'off') {
    const was = running('test/trino/trino-server.sh');
    process.env.CLOSER_TEST_TRINO_URL = start('test/trino/trino-server.sh');
    if (!was) process.env.CLOSER_TEST_TRINO_STARTED = '1';
  }
}
