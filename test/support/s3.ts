import fs from 'node:fs/promises';
import path from 'node:path';
import { S3Storage, s3ClientFor, type S3Options } from '../../functions/storage/s3.js';
import type { Storage } from '../../functions/storage/storage.js';

export const TEST_BUCKET = 'closer-audit-test';
export const S3_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'closeraudit',
  AWS_SECRET_ACCESS_KEY: 'closeraudit-secret',
};

export function s3Url(): string {
  const url = process.env.CLOSER_TEST_S3_URL;
  if (!url) throw new Error('no test S3 server: run without CLOSER_TEST_S3=off, or set CLOSER_TEST_S3_URL');
  return url;
}

/** What the CLI and the Lambda read to reach the test server. */
export function s3Env(endpoint = s3Url()): Record<string, string> {
  return {
    ...S3_CREDENTIALS,
    CLOSER_S3_ENDPOINT: endpoint,
    CLOSER_S3_REGION: 'us-east-1',
    CLOSER_S3_FORCE_PATH_STYLE: 'true',
  };
}

let n = 0;
export function uniquePrefix(name: string): string {
  return `${name}-${process.pid}-${Date.now().toString(36)}-${n++}`;
}

export function testS3Storage(prefix: string, options: S3Options = {}, endpoint = s3Url()): S3Storage {
  Object.assign(process.env, S3_CREDENTIALS);
  const client = s3ClientFor({ endpoint, region: 'us-east-1', forcePathStyle: true, ...options });
  return new S3Storage(client, { bucket: TEST_BUCKET, prefix }, options);
}

/** Copies every object of a storage into a folder, so DuckDB can read what S3 holds. */
export async function mirrorToFolder(storage: Storage, dir: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of storage.list(prefix)) {
    const body = await storage.get(o.key);
    if (!body) continue;
    const file = path.join(dir, ...o.key.split('/'));
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, body);
    keys.push(o.key);
  }
  return keys;
}

/** The test bucket, created when the server was started without it. */
export async function ensureTestBucket(endpoint = s3Url()): Promise<void> {
  const { CreateBucketCommand, S3ServiceException } = await import('@aws-sdk/client-s3');
  Object.assign(process.env, S3_CREDENTIALS);
  const client = s3ClientFor({ endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    await client.send(new CreateBucketCommand({ Bucket: TEST_BUCKET }));
  } catch (err) {
    const name = err instanceof S3ServiceException ? err.name : '';
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  } finally {
    client.destroy();
  }
}
