// What a user sees when the Elasticsearch settings are wrong: one line naming the setting at
// fault and what was found, exit 1 (2 for a setting that is not even well-formed), nothing written. The default test node answers what it can
// (a missing index, its own version); a proxy or a small HTTP server in front plays what a real
// node will not do on demand (a 401, an HTML login page, a proxy's bare 200, an old version).
import http from 'node:http';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import { cli } from '../support/cli.js';
import { createCloserLikeIndex, esUrl, loadHits, testClient, uniqueIndex } from '../support/es.js';
import { generateHour } from '../../functions/sample/generator.js';
import { startProxy } from '../support/proxy.js';
import { tmpDir } from '../support/tmp.js';

const DAY = Date.UTC(2026, 10, 20);

/** A server that is not Elasticsearch: answers every request with the same page. */
async function fakeServer(status: number, body: string, headers: Record<string, string>) {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(status, headers);
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function failure(source: ElasticsearchSource): Promise<string> {
  try {
    await source.countPerHour({ from: DAY, to: DAY + 3_600_000 });
  } catch (err) {
    return (err as Error).message;
  } finally {
    await source.close();
  }
  throw new Error('expected the source to fail');
}

async function emptyOrMissing(dir: string): Promise<boolean> {
  const entries = await fs.readdir(dir).catch(() => []);
  return entries.length === 0;
}

let index: string;

beforeAll(async () => {
  const client = testClient();
  index = uniqueIndex('closer-setup');
  await createCloserLikeIndex(client, index);
  await loadHits(client, index, generateHour(DAY, 20));
  await client.close();
});

afterAll(async () => {
  const client = testClient();
  await client.indices.delete({ index }).catch(() => undefined);
  await client.close();
});

describe('the server found, in the run’s first line', () => {
  it('names the version and how it reads, found through _nodes where GET / is missing', async () => {
    const source = new ElasticsearchSource({ url: esUrl(), index });
    await source.open();
    expect(source.description).toBe(
      `Elasticsearch 8.18.8 at ${esUrl()} index ${index}, point-in-time + search_after (tiebreaker _shard_doc)`,
    );
    await source.close();
  });

  it('`closer-audit sync` prints it first, on stderr', async () => {
    const out = await tmpDir('setup-first-line');
    const run = await cli(
      ['sync', '--source', 'es', '--out', out, '--from', '2026-11-20', '--to', '2026-11-21'],
      {
        CLOSER_ES_URL: esUrl(),
        CLOSER_ES_INDEX: index,
      },
    );
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe(
      `source  Elasticsearch 8.18.8 at ${esUrl()} index ${index}, point-in-time + search_after (tiebreaker _shard_doc)`,
    );
    expect(run.stdout).toMatch(/rows written\s+20/);
  });

  it('reads a cluster that hides GET / and _nodes as a current Elasticsearch (its product header says so)', async () => {
    const proxy = await startProxy(esUrl(), (req) =>
      req.method === 'GET' && (req.url === '/' || req.url?.startsWith('/_nodes'))
        ? { status: 403, body: { error: { type: 'security_exception', reason: 'action is unauthorized' } } }
        : null,
    );
    try {
      const source = new ElasticsearchSource({ url: proxy.url, index });
      expect((await source.countPerHour({ from: DAY, to: DAY + 3_600_000 })).get(DAY)).toBe(20);
      expect(source.description).toMatch(
        /^Elasticsearch \(version hidden\) at .*, point-in-time \+ search_after/,
      );
      await source.close();
    } finally {
      await proxy.close();
    }
  });

  it('CLOSER_ES_SERVER names the server where nothing tells it', async () => {
    const source = new ElasticsearchSource({ url: esUrl(), index, server: 'elasticsearch 7.9' });
    await source.open();
    expect(source.description).toMatch(/^Elasticsearch 7\.9 at .*, sorted scroll$/);
    expect((await source.countPerHour({ from: DAY, to: DAY + 3_600_000 })).get(DAY)).toBe(20);
    await source.close();
    const wrong = new ElasticsearchSource({ url: esUrl(), index, server: 'solr 9' });
    await expect(wrong.open()).rejects.toThrow(
      /^CLOSER_ES_SERVER "solr 9": use elasticsearch or opensearch and a version/,
    );
    await wrong.close();
  });
});

describe('one line naming the setting at fault', () => {
  it('CLOSER_ES_URL that is not a URL', async () => {
    expect(() => new ElasticsearchSource({ url: 'not-a-url', index: 'closer' })).toThrow(
      'CLOSER_ES_URL "not-a-url" is not a URL: use http(s)://host:port',
    );
    const out = await tmpDir('setup-not-a-url');
    const run = await cli(['sync', '--source', 'es', '--out', out], { CLOSER_ES_URL: 'not-a-url' });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'closer-audit: CLOSER_ES_URL "not-a-url" is not a URL: use http(s)://host:port\n',
    );
  });

  it('a 401 names the credentials sent, never their values', async () => {
    // A node without security will not refuse credentials: the proxy answers 401 as one would.
    const proxy = await startProxy(esUrl(), () => ({
      status: 401,
      body: {
        error: { type: 'security_exception', reason: 'unable to authenticate with provided credentials' },
        status: 401,
      },
    }));
    try {
      const withKey = await failure(
        new ElasticsearchSource({ url: proxy.url, index, apiKey: 'c2VjcmV0LWtleQ==' }),
      );
      expect(withKey).toBe(
        `${proxy.url} refused the credentials (HTTP 401): the API key in CLOSER_ES_API_KEY was sent`,
      );
      const out = await tmpDir('setup-401');
      const run = await cli(['sync', '--source', 'es', '--out', out], {
        CLOSER_ES_URL: proxy.url,
        CLOSER_ES_INDEX: index,
        CLOSER_ES_USERNAME: 'reader',
        CLOSER_ES_PASSWORD: 'hunter2-secret',
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `closer-audit: ${proxy.url} refused the credentials (HTTP 401): user "reader" (CLOSER_ES_USERNAME, with CLOSER_ES_PASSWORD) was sent\n`,
      );
      expect(run.stderr + run.stdout).not.toContain('hunter2');
      expect(await emptyOrMissing(path.join(out, 'events'))).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a missing index names CLOSER_ES_INDEX, with no point-in-time warning first', async () => {
    const out = await tmpDir('setup-no-index');
    const run = await cli(['sync', '--source', 'es', '--out', out], {
      CLOSER_ES_URL: esUrl(),
      CLOSER_ES_INDEX: 'closer-no-such-index',
    });
    expect(run.code).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^source {2}Elasticsearch 8\.18\.8 at /),
      `closer-audit: CLOSER_ES_INDEX "closer-no-such-index": no such index at ${esUrl()}`,
    ]);
    expect(await emptyOrMissing(path.join(out, 'events'))).toBe(true);
  });

  it('an HTML page, a proxy’s bare 200, an Elasticsearch too old: CLOSER_ES_URL and what was found', async () => {
    const html = await fakeServer(200, '<!DOCTYPE html><html><head><title>Sign in</title></head></html>', {
      'content-type': 'text/html; charset=utf-8',
    });
    const bare = await fakeServer(200, '{"status":"ok"}', { 'content-type': 'application/json' });
    const old = await fakeServer(
      200,
      JSON.stringify({ version: { number: '5.6.16' }, tagline: 'You Know, for Search' }),
      {
        'content-type': 'application/json',
      },
    );
    try {
      expect(await failure(new ElasticsearchSource({ url: html.url, index: 'closer' }))).toBe(
        `CLOSER_ES_URL ${html.url} is neither Elasticsearch nor OpenSearch: GET / answered an HTML page ("Sign in")`,
      );
      expect(await failure(new ElasticsearchSource({ url: bare.url, index: 'closer' }))).toBe(
        `CLOSER_ES_URL ${bare.url} is neither Elasticsearch nor OpenSearch: GET / answered JSON without a version: {"status":"ok"}`,
      );
      expect(await failure(new ElasticsearchSource({ url: old.url, index: 'closer' }))).toBe(
        `CLOSER_ES_URL ${old.url}: Elasticsearch 5.6.16 is too old; closer-audit reads Elasticsearch 6.x to 9.x and OpenSearch`,
      );
      const out = await tmpDir('setup-html');
      const run = await cli(
        ['verify', '--source', 'es', '--out', out, '--from', '2026-11-20', '--to', '2026-11-21'],
        {
          CLOSER_ES_URL: html.url,
        },
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^closer-audit: CLOSER_ES_URL .* an HTML page \("Sign in"\)\n$/);
    } finally {
      await Promise.all([html.close(), bare.close(), old.close()]);
    }
  });
});
