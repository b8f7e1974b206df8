import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { currentOwner, describeOwner, ownerIsGone, type Owner } from './owner.js';
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
/** A lock held this long by a process on another host is taken as stale (one on this host: when its process is gone). */
const LOCK_STALE_MS = 120_000;
/** A compare-and-swap holds its lock for milliseconds: a live holder is waited for this long. */
const LOCK_WAIT_MS = 10_000;
/** Temporary files of another host (a shared folder) are removed when this old. */
const FOREIGN_TMP_MAX_AGE_MS = 24 * 3_600_000;
const HOST_TAG = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');

/** The checkpoint's lock is held by another process that is still there (or not yet known to be gone). */
export class LockBusyError extends ConcurrentUpdateError {
  constructor(key: string, owner: Partial<LockOwner> | null, sinceMs: number) {
    super(key);
    const since = new Date(owner?.since ? Date.parse(owner.since) : sinceMs);
    const until = new Date(since.getTime() + LOCK_STALE_MS);
    this.message =
      `${key} is being written by ${owner ? describeOwner(owner) : 'another process'} since ${since.toISOString()}; ` +
      `its lock counts as stale from ${until.toISOString()} (at once if that process is gone from this host). ` +
      `This run stops without advancing it`;
    this.name = 'LockBusyError';
  }
}

interface LockOwner extends Owner {
  since: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

  private openTmp = 0;
  private swept: Promise<void> | null = null;

  /**
   * A new temporary file, named after its host and process so a later run can tell a dead run's
   * leftovers from a live run's files. The folder may vanish between mkdir and open, or within a
   * recursive mkdir that found it there (another storage or process removing its empty .tmp/):
   * then both are retried.
   */
  private async tmpFile<T>(open: (file: string) => Promise<T>): Promise<{ file: string; opened: T }> {
    const dir = path.join(this.root, TMP_DIR);
    this.swept ??= this.sweepTmp(dir);
    await this.swept;
    for (let attempt = 1; ; attempt++) {
      const file = path.join(dir, `${HOST_TAG}-${process.pid}-${randomUUID()}`);
      try {
        await fs.mkdir(dir, { recursive: true });
        const opened = await open(file);
        this.openTmp++;
        return { file, opened };
      } catch (err) {
        if (!isNotFound(err) || attempt >= 5) throw err;
      }
    }
  }

  /** Done with a temporary file: an empty .tmp/ is not left behind. */
  private async doneTmp(): Promise<void> {
    if (--this.openTmp > 0) return;
    await fs.rmdir(path.join(this.root, TMP_DIR)).catch(() => undefined);
  }

