import path from 'node:path';
import { LocalFolderStorage } from './local-folder.js';
import { parseS3Url, S3Storage, s3ClientFor } from './s3.js';
import type { Storage } from './storage.js';

/**
 * `s3://bucket/prefix` → S3 (CLOSER_S3_ENDPOINT, CLOSER_S3_REGION or AWS_REGION and
 * CLOSER_S3_FORCE_PATH_STYLE for S3-compatible stores); anything else is a local folder.
 */
export function openStorage(target: string, env: NodeJS.ProcessEnv = process.env): Storage {
  if (target.startsWith('s3://')) {
    const options = {
      endpoint: env.CLOSER_S3_ENDPOINT || undefined,
      region: env.CLOSER_S3_REGION || env.AWS_REGION || (env.CLOSER_S3_ENDPOINT ? 'us-east-1' : undefined),
      forcePathStyle: env.CLOSER_S3_FORCE_PATH_STYLE ? env.CLOSER_S3_FORCE_PATH_STYLE === 'true' : undefined,
      // A bucket with Object Lock refuses uploads without a checksum.
      alwaysChecksum: !!env.CLOSER_S3_OBJECT_LOCK && env.CLOSER_S3_OBJECT_LOCK !== 'none',
    };
    return new S3Storage(s3ClientFor(options), parseS3Url(target), options);
  }
  return new LocalFolderStorage(path.resolve(target));
}
