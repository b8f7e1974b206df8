/**
 * Removes secrets from everything an event carries before it reaches storage, quarantine or logs:
 * JSON bodies (whole or truncated), form bodies, header dumps, free text and URLs.
 *
 * Runs on every event, so: all regexes are compiled once here, key decisions are cached, every pass is
 * linear (each regex can only start at a token boundary, so a 1 MB adversarial string cannot make it
 * backtrack quadratically), and cheap substring checks skip the passes that cannot match.
 */
import { BoundedMemo } from '../memo/bounded-memo.js';
import { compileRule, DEFAULT_REDACTION_RULES } from './rules.js';
import type { RedactionRules } from './rules.js';

export const REDACTED = '[REDACTED]';

// Deeper JSON is replaced whole: no audit body nests this far, and recursion must not blow the stack.
const MAX_DEPTH = 100;
// Parameter values are decoded and redacted again (a redirect URL with its own ?token=); bounded, so
// a=a=a=... cannot recurse once per '='. Deeper values still get the flat (non-recursive) passes.
const MAX_NESTING = 4;
const KEY_CACHE_LIMIT = 10_000;
const KEY_CACHE_MAX_KEY_LENGTH = 200;
const VALUE_CACHE_LIMIT = 10_000;
const VALUE_CACHE_MAX_LENGTH = 64;
const TEXT_CACHE_MAX_LENGTH = 256;

