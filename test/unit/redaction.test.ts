import { describe, expect, it } from '@jest/globals';
import {
  DEFAULT_REDACTION_RULES,
  mergeRedactionRules,
  parseRedactionRules,
  REDACTED,
  Redactor,
} from '../../shared/redaction/index.js';

const r = new Redactor();

/** Every secret is gone and every piece of context is still there. */
function check(out: string, secrets: string[], kept: string[]): void {
  for (const s of secrets) expect(out).not.toContain(s);
  for (const k of kept) expect(out).toContain(k);
  expect(out).toContain(REDACTED);
}

const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const STRIPE = 'sk_live_51HdQmTJxYzAbCdEf0123456789';

describe('isSecretKey', () => {
  it.each([
    'password',
    'Password',
    'PASSWORD',
    'newPassword',
    'old_password',
    'password_confirmation',
    'passwordHash',
    'passwd',
    'pwd',
    'pass',
    'passphrase',
    'secret',
    'client_secret',
    'clientSecret',
    'webhookSecret',
    'token',
    'access_token',
    'accessToken',
    'refresh_token',
    'id_token',
    'magicLinkToken',
    'resetToken',
    'X-CSRF-Token',
    'tokens',
    'apiKey',
    'api_key',
    'API-Key',
    'x-api-key',
    'X-API-KEY',
    'privateKey',
    'private_key',
    'accessKeyId',
    'authorization',
    'Authorization',
    'Proxy-Authorization',
    'auth',
    'cookie',
    'Set-Cookie',
    'credential',
    'credentials',
    'otp',
    'pin',
    'signature',
    'X-Hub-Signature',
    'sessionId',
    'JSESSIONID',
    'code',
    'cvc',
    'cvv',
    'card_cvc',
    'cardNumber',
    'card_number',
    'user.pin',
    'user[pass]',
    'Client Secret',
  ])('%s is a secret key', (key) => {
    expect(r.isSecretKey(key)).toBe(true);
  });

  // Metadata about a secret is audit data, never the secret: these stay.
  it.each([
    'passwordChangedAt',
    'password_changed_at',
    'passwordUpdatedAt',
    'passwordLastChanged',
    'passwordMinLength',
    'author',
    'authorId',
    'author_id',
    'oauthProvider',
    'authenticated',
    'tokenCount',
    'tokensLimit',
    'tokenLimit',
    'maxTokens',
    'max_tokens',
    'totalTokens',
    'tokenizer',
    'tokenType',
    'tokenExpiresAt',
    'expires_in',
    'tokenUrl',
    'token_endpoint',
    'authorizationUrl',
    'clientSecretExpiresAt',
    'cvc_check',
    'cardNumberLast4',
    'bypass',
    'compass',
    'passenger',
    'description',
    'email',
    'userId',
    'skills',
    'pinned',
    'key', // deliberately not a default (form field / tag mapping configs); add '^key$' to extend
  ])('%s is not a secret key', (key) => {
    expect(r.isSecretKey(key)).toBe(false);
  });
});

