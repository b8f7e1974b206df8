import { describe, expect, it } from '@jest/globals';
import { esConfigForLambda, parseEsSecret } from '../../functions/lambda/ingest/credentials.js';
import { readIngestEvent } from '../../functions/lambda/ingest/events.js';

// What EventBridge Scheduler / a schedule rule delivers.
const SCHEDULED = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-26T07:15:00Z',
  region: 'eu-central-1',
  resources: ['arn:aws:events:eu-central-1:123456789012:rule/closer-audit-prod-IngestEventsRuleSchedule1'],
  detail: {},
};

describe('ingest events', () => {
  it('reads a scheduled event as a sync run', () => {
    expect(readIngestEvent(SCHEDULED)).toEqual({ kind: 'scheduled', time: '2026-11-26T07:15:00Z' });
  });

  it('reads {from, to} as a resumable backfill', () => {
    expect(readIngestEvent({ from: '2026-11-01', to: '2026-11-08T00:00:00Z', restart: true })).toEqual({
      kind: 'backfill',
      from: Date.UTC(2026, 10, 1),
      to: Date.UTC(2026, 10, 8),
      restart: true,
    });
  });

  it('refuses a range it cannot read', () => {
    expect(() => readIngestEvent({ from: '2026-11-08', to: '2026-11-01' })).toThrow('from before to');
    expect(() => readIngestEvent({ from: 'yesterday' })).toThrow('ISO-8601');
  });
});

describe('Elasticsearch credentials for the Lambda', () => {
  it('reads a JSON secret or a bare API key', () => {
    expect(parseEsSecret('{"apiKey":"k=="}')).toEqual({
      apiKey: 'k==',
      url: undefined,
      username: undefined,
      password: undefined,
    });
    expect(parseEsSecret('{"username":"u","password":"p","url":"https://es:9200"}')).toMatchObject({
      username: 'u',
      password: 'p',
      url: 'https://es:9200',
    });
    expect(parseEsSecret('  aWQ6a2V5  ')).toEqual({ apiKey: 'aWQ6a2V5' });
  });

  it('never echoes a secret it cannot read', () => {
    expect(() => parseEsSecret('{"apiKey": "s3cr3t-value"')).toThrow(/neither JSON nor a bare API key/);
    try {
      parseEsSecret('{"apiKey": "s3cr3t-value"');
    } catch (err) {
      expect((err as Error).message).not.toContain('s3cr3t');
    }
    expect(() => parseEsSecret('{"url":"https://x"}')).toThrow('neither apiKey nor username/password');
  });

  it('takes the secret from Secrets Manager or SSM, the rest from the environment', async () => {
    const asked: string[] = [];
    const fetchers = {
      secret: async (id: string) => (asked.push(`secret:${id}`), '{"apiKey":"from-secrets-manager"}'),
      parameter: async (name: string) => (asked.push(`ssm:${name}`), '{"username":"u","password":"p"}'),
    };
    const fromSecret = await esConfigForLambda(
      { CLOSER_ES_URL: 'https://es:9200', CLOSER_ES_SECRET_ID: 'arn:secret', CLOSER_ES_INDEX: 'closer-*' },
      fetchers,
    );
    expect(fromSecret).toMatchObject({
      url: 'https://es:9200',
      index: 'closer-*',
      apiKey: 'from-secrets-manager',
    });
    const fromSsm = await esConfigForLambda(
      { CLOSER_ES_URL: 'https://es:9200', CLOSER_ES_SSM_PARAMETER: '/closer/es' },
      fetchers,
    );
    expect(fromSsm).toMatchObject({ username: 'u', password: 'p', index: 'closer' });
    expect(asked).toEqual(['secret:arn:secret', 'ssm:/closer/es']);
    await expect(esConfigForLambda({}, fetchers)).rejects.toThrow('no Elasticsearch URL');
  });

  it("asks for gzip'd responses only when CLOSER_ES_COMPRESSION says so", async () => {
    const fetchers = { secret: async () => '{"apiKey":"k"}', parameter: async () => undefined };
    const env = { CLOSER_ES_URL: 'https://es:9200', CLOSER_ES_SECRET_ID: 'arn:secret' };
    expect((await esConfigForLambda(env, fetchers)).compression).toBeUndefined();
    expect((await esConfigForLambda({ ...env, CLOSER_ES_COMPRESSION: 'on' }, fetchers)).compression).toBe(
      true,
    );
    expect((await esConfigForLambda({ ...env, CLOSER_ES_COMPRESSION: 'off' }, fetchers)).compression).toBe(
      false,
    );
    await expect(esConfigForLambda({ ...env, CLOSER_ES_COMPRESSION: 'gzip' }, fetchers)).rejects.toThrow(
      'CLOSER_ES_COMPRESSION "gzip": must be on or off',
    );
  });
});

describe('query Lambda adapter', () => {
  it('answers health through API Gateway payload 2.0 without touching Athena or the token', async () => {
    process.env.CLOSER_ATHENA_WORKGROUP = 'closer-audit-test';
    const { handler } = await import('../../functions/lambda/query/handler.js');
    const event = {
      version: '2.0',
      routeKey: 'GET /health',
      rawPath: '/health',
      rawQueryString: '',
      headers: { host: 'abc.execute-api.eu-central-1.amazonaws.com' },
      requestContext: { http: { method: 'GET', path: '/health' } },
      isBase64Encoded: false,
    };
    const context = { getRemainingTimeInMillis: () => 29_000, awsRequestId: 'r1', functionName: 'q' };
    const res = await handler(event as never, context as never);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body as string)).toEqual({ status: 'ok', engine: 'athena' });
    const missing = await handler(
      { ...event, rawPath: '/nope', requestContext: { http: { method: 'GET', path: '/nope' } } } as never,
      context as never,
    );
    expect(missing.statusCode).toBe(404);
    // GET /status is a route (with its query string), and wants the token like the others.
    const status = await handler(
      {
        ...event,
        rawPath: '/status',
        rawQueryString: 'from=2026-11-25T00:00:00Z',
        requestContext: { http: { method: 'GET', path: '/status' } },
      } as never,
      context as never,
    );
    expect(status.statusCode).toBe(401);
  });
});
