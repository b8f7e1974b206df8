import type { ObjectInfo, ObjectSink, RandomAccessObject, Storage, Versioned } from './storage.js';

/**
 * A storage that hands every call to another. The wrappers that guard a run's writes (the lease,
 * the manifests) extend it and override only the calls they guard.
 */
export class DelegatingStorage implements Storage {
  readonly location: string;

  constructor(protected readonly inner: Storage) {
    this.location = inner.location;
  }

  openWrite(key: string): Promise<ObjectSink> {
    return this.inner.openWrite(key);
  }

  put(key: string, body: Uint8Array | string): Promise<void> {
    return this.inner.put(key, body);
  }

  get(key: string): Promise<Uint8Array | null> {
    return this.inner.get(key);
  }

  openRead(key: string): Promise<RandomAccessObject | null> {
    return this.inner.openRead(key);
  }

  list(prefix: string): AsyncIterable<ObjectInfo> {
    return this.inner.list(prefix);
  }

  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }

  getVersioned(key: string): Promise<Versioned | null> {
    return this.inner.getVersioned(key);
  }

  putIfVersion(key: string, body: Uint8Array | string, expected: string | null): Promise<string> {
    return this.inner.putIfVersion(key, body, expected);
  }
}