describe('text(): JSON bodies', () => {
  it('redacts nested objects and arrays of objects, keeps the rest', () => {
    const body = JSON.stringify({
      email: 'agent@example.com',
      password: 'hunter2-pw',
      profile: { name: 'Anna', credentials: { user: 'anna', value: 'cred-value-1' } },
      integrations: [
        { type: 'lekta', apiKey: 'lekta-key-1', url: 'https://lekta.example.com' },
        { type: 'oauth', client_secret: 'oauth-secret-1', clientId: 'client-42' },
      ],
    });
    const out = r.text(body);
    check(
      out,
      ['hunter2-pw', 'cred-value-1', 'lekta-key-1', 'oauth-secret-1'],
      ['agent@example.com', 'Anna', 'lekta', 'https://lekta.example.com', 'client-42'],
    );
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed['password']).toBe(REDACTED);
    expect((parsed['profile'] as Record<string, unknown>)['credentials']).toBe(REDACTED);
  });

  it('redacts non-string secret values whatever their type, keeps null and booleans', () => {
    const out = r.text(
      '{"pin":987654,"otp":{"digits":"112233"},"code":["4455","6677"],"token":null,"cookie":false,"name":"x"}',
    );
    check(out, ['987654', '112233', '4455', '6677'], ['"name":"x"', '"token":null', '"cookie":false']);
  });

  it('matches keys in many spellings', () => {
    const body = JSON.stringify({
      'X-API-KEY': 'v-apikey-1',
      Api_Key: 'v-apikey-2',
      'api.key': 'v-apikey-3',
      ACCESS_TOKEN: 'v-token-1',
      RefreshToken: 'v-token-2',
      'Client Secret': 'v-secret-1',
      Authorization: 'Basic dXNlcjpwYXNzd29yZA==',
      visible: 'still-here',
    });
    const out = r.text(body);
    check(
      out,
      ['v-apikey-1', 'v-apikey-2', 'v-apikey-3', 'v-token-1', 'v-token-2', 'v-secret-1', 'dXNlcjpw'],
      ['still-here', 'X-API-KEY', 'Client Secret'],
    );
  });

  it('redacts strings nested in strings: JSON text, URLs with query tokens, free text', () => {
    const body = JSON.stringify({
      payload: JSON.stringify({ password: 'inner-pw', keep: 'inner-keep' }),
      redirectUrl: 'https://app.example.com/cb?token=url-token-1&lang=pl',
      link: 'https://app.closer.app/api/auth/magic-link/ml-token-1',
      note: `Authorization: Bearer ${JWT}`,
    });
    const out = r.text(body);
    check(
      out,
      ['inner-pw', 'url-token-1', 'ml-token-1', JWT, 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'],
      [
        'inner-keep',
        'https://app.example.com/cb?token=',
        '&lang=pl',
        '/api/auth/magic-link/',
        'Authorization',
      ],
    );
  });

  it('redacts a secret under an earlier duplicate key (JSON.parse keeps only the last)', () => {
    const out = r.text('{"password":"dup-secret","password":null,"a":1}');
    expect(out).not.toContain('dup-secret');
    expect(out).toContain('"a":1');
  });

  it('redacts secret-looking map keys and card numbers sent as JSON numbers', () => {
    const out = r.text(
      `{"${STRIPE}":1,"card":{"number":4242424242424242,"exp_month":12},"ts":1620206832529}`,
    );
    check(out, [STRIPE, '4242424242424242'], ['"exp_month":12', '1620206832529']);
  });

  it('keeps bodies without secrets intact (modulo JSON whitespace)', () => {
    const body =
      '{"skills":["skill"],"passwordChangedAt":"2021-05-05T09:27:12Z","authorId":"a-1","tokenCount":42}';
    expect(r.text(body)).toBe(body);
    expect(r.text('{ "a": 1 }')).toBe('{"a":1}');
  });
});

