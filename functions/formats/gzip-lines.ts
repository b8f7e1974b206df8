import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { Storage } from '../storage/storage.js';

/** The non-empty lines of a gzip'd NDJSON object (quarantine, NDJSON events); none if it is absent. */
export async function* gzipLines(storage: Storage, key: string): AsyncIterable<string> {
  const body = await storage.get(key);
  if (body) yield* gzipLinesOf(body);
}

/** The non-empty lines of a gzip'd NDJSON body. */
export async function* gzipLinesOf(body: Uint8Array): AsyncIterable<string> {
  const lines = createInterface({ input: Readable.from([body]).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) if (line) yield line;
}