  /** Removes what killed runs left in .tmp/ (their process is gone), once per storage. */
  private async sweepTmp(dir: string): Promise<void> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const m = /^(.+)-(\d+)-[0-9a-f-]{36}$/.exec(name);
      const file = path.join(dir, name);
      let dead = m !== null && m[1] === HOST_TAG && ownerIsGone({ ...currentOwner(), pid: Number(m[2]) });
      if (!dead && (m === null || m[1] !== HOST_TAG)) {
        const st = await fs.stat(file).catch(() => null);
        dead = st !== null && Date.now() - st.mtimeMs > FOREIGN_TMP_MAX_AGE_MS;
      }
      if (dead) await fs.rm(file, { force: true, recursive: true }).catch(() => undefined);
    }
    await fs.rmdir(dir).catch(() => undefined);
  }

  /** Durable publish: the file's bytes reach the disk before the rename, the rename before we return. */
  private async publish(tmp: string, target: string): Promise<void> {
    const handle = await fs.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.rename(tmp, target);
    await syncDir(path.dirname(target));
  }

  async openWrite(key: string): Promise<ObjectSink> {
    const target = this.file(key);
    const { file: tmp, opened: stream } = await this.tmpFile(async (file) => {
      const stream = createWriteStream(file);
      await new Promise<void>((resolve, reject) =>
        stream.once('open', () => resolve()).once('error', reject),
      );
      return stream;
    });
    let failed: Error | null = null;
    stream.on('error', (err) => (failed = err));
    let finished = false;
    const finish = async () => {
      if (finished) return;
      finished = true;
      await this.doneTmp();
    };
    return {
      write: (chunk) => writeChunk(stream, chunk),
      commit: async () => {
        try {
          await endStream(stream);
          if (failed) throw failed;
          await this.publish(tmp, target);
        } catch (err) {
          await fs.rm(tmp, { force: true });
          throw err;
        } finally {
          await finish();
        }
      },
      abort: async () => {
        stream.destroy();
        await fs.rm(tmp, { force: true });
        await finish();
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const target = this.file(key);
    const { file: tmp } = await this.tmpFile((file) => fs.writeFile(file, body, { flag: 'wx' }));
    try {
      await this.publish(tmp, target);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    } finally {
      await this.doneTmp();
    }
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
          // Compare-and-swap locks (and ones being broken) are not objects.
          if (/\.lock(?:\.dead-[0-9a-f-]+)?$/.test(e.name)) continue;
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
    await takeLock(key, lock);
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

/**
 * Takes the lock directory, waiting a little for a live holder. A lock is stale when its owner
 * process is gone from this host (at once), or after LOCK_STALE_MS for an owner elsewhere. Breaking
 * a stale lock is itself exclusive (a `breaking` file created with O_EXCL inside it), and the
 * breaker checks the owner again under it, so two runs finding the same stale lock cannot both
 * remove it, nor remove a fresh lock taken meanwhile.
 */
async function takeLock(key: string, lock: string): Promise<void> {
  const ownerFile = path.join(lock, 'owner.json');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await fs.mkdir(lock);
      const owner: LockOwner = { ...currentOwner(), since: new Date().toISOString() };
      await fs.writeFile(ownerFile, JSON.stringify(owner));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seen = await fs.readFile(ownerFile, 'utf8').catch(() => null);
    const owner = parseOwner(seen);
    const st = await fs.stat(lock).catch(() => null);
    if (!st) continue; // released meanwhile
    const since = owner ? Date.parse(owner.since) : st.mtimeMs;
    // Without an owner file yet, the lock is being taken right now: stale only once that is long past.
    const stale = owner
      ? ownerIsGone(owner) || Date.now() - since > LOCK_STALE_MS
      : Date.now() - st.mtimeMs > LOCK_WAIT_MS;
    if (stale && (await breakLock(lock, ownerFile, seen))) continue;
    if (Date.now() > deadline) throw new LockBusyError(key, owner, since);
    await sleep(20 + Math.random() * 30);
  }
}

function parseOwner(text: string | null): LockOwner | null {
  try {
    return text ? (JSON.parse(text) as LockOwner) : null; // empty or partial: still being written
  } catch {
    return null;
  }
}

async function breakLock(lock: string, ownerFile: string, seen: string | null): Promise<boolean> {
  const marker = path.join(lock, 'breaking');
  try {
    await fs.writeFile(marker, JSON.stringify(currentOwner()), { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return true; // the lock went away: try to take it
    if (code !== 'EEXIST') throw err;
    // A breaker killed in the middle of breaking: its marker is cleared once it is clearly old.
    const st = await fs.stat(marker).catch(() => null);
    if (st && Date.now() - st.mtimeMs > LOCK_WAIT_MS) await fs.rm(marker, { force: true });
    return false;
  }
  const now = await fs.readFile(ownerFile, 'utf8').catch(() => null);
  if (now !== seen) {
    await fs.rm(marker, { force: true });
    return false;
  }
  const dead = `${lock}.dead-${randomUUID()}`;
  await fs.rename(lock, dead);
  await fs.rm(dead, { recursive: true, force: true });
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // Some file systems cannot fsync a directory; the rename is then as durable as they make it.
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR')
      throw err;
  } finally {
    await handle.close();
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
