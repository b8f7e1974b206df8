/**
 * What counts as a secret, as data: regex sources only, so a deployment can extend the defaults from
 * configuration (parseRedactionRules + mergeRedactionRules) without touching code.
 *
 * Defaults lean towards redacting: a lost field in an audit row is a nuisance, a leaked password is an
 * incident. The exceptions below are narrow and each one is about keeping audit data that can never hold
 * the secret itself (timestamps, counts, URLs of OAuth endpoints, LLM token budgets).
 */

export interface RedactionRules {
  /**
   * Regex sources, matched case-insensitively against a key name after removing '-', '_', '.', ' ' (so
   * api_key, API-Key, x-api-key, apiKey all normalise to contain 'apikey'). Not anchored: use ^ and $ for
   * an exact name. A dotted or bracketed key (user.pin, user[pin]) is also tested part by part.
   * No backreferences: the sources are combined into one regex.
   */
  secretKeys: string[];
  /**
   * Regex sources for secret-looking values found anywhere in text (Bearer/Basic credentials, JWTs,
   * sk_live_/sk_test_/rk_ keys, AKIA..., PEM private key blocks, xox[abpr]- tokens, ghp_ tokens, ...).
   * Matched case-sensitively (these formats are case-sensitive; write [Bb]earer where needed). If a source
   * has a named group `secret`, only that group is replaced.
   */
  secretValues: string[];
  /**
   * Regex sources matched (case-insensitively, whole segment) against a URL path segment: the FOLLOWING
   * segment is a secret (e.g. 'magic-?link', 'reset-?token', 'token', 'invitation-?token', 'verify',
   * 'confirm'). No backreferences: the sources are combined into one regex.
   */
  secretPathSegments: string[];
}

const FIELDS = ['secretKeys', 'secretValues', 'secretPathSegments'] as const;
type Field = (typeof FIELDS)[number];

/** Flags each field is compiled with by the Redactor; validation compiles with the same ones. */
const RULE_FLAGS: Readonly<Record<Field, string>> = {
  secretKeys: 'i',
  secretValues: 'g',
  secretPathSegments: 'i',
};

// Suffixes that turn a secret word into metadata about the secret (passwordChangedAt, tokenExpiresIn,
// tokenType, clientSecretExpiresAt, tokenUrl, authorizationEndpoint, tokenCount...). They are kept: who
// changed an OAuth token URL, or when a password was last changed, is exactly what an audit log is for,
// and such a key never holds the secret itself. 'value', 'hash', 'hint', 'id' are deliberately absent.
const ABOUT = [
  '(?:last)?(?:changed|updated|created|modified|rotated|reset|set|sent|issued|expires|expired|expiry|expiration)?(?:at|on|date|time|timestamp)',
  'last(?:changed|updated|modified|rotated|reset|set|used)',
  'expiresin',
  'ttl',
  'lifetime',
  '(?:min|max)?length',
  'policy',
  'strength',
  'type',
  'count',
  'limit',
  'usage',
  'used',
  'url',
  'uri',
  'endpoint',
  'name',
  'prefix',
  'format',
  'method',
  'algorithm',
  'alg',
  'location',
  'headername',
  'paramname',
  'fieldname',
  'required',
  'enabled',
].join('|');
const notAbout = `(?!(?:${ABOUT})$)`;

