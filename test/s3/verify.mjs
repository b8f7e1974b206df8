#!/usr/bin/env node
// Self-check of the test S3 server: exercises every S3 feature the storage adapter relies on,
// with the real @aws-sdk/client-s3 and @aws-sdk/lib-storage, and prints 'N passed, N failed'.
//
//   node test/s3/verify.mjs [ENDPOINT]
//
// ENDPOINT defaults to $S3_URL, else the URL that `s3-server.sh start` wrote ($S3_URL_FILE,
// default test/s3/.run/url next to this file). Exit code 0 only when nothing failed.
//
// Environment (all optional):
//   S3_ACCESS_KEY / S3_SECRET_KEY   credentials      (default: closeraudit / closeraudit-secret)
//   S3_REGION                       signing region   (default: us-east-1)
//   S3_BUCKET                       bucket to use; created if missing, its test objects removed
//                                   at the end (default: a fresh bucket, removed at the end)
//   S3_CHECKSUM                     WHEN_SUPPORTED (SDK default) | WHEN_REQUIRED | both
//                                   (default: both: the whole suite runs once per setting)
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

const HERE = dirname(fileURLToPath(import.meta.url));

function endpointFromEnv() {
  if (process.argv[2]) return process.argv[2];
  if (process.env.S3_URL) return process.env.S3_URL;
  const file = process.env.S3_URL_FILE || join(HERE, '.run', 'url');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  console.error(
    `no endpoint: pass it as an argument, set S3_URL, or run 'bash ${join(HERE, 's3-server.sh')} start'`,
  );
  process.exit(2);
}

const ENDPOINT = endpointFromEnv().replace(/\/+$/, '');
const REGION = process.env.S3_REGION || 'us-east-1';
const CREDENTIALS = {
  accessKeyId: process.env.S3_ACCESS_KEY || 'closeraudit',
  secretAccessKey: process.env.S3_SECRET_KEY || 'closeraudit-secret',
};
const CHECKSUM_MODES =
  !process.env.S3_CHECKSUM || process.env.S3_CHECKSUM === 'both'
    ? ['WHEN_SUPPORTED', 'WHEN_REQUIRED']
    : [process.env.S3_CHECKSUM];

function client(checksum) {
  return new S3Client({
    endpoint: ENDPOINT,
    region: REGION,
    credentials: CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: checksum,
    responseChecksumValidation: checksum,
    maxAttempts: 1, // a retry would hide a flaky server, and would replay conditional writes
  });
}

// ------------------------------------------------------------------ tiny harness
let passed = 0;
let failed = 0;
const failures = [];

async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    failures.push(name);
    console.log(`FAIL ${name}: ${err?.stack || err}`);
  }
}

