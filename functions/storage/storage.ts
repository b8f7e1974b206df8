/**
 * Where the sync writes: a local folder or an S3 bucket prefix, laid out identically.
 * Every adapter honours the same promises: an object becomes visible whole on commit or not
 * at all, and the versioned put refuses to overwrite a version it was not given.
 */
export interface ObjectSink {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the object visible, whole. */
  commit(): Promise<void>;
  /** Discards everything written; the key keeps its previous content (or stays absent). */
  abort(): Promise<void>;
}

export interface RandomAccessObject {
  readonly size: number;
  read(start: number, end: number): Promise<ArrayBuffer>;
  close(): Promise<void>;
}

export interface ObjectInfo {
  key: string;
  size: number;
}

export interface Versioned {
  body: Uint8Array;
  version: string;
}

export class ConcurrentUpdateError extends Error {
  constructor(key: string) {
    super(`${key} was changed by another run since it was read; this run stops without advancing it`);
    this.name = 'ConcurrentUpdateError';
  }
}

export interface Storage {
  /** For messages: `local folder ./out`, `s3://bucket/prefix`. */
  readonly location: string;
  openWrite(key: string): Promise<ObjectSink>;
  put(key: string, body: Uint8Array | string): Promise<void>;
  get(key: string): Promise<Uint8Array | null>;
  openRead(key: string): Promise<RandomAccessObject | null>;
  /** Every object whose key starts with the prefix, in key order. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** No error when the key is absent. */
  delete(key: string): Promise<void>;
  getVersioned(key: string): Promise<Versioned | null>;
  /**
   * Writes only if the object is still at `expected` (null: only if it does not exist yet).
   * Throws ConcurrentUpdateError otherwise. Returns the new version.
   */
  putIfVersion(key: string, body: Uint8Array | string, expected: string | null): Promise<string>;
}