describe('text(): truncated JSON', () => {
  it('redacts a value cut in the middle', () => {
    const out = r.text('{"email":"agent@example.com","password":"hunter2-cut');
    check(out, ['hunter2-cut', 'hunter2'], ['agent@example.com', '"password":"']);
  });

  it('redacts a value cut right after the colon or the opening quote (nothing left to leak)', () => {
    expect(r.text('{"email":"agent@example.com","password":')).toBe(
      '{"email":"agent@example.com","password":',
    );
    expect(r.text('{"email":"a@b.c","password": "')).toBe('{"email":"a@b.c","password": "');
    expect(r.text('{"email":"a@b.c","passw')).toBe('{"email":"a@b.c","passw');
  });

  it('redacts complete values before the cut and keeps the context after them', () => {
    const out = r.text(
      '{"token":"tok-complete","refresh_token":"rt-complete","user":{"id":"u-1","name":"Ann',
    );
    check(out, ['tok-complete', 'rt-complete'], ['"user":{"id":"u-1","name":"Ann']);
  });

  it('redacts escaped quotes inside a secret string without stopping early', () => {
    const out = r.text('{"password":"ab\\"cd-rest","next":"kept-value","x":"');
    check(out, ['cd-rest', 'ab\\"'], ['"next":"kept-value"']);
  });

  it('redacts a secret object or array, even when it is cut off', () => {
    const out = r.text('{"credentials":{"user":"svc","value":"obj-secret"},"after":"kept-after","cut":"');
    check(out, ['obj-secret', 'svc'], ['"after":"kept-after"']);
    const cut = r.text('{"name":"oauth","tokens":{"access":"acc-secret","refresh":"ref-sec');
    check(cut, ['acc-secret', 'ref-sec'], ['"name":"oauth"']);
  });

  it('redacts numbers and other bare values, keeps null and booleans', () => {
    const out = r.text('{"pin":123456,"otp":998877,"mfa":true,"token":null,"cvc":12');
    check(out, ['123456', '998877', '"cvc":12'], ['"mfa":true', '"token":null']);
  });

  it('redacts backslash-escaped JSON (a body stored as a JSON string), cut off', () => {
    const out = r.text(
      '{"body":"{\\"login\\":\\"anna\\",\\"password\\":\\"esc-pw\\",\\"keep\\":\\"esc-keep\\"}","m',
    );
    check(out, ['esc-pw'], ['\\"login\\":\\"anna\\"', '\\"keep\\":\\"esc-keep\\"']);
  });

  it('handles pretty-printed, single-quoted and unicode-escaped keys', () => {
    check(
      r.text('{\n  "user": "ann",\n  "password" :\n    "pretty-pw",\n  "x": ['),
      ['pretty-pw'],
      ['"user": "ann"'],
    );
    check(r.text("{'password': 'py-pw', 'user': 'py-user'"), ['py-pw'], ["'user': 'py-user'"]);
    check(r.text('{"p\\u0061ssword":"uni-pw","a":"b'), ['uni-pw'], ['"a":"b']);
  });

  it('redacts URLs and secret values inside a truncated body', () => {
    const out = r.text(
      `{"redirect":"https://x.example.com/cb?token=q-token&a=b","link":"https://x.example.com/reset/r-token","k":"${STRIPE}","more":"abc`,
    );
    check(
      out,
      ['q-token', 'r-token', STRIPE],
      ['https://x.example.com/cb?token=', '&a=b', '/reset/', '"more":"abc'],
    );
  });
});

