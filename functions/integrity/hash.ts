import { createHash } from 'node:crypto';
import type { Storage } from '../storage/storage.js';

/** Bytes read per request while hashing: memory stays at one chunk, whatever the object's size. */
export const HASH_CHUNK = 8 << 20;

/** Size and SHA-256 of a stored object, streamed chunk by chunk; null when it is absent. */
export async function hashObject(
  storage: Storage,
  key: string,
  chunk = HASH_CHUNK,
): Promise<{ size: number; sha256: string } | null> {
  const object = await storage.openRead(key);
  if (!object) return null;
  const hash = createHash('sha256');
  try {
    for (let at = 0; at < object.size; at += chunk) {
      hash.update(new Uint8Array(await object.read(at, Math.min(object.size, at + chunk))));
    }
  } finally {
    await object.close();
  }
  return { size: object.size, sha256: hash.digest('hex') };
}
