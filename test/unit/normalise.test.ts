import { describe, expect, it } from '@jest/globals';
import { normaliseHit, type RawHit } from '../../shared/normalise/normalise.js';
import { parseTimestamp } from '../../shared/normalise/timestamp.js';
import { canonicalIp } from '../../shared/normalise/ip.js';
import { resourceOf, urlPath } from '../../shared/normalise/url.js';
import { Redactor } from '../../shared/redaction/index.js';

const redactor = new Redactor();
const ctx = { redactor, ingestedAt: Date.UTC(2026, 0, 1) };

// The example hit of Closer's reference, verbatim.
const REFERENCE_HIT: RawHit = {
  _index: 'closer',
  _type: 'entry',
  _id: 's3baO3kBZbVQk2pxTK-w',
  _version: 1,
  _score: 0,
  _source: {
    '@timestamp': '2021-05-05T09:27:12.529+0000',
    message: {
      'event.kind': ['event'],
      'event.category': ['configuration'],
      'event.type': ['change', 'user'],
      'event.action': 'agent_skills_change',
      'event.outcome': 'success',
      'http.request.body.content': '{"skills":["skill"]}',
      'http.request.method': 'PUT',
      'http.response.status_code': 204,
      'user.id': '00000000-0000-0000-0000-000000000000',
      'user.roles': ['ADMIN'],
      'source.ip': '/89.187.249.34',
      'url.full':
        'http://spinner.stage.closer.app/api/users/agents/00000000-0000-0000-0000-000000000000/skills',
      'ecs.version': '1.9',
    },
  },
};

function ok(hit: RawHit) {
  const r = normaliseHit(hit, ctx);
  if (!r.ok) throw new Error(`expected a row, got quarantine: ${r.reason}`);
  return r.event;
}

function withMessage(message: unknown, ts: unknown = '2021-05-05T09:27:12.529+0000'): RawHit {
  return { _index: 'closer', _id: 'x1', _source: { '@timestamp': ts, message } };
}

describe('normaliseHit on the reference example', () => {
  it('maps every documented field to its column', () => {
    const e = ok(REFERENCE_HIT);
    expect(e).toEqual({
      ts: Date.UTC(2021, 4, 5, 9, 27, 12, 529),
      event_id: 's3baO3kBZbVQk2pxTK-w',
      es_index: 'closer',
      action: 'agent_skills_change',
      known_action: true,
      area: 'agent',
      outcome: 'success',
      categories: ['configuration'],
      types: ['change', 'user'],
      kinds: ['event'],
      user_id: '00000000-0000-0000-0000-000000000000',
      user_roles: ['ADMIN'],
      source_ip: '89.187.249.34',
      http_method: 'PUT',
      http_status: 204,
      url: 'http://spinner.stage.closer.app/api/users/agents/00000000-0000-0000-0000-000000000000/skills',
      url_path: '/api/users/agents/00000000-0000-0000-0000-000000000000/skills',
      resource_type: 'agent',
      resource_id: '00000000-0000-0000-0000-000000000000',
      request_body: '{"skills":["skill"]}',
      response_body: null,
      ecs_version: '1.9',
      extra: null,
      ingested_at: Date.UTC(2026, 0, 1),
    });
  });
});

describe('dotted and nested keys', () => {
  it('reads nested objects like dotted keys', () => {
    const e = ok(
      withMessage({
        event: { action: 'agent_login', outcome: 'failure', kind: 'event', category: ['authentication'] },
        http: {
          request: { method: 'post', body: { content: '{"email":"a@b.c"}' } },
          response: { status_code: 401 },
        },
        source: { ip: '/10.0.0.1' },
      }),
    );
    expect(e.action).toBe('agent_login');
    expect(e.outcome).toBe('failure');
    expect(e.http_method).toBe('POST');
    expect(e.http_status).toBe(401);
    expect(e.source_ip).toBe('10.0.0.1');
    expect(e.request_body).toBe('{"email":"a@b.c"}');
    expect(e.kinds).toEqual(['event']);
  });

  it('reads both forms mixed in one document', () => {
    const e = ok(
      withMessage({
        'event.action': 'org_topic_creation',
        event: { outcome: 'success' },
        'user.id': 'u1',
        user: { roles: 'ADMIN' },
      }),
    );
    expect([e.action, e.outcome, e.user_id, e.user_roles]).toEqual([
      'org_topic_creation',
      'success',
      'u1',
      ['ADMIN'],
    ]);
  });

  it('accepts the same value given in both forms, and quarantines different ones', () => {
    expect(
      ok(withMessage({ 'event.action': 'agent_logout', event: { action: 'agent_logout' } })).action,
    ).toBe('agent_logout');
    const r = normaliseHit(
      withMessage({ 'event.action': 'agent_logout', event: { action: 'agent_login' } }),
      ctx,
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/event\.action/);
  });

  it('reads fields at the top of _source and a message that is a JSON string', () => {
    const top = ok({ _index: 'i', _id: '1', _source: { '@timestamp': 0, 'event.action': 'agent_logout' } });
    expect(top.action).toBe('agent_logout');
    const str = ok(withMessage(JSON.stringify({ 'event.action': 'agent_restore' })));
    expect(str.action).toBe('agent_restore');
  });
});