const NORMALISE_KEY = /[-_. ]/g;
const KEY_PARTS = /[.[\]]+/;
const HAS_KEY_PARTS = /[.[\]]/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const URL_LIKE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|\/)\S*$/;
const FORM_LIKE = /^[\w.%\-[\]+]+=\S*$/;
// Characters a well-formed URL never holds unencoded: such a "URL" (a JSON body, a log line) gets the
// text passes instead of the URL parser, which would not look for "key": "value" pairs.
const NOT_URL = /[\s\x00-\x1f\x7f"{}<>\\^`|]/; // eslint-disable-line no-control-regex
const NAMED_GROUP = /(?<!\\)((?:\\\\)*)\(\?<(?![=!])[A-Za-z_$][\w$]*>/g;
const SECRET_GROUP = /\(\?<secret>/;
const BACKREFERENCE = /\\(?:[1-9]|k<)/;

/**
 * One scan finds every `key <separator>` in free text; the value span is then measured by hand, only for
 * secret keys. Alternatives (each starts only at the beginning of its token, see the lookbehinds):
 *  1-3: a quoted key, "key" or 'key', possibly backslash-escaped inside a JSON string (\"key\"), then ':'
 *  4:   key=value (form bodies, query strings, key = value in logs)
 *  5:   Key: value (header lines, YAML, log text); up to three words, so "Client Secret: x" is seen
 */
const KEYED_SOURCE = [
  String.raw`(?<!\\)(\\*)(?:"((?:[^"\\\n]|\\u[0-9A-Fa-f]{4}){1,256})\1"|'((?:[^'\\\n]|\\u[0-9A-Fa-f]{4}){1,256})\1')[ \t\r\n]*:[ \t\r\n]*`,
  String.raw`(?<![\w.%\-[\]+])([\w.%\-[\]+]+)[ \t]*=(?!=)[ \t]*`,
  String.raw`(?<![\w.\-"'\\])([A-Za-z][\w.\-]*(?: [A-Za-z][\w.\-]*){0,2})[ \t]*:(?!\/\/)[ \t]*`,
].join('|');

// Character codes compared in the hand-written scanners.
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const APOSTROPHE = 39;
const COMMA = 44;
const AMP = 38;
const L_BRACKET = 91;
const BACKSLASH = 92;
const R_BRACKET = 93;
const L_BRACE = 123;
const SLASH = 47;
const QUESTION = 63;
const HASH = 35;
const R_BRACE = 125;
const LOWER_N = 110;
const LOWER_R = 114;
const LOWER_T = 116;
const LOWER_U = 117;

interface ValueRule {
  re: RegExp;
  /** Only the named group `secret` is replaced. */
  group: boolean;
}

interface KeyInfo {
  secret: boolean;
  /** The key itself with secret-looking values redacted (a token used as a map key). */
  name: string;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

function isKeptLiteral(token: string): boolean {
  // null and booleans carry no secret, and keeping them says "no password was set" or "mfa: false"
  return token === 'null' || token === 'true' || token === 'false';
}

function stripNamedGroups(source: string): string {
  return source.replace(NAMED_GROUP, '$1(?:');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function setProp(target: Record<string, unknown>, key: string, value: unknown): void {
  // '__proto__' is an own key after JSON.parse; plain assignment would set the prototype instead
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Number of consecutive backslashes just before index i. */
function backslashesBefore(s: string, i: number): number {
  let n = 0;
  while (i - n - 1 >= 0 && s.charCodeAt(i - n - 1) === BACKSLASH) n++;
  return n;
}

/**
 * Whether the quote at i closes a string opened at escape level `level` (0: "x", 1: \"x\", 3: \\\"x\\\").
 * A quote preceded by r backslashes is at that level's boundary when r mod (2 * level + 2) === level.
 */
function isClosingQuote(s: string, i: number, level: number): boolean {
  return backslashesBefore(s, i) % (2 * level + 2) === level;
}

/** Index where the closing sequence (level backslashes + quote) starts, or -1 if cut off. */
function findClosingQuote(s: string, from: number, level: number, quote: string): number {
  let j = from;
  for (;;) {
    const q = s.indexOf(quote, j);
    if (q === -1) return -1;
    if (isClosingQuote(s, q, level)) return q - level;
    j = q + 1;
  }
}

/** End (exclusive) of the object/array starting at i, or the end of text if truncated. */
function balancedEnd(s: string, i: number, level: number, quote: number): number {
  let depth = 0;
  let inString = false;
  for (let j = i; j < s.length; j++) {
    const c = s.charCodeAt(j);
    if (c === quote) {
      if (isClosingQuote(s, j, level)) inString = !inString;
    } else if (!inString) {
      if (c === L_BRACE || c === L_BRACKET) depth++;
      else if (c === R_BRACE || c === R_BRACKET) {
        depth--;
        if (depth === 0) return j + 1;
      }
    }
  }
  return s.length;
}

/** A backslash escape that ends an unquoted value inside escaped JSON: \" \n \r \t \u0026 (&). */
function isEscapedTerminator(s: string, j: number): boolean {
  const n = s.charCodeAt(j + 1);
  return (
    n === QUOTE ||
    n === LOWER_N ||
    n === LOWER_R ||
    n === LOWER_T ||
    (n === LOWER_U && s.startsWith('0026', j + 2))
  );
}

function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i < s.length ? s.charCodeAt(i) : -1;
}

function lastNonSpace(s: string): number {
  let i = s.length - 1;
  while (i >= 0 && isSpace(s.charCodeAt(i))) i--;
  return i >= 0 ? s.charCodeAt(i) : -1;
}

export class Redactor {
  private readonly keyRe: RegExp;
  private readonly segmentRe: RegExp;
  private readonly pathTextRe: RegExp;
  private readonly keyedRe = new RegExp(KEYED_SOURCE, 'g');
  private readonly valueRules: ValueRule[];
  /** One regex for "could any value rule match?"; null when the sources cannot be combined. */
  private readonly valueDetector: RegExp | null;
  private readonly keyMemo = new BoundedMemo(KEY_CACHE_LIMIT, (key) => this.keyInfoUncached(key));
  private readonly valueMemo = new BoundedMemo(VALUE_CACHE_LIMIT, (s) => this.valuesUncached(s));
  private readonly textMemo = new BoundedMemo(VALUE_CACHE_LIMIT, (s) => this.textUncached(s));
  private nesting = 0;

  constructor(rules: RedactionRules = DEFAULT_REDACTION_RULES) {
    rules.secretKeys.forEach((s, i) => compileRule('secretKeys', i, s));
    rules.secretPathSegments.forEach((s, i) => compileRule('secretPathSegments', i, s));
    const keys = rules.secretKeys.map((s) => `(?:${stripNamedGroups(s)})`).join('|');
    const segments = rules.secretPathSegments.map((s) => `(?:${stripNamedGroups(s)})`).join('|');
    this.keyRe = new RegExp(keys || '(?!)', 'i');
    this.segmentRe = new RegExp(`^(?:${segments || '(?!)'})$`, 'i');
    // A secret segment anywhere in text (also JSON-escaped \/), then the segment after it.
    this.pathTextRe = new RegExp(
      String.raw`(?<=^|[/\s"'=(,])(?:${segments || '(?!)'})\\?\/(?<secret>[^/?#\s"'&\\<>]+)`,
      'gid',
    );
    this.valueRules = rules.secretValues.map((s, i) => {
      compileRule('secretValues', i, s);
      const group = SECRET_GROUP.test(s);
      return { re: new RegExp(s, group ? 'gd' : 'g'), group };
    });
    let detector: RegExp | null = null;
    if (this.valueRules.length === 0) detector = /(?!)/;
    else if (!rules.secretValues.some((s) => BACKREFERENCE.test(s))) {
      try {
        detector = new RegExp(rules.secretValues.map((s) => `(?:${stripNamedGroups(s)})`).join('|'));
      } catch {
        detector = null; // fall back to running every rule
      }
    }
    this.valueDetector = detector;
  }

  isSecretKey(key: string): boolean {
    return this.keyInfo(key).secret;
  }

  /**
   * Redacts a body or any free text. JSON text is parsed, redacted as a value and re-serialised; URLs go
   * through url(); anything else (truncated JSON, form bodies, header lines, prose) gets the pattern passes.
   */
  text(text: string): string {
    if (typeof text !== 'string' || text.length < 3) return text;
    // Bodies repeat (the same setting toggled, the same form saved): short ones are remembered.
    if (text.length > TEXT_CACHE_MAX_LENGTH || this.nesting > 0) return this.textUncached(text);
    return this.textMemo.get(text);
  }

  private textUncached(text: string): string {
    const first = firstNonSpace(text);
    if (first === L_BRACE || first === L_BRACKET || first === QUOTE) {
      const last = lastNonSpace(text);
      if (
        (first === L_BRACE && last === R_BRACE) ||
        (first === L_BRACKET && last === R_BRACKET) ||
        (first === QUOTE && last === QUOTE)
      ) {
        let parsed: unknown;
        let ok = true;
        try {
          parsed = JSON.parse(text);
        } catch {
          ok = false; // truncated or not JSON after all: pattern passes below
        }
        // Always re-serialised, never "unchanged, return the input": with duplicate keys JSON.parse keeps
        // only the last one, and the input could still hold a secret under an earlier duplicate.
        if (ok) return JSON.stringify(this.walk(parsed, 0, false));
      }
    }
    return this.plain(text, true);
  }

  /**
   * Redacts a URL: userinfo, secret query and fragment parameters, the path segment after a secret
   * segment, then secret-looking values. Untouched parts stay byte-identical (nothing is re-encoded).
   * Relative or malformed URLs never throw; with whitespace, quotes or braces it is not a URL, and the text
   * passes apply.
   */
  url(url: string): string {
    if (typeof url !== 'string' || url.length === 0) return url;
    if (NOT_URL.test(url)) return this.plain(url, false);
    try {
      return this.urlUnchecked(url);
    } catch {
      return this.plain(url, false);
    }
  }

  /**
   * Deep copy of a JSON-like value: values under secret keys become REDACTED (objects and arrays whole;
   * null, booleans and '' are kept, they hold no secret), strings go through text()/url(). Never mutates
   * its input.
   */
  value<T>(value: T): T {
    return this.walk(value, 0, true) as T;
  }

  private keyInfo(key: string): KeyInfo {
    return key.length <= KEY_CACHE_MAX_KEY_LENGTH ? this.keyMemo.get(key) : this.keyInfoUncached(key);
  }

  private keyInfoUncached(key: string): KeyInfo {
    let secret = this.keyRe.test(key.replace(NORMALISE_KEY, ''));
    if (!secret && HAS_KEY_PARTS.test(key)) {
      for (const part of key.split(KEY_PARTS)) {
        if (part !== '' && this.keyRe.test(part.replace(NORMALISE_KEY, ''))) {
          secret = true;
          break;
        }
      }
    }
    return { secret, name: this.values(key) };
  }

  /** Copy-on-write unless `copy`: returns the same reference when nothing under it changed. */
  private walk(v: unknown, depth: number, copy: boolean): unknown {
    if (typeof v === 'string') return this.text(v);
    if (typeof v === 'number') return this.number(v);
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return REDACTED;
    if (Array.isArray(v)) {
      let out: unknown[] | undefined = copy ? new Array<unknown>(v.length) : undefined;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        const y = this.walk(x, depth + 1, copy);
        if (out !== undefined) out[i] = y;
        else if (y !== x) {
          out = v.slice(0, i);
          out[i] = y;
        }
      }
      return out ?? v;
    }
    // Dates and binary views hold no keys to redact. Any other object (a class instance, an object from
    // another realm) is treated as JSON would see it: its own enumerable keys, never passed through as-is.
    if (v instanceof Date || ArrayBuffer.isView(v)) return v;
    const src = v as Record<string, unknown>;
    const keys = Object.keys(src);
    let out: Record<string, unknown> | undefined = copy ? {} : undefined;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const x = src[k];
      const info = this.keyInfo(k);
      const y =
        info.secret && x !== null && x !== undefined && typeof x !== 'boolean' && x !== ''
          ? REDACTED
          : this.walk(x, depth + 1, copy);
      if (out !== undefined) setProp(out, info.name, y);
      else if (y !== x || info.name !== k) {
        out = {};
        for (let j = 0; j < i; j++) setProp(out, keys[j]!, src[keys[j]!]);
        setProp(out, info.name, y);
      }
    }
    return out ?? v;
  }

  /** A card number sent as a JSON number never goes through text(); only 13+ digit integers can match. */
  private number(n: number): number | string {
    if (n < 1e12 || !Number.isSafeInteger(n)) return n;
    const s = String(n);
    return this.values(s) === s ? n : REDACTED;
  }

  /** Non-JSON text: keyed passes, secret path segments, then secret values. */
  private plain(s: string, routeUrls: boolean): string {
    const colon = s.indexOf(':') !== -1;
    const eq = s.indexOf('=') !== -1;
    const slash = s.indexOf('/') !== -1;
    if (!colon && !eq && !slash) return this.values(s); // fast path: prose, ids, words
    if (routeUrls && (colon || slash) && URL_LIKE.test(s) && !NOT_URL.test(s)) return this.url(s);
    if (eq && this.nesting < MAX_NESTING && FORM_LIKE.test(s)) {
      const out = this.query(s);
      return this.values(slash ? this.replaceGroup(out, this.pathTextRe) : out);
    }
    return this.flat(s, colon || eq, slash);
  }

  /** The passes that never recurse: keyed, secret path segments, secret values. */
  private flat(s: string, keyed: boolean, slash: boolean): string {
    let out = s.includes('form-data') ? this.multipart(s) : s;
    if (keyed) out = this.keyed(out);
    if (slash) out = this.replaceGroup(out, this.pathTextRe);
    return this.values(out);
  }

  private keyed(s: string): string {
    const re = this.keyedRe;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const i = re.lastIndex;
      if (i >= s.length) break;
      const jsonKey = m[2] ?? m[3];
      if (jsonKey !== undefined) {
        const key = jsonKey.includes('\\') ? safeJsonKey(jsonKey) : jsonKey;
        if (!this.isSecretKey(key)) continue;
        const level = m[1]!.length;
        const quote = m[2] !== undefined ? '"' : "'";
        const c = s.charCodeAt(i);
        if (s.startsWith(quote, i + level) && (level === 0 || isOnlyBackslashes(s, i, level))) {
          const contentStart = i + level + 1;
          const close = findClosingQuote(s, contentStart, level, quote);
          if (close === contentStart || contentStart >= s.length) continue; // "" or cut after the quote
          out += s.slice(last, contentStart) + REDACTED;
          last = close === -1 ? s.length : close;
        } else if (c === L_BRACE || c === L_BRACKET) {
          const q = '\\'.repeat(level) + quote;
          out += s.slice(last, i) + q + REDACTED + q;
          last = balancedEnd(s, i, level, quote.charCodeAt(0));
        } else {
          let j = i;
          while (j < s.length) {
            const d = s.charCodeAt(j);
            if (d === COMMA || d === R_BRACE || d === R_BRACKET || d === QUOTE) break;
            if (d === APOSTROPHE || d === BACKSLASH || isSpace(d)) break;
            j++;
          }
          if (j === i || isKeptLiteral(s.slice(i, j))) continue;
          out += s.slice(last, i) + REDACTED;
          last = j;
        }
      } else if (m[4] !== undefined) {
        const key = m[4].includes('%') || m[4].includes('+') ? safeDecode(m[4]) : m[4];
        if (!this.isSecretKey(key)) continue;
        const end = this.unquotedOrQuotedEnd(s, i, false);
        if (end === -1) continue;
        out += s.slice(last, i + (isQuoteAt(s, i) ? 1 : 0)) + REDACTED;
        last = end;
      } else {
        if (!this.isSecretKey(m[5]!)) continue;
        const end = this.unquotedOrQuotedEnd(s, i, true);
        if (end === -1) continue;
        out += s.slice(last, i + (isQuoteAt(s, i) ? 1 : 0)) + REDACTED;
        last = end;
      }
      re.lastIndex = Math.max(last, i);
    }
    return last === 0 ? s : out + s.slice(last);
  }

  /**
   * multipart/form-data: the value of a part named like a secret sits after the part's headers and a blank
   * line, up to the next boundary line (or the end of text if cut off). Linear: every scan starts past the
   * previous one, and a part cut off before its value ends the pass.
   */
  private multipart(s: string): string {
    let out = '';
    let last = 0;
    let from = 0;
    for (;;) {
      const at = s.indexOf('name=', from);
      if (at === -1) break;
      from = at + 5;
      const quote = s[from];
      if (quote !== '"' && quote !== "'") continue;
      const nameEnd = s.indexOf(quote, from + 1);
      if (nameEnd === -1) break;
      if (nameEnd - from > 257 || !this.isSecretKey(s.slice(from + 1, nameEnd))) continue;
      const lf = s.indexOf('\n\n', nameEnd);
      const crlf = s.indexOf('\n\r\n', nameEnd);
      const blank = lf === -1 ? (crlf === -1 ? -1 : crlf + 3) : crlf === -1 || lf < crlf ? lf + 2 : crlf + 3;
      if (blank === -1) break;
      let end = s.indexOf('\n--', blank);
      if (end === -1) end = s.length;
      else if (s.charCodeAt(end - 1) === CR) end--;
      if (end > blank) {
        out += s.slice(last, blank) + REDACTED;
        last = end;
      }
      from = Math.max(end, blank);
    }
    return last === 0 ? s : out + s.slice(last);
  }

  /**
   * End of the value starting at i, or -1 to keep it. A quoted value runs to its closing quote (or the end
   * if cut off). Unquoted: a header value runs to the end of the line (Authorization: Bearer x, Cookie:
   * a=1; b=2), a form value to '&', whitespace or a quote.
   */
  private unquotedOrQuotedEnd(s: string, i: number, toEndOfLine: boolean): number {
    const c = s.charCodeAt(i);
    if (c === QUOTE || c === APOSTROPHE) {
      const close = findClosingQuote(s, i + 1, 0, s[i]!);
      if (close === i + 1) return -1;
      return close === -1 ? s.length : close;
    }
    let j = i;
    while (j < s.length) {
      const d = s.charCodeAt(j);
      if (d === LF || d === CR) break;
      if (d === BACKSLASH && (toEndOfLine ? isEscapedNewline(s, j) : isEscapedTerminator(s, j))) break;
      if (!toEndOfLine && (d === AMP || d === QUOTE || d === SPACE || d === TAB)) break;
      j++;
    }
    let end = j;
    while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
    if (end === i || isKeptLiteral(s.slice(i, end))) return -1;
    return end;
  }

  private urlUnchecked(u: string): string {
    let i = 0;
    // Parts are only copied once one of them changes: most URLs come back as the very same string.
    let head = '';
    let changed = false;
    const scheme = SCHEME.exec(u);
    if (scheme !== null) i = scheme[0].length;
    if (u.startsWith('//', i)) {
      const authStart = i + 2;
      let authEnd = u.length;
      for (let j = authStart; j < u.length; j++) {
        const c = u.charCodeAt(j);
        if (c === SLASH || c === QUESTION || c === HASH) {
          authEnd = j;
          break;
        }
      }
      const at = u.lastIndexOf('@', authEnd - 1);
      if (at >= authStart) {
        // user:password@ keeps the user; a lone user@ may itself be a token (https://<token>@host)
        const userinfo = u.slice(authStart, at);
        const colon = userinfo.indexOf(':');
        head =
          u.slice(0, authStart) +
          (colon === -1 ? REDACTED : userinfo.slice(0, colon + 1) + REDACTED) +
          u.slice(at, authEnd);
        changed = true;
      }
      i = authEnd;
    }
    const hash = u.indexOf('#', i);
    let question = u.indexOf('?', i);
    if (hash !== -1 && question > hash) question = -1;
    const pathEnd = question !== -1 ? question : hash !== -1 ? hash : u.length;
    const rawPath = u.slice(i, pathEnd);
    const path = this.urlPath(rawPath);
    let query = '';
    if (question !== -1) {
      const raw = u.slice(question + 1, hash !== -1 ? hash : u.length);
      query = this.query(raw);
      changed ||= query !== raw;
    }
    let fragment = '';
    if (hash !== -1) {
      const raw = u.slice(hash + 1);
      fragment = this.fragment(raw);
      changed ||= fragment !== raw;
    }
    if (!changed && path === rawPath) return this.values(u);
    const out =
      (head || u.slice(0, i)) +
      path +
      (question !== -1 ? '?' + query : '') +
      (hash !== -1 ? '#' + fragment : '');
    return this.values(out);
  }

  private urlPath(path: string): string {
    let p = path;
    if (p.indexOf('=') !== -1) p = this.keyed(p); // matrix parameters: /x;jsessionid=...
    if (p.indexOf('/') === -1) return p;
    const segments = p.split('/');
    let changed = false;
    // Decide on the original segments, so /token/token/<t> redacts both followers.
    let redactNext = false;
    for (let j = 0; j < segments.length; j++) {
      const seg = segments[j]!;
      const isTrigger = seg !== '' && this.isSecretSegment(seg);
      if (redactNext && seg !== '') {
        segments[j] = REDACTED;
        changed = true;
      }
      redactNext = isTrigger;
    }
    return changed ? segments.join('/') : p;
  }

  private isSecretSegment(seg: string): boolean {
    const semicolon = seg.indexOf(';');
    const bare = semicolon === -1 ? seg : seg.slice(0, semicolon);
    return this.segmentRe.test(bare.includes('%') ? safeDecode(bare) : bare);
  }

  /** Query string or form body: secret parameters redacted, other values checked for nested secrets. */
  private query(qs: string): string {
    if (qs.indexOf('=') === -1) return qs;
    const parts = qs.split('&');
    let changed = false;
    for (let j = 0; j < parts.length; j++) {
      const part = parts[j]!;
      const eq = part.indexOf('=');
      if (eq <= 0 || eq === part.length - 1) continue;
      const rawKey = part.slice(0, eq);
      const key = rawKey.includes('%') || rawKey.includes('+') ? safeDecode(rawKey) : rawKey;
      const value = part.slice(eq + 1);
      if (this.isSecretKey(key)) {
        parts[j] = rawKey + '=' + REDACTED;
        changed = true;
        continue;
      }
      const nested = this.nestedValue(value);
      if (nested !== value) {
        parts[j] = rawKey + '=' + nested;
        changed = true;
      }
    }
    return changed ? parts.join('&') : qs;
  }

  /** A parameter value may be an encoded URL or text with its own secrets (redirect_uri=...%3Ftoken%3D...). */
  private nestedValue(value: string): string {
    if (value.length < 5) return value;
    const encoded = value.includes('%') || value.includes('+');
    const decoded = encoded ? safeDecode(value) : value;
    let redacted: string;
    if (this.nesting >= MAX_NESTING) {
      redacted = this.flat(decoded, true, decoded.includes('/'));
    } else {
      this.nesting++;
      try {
        redacted = this.text(decoded);
      } finally {
        this.nesting--;
      }
    }
    if (redacted === decoded) return value;
    return encoded ? encodeURIComponent(redacted).replace(/%5B/g, '[').replace(/%5D/g, ']') : redacted;
  }

  /** Fragments carry OAuth implicit-flow parameters (#access_token=) or SPA routes (#/reset/<t>?x=y). */
  private fragment(f: string): string {
    const question = f.indexOf('?');
    if (question !== -1) return this.urlPath(f.slice(0, question)) + '?' + this.query(f.slice(question + 1));
    if (f.indexOf('=') !== -1) return this.query(f);
    return this.urlPath(f);
  }

  private values(s: string): string {
    // Short values repeat (statuses, names, flags): their answer is remembered, as for keys.
    return s.length > VALUE_CACHE_MAX_LENGTH ? this.valuesUncached(s) : this.valueMemo.get(s);
  }

  private valuesUncached(s: string): string {
    if (this.valueDetector !== null && !this.valueDetector.test(s)) return s;
    let out = s;
    for (const rule of this.valueRules) {
      out = rule.group ? this.replaceGroup(out, rule.re) : out.replace(rule.re, replaceNonEmpty);
    }
    return out;
  }

  /** Replaces the named group `secret` of every match of a global regex compiled with the 'd' flag. */
  private replaceGroup(s: string, re: RegExp): string {
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = m.indices?.groups?.['secret'];
      if (span === undefined || span[0] === span[1] || span[0] < last) continue;
      out += s.slice(last, span[0]) + REDACTED;
      last = span[1];
    }
    return last === 0 ? s : out + s.slice(last);
  }
}

function replaceNonEmpty(match: string): string {
  return match.length === 0 ? match : REDACTED;
}

function isQuoteAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === QUOTE || c === APOSTROPHE;
}

function isOnlyBackslashes(s: string, i: number, n: number): boolean {
  for (let j = i; j < i + n; j++) if (s.charCodeAt(j) !== BACKSLASH) return false;
  return true;
}

function isEscapedNewline(s: string, j: number): boolean {
  const n = s.charCodeAt(j + 1);
  return n === LOWER_N || n === LOWER_R;
}

/** A JSON key with \uXXXX escapes ("p\u0061ssword"), decoded for the key check. */
function safeJsonKey(key: string): string {
  return key.replace(/\\u([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
