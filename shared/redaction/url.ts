import { redactQuery } from './form.js';
import { REDACTED } from './matchers.js';
import type { Passes } from './passes.js';
import { redactKeyed } from './free-text.js';
import { HASH, QUESTION, SLASH } from './scan.js';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** Text that looks like nothing but a URL (absolute, or a path). */
export const URL_LIKE = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/|\/)\S*$/;
// Characters a well-formed URL never holds unencoded: such a "URL" (a JSON body, a log line) gets the
// text passes instead of the URL parser, which would not look for "key": "value" pairs.
export const NOT_URL = /[\s\x00-\x1f\x7f"{}<>\\^`|]/; // eslint-disable-line no-control-regex

/**
 * A URL: userinfo, secret query and fragment parameters, the path segment after a secret segment,
 * then secret-looking values. Untouched parts stay byte-identical (nothing is re-encoded). Relative
 * or malformed URLs never throw; with whitespace, quotes or braces it is not a URL, and the text
 * passes apply.
 */
export function redactUrl(p: Passes, url: string): string {
  if (typeof url !== 'string' || url.length === 0) return url;
  if (NOT_URL.test(url)) return p.plain(url, false);
  try {
    return urlUnchecked(p, url);
  } catch {
    return p.plain(url, false);
  }
}

function urlUnchecked(p: Passes, u: string): string {
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
  const path = urlPath(p, rawPath);
  let query = '';
  if (question !== -1) {
    const raw = u.slice(question + 1, hash !== -1 ? hash : u.length);
    query = redactQuery(p, raw);
    changed ||= query !== raw;
  }
  let fragment = '';
  if (hash !== -1) {
    const raw = u.slice(hash + 1);
    fragment = urlFragment(p, raw);
    changed ||= fragment !== raw;
  }
  if (!changed && path === rawPath) return p.matchers.values(u);
  const out =
    (head || u.slice(0, i)) +
    path +
    (question !== -1 ? '?' + query : '') +
    (hash !== -1 ? '#' + fragment : '');
  return p.matchers.values(out);
}

function urlPath(p: Passes, path: string): string {
  let s = path;
  if (s.indexOf('=') !== -1) s = redactKeyed(p, s); // matrix parameters: /x;jsessionid=...
  if (s.indexOf('/') === -1) return s;
  const segments = s.split('/');
  let changed = false;
  // Decide on the original segments, so /token/token/<t> redacts both followers.
  let redactNext = false;
  for (let j = 0; j < segments.length; j++) {
    const seg = segments[j]!;
    const isTrigger = seg !== '' && p.matchers.isSecretSegment(seg);
    if (redactNext && seg !== '') {
      segments[j] = REDACTED;
      changed = true;
    }
    redactNext = isTrigger;
  }
  return changed ? segments.join('/') : s;
}

/** Fragments carry OAuth implicit-flow parameters (#access_token=) or SPA routes (#/reset/<t>?x=y). */
function urlFragment(p: Passes, f: string): string {
  const question = f.indexOf('?');
  if (question !== -1) return urlPath(p, f.slice(0, question)) + '?' + redactQuery(p, f.slice(question + 1));
  if (f.indexOf('=') !== -1) return redactQuery(p, f);
  return urlPath(p, f);
}