describe('arrays or scalars', () => {
  it('stores lists whatever arrives', () => {
    const e = ok(
      withMessage({
        'event.kind': 'event',
        'event.type': ['change'],
        'user.roles': 'AGENT',
        'event.category': null,
      }),
    );
    expect(e.kinds).toEqual(['event']);
    expect(e.types).toEqual(['change']);
    expect(e.user_roles).toEqual(['AGENT']);
    expect(e.categories).toEqual([]);
  });

  it('takes a one-element array for a scalar field and quarantines several values', () => {
    expect(ok(withMessage({ 'event.action': ['agent_logout'] })).action).toBe('agent_logout');
    expect(normaliseHit(withMessage({ 'event.action': ['agent_logout', 'agent_login'] }), ctx).ok).toBe(
      false,
    );
  });
});

describe('source.ip', () => {
  it.each([
    ['/89.187.249.34', '89.187.249.34'],
    ['proxy.example.com/89.187.249.34', '89.187.249.34'],
    ['89.187.249.34', '89.187.249.34'],
    ['/0:0:0:0:0:0:0:1', '::1'],
    ['/2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['/2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['/fe80:0:0:0:200:f8ff:fe21:67cf%eth0', 'fe80::200:f8ff:fe21:67cf'],
    ['host.local/2001:0db8:0000:0000:0000:ff00:0042:8329', '2001:db8::ff00:42:8329'],
    ['/0:0:0:0:0:ffff:c0a8:101', '192.168.1.1'],
    ['[::1]', '::1'],
    ['2001:db8:1:0:0:0:0:0', '2001:db8:1::'],
    ['/0.0.0.0', '0.0.0.0'],
    ['/255.255.255.255', '255.255.255.255'],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalIp(raw)).toBe(canonical);
    expect(ok(withMessage({ 'source.ip': raw })).source_ip).toBe(canonical);
  });

  it.each(['/256.1.1.1', '/1.2.3', '/1.2.3.4.5', '/1..2.3', '/1.2.3.', '/1.2.3.4a', '/1234.1.1.1'])(
    'reads %s as no address',
    (raw) => {
      expect(canonicalIp(raw)).toBeNull();
    },
  );

  it('keeps an unreadable address in extra instead of dropping it', () => {
    const e = ok(withMessage({ 'source.ip': '/not-an-ip' }));
    expect(e.source_ip).toBeNull();
    expect(JSON.parse(e.extra as string)).toEqual({ 'source.ip': '/not-an-ip' });
  });
});

describe('timestamps', () => {
  const at = Date.UTC(2021, 4, 5, 9, 27, 12, 529);
  it.each([
    ['2021-05-05T09:27:12.529+0000', at],
    ['2021-05-05T09:27:12.529+00:00', at],
    ['2021-05-05T09:27:12.529Z', at],
    ['2021-05-05T11:27:12.529+0200', at],
    ['2021-05-05T04:57:12.529-04:30', at],
    ['2021-05-05T09:27:12.529123456Z', at],
    ['2021-05-05T09:27:12.5Z', at - 29],
    ['2021-05-05T09:27:12Z', at - 529],
    ['2021-05-05T09:27:12.529', at],
    [String(at), at],
    [at, at],
  ])('%s', (raw, expected) => {
    expect(parseTimestamp(raw)).toBe(expected);
    expect(ok(withMessage({}, raw)).ts).toBe(expected);
  });

  it.each([
    ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
    ['2000-02-29T00:00:00.000+0000', Date.UTC(2000, 1, 29)],
    ['1999-12-31T23:59:59.999+00:00', Date.UTC(1999, 11, 31, 23, 59, 59, 999)],
  ])('reads the usual form %s', (raw, expected) => {
    expect(parseTimestamp(raw)).toBe(expected);
  });

  it('reads back every millisecond it is given, in each of the usual forms', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const ms = Date.UTC(1990, 0, 1) + ((next() * 2 ** 20 + next()) % (50 * 365 * 86_400_000));
      const iso = new Date(ms).toISOString();
      expect(parseTimestamp(iso)).toBe(ms);
      expect(parseTimestamp(iso.replace('Z', '+0000'))).toBe(ms);
      expect(parseTimestamp(iso.replace('Z', '+00:00'))).toBe(ms);
    }
  });

  it.each([
    '2021-02-30T00:00:00Z',
    '2023-02-29T00:00:00.000+0000',
    '1900-02-29T00:00:00.000Z',
    '2021-04-31T00:00:00.000Z',
    '2021-05-05T24:00:00.000Z',
    '2021-05-05T09:60:00.000Z',
    '2021-05-05T09:27:12.5x9Z',
    'yesterday',
    '2021-13-01T00:00:00Z',
    '',
    null,
    {},
  ])('rejects %p', (raw) => {
    expect(parseTimestamp(raw)).toBeNull();
    const r = normaliseHit(withMessage({}, raw), ctx);
    expect(r.ok).toBe(false);
  });

  it('quarantines a hit without @timestamp with that reason', () => {
    const r = normaliseHit({ _index: 'closer', _id: '1', _source: { message: {} } }, ctx);
    expect(r).toEqual({ ok: false, reason: 'missing @timestamp' });
  });
});