describe('text(): form bodies, headers, plain text', () => {
  it('redacts form-encoded bodies', () => {
    const out = r.text('username=anna%40example.com&password=hunter2%21&remember=true');
    expect(out).toBe(`username=anna%40example.com&password=${REDACTED}&remember=true`);
  });

  it('redacts form keys that are percent-encoded or bracketed, and nested encoded URLs', () => {
    const out = r.text(
      'user%5Bpassword%5D=br-pw&user[email]=a%40b.c&next=https%3A%2F%2Fapp%2Fcb%3Ftoken%3Dnested-tok%26x%3D1',
    );
    check(
      out,
      ['br-pw', 'nested-tok'],
      ['user%5Bpassword%5D=', 'user[email]=a%40b.c', 'next=https%3A%2F%2Fapp%2Fcb'],
    );
  });

  it('redacts header lines and keeps the other headers', () => {
    const out = r.text(
      `POST /api/login HTTP/1.1\nHost: spinner.closer.app\nAuthorization: Bearer ${JWT}\nCookie: SESSION=cookie-sess; theme=dark\nX-Api-Key: hdr-key-1\nContent-Type: application/json`,
    );
    check(
      out,
      [JWT, 'cookie-sess', 'hdr-key-1'],
      ['Host: spinner.closer.app', 'Content-Type: application/json', 'Authorization: ', 'POST /api/login'],
    );
  });

  it('redacts Bearer, Basic, JWT and API keys anywhere in prose', () => {
    const text = [
      `curl -H 'Authorization: Bearer abcDEF123456ghi' with ${STRIPE}`,
      `jwt ${JWT} then Basic dXNlcjpwYXNzd29yZA== and AKIAIOSFODNN7EXAMPLE`,
      'slack xoxb-123456789012-abcdefghijkl and ghp_0123456789abcdefghijABCDEFGHIJ012345',
      'stripe rk_test_abcdefgh1234 whsec_abcdefgh12345678 tok_1AbCdEfGhIjKlMnO pi_3AbCdEfGh1234_secret_AbCdEfGh5678',
      'openai sk-proj-abcdefghijklmnopqrstuv1234 google AIzaSyA-1234567890abcdefghijklmnopqrstu',
      'db postgres://svc:db-pass-1@db.example.com:5432/app card 4111 1111 1111 1111 end',
    ].join('\n');
    const out = r.text(text);
    check(
      out,
      [
        'abcDEF123456ghi',
        STRIPE,
        JWT,
        'dXNlcjpw',
        'AKIAIOSFODNN7EXAMPLE',
        'xoxb-123456789012',
        'ghp_0123456789',
        'rk_test_abcdefgh1234',
        'whsec_abcdefgh',
        'tok_1AbCdEfGhIjKlMnO',
        '_secret_AbCdEfGh5678',
        'sk-proj-abcdefghij',
        'AIzaSyA-123',
        'db-pass-1',
        '4111 1111',
      ],
      [
        'curl -H',
        'jwt ',
        'slack ',
        'stripe ',
        'openai ',
        'postgres://svc:',
        '@db.example.com:5432/app',
        ' end',
      ],
    );
  });

  it('redacts PEM private key bodies, even cut off, and keeps the armour lines', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7pem\n-----END RSA PRIVATE KEY-----';
    check(
      r.text(`key:\n${pem}\nafter`),
      ['MIIEpAIBAAKCAQEA7pem'],
      ['-----BEGIN RSA PRIVATE KEY-----', 'after'],
    );
    check(r.value({ pem: pem.slice(0, 45) }).pem, ['MIIEpAIBAAKCAQEA'], ['-----BEGIN RSA PRIVATE KEY-----']);
  });

  it('redacts key: value and key=value in log-style text', () => {
    const out = r.text('login failed for anna, password: pl41n-pw\nretry token=tok-log-1 at 10:30');
    check(out, ['pl41n-pw', 'tok-log-1'], ['login failed for anna', 'retry token=', 'at 10:30']);
  });

  it('redacts multipart/form-data parts named like secrets', () => {
    const body =
      '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nanna@example.com\r\n--b\r\n' +
      'Content-Disposition: form-data; name="password"\r\n\r\nmultipart-pw\r\n--b--\r\n';
    check(r.text(body), ['multipart-pw'], ['anna@example.com', 'name="password"', '--b--']);
  });

  it('leaves ordinary text alone', () => {
    for (const s of [
      'Basic settings were changed by the author',
      'The bearer of this message',
      'Topic "Billing" renamed at 2021-05-05T09:27:12.529+0000',
      'passwordChangedAt: 2021-05-05T09:27:12Z',
      'tokenCount=42&authorId=a-1',
      'http://spinner.stage.closer.app/api/users/agents/00000000-0000-0000-0000-000000000000/skills',
    ]) {
      expect(r.text(s)).toBe(s);
    }
  });
});