const DEFAULT_SECRET_KEYS = [
  // password, passwd, newPassword, password_confirmation, passwordHash; not passwordChangedAt
  `passw(?:or)?d${notAbout}`,
  `pass(?:phrase|code)${notAbout}`,
  // exact only: 'pass', 'pw' and 'pwd' as substrings would hit bypass, compass, passenger, power, pwa...
  '^(?:new|old|current|confirm(?:ed)?|user|admin|login|account|db|root)?(?:pass|pw|pwd|pword)\\d?$',
  // other languages' words for password; distinctive enough to match inside a longer key
  // (neues_passwort, mot_de_passe, contraseña_nueva)
  `(?:passwort|kennwort|wachtwoord|contrase[nñ]a|motdepasse|l[oö]senord|salasana|adgangskode|passord|jelsz[oó]|lozinka|geslo|parool)${notAbout}`,
  // ... and the short ones, exact (haslo would hit hasLogo, senha a longer word)
  '^(?:new|old|current|confirm(?:ed)?|nova|nueva|nouveau|neues)?(?:senha|has[lł]o|heslo|parol[ae]?|пароль|şifre|sifre|sandi|katasandi|mima|密码|密碼|パスワード|비밀번호|كلمةالمرور|סיסמה|รหัสผ่าน|mậtkhẩu|matkhau)\\d?$',
  // secret and token in other languages
  `(?:geheimnis|segredo|segreto|sekret|секрет|秘密|비밀)${notAbout}`,
  '^(?:jeton|токен|令牌|トークン|토큰)s?$',
  // secret, clientSecret, client_secret, webhookSecret, secretKey, secretAccessKey
  `secret${notAbout}`,
  // token, access_token, refresh_token, id_token, magicLinkToken, resetToken, csrfToken, tokens.
  // Kept: LLM budgets (maxTokens, totalTokens, tokenCount, tokensLimit, tokensUsed) and
  // tokenizer/tokenise settings of AI suggestion datasets, plus the metadata suffixes above.
  `^(?!(?:max|min|total|prompt|completion|input|output)tokens?$).*token(?!s?(?:${ABOUT})$|i[sz])`,
  // apiKey, x-api-key, accessKey(Id), privateKey, signingKey, clientKey...; bare 'key' is NOT a default
  // (form field and tag mapping configs use {"key": ..., "value": ...}); add '^key$' if needed.
  `(?:api|access|private|signing|encryption|master|licen[cs]e|subscription|consumer|client|auth|webhook|integration|ssh)keys?${notAbout}`,
  // authorization, proxy-authorization, authorizationCode; not authorizationUrl / authorizationEndpoint
  `authorization${notAbout}`,
  // exact: 'auth' as a substring would hit author, authorId, oauthProvider
  '^(?:basic|bearer|digest|http|proxy)?auth$',
  `cookies?${notAbout}`, // cookie, set-cookie
  `credentials?${notAbout}`,
  `signature${notAbout}`, // also x-amz-signature, x-hub-signature; note: an agent's e-mail signature too
  'session(?:id|key)', // sessionId, jsessionid
  '^(?:sid|sessid|phpsessid|connectsid)$',
  '^(?:otp|totp|hotp|otpcode|mfacode|2facode|twofactorcode|verificationcode|smscode|(?:recovery|backup)codes?)$',
  '^pin(?:code)?$',
  // exact: OAuth authorization codes (?code=...); also redacts an error "code" field, by design
  '^(?:(?:o?auth|authorization)?code|codeverifier)$',
  'cv[cv]\\d?(?!check)', // cvc, cvv, card_cvc; not Stripe's cvc_check result
  'card(?:num(?:ber)?|no)(?![a-z])', // cardNumber, card_no; not cardNumberLast4
  `jwt${notAbout}`,
  '^bearer$',
  '^sig$', // SAS / presigned URL signatures
  'samlresponse',
  'connectionstring',
];

const DEFAULT_SECRET_VALUES = [
  // HTTP credentials after their scheme; Basic must look like base64 (some capital or digit after the
  // first character) so prose such as "Basic settings" survives.
  String.raw`\b(?:Bearer|BEARER|bearer)[ \t]+(?<secret>[A-Za-z0-9._~+/-]{8,}=*)`,
  String.raw`\b(?:Basic|BASIC)[ \t]+(?<secret>[A-Za-z0-9+/](?=[a-z]*[A-Z0-9+/=])[A-Za-z0-9+/]{6,}={0,2})`,
  // JWT (header.payload[.signature]); the signature may be cut off by truncation
  String.raw`(?<![\w-])eyJ[\w-]{10,}\.[\w-]{4,}(?:\.[\w-]*)?`,
  // Stripe: secret and restricted keys, webhook secrets, card tokens, PaymentIntent/SetupIntent client secrets
  String.raw`(?<![A-Za-z0-9])(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}`,
  String.raw`(?<![A-Za-z0-9])whsec_[A-Za-z0-9]{8,}`,
  String.raw`(?<![A-Za-z0-9])tok_[A-Za-z0-9]{8,}`,
  String.raw`(?<![A-Za-z0-9])(?:pi|seti)_[A-Za-z0-9]{8,}_secret_[A-Za-z0-9]{8,}`,
  // Payment card numbers (16-digit Visa/Mastercard/Discover, 15-digit Amex), plain or grouped by 4. Only
  // these prefixes and lengths, so 13-digit epoch milliseconds and phone numbers are left alone.
  String.raw`(?<![\w.+-])(?:4\d{3}|5[1-5]\d{2}|2[2-7]\d{2}|6(?:011|5\d{2}))(?:[ -]?\d{4}){3}(?![\w-])`,
  String.raw`(?<![\w.+-])3[47]\d{2}[ -]?\d{6}[ -]?\d{5}(?![\w-])`,
  // AWS access key ids
  String.raw`(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])`,
  // Google API keys
  String.raw`(?<![\w-])AIza[\w-]{35}`,
  // Slack tokens and incoming-webhook paths
  String.raw`(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}`,
  String.raw`(?<![\w-])xapp-[A-Za-z0-9-]{10,}`,
  String.raw`hooks\.slack\.com\/services\/(?<secret>[A-Za-z0-9/]+)`,
  // GitHub tokens
  String.raw`(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{30,}`,
  String.raw`(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9_]{30,}`,
  // OpenAI / Anthropic style keys (AI suggestions configs)
  String.raw`(?<![\w-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}`,
  // PEM private key bodies, headers kept; up to the END line or, if truncated, the end of text
  String.raw`-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?<secret>[\s\S]*?)(?=-----END|$)`,
  // passwords in URLs inside free text: scheme://user:password@host
  String.raw`(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*:(?<secret>[^\s/?#@"'<>]+)@`,
];