const notes = new Set();
function note(msg) {
  if (!notes.has(msg)) console.log(`note ${msg}`);
  notes.add(msg);
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}
function eq(actual, expected, msg) {
  if (actual !== expected) {
    throw new Error(`${msg}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Runs fn, which must fail with an S3 error of the given status (and name, when given). */
async function rejects(fn, status, names, msg) {
  let res;
  try {
    res = await fn();
  } catch (err) {
    const got = err?.$metadata?.httpStatusCode;
    if (got !== status)
      throw new Error(`${msg}: expected HTTP ${status}, got ${got} ${err?.name}: ${err?.message}`);
    if (names && !names.includes(err.name)) {
      throw new Error(`${msg}: expected error ${names.join(' or ')}, got ${err.name} (HTTP ${got})`);
    }
    return err;
  }
  throw new Error(
    `${msg}: expected HTTP ${status} ${names ? names.join('/') : ''}, but it succeeded (${JSON.stringify(res?.$metadata)})`,
  );
}

const md5 = (buf) => createHash('md5').update(buf).digest('hex');
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
async function body(out) {
  return Buffer.from(await out.Body.transformToByteArray());
}

// ------------------------------------------------------------------ suite
async function suite(s3, bucket, mode) {
  const P = `verify-${mode.toLowerCase()}-${Date.now().toString(36)}/`;
  const T = (name) => `[${mode}] ${name}`;

  await test(
    T('PutObject + GetObject round trip (content type, user metadata, hive-style key)'),
    async () => {
      const key = `${P}dt=2024-01-01/hour=03/part 1+é.parquet`;
      const data = randomBytes(1000);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: data,
          ContentType: 'application/vnd.apache.parquet',
          Metadata: { rows: '42' },
        }),
      );
      eq(put.ETag, `"${md5(data)}"`, 'PutObject ETag is the quoted MD5');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq(sha256(await body(got)), sha256(data), 'body');
      eq(got.ETag, put.ETag, 'GetObject ETag');
      eq(got.ContentType, 'application/vnd.apache.parquet', 'ContentType');
      eq(got.Metadata?.rows, '42', 'user metadata');
    },
  );

  await test(T('HeadObject (size, ETag) and 404 NotFound for a missing key'), async () => {
    const key = `${P}head.bin`;
    const data = randomBytes(4321);
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    eq(head.ContentLength, 4321, 'ContentLength');
    eq(head.ETag, put.ETag, 'ETag');
    assert(head.LastModified instanceof Date, 'LastModified is a Date');
    await rejects(
      () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `${P}nope` })),
      404,
      ['NotFound', 'NoSuchKey'],
      'HeadObject missing',
    );
    await rejects(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${P}nope` })),
      404,
      ['NoSuchKey'],
      'GetObject missing',
    );
  });

  await test(T('GetObject with Range (bytes=a-b, bytes=a-, bytes=-n) → 206 + Content-Range'), async () => {
    const key = `${P}range.bin`;
    const data = randomBytes(10_000);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));
    const mid = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=100-199' }));
    eq(mid.$metadata.httpStatusCode, 206, 'status');
    eq(mid.ContentRange, 'bytes 100-199/10000', 'ContentRange');
    eq(mid.ContentLength, 100, 'ContentLength');
    assert((await body(mid)).equals(data.subarray(100, 200)), 'bytes 100-199');
    const open = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=9990-' }));
    assert((await body(open)).equals(data.subarray(9990)), 'bytes 9990-');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=-8' }));
    eq(suffix.ContentRange, 'bytes 9992-9999/10000', 'suffix ContentRange');
    assert((await body(suffix)).equals(data.subarray(10_000 - 8)), 'last 8 bytes (parquet footer read)');
    await rejects(
      () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=20000-20010' })),
      416,
      ['InvalidRange'],
      'range past the end',
    );
  });

  await test(
    T('conditional PutObject If-None-Match: * → creates when absent, 412 PreconditionFailed when present'),
    async () => {
      const key = `${P}cond/create-only.json`;
      const first = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1', IfNoneMatch: '*' }),
      );
      assert(first.ETag, 'ETag returned');
      await rejects(
        () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v2', IfNoneMatch: '*' })),
        412,
        ['PreconditionFailed'],
        'second create-only PutObject',
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq((await body(got)).toString(), 'v1', 'object unchanged after the 412');
    },
  );

  await test(
    T('conditional PutObject If-Match: <etag> → overwrites on match, 412 PreconditionFailed on a stale ETag'),
    async () => {
      const key = `${P}cond/cas.json`;
      const v1 = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v1' }));
      const v2 = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v2', IfMatch: v1.ETag }),
      );
      assert(v2.ETag && v2.ETag !== v1.ETag, 'new ETag after the compare-and-swap');
      await rejects(
        () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v3', IfMatch: v1.ETag })),
        412,
        ['PreconditionFailed'],
        'PutObject with the stale ETag',
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq((await body(got)).toString(), 'v2', 'object unchanged after the 412');
      eq(got.ETag, v2.ETag, 'ETag unchanged after the 412');
      // the ETag also matches without its quotes, as on AWS
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'v4', IfMatch: v2.ETag.replaceAll('"', '') }),
      );
    },
  );

  await test(T('conditional PutObject If-Match on a missing key → 404 NoSuchKey (AWS) or 412'), async () => {
    await rejects(
      () =>
        s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: `${P}cond/absent.json`,
            Body: 'x',
            IfMatch: '"0123456789abcdef0123456789abcdef"',
          }),
        ),
      ...(ABSENT_IF_MATCH_STATUS === 412 ? [412, ['PreconditionFailed']] : [404, ['NoSuchKey']]),
      'If-Match on an absent key',
    );
  });

  await test(
    T('conditional writes are atomic: 8 concurrent If-None-Match: * PUTs → exactly one wins'),
    async () => {
      const key = `${P}cond/race.json`;
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer-${i}`, IfNoneMatch: '*' })),
        ),
      );
      const wins = results.filter((r) => r.status === 'fulfilled');
      const losses = results.filter((r) => r.status === 'rejected');
      for (const l of losses) {
        const st = l.reason?.$metadata?.httpStatusCode;
        // AWS answers 412, or 409 ConditionalRequestConflict while another conditional write is in flight
        assert(st === 412 || st === 409, `loser status 412/409, got ${st} ${l.reason?.name}`);
      }
      eq(wins.length, 1, 'number of winners');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq(got.ETag, wins[0].value.ETag, 'stored object is the winner');
    },
  );

  await test(
    T('conditional writes are atomic: 8 concurrent If-Match CAS PUTs on one ETag → exactly one wins'),
    async () => {
      const key = `${P}cond/cas-race.json`;
      const base = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'base' }));
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: `writer-${i}`, IfMatch: base.ETag }),
          ),
        ),
      );
      const wins = results.filter((r) => r.status === 'fulfilled');
      for (const l of results.filter((r) => r.status === 'rejected')) {
        const st = l.reason?.$metadata?.httpStatusCode;
        assert(st === 412 || st === 409, `loser status 412/409, got ${st} ${l.reason?.name}`);
      }
      eq(wins.length, 1, 'number of winners');
    },
  );

  await test(
    T('multipart via lib-storage Upload (12 MiB, 5 MiB parts) → "<md5>-3" ETag, exact bytes back'),
    async () => {
      const key = `${P}mpu/lib-storage.bin`;
      const data = randomBytes(12 * 1024 * 1024);
      const up = new Upload({
        client: s3,
        params: { Bucket: bucket, Key: key, Body: data, ContentType: 'application/octet-stream' },
        partSize: 5 * 1024 * 1024,
        queueSize: 2,
        leavePartsOnError: false,
      });
      let progress = 0;
      up.on('httpUploadProgress', (p) => (progress = Math.max(progress, p.loaded ?? 0)));
      const res = await up.done();
      assert(/^"[0-9a-f]{32}-3"$/.test(res.ETag), `multipart ETag, got ${res.ETag}`);
      eq(progress, data.length, 'httpUploadProgress reached the full size');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      eq(head.ContentLength, data.length, 'ContentLength');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq(sha256(await body(got)), sha256(data), 'content hash');
      const tail = await s3.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          Range: `bytes=${5 * 1024 * 1024 - 4}-${5 * 1024 * 1024 + 3}`,
        }),
      );
      assert(
        (await body(tail)).equals(data.subarray(5 * 1024 * 1024 - 4, 5 * 1024 * 1024 + 4)),
        'range across a part boundary',
      );
    },
  );

  await test(T('lib-storage Upload of a small body (single PutObject path)'), async () => {
    const key = `${P}mpu/small.txt`;
    const res = await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: 'small' } }).done();
    eq(res.ETag, `"${md5(Buffer.from('small'))}"`, 'ETag');
  });

  await test(
    T(
      'lib-storage Upload with IfNoneMatch/IfMatch params → 412 from done() on both the PutObject and multipart paths',
    ),
    async () => {
      const key = `${P}mpu/cond-upload.bin`;
      const small = Buffer.from('first');
      const big = randomBytes(6 * 1024 * 1024);
      const upload = (Body, extra) =>
        new Upload({
          client: s3,
          params: { Bucket: bucket, Key: key, Body, ...extra },
          partSize: 5 * 1024 * 1024,
          leavePartsOnError: false,
        }).done();
      const first = await upload(small, { IfNoneMatch: '*' }); // PutObject path, key absent
      await rejects(
        () => upload(small, { IfNoneMatch: '*' }),
        412,
        ['PreconditionFailed'],
        'single-part create-only upload',
      );
      // multipart path: lib-storage forwards the params to CompleteMultipartUpload
      await rejects(
        () => upload(big, { IfNoneMatch: '*' }),
        412,
        ['PreconditionFailed'],
        'multipart create-only upload',
      );
      await rejects(
        () => upload(big, { IfMatch: '"0123456789abcdef0123456789abcdef"' }),
        412,
        ['PreconditionFailed'],
        'multipart upload with a stale If-Match',
      );
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      eq(head.ETag, first.ETag, 'object unchanged after the 412s');
      const ok = await upload(big, { IfMatch: first.ETag });
      assert(/-2"$/.test(ok.ETag), `multipart CAS upload succeeded, ETag ${ok.ETag}`);
      const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
      eq((ups.Uploads ?? []).length, 0, 'failed uploads were aborted by lib-storage');
    },
  );

  await test(
    T('multipart by hand: Create/UploadPart/ListParts/Complete, and Abort → NoSuchUpload'),
    async () => {
      const key = `${P}mpu/manual.bin`;
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(1234)];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      assert(UploadId, 'UploadId');
      const etags = [];
      for (let i = 0; i < parts.length; i++) {
        const r = await s3.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: parts[i] }),
        );
        eq(r.ETag, `"${md5(parts[i])}"`, `part ${i + 1} ETag`);
        etags.push(r.ETag);
      }
      const listed = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId }));
      eq(listed.Parts?.length, 2, 'ListParts count');
      const done = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const expectEtag = `"${md5(Buffer.concat(parts.map((p) => Buffer.from(md5(p), 'hex'))))}-2"`;
      eq(done.ETag, expectEtag, 'multipart ETag = md5 of the part MD5s + "-2"');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq(sha256(await body(got)), sha256(Buffer.concat(parts)), 'content');

      const aborted = `${P}mpu/aborted.bin`;
      const a = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: aborted }));
      await s3.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: aborted,
          UploadId: a.UploadId,
          PartNumber: 1,
          Body: randomBytes(1024),
        }),
      );
      const inflight = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: aborted }));
      assert(
        (inflight.Uploads ?? []).some((u) => u.UploadId === a.UploadId),
        'ListMultipartUploads shows the upload',
      );
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: aborted, UploadId: a.UploadId }));
      await rejects(
        () =>
          s3.send(
            new UploadPartCommand({
              Bucket: bucket,
              Key: aborted,
              UploadId: a.UploadId,
              PartNumber: 2,
              Body: 'x',
            }),
          ),
        404,
        ['NoSuchUpload'],
        'UploadPart after abort',
      );
      const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: aborted }));
      assert(!(after.Uploads ?? []).some((u) => u.UploadId === a.UploadId), 'upload gone after abort');
      await rejects(
        () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: aborted })),
        404,
        null,
        'aborted object absent',
      );
    },
  );

  await test(
    T('conditional CompleteMultipartUpload: If-None-Match: * → 412 when the key exists'),
    async () => {
      const key = `${P}mpu/cond-complete.bin`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'exists' }));
      const { UploadId, complete } = await onePartUpload(s3, bucket, key, 'part');
      await rejects(
        () => complete({ IfNoneMatch: '*' }),
        412,
        ['PreconditionFailed'],
        'Complete with If-None-Match: *',
      );
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq((await body(got)).toString(), 'exists', 'object unchanged');
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
    },
  );

  await test(
    T(
      'conditional CompleteMultipartUpload: If-Match: <etag> → 412 on a stale ETag, succeeds on the current one',
    ),
    async () => {
      const key = `${P}mpu/cas-complete.bin`;
      const cur = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'current' }));
      const { complete } = await onePartUpload(s3, bucket, key, 'new-content');
      await rejects(
        () => complete({ IfMatch: '"0123456789abcdef0123456789abcdef"' }),
        412,
        ['PreconditionFailed'],
        'Complete with a stale If-Match',
      );
      await complete({ IfMatch: cur.ETag });
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      eq((await body(got)).toString(), 'new-content', 'object replaced');
    },
  );

  await test(
    T('ListObjectsV2 pagination: MaxKeys + ContinuationToken, Delimiter/CommonPrefixes, StartAfter'),
    async () => {
      const lp = `${P}list/`;
      const keys = [];
      for (let d = 1; d <= 3; d++)
        for (let h = 0; h < 3; h++) keys.push(`${lp}dt=2024-01-0${d}/hour=0${h}/part-0.parquet`);
      keys.push(`${lp}top.json`);
      await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }))));
      keys.sort();

      const seen = [];
      const pageSizes = [];
      let token;
      let pages = 0;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: lp, MaxKeys: 4, ContinuationToken: token }),
        );
        pages++;
        const n = page.Contents?.length ?? 0;
        pageSizes.push(n);
        eq(page.KeyCount, n, 'KeyCount');
        eq(page.MaxKeys, 4, 'MaxKeys echoed');
        for (const o of page.Contents ?? []) {
          seen.push(o.Key);
          assert(typeof o.Size === 'number' && o.ETag && o.LastModified, 'Size/ETag/LastModified listed');
        }
        if (page.IsTruncated) assert(page.NextContinuationToken, 'NextContinuationToken when truncated');
        else assert(!page.NextContinuationToken, 'no NextContinuationToken on the last page');
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
        assert(pages < 20, 'pagination terminates');
      } while (token);
      eq(JSON.stringify(pageSizes), JSON.stringify([4, 4, 2]), 'page sizes');
      eq(JSON.stringify(seen), JSON.stringify(keys), 'all keys, in UTF-8 binary order, once each');

      const dirs = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: lp, Delimiter: '/' }));
      eq(
        JSON.stringify((dirs.CommonPrefixes ?? []).map((c) => c.Prefix)),
        JSON.stringify([1, 2, 3].map((d) => `${lp}dt=2024-01-0${d}/`)),
        'CommonPrefixes',
      );
      eq(
        JSON.stringify((dirs.Contents ?? []).map((c) => c.Key)),
        JSON.stringify([`${lp}top.json`]),
        'Contents beside CommonPrefixes',
      );

      // delimiter + MaxKeys: prefixes count toward MaxKeys and pagination continues past them
      const seenPrefixes = [];
      token = undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: lp,
            Delimiter: '/',
            MaxKeys: 2,
            ContinuationToken: token,
          }),
        );
        for (const c of page.CommonPrefixes ?? []) seenPrefixes.push(c.Prefix);
        for (const o of page.Contents ?? []) seenPrefixes.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      eq(seenPrefixes.length, 4, 'paginated CommonPrefixes + Contents');

      const after = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: lp, StartAfter: keys[6] }),
      );
      eq(
        JSON.stringify((after.Contents ?? []).map((c) => c.Key)),
        JSON.stringify(keys.slice(7)),
        'StartAfter',
      );
      const none = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${lp}nothing-here/` }));
      eq(none.KeyCount, 0, 'empty listing KeyCount');
      assert(!none.Contents || none.Contents.length === 0, 'empty listing Contents');
    },
  );

  await test(
    T('CopyObject (URL-encoded source with special characters, metadata COPY and REPLACE)'),
    async () => {
      const src = `${P}copy/src dt=2024-01-01/é+x.bin`;
      const dst = `${P}copy/dst.bin`;
      const data = randomBytes(3000);
      const put = await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: src,
          Body: data,
          ContentType: 'application/x-a',
          Metadata: { a: '1' },
        }),
      );
      const cp = await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: dst,
          CopySource: `${bucket}/${encodeURIComponent(src).replaceAll('%2F', '/')}`,
        }),
      );
      eq(cp.CopyObjectResult?.ETag, put.ETag, 'copy ETag equals source ETag');
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: dst }));
      eq(sha256(await body(got)), sha256(data), 'copied content');
      eq(got.Metadata?.a, '1', 'metadata copied');
      eq(got.ContentType, 'application/x-a', 'content type copied');
      const dst2 = `${P}copy/dst2.bin`;
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: dst2,
          CopySource: `${bucket}/${encodeURIComponent(src).replaceAll('%2F', '/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'application/x-b',
          Metadata: { b: '2' },
        }),
      );
      const h = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: dst2 }));
      eq(h.ContentType, 'application/x-b', 'replaced content type');
      eq(h.Metadata?.b, '2', 'replaced metadata');
      assert(h.Metadata?.a === undefined, 'old metadata dropped');
      await rejects(
        () =>
          s3.send(
            new CopyObjectCommand({
              Bucket: bucket,
              Key: `${P}copy/x`,
              CopySource: `${bucket}/${P}copy/missing`,
            }),
          ),
        404,
        ['NoSuchKey'],
        'copy from a missing source',
      );
    },
  );

  await test(
    T('DeleteObject (idempotent) and DeleteObjects (batch, missing keys, Quiet without errors)'),
    async () => {
      const dp = `${P}del/`;
      const keys = Array.from({ length: 5 }, (_, i) => `${dp}k${i} =é.txt`);
      await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' }))));
      const d1 = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0] }));
      eq(d1.$metadata.httpStatusCode, 204, 'DeleteObject status');
      await rejects(
        () => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: keys[0] })),
        404,
        null,
        'deleted object gone',
      );
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: keys[0] })); // deleting again is not an error

      const res = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: [...keys.slice(1, 3), `${dp}never-existed`].map((Key) => ({ Key })) },
        }),
      );
      eq((res.Errors ?? []).length, 0, `DeleteObjects errors ${JSON.stringify(res.Errors)}`);
      eq(
        JSON.stringify((res.Deleted ?? []).map((d) => d.Key).sort()),
        JSON.stringify([...keys.slice(1, 3), `${dp}never-existed`].sort()),
        'Deleted lists every requested key (missing ones too)',
      );
      const quiet = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.slice(3).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      eq((quiet.Errors ?? []).length, 0, 'Quiet mode errors');
      // AWS lists no <Deleted> in Quiet mode; versitygw (and moto) still list them. Not relied upon.
      if ((quiet.Deleted ?? []).length)
        note('DeleteObjects Quiet=true still lists the deleted keys (AWS lists none)');
      const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: dp }));
      eq(left.KeyCount, 0, 'nothing left under the prefix');
    },
  );

  return P;
}

// ------------------------------------------------------------------ cleanup
/** A multipart upload of one part, left open; `complete(extra)` sends Complete with `extra` (conditions). */
async function onePartUpload(s3, bucket, key, content) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const part = await s3.send(
    new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: content }),
  );
  const complete = (extra) =>
    s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: [{ ETag: part.ETag, PartNumber: 1 }] },
        ...extra,
      }),
    );
  return { UploadId, complete };
}

async function emptyPrefix(s3, bucket, prefix) {
  let token;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    const objs = (page.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (objs.length)
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objs, Quiet: true } }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const ups = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  for (const u of ups.Uploads ?? []) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
  }
}

// If-Match on a key that does not exist: AWS answers 404 NoSuchKey; some servers answer 412.
// Set S3_IF_MATCH_ABSENT=412 to accept the latter.
const ABSENT_IF_MATCH_STATUS = Number(process.env.S3_IF_MATCH_ABSENT || 404);

const t0 = Date.now();
console.log(
  `S3 endpoint ${ENDPOINT} (region ${REGION}, path-style), checksum modes: ${CHECKSUM_MODES.join(', ')}`,
);
const admin = client('WHEN_REQUIRED');
const ownBucket = !process.env.S3_BUCKET;
const bucket = process.env.S3_BUCKET || `verify-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
try {
  await admin.send(new HeadBucketCommand({ Bucket: bucket }));
} catch {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
}
try {
  for (const mode of CHECKSUM_MODES) {
    const s3 = client(mode);
    const prefix = await suite(s3, bucket, mode);
    await emptyPrefix(admin, bucket, prefix).catch((e) => console.log(`(cleanup of ${prefix} failed: ${e})`));
  }
} finally {
  if (ownBucket) {
    await emptyPrefix(admin, bucket, '').catch(() => {});
    await admin
      .send(new DeleteBucketCommand({ Bucket: bucket }))
      .catch((e) => console.log(`(could not delete bucket ${bucket}: ${e})`));
  }
}
if (failures.length) console.log(`failed: ${failures.join('; ')}`);
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
