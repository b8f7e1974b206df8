import { PassThrough } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  ConcurrentUpdateError,
  type ObjectInfo,
  type ObjectSink,
  type RandomAccessObject,
  type Storage,
  type Versioned,
} from './storage.js';

export interface S3Target {
  bucket: string;
  /** Key prefix, without leading or trailing slash ('' for the bucket's root). */
  prefix: string;
}

export interface S3Options {
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  /** Attempts per request, retries included (the SDK retries 5xx, SlowDown, throttling, resets). */
  maxAttempts?: number;
  /** Multipart part size in bytes (S3's minimum is 5 MiB). */
  partSize?: number;
  /** Time to establish a connection, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** A request with no bytes moving for this long fails as a timeout and is retried, ms (default 30 s). */
  requestTimeoutMs?: number;
  /** A checksum with every upload, as a bucket with Object Lock requires (default: only where S3 requires one). */
  alwaysChecksum?: boolean;
}

export const S3_CONNECT_TIMEOUT_MS = 10_000;
export const S3_REQUEST_TIMEOUT_MS = 30_000;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/**
 * S3 failures that are about the setup, not the data, as one line naming the setting at fault:
 * no region, no credentials, an endpoint that cannot be reached or stopped answering.
 */
export function describeS3Error(err: unknown, location: string, endpoint: string | undefined): unknown {
  if (!(err instanceof Error)) return err;
  // After its retries the SDK may wrap a network error ("AWS SDK error wrapper for Error: connect ...").
  const wrapped = err.message.startsWith('AWS SDK error wrapper');
  if (err instanceof S3ServiceException && !wrapped) return err;
  const where = `S3 (${location}${endpoint ? ` at ${endpoint}` : ''})`;
  const code =
    (err as NodeJS.ErrnoException).code ??
    ((err as { cause?: NodeJS.ErrnoException }).cause?.code ||
      /\b(E[A-Z]{4,})\b/.exec(err.message)?.[1] ||
      '');
  if (/region is missing/i.test(err.message)) {
    // A setting left out, not a fault of the run: the CLI exits 2 as for any usage error.
    return Object.assign(new Error(`${where} needs a region: set CLOSER_S3_REGION or AWS_REGION`), {
      exitCode: 2,
    });
  }
  if (err.name === 'CredentialsProviderError') {
    return new Error(
      `${where}: no AWS credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or a role)`,
    );
  }
  if (NETWORK_CODES.has(code) || err.name === 'TimeoutError') {
    const what =
      err.name === 'TimeoutError' ? 'stopped answering (timed out, retried)' : `cannot be reached (${code})`;
    return new Error(`${where} ${what}${endpoint ? '; check CLOSER_S3_ENDPOINT' : ''}`);
  }
  return err;
}

export function parseS3Url(url: string): S3Target {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new Error(`not an S3 URL: ${url} (use s3://bucket/prefix)`);
  return { bucket: m[1] as string, prefix: (m[2] as string).replace(/^\/+|\/+$/g, '') };
}

export function s3ClientFor(options: S3Options = {}): S3Client {
  const config: S3ClientConfig = {
    maxAttempts: options.maxAttempts ?? 6,
    // Checksums only where S3 requires them: S3-compatible stores differ in what else they accept.
    requestChecksumCalculation: options.alwaysChecksum ? 'WHEN_SUPPORTED' : 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint) config.endpoint = options.endpoint;
  if (options.region) config.region = options.region;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  // Without these a silent endpoint makes a call wait forever; a timeout is retried like a 5xx.
  config.requestHandler = {
    connectionTimeout: options.connectTimeoutMs ?? S3_CONNECT_TIMEOUT_MS,
    // Inactivity, not total time: a large part upload on a slow link is fine while bytes move.
    socketTimeout: options.requestTimeoutMs ?? S3_REQUEST_TIMEOUT_MS,
  };
  return new S3Client(config);
}

/**
 * The bucket, laid out exactly like the local folder. Objects appear whole or not at all: a
 * streamed object is a multipart upload that is completed on commit and aborted otherwise. The
 * checkpoint uses S3's conditional writes (If-None-Match / If-Match).
 */