const DEFAULT_SECRET_PATH_SEGMENTS = [
  'magic-?links?', // /api/auth/magic-link/<token>
  '(?:password-?)?reset(?:-?password)?(?:-?tokens?)?', // /reset/<t>, /password-reset/<t>, /reset-token/<t>
  '(?:forgot|set|change|new)-?passwords?',
  'passwords?(?:-?(?:change|set|new|forgot))?', // /password/<token>; also eats /password/change (harmless)
  'tokens?',
  'invitations?(?:-?tokens?)?',
  'invite',
  'verify',
  'verification',
  'confirm',
  'confirmation',
  'activate',
  'activation',
  'unsubscribe',
];

function freezeRules(rules: RedactionRules): RedactionRules {
  for (const f of FIELDS) Object.freeze(rules[f]);
  return Object.freeze(rules);
}

/** Frozen: extend with mergeRedactionRules, never by mutation. */
export const DEFAULT_REDACTION_RULES: RedactionRules = freezeRules({
  secretKeys: DEFAULT_SECRET_KEYS,
  secretValues: DEFAULT_SECRET_VALUES,
  secretPathSegments: DEFAULT_SECRET_PATH_SEGMENTS,
});

/** Union of both rule sets, de-duplicated, base order first. Rules only ever add secrets. */
export function mergeRedactionRules(base: RedactionRules, extra: Partial<RedactionRules>): RedactionRules {
  const union = (a: readonly string[], b: readonly string[] | undefined): string[] =>
    b === undefined ? [...a] : [...new Set([...a, ...b])];
  return {
    secretKeys: union(base.secretKeys, extra.secretKeys),
    secretValues: union(base.secretValues, extra.secretValues),
    secretPathSegments: union(base.secretPathSegments, extra.secretPathSegments),
  };
}

// A backreference would point at the wrong group once sources are combined into one regex.
const BACKREFERENCE = /\\(?:[1-9]|k<)/;

/**
 * Compiles one rule source with the flags the Redactor uses, or throws an Error naming field and entry.
 * Also refuses sources that match the empty string: such a rule would flag every key or value.
 */
export function compileRule(field: Field, index: number, source: unknown): RegExp {
  const where = `${field}[${index}]`;
  if (typeof source !== 'string' || source.length === 0) {
    throw new Error(`Invalid redaction rules: ${where} must be a non-empty string (regex source)`);
  }
  let re: RegExp;
  try {
    re = new RegExp(source, RULE_FLAGS[field]);
  } catch (err) {
    throw new Error(
      `Invalid redaction rules: ${where} ${JSON.stringify(source)} is not a valid regular expression (${
        (err as Error).message
      })`,
    );
  }
  if (field !== 'secretValues' && BACKREFERENCE.test(source)) {
    throw new Error(`Invalid redaction rules: ${where} ${JSON.stringify(source)} uses a backreference`);
  }
  if (re.test('')) {
    throw new Error(`Invalid redaction rules: ${where} ${JSON.stringify(source)} matches the empty string`);
  }
  re.lastIndex = 0;
  return re;
}

/**
 * Validates rules read from configuration (an object, or its JSON text): only the three known fields
 * (a typo must not silently disable a rule), each an array of regex sources that compile.
 */
export function parseRedactionRules(json: unknown): Partial<RedactionRules> {
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw new Error(`Invalid redaction rules: not valid JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`Invalid redaction rules: expected an object with ${FIELDS.join(', ')}`);
  }
  const out: Partial<RedactionRules> = {};
  for (const [key, entries] of Object.entries(value)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      throw new Error(`Invalid redaction rules: unknown field "${key}" (expected ${FIELDS.join(', ')})`);
    }
    const field = key as Field;
    if (!Array.isArray(entries)) {
      throw new Error(`Invalid redaction rules: ${field} must be an array of regex sources`);
    }
    entries.forEach((source, i) => compileRule(field, i, source));
    out[field] = [...(entries as string[])];
  }
  return out;
}