describe('url()', () => {
  it('redacts secret query parameters, keeps the others byte-identical', () => {
    const url =
      'https://spinner.closer.app/api/auth/login?lang=pl&token=q-tok-1&Password=q-pw-1&next=%2Fhome%20page';
    expect(r.url(url)).toBe(
      `https://spinner.closer.app/api/auth/login?lang=pl&token=${REDACTED}&Password=${REDACTED}&next=%2Fhome%20page`,
    );
  });

  it('redacts access_token, mixed-case and encoded keys, OAuth codes', () => {
    const out = r.url(
      'https://x.example.com/cb?ACCESS_TOKEN=at-1&refresh%5Ftoken=rt-1&Api-Key=ak-1&code=oauth-code-1&state=st-1&sig=sig-1',
    );
    check(
      out,
      ['at-1', 'rt-1', 'ak-1', 'oauth-code-1', 'sig-1'],
      ['state=st-1', 'ACCESS_TOKEN=', 'refresh%5Ftoken='],
    );
  });

  it('redacts secrets inside encoded nested URLs in parameter values', () => {
    const out = r.url(
      'https://x.example.com/login?redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Ftoken%3Denc-tok%26lang%3Dpl&b=2',
    );
    check(
      out,
      ['enc-tok'],
      ['redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb%3Ftoken%3D', 'lang%3Dpl', '&b=2'],
    );
  });

  it('redacts fragment parameters (OAuth implicit flow) and SPA fragment routes', () => {
    check(
      r.url('https://app.example.com/cb#access_token=frag-tok&token_type=bearer&expires_in=3600'),
      ['frag-tok'],
      ['https://app.example.com/cb#access_token=', 'token_type=bearer', 'expires_in=3600'],
    );
    check(
      r.url('https://app.example.com/#/reset-password/spa-tok?token=spa-q&x=1'),
      ['spa-tok', 'spa-q'],
      ['https://app.example.com/#/reset-password/', '&x=1'],
    );
  });

  it('redacts userinfo passwords, and a lone userinfo that may be a token', () => {
    expect(r.url('https://admin:s3cr3t-ui@host.example.com:8443/p?q=1')).toBe(
      `https://admin:${REDACTED}@host.example.com:8443/p?q=1`,
    );
    check(r.url('https://ghtoken1234@github.com/org/repo'), ['ghtoken1234'], ['@github.com/org/repo']);
  });

  it('redacts the path segment after a magic-link, reset, invitation or verify segment', () => {
    expect(r.url('https://spinner.closer.app/api/auth/magic-link/ML-123abc')).toBe(
      `https://spinner.closer.app/api/auth/magic-link/${REDACTED}`,
    );
    expect(r.url('/api/auth/reset-password/RST-9/confirm?x=1')).toBe(
      `/api/auth/reset-password/${REDACTED}/confirm?x=1`,
    );
    check(r.url('https://a.example.com/invitation-token/INV-7'), ['INV-7'], ['/invitation-token/']);
    check(r.url('https://a.example.com/Magic-Link/MixedCase-1/'), ['MixedCase-1'], ['/Magic-Link/']);
    check(r.url('https://a.example.com/verify/VER-1?lang=en'), ['VER-1'], ['?lang=en']);
    check(r.url(`https://a.example.com/api/session/${JWT}`), [JWT], ['/api/session/']);
  });

  it('redacts matrix parameters and keeps unrelated URLs identical', () => {
    check(r.url('https://a.example.com/app;jsessionid=JS-1?x=1'), ['JS-1'], ['/app;jsessionid=', '?x=1']);
    const plain = 'http://spinner.stage.closer.app/api/users/agents/0000/skills?sort=name%20asc&x=%ZZ#top';
    expect(r.url(plain)).toBe(plain);
  });

  it('never throws on relative or malformed URLs', () => {
    for (const u of [
      '',
      '?',
      '#',
      '//',
      'http://',
      'http://[::1',
      '%%%',
      '?token=%E0%A4%A',
      'a b?password=x y',
    ]) {
      expect(() => r.url(u)).not.toThrow();
    }
    check(r.url('?token=%E0%A4%A'), ['%E0%A4%A'], ['?token=']);
    check(r.url('not a url password=spaced-pw'), ['spaced-pw'], ['not a url']);
    check(r.url('api/magic-link/rel-tok'), ['rel-tok'], ['api/magic-link/']);
    // not a URL at all (quotes, braces): the text passes apply
    check(r.url('{"password":"not-url-pw","a":"b"'), ['not-url-pw'], ['"a":"b"']);
  });
});