describe('status codes, bodies, unknowns', () => {
  it('reads a status code given as a string', () => {
    expect(ok(withMessage({ 'http.response.status_code': '404' })).http_status).toBe(404);
    const odd = ok(withMessage({ 'http.response.status_code': 'n/a' }));
    expect(odd.http_status).toBeNull();
    expect(JSON.parse(odd.extra as string)['http.response.status_code']).toBe('n/a');
  });

  it('reads both body key spellings', () => {
    const a = ok(withMessage({ 'http.request.body': '{"a":1}', 'http.response.body': 'ok' }));
    expect([a.request_body, a.response_body]).toEqual(['{"a":1}', 'ok']);
    const b = ok(withMessage({ 'http.request.body.content': '{"a":1}', 'http.response.body.content': 'ok' }));
    expect([b.request_body, b.response_body]).toEqual(['{"a":1}', 'ok']);
  });

  it('keeps a body that is not JSON, and a truncated one, as text', () => {
    const e = ok(withMessage({ 'http.request.body.content': '{"name":"Sales","descr' }));
    expect(e.request_body).toBe('{"name":"Sales","descr');
  });

  it('keeps unknown actions, flagged, and unknown fields in extra', () => {
    const e = ok(
      withMessage({
        'event.action': 'agent_mfa_enabled',
        'user_agent.original': 'Mozilla/5.0',
        custom: { deep: 1 },
      }),
    );
    expect(e.action).toBe('agent_mfa_enabled');
    expect(e.known_action).toBe(false);
    expect(e.area).toBeNull();
    expect(JSON.parse(e.extra as string)).toEqual({ 'user_agent.original': 'Mozilla/5.0', 'custom.deep': 1 });
  });

  it('keeps a field named __proto__ as data, polluting nothing', () => {
    const hit = JSON.parse(
      '{"_index":"i","_id":"1","_source":{"@timestamp":0,"message":{"event.action":"agent_logout","__proto__":{"polluted":1},"x":{"__proto__":2}}}}',
    ) as RawHit;
    const e = ok(hit);
    expect(JSON.parse(e.extra as string)).toEqual({ '__proto__.polluted': 1, 'x.__proto__': 2 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('quarantines hits without an id or a _source', () => {
    expect(normaliseHit({ _index: 'closer', _source: {} }, ctx)).toEqual({
      ok: false,
      reason: 'missing _id',
    });
    expect(normaliseHit({ _index: 'closer', _id: '1' }, ctx)).toEqual({
      ok: false,
      reason: 'missing _source object',
    });
  });
});

describe('secrets', () => {
  it('redacts bodies, URLs and extra fields', () => {
    const e = ok(
      withMessage({
        'event.action': 'agent_login',
        'http.request.body.content': '{"email":"a@b.c","password":"hunter2"}',
        'http.response.body.content': '{"token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abcdefghijk"}',
        'url.full': 'https://x.closer.app/api/auth/magic-link?token=SECRETTOKEN123&redirect=%2Finbox',
        'http.request.headers.authorization': 'Bearer abc.def.ghi',
      }),
    );
    const stored = JSON.stringify(e);
    for (const secret of ['hunter2', 'eyJzdWIiOiIxIn0', 'SECRETTOKEN123', 'abc.def.ghi'])
      expect(stored).not.toContain(secret);
    expect(e.request_body).toContain('a@b.c');
    expect(e.url).toContain('redirect=%2Finbox');
  });
});

describe('url', () => {
  it('derives path and resource', () => {
    expect(urlPath('https://a.b/api/orgs/1/topics/7?x=1')).toBe('/api/orgs/1/topics/7');
    expect(resourceOf('/api/orgs/1/topics/7')).toEqual({ type: 'topic', id: '7' });
    expect(resourceOf('/api/users/agents/00000000-0000-0000-0000-000000000000/skills')).toEqual({
      type: 'agent',
      id: '00000000-0000-0000-0000-000000000000',
    });
    expect(resourceOf('/api/ai-suggestions/intents/6512bd43d9caa6e02c990b0a')).toEqual({
      type: 'ai_suggestions_intent'.replace('ai_suggestions_', ''),
      id: '6512bd43d9caa6e02c990b0a',
    });
    expect(resourceOf('/api/auth/login')).toBeNull();
    expect(resourceOf('/api/unavailability-reasons/12')).toEqual({ type: 'unavailability_reason', id: '12' });
  });
});
