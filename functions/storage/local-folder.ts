import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ConcurrentUpdateError,
  type ObjectInfo,
  type ObjectSink,
  type RandomAccessObject,
  type Storage,
  type Versioned,
} from './storage.js';

// Temporary files live outside the data prefixes, so no reader ever globs a partial object.
const TMP_DIR = '.tmp';
const LOCK_STALE_MS = 120_000;

/** The embedded default: a folder laid out exactly like the bucket. */
export class LocalFolderStorage implements Storage {
  readonly location: string;

  constructor(private readonly root: string) {
    this.location = `local folder ${root}`;
  }

  private file(key: string): string {
    if (key.split('/').some((p) => p === '..' || p === '')) throw new Error(`bad object key ${key}`);
    return path.join(this.root, ...key.split('/'));
  }

  private async tmpFile(): Promise<string> {
    const dir = path.join(this.root, TMP_DIR);
    await fs.mkdir(dir, { recursive: true });
    return path.join(dir, randomUUID());
  }

  async openWrite(key: string): Promise<ObjectSink> {
    const target = this.file(key);
    const tmp = await this.tmpFile();
    const stream = createWriteStream(tmp);
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    let failed: Error | null = null;
    stream.on('error', (err) => (failed = err));
    return {
      write: (chunk) => writeChunk(stream, chunk),
      commit: async () => {
        await endStream(stream);
        if (failed) throw failed;
        await fs.mkdir(path.dirname(target), { recursive: true });
        await fs.rename(tmp, target);
      },
      abort: async () => {
        stream.destroy();
        await fs.rm(tmp, { force: true });
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const target = this.file(key);
    const tmp = await this.tmpFile();
    await fs.writeFile(tmp, body);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(tmp, target);
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return await fs.readFile(this.file(key));
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async openRead(key: string): Promise<RandomAccessObject | null> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(this.file(key), 'r');
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const { size } = await handle.stat();
    return {
      size,
      read: async (start, end) => {
        const buf = Buffer.alloc(end - start);
        await handle.read(buf, 0, end - start, start);
        return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      },
      close: () => handle.close(),
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const all: ObjectInfo[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isNotFound(err)) return;
        throw err;
      }
      for (const e of entries) {
        const key = keyPrefix + e.name;
        if (keyPrefix === '' && e.name === TMP_DIR) continue;
        if (e.isDirectory()) {
          if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix))
            await walk(path.join(dir, e.name), key + '/');
        } else if (key.startsWith(prefix) && !e.name.endsWith('.lock')) {
          const st = await fs.stat(path.join(dir, e.name));
          all.push({ key, size: st.size });
        }
      }
    };
    await walk(this.root, '');
    all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    yield* all;
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async getVersioned(key: string): Promise<Versioned | null> {
    const body = await this.get(key);
    return body === null ? null : { body, version: versionOf(body) };
  }

  async putIfVersion(key: string, body: Uint8Array | string, expected: string | null): Promise<string> {
    // A lock directory makes compare-and-swap atomic between processes on one machine.
    const lock = `${this.file(key)}.lock`;
    await fs.mkdir(path.dirname(lock), { recursive: true });
    try {
      await fs.mkdir(lock);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const st = await fs.stat(lock).catch(() => null);
      if (st && Date.now() - st.mtimeMs < LOCK_STALE_MS) throw new ConcurrentUpdateError(key);
      await fs.rm(lock, { recursive: true, force: true });
      await fs.mkdir(lock).catch(() => {
        throw new ConcurrentUpdateError(key);
      });
    }
    try {
      const current = await this.getVersioned(key);
      if ((current?.version ?? null) !== expected) throw new ConcurrentUpdateError(key);
      await this.put(key, body);
      return versionOf(typeof body === 'string' ? Buffer.from(body) : body);
    } finally {
      await fs.rm(lock, { recursive: true, force: true });
    }
  }
}

function versionOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

function writeChunk(stream: WriteStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(chunk, (err) => (err ? reject(err) : resolve()));
  });
}

function endStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(() => resolve());
  });
}