describe('value()', () => {
  it('deep-copies, redacts, and never mutates its input', () => {
    const input = {
      '@timestamp': '2021-05-05T09:27:12.529+0000',
      'event.action': 'oauth_config_creation',
      'http.request.body.content': '{"clientId":"cid-1","clientSecret":"cs-1"}',
      'url.full': 'https://spinner.closer.app/api/oauth?access_token=at-2',
      nested: { headers: { authorization: 'Bearer abcdefgh12345', accept: 'json' }, list: [{ pin: 1234 }] },
    };
    const snapshot = structuredClone(input);
    const out = r.value(input);
    expect(input).toEqual(snapshot);
    expect(out).not.toBe(input);
    expect(out.nested).not.toBe(input.nested);
    expect(out.nested.list[0]).not.toBe(input.nested.list[0]);
    const text = JSON.stringify(out);
    check(text, ['cs-1', 'at-2', 'abcdefgh12345', '1234'], ['cid-1', 'oauth_config_creation', 'accept']);
    expect(out.nested.headers.authorization).toBe(REDACTED);
    expect(out.nested.list[0]!.pin).toBe(REDACTED);
  });

  it('returns a copy even when nothing changes', () => {
    const input = { a: [1, { b: 'c' }] };
    const out = r.value(input);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(out.a).not.toBe(input.a);
    expect(out.a[1]).not.toBe(input.a[1]);
  });

  it('redacts whole objects and arrays under secret keys, handles __proto__ keys safely', () => {
    const input = JSON.parse(
      '{"__proto__":{"token":"proto-tok"},"secrets":["s-1","s-2"],"ok":"y"}',
    ) as Record<string, unknown>;
    const out = r.value(input);
    const text = JSON.stringify(out);
    check(text, ['proto-tok', 's-1', 's-2'], ['"ok":"y"', '__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });

  it('redacts class instances as JSON would see them', () => {
    class Login {
      email = 'anna@example.com';
      password = 'class-pw';
    }
    const out = r.value({ login: new Login(), at: new Date(0) });
    check(JSON.stringify(out), ['class-pw'], ['anna@example.com', '1970-01-01']);
  });

  it('passes primitives through', () => {
    expect(r.value(42)).toBe(42);
    expect(r.value(null)).toBeNull();
    expect(r.value('plain words')).toBe('plain words');
    expect(r.value(`Bearer ${JWT}`)).toBe(`Bearer ${REDACTED}`);
  });
});

describe('Closer actions that carry secrets', () => {
  const cases: [string, string, string, string[], string[]][] = [
    [
      'agent_login',
      '{"email":"anna@example.com","password":"Login-Pw-1"}',
      'https://spinner.closer.app/api/auth/login',
      ['Login-Pw-1'],
      ['anna@example.com'],
    ],
    [
      'agent_password_change',
      '{"oldPassword":"Old-Pw-1","newPassword":"New-Pw-1","newPasswordConfirmation":"New-Pw-1"}',
      'https://spinner.closer.app/api/users/agents/a-1/password',
      ['Old-Pw-1', 'New-Pw-1'],
      ['oldPassword'],
    ],
    [
      'agent_password_change_with_token',
      '{"token":"Pw-Tok-1","password":"Tok-Pw-1"}',
      'https://spinner.closer.app/api/auth/password/reset/Pw-Tok-1',
      ['Pw-Tok-1', 'Tok-Pw-1'],
      ['/api/auth/password/reset/'],
    ],
    [
      'agent_login_with_magic_link',
      '{"magicLinkToken":"ML-Tok-1"}',
      'https://spinner.closer.app/api/auth/magic-link/ML-Tok-2?token=ML-Tok-3',
      ['ML-Tok-1', 'ML-Tok-2', 'ML-Tok-3'],
      ['/api/auth/magic-link/'],
    ],
    [
      'agent_password_reset',
      '{"email":"anna@example.com","resetUrl":"https://app.closer.app/reset/Rst-Tok-1"}',
      'https://spinner.closer.app/api/auth/password-reset',
      ['Rst-Tok-1'],
      ['anna@example.com', 'https://app.closer.app/reset/'],
    ],
    [
      'oauth_config_creation',
      '{"clientId":"cid-9","clientSecret":"Cs-9","accessToken":"At-9","refresh_token":"Rt-9","tokenUrl":"https://idp.example.com/token"}',
      'https://spinner.closer.app/api/oauth/config',
      ['Cs-9', 'At-9', 'Rt-9'],
      ['cid-9', 'https://idp.example.com/token'],
    ],
    [
      'lekta_config_change',
      '{"botId":"bot-3","apiKey":"Lekta-Key-3","url":"https://lekta.example.com"}',
      'https://spinner.closer.app/api/bots/bot-3/lekta',
      ['Lekta-Key-3'],
      ['bot-3', 'https://lekta.example.com'],
    ],
    [
      'stripe_org_creation',
      `{"orgName":"Acme","stripeToken":"tok_1NqWzL2eZvKYlo2C","card":{"number":"4242424242424242","cvc":"314","exp_month":12},"key":"${STRIPE}"}`,
      'https://spinner.closer.app/api/orgs/stripe',
      ['tok_1NqWzL2eZvKYlo2C', '4242424242424242', '"314"', STRIPE],
      ['Acme', '"exp_month":12'],
    ],
  ];

  it.each(cases)('%s: body (whole and truncated) and URL', (_action, body, url, secrets, kept) => {
    const whole = r.text(body) + ' ' + r.url(url);
    check(
      whole,
      secrets,
      kept.filter((k) => whole.includes(k) || body.includes(k)),
    );
    // Cut the body just before its last character, and in the middle of every secret.
    const cuts = [body.length - 1, ...secrets.map((s) => body.indexOf(s) + Math.ceil(s.length / 2))];
    for (const cut of cuts) {
      if (cut <= 0) continue;
      const out = r.text(body.slice(0, cut));
      // A cut-off card number leaves its first digits (the BIN), which PCI DSS does not treat as secret.
      for (const s of secrets.filter((x) => !/^\d+$/.test(x))) {
        expect(out).not.toContain(s.slice(0, Math.ceil(s.length / 2)));
      }
    }
  });
});

describe('rules as data', () => {
  it('defaults are frozen', () => {
    expect(Object.isFrozen(DEFAULT_REDACTION_RULES)).toBe(true);
    expect(Object.isFrozen(DEFAULT_REDACTION_RULES.secretKeys)).toBe(true);
  });

  it('merges as a de-duplicated union', () => {
    const merged = mergeRedactionRules(DEFAULT_REDACTION_RULES, {
      secretKeys: ['^key$', DEFAULT_REDACTION_RULES.secretKeys[0]!],
    });
    expect(merged.secretKeys).toHaveLength(DEFAULT_REDACTION_RULES.secretKeys.length + 1);
    expect(merged.secretKeys).toContain('^key$');
    expect(merged.secretValues).toEqual(DEFAULT_REDACTION_RULES.secretValues);
    expect(merged.secretValues).not.toBe(DEFAULT_REDACTION_RULES.secretValues);
  });

  it('extends the redactor from configuration (JSON text or object)', () => {
    const extra = parseRedactionRules(
      JSON.stringify({
        secretKeys: ['^key$', 'lektasecret'],
        secretValues: ['ACME-[0-9]{6}', 'corp_(?<secret>[a-z0-9]{8})'],
        secretPathSegments: ['one-?time'],
      }),
    );
    const custom = new Redactor(mergeRedactionRules(DEFAULT_REDACTION_RULES, extra));
    check(
      custom.text('{"key":"bare-key-1","field":"ACME-123456 and corp_abcd1234","password":"p-1"}'),
      ['bare-key-1', 'ACME-123456', 'abcd1234', 'p-1'],
      ['"field":', 'corp_'],
    );
    check(custom.url('https://a.example.com/one-time/OT-1?Key=k-2'), ['OT-1', 'k-2'], ['/one-time/']);
    // the default redactor is unaffected
    expect(r.text('{"key":"bare-key-1"}')).toBe('{"key":"bare-key-1"}');
  });

  it('rejects bad rules with a message naming the field and entry', () => {
    expect(() => parseRedactionRules({ secretValues: ['ok', '(unclosed'] })).toThrow(
      /secretValues\[1\] "\(unclosed" is not a valid regular expression/,
    );
    expect(() => parseRedactionRules({ secretKeys: 'password' })).toThrow(/secretKeys must be an array/);
    expect(() => parseRedactionRules({ secretKeys: [42] })).toThrow(
      /secretKeys\[0\] must be a non-empty string/,
    );
    expect(() => parseRedactionRules({ secretKey: ['x'] })).toThrow(/unknown field "secretKey"/);
    expect(() => parseRedactionRules({ secretPathSegments: ['a*'] })).toThrow(
      /secretPathSegments\[0\] "a\*" matches the empty string/,
    );
    expect(() => parseRedactionRules({ secretKeys: ['(a)\\1'] })).toThrow(/backreference/);
    expect(() => parseRedactionRules([])).toThrow(/expected an object/);
    expect(() => parseRedactionRules('{nope')).toThrow(/not valid JSON/);
    expect(() => new Redactor({ ...DEFAULT_REDACTION_RULES, secretKeys: ['[z-a]'] })).toThrow(
      /secretKeys\[0\]/,
    );
  });

  it('accepts an empty configuration', () => {
    expect(parseRedactionRules({})).toEqual({});
  });
});

describe('robustness', () => {
  it('is idempotent', () => {
    for (const s of [
      '{"password":"x1","a":{"token":"y"}}',
      '{"password":"cut',
      'a=1&password=2',
      `Authorization: Bearer ${JWT}`,
      'https://u:p@h/magic-link/t?token=1#access_token=2',
    ]) {
      const once = r.text(s);
      expect(r.text(once)).toBe(once);
    }
  });

  it('handles 1 MB adversarial inputs in linear time', () => {
    const M = 1_000_000;
    const rep = (s: string): string => s.repeat(Math.ceil(M / s.length)).slice(0, M);
    const inputs = [
      rep('a'),
      rep('"'),
      rep('\\'),
      rep('\\"'),
      rep("'a"),
      rep('eyJ'),
      rep('eyJaaaaaaaaaaa.'),
      rep('-----BEGIN '),
      '-----BEGIN ' + rep('A '),
      '-----BEGIN RSA PRIVATE KEY-----' + rep('ab'),
      rep('a='),
      rep('&password='),
      rep('password: '),
      rep('{"a":'),
      rep('{"password":'),
      rep('['),
      '['.repeat(M / 2) + ']'.repeat(M / 2),
      rep('a://'),
      'a://' + rep(':'),
      rep('http://u:'),
      rep('/'),
      rep('/token'),
      rep('Bearer '),
      'Bearer ' + rep('a'),
      rep('a a a '),
      rep('aa bb cc dd :'),
      '{"password":"' + rep('\\"'),
      '{"credentials":' + rep('{'),
      rep('"\\u0061'),
      rep('sk_live_'),
      rep('4242 '),
      rep('form-data; name="password"'),
      rep('k') + '=secret',
      rep('k') + ': x',
      rep('Authorization: Bearer x\n'),
      '{' + rep('"token":"x",').slice(0, M - 10) + '"a":1}',
    ];
    // A generous bound: this guards against quadratic passes (many minutes on these inputs), not a
    // benchmark; a loaded 2-core machine takes seconds where an idle one takes milliseconds.
    for (const s of inputs) {
      const started = performance.now();
      r.text(s);
      r.url(s);
      r.value({ s, [s.slice(0, 300)]: s });
      expect(performance.now() - started).toBeLessThan(20_000);
    }
  }, 600_000);

  it('still redacts the secret at the end of a huge input', () => {
    const big = 'x '.repeat(500_000) + 'password=tail-secret';
    expect(r.text(big)).not.toContain('tail-secret');
    const deep = '{"a":'.repeat(50_000) + '{"password":"deep-secret"';
    expect(r.text(deep)).not.toContain('deep-secret');
    const nested = '['.repeat(5000) + '{"password":"very-deep"}' + ']'.repeat(5000);
    expect(r.text(nested)).not.toContain('very-deep');
  });
});

// Issue 11: short forms and other languages' words for password, secret and token.
describe('password, secret and token in short forms and other languages', () => {
  const secrets = [
    'pw',
    'PW',
    'pwd',
    'user_pw',
    'new_pwd',
    'passwd',
    'Passwort',
    'neues_passwort',
    'kennwort',
    'contraseña',
    'Contraseña',
    'contrasena_nueva',
    'senha',
    'nova_senha',
    'mot_de_passe',
    'motDePasse',
    'wachtwoord',
    'lösenord',
    'salasana',
    'hasło',
    'heslo',
    'jelszó',
    'пароль',
    '密码',
    'パスワード',
    '비밀번호',
    'geheimnis',
    'segredo',
    'segreto',
    'jeton',
    'токен',
  ];
  const ordinary = [
    'power',
    'pwa',
    'pwm',
    'bypass',
    'compass',
    'passenger',
    'hasLogo',
    'haslogo_enabled',
    'senhas_policy_name',
    'sender',
    'password_changed_at',
    'passwort_policy',
    'tokenizer',
    'maxTokens',
    'description',
    'projection',
  ];

  it.each(secrets)('redacts the value under %s', (key) => {
    expect(r.isSecretKey(key)).toBe(true);
    const out = r.value({ [key]: 'S3cret-Value-42', email: 'a@b.c' });
    expect(out).toEqual({ [key]: REDACTED, email: 'a@b.c' });
    expect(r.text(JSON.stringify({ [key]: 'S3cret-Value-42' }))).not.toContain('S3cret-Value-42');
  });

  it.each(ordinary)('keeps the ordinary field %s', (key) => {
    expect(r.isSecretKey(key)).toBe(false);
    expect(r.value({ [key]: 'kept-42' })).toEqual({ [key]: 'kept-42' });
  });
});