export class S3Storage implements Storage {
  readonly location: string;

  constructor(
    private readonly client: S3Client,
    private readonly target: S3Target,
    private readonly options: S3Options = {},
  ) {
    this.location = `s3://${target.bucket}${target.prefix ? `/${target.prefix}` : ''}`;
    const location = this.location;
    // Outermost (around the retries): setup failures become one line that says it is S3 and what to set.
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          return await next(args);
        } catch (err) {
          throw describeS3Error(err, location, options.endpoint);
        }
      },
      { step: 'initialize', name: 'closerAuditDescribeErrors', override: true },
    );
  }

  private key(key: string): string {
    return this.target.prefix ? `${this.target.prefix}/${key}` : key;
  }

  async openWrite(key: string): Promise<ObjectSink> {
    const body = new PassThrough({ highWaterMark: 1 << 20 });
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.target.bucket, Key: this.key(key), Body: body },
      queueSize: 2,
      partSize: this.options.partSize ?? 8 << 20,
      leavePartsOnError: false,
    });
    const done = upload.done();
    done.catch(() => undefined);
    return {
      write: async (chunk) => {
        if (!body.write(chunk)) {
          await new Promise<void>((resolve, reject) => {
            const onDrain = () => {
              body.off('error', onError);
              resolve();
            };
            const onError = (err: Error) => {
              body.off('drain', onDrain);
              reject(err);
            };
            body.once('drain', onDrain).once('error', onError);
            // An upload that failed stops reading: surface its error instead of waiting forever.
            done.catch(onError);
          });
        }
      },
      commit: async () => {
        body.end();
        await done;
      },
      abort: async () => {
        await upload.abort().catch(() => undefined);
        body.destroy();
      },
    };
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.target.bucket, Key: this.key(key), Body: body }),
    );
  }

  async get(key: string): Promise<Uint8Array | null> {
    return (await this.getVersioned(key))?.body ?? null;
  }

  async openRead(key: string): Promise<RandomAccessObject | null> {
    let head;
    try {
      head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.target.bucket, Key: this.key(key) }),
      );
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    const etag = head.ETag;
    const size = head.ContentLength ?? 0;
    return {
      size,
      read: async (start, end) => {
        if (end <= start) return new ArrayBuffer(0);
        // Pinned to the ETag seen at open: a concurrent overwrite fails the read instead of mixing versions.
        const res = await this.client.send(
          new GetObjectCommand({
            Bucket: this.target.bucket,
            Key: this.key(key),
            Range: `bytes=${start}-${end - 1}`,
            IfMatch: etag,
          }),
        );
        const bytes = await (
          res.Body as { transformToByteArray(): Promise<Uint8Array> }
        ).transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
      close: async () => undefined,
    };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const full = this.key(prefix);
    const strip = this.target.prefix ? this.target.prefix.length + 1 : 0;
    for await (const page of paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.target.bucket, Prefix: full },
    )) {
      for (const o of page.Contents ?? []) {
        if (o.Key) yield { key: o.Key.slice(strip), size: o.Size ?? 0 };
      }
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.target.bucket, Key: this.key(key) }));
  }

  async getVersioned(key: string): Promise<Versioned | null> {
    try {
      const res = await this.client.send(
        new GetObjectCommand({ Bucket: this.target.bucket, Key: this.key(key) }),
      );
      const body = await (res.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
      return { body, version: res.ETag ?? '' };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async putIfVersion(key: string, body: Uint8Array | string, expected: string | null): Promise<string> {
    try {
      const res = await this.client.send(
        new PutObjectCommand({
          Bucket: this.target.bucket,
          Key: this.key(key),
          Body: body,
          ContentType: 'application/json',
          ...(expected === null ? { IfNoneMatch: '*' } : { IfMatch: expected }),
        }),
      );
      return res.ETag ?? '';
    } catch (err) {
      // 412: the object changed (or appeared); 409: another conditional write to it is in flight.
      const status = err instanceof S3ServiceException ? err.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409) throw new ConcurrentUpdateError(key);
      throw err;
    }
  }
}

function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404;
}
