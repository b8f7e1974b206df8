import { REDACTED } from './matchers.js';
import type { Passes } from './passes.js';
import { CR, safeDecode } from './scan.js';

// Parameter values are decoded and redacted again (a redirect URL with its own ?token=); bounded, so
// a=a=a=... cannot recurse once per '='. Deeper values still get the flat (non-recursive) passes.
export const MAX_NESTING = 4;

/** A whole text that is a form body or query string: key=value&... with no whitespace. */
export const FORM_LIKE = /^[\w.%\-[\]+]+=\S*$/;

/** key=value inside other text (form bodies, query strings, key = value in logs). Capture: the key. */
export const FORM_KEY_SOURCE = String.raw`(?<![\w.%\-[\]+])([\w.%\-[\]+]+)[ \t]*=(?!=)[ \t]*`;

/** Query string or form body: secret parameters redacted, other values checked for nested secrets. */
export function redactQuery(p: Passes, qs: string): string {
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
    if (p.matchers.isSecretKey(key)) {
      parts[j] = rawKey + '=' + REDACTED;
      changed = true;
      continue;
    }
    const nested = nestedValue(p, value);
    if (nested !== value) {
      parts[j] = rawKey + '=' + nested;
      changed = true;
    }
  }
  return changed ? parts.join('&') : qs;
}

/** A parameter value may be an encoded URL or text with its own secrets (redirect_uri=...%3Ftoken%3D...). */
function nestedValue(p: Passes, value: string): string {
  if (value.length < 5) return value;
  const encoded = value.includes('%') || value.includes('+');
  const decoded = encoded ? safeDecode(value) : value;
  const redacted =
    p.nesting >= MAX_NESTING ? p.flat(decoded, true, decoded.includes('/')) : p.nested(() => p.text(decoded));
  if (redacted === decoded) return value;
  return encoded ? encodeURIComponent(redacted).replace(/%5B/g, '[').replace(/%5D/g, ']') : redacted;
}

/**
 * multipart/form-data: the value of a part named like a secret sits after the part's headers and a blank
 * line, up to the next boundary line (or the end of text if cut off). Linear: every scan starts past the
 * previous one, and a part cut off before its value ends the pass.
 */
export function redactMultipart(p: Passes, s: string): string {
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
    if (nameEnd - from > 257 || !p.matchers.isSecretKey(s.slice(from + 1, nameEnd))) continue;
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
