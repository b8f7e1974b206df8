import { FORM_KEY_SOURCE, redactMultipart } from './form.js';
import { REDACTED } from './matchers.js';
import type { Passes } from './passes.js';
import {
  BACKSLASH,
  CR,
  findClosingQuote,
  isEscapedNewline,
  isEscapedTerminator,
  isKeptLiteral,
  isQuoteAt,
  isSpace,
  LF,
  AMP,
  QUOTE,
  safeDecode,
  SPACE,
  TAB,
  APOSTROPHE,
} from './scan.js';
import { jsonKey, jsonValueReplacement, QUOTED_KEY_SOURCE, type Replacement } from './truncated-json.js';

/** Key: value in header lines, YAML, log text; up to three words, so "Client Secret: x" is seen. Capture: the key. */
const HEADER_KEY_SOURCE = String.raw`(?<![\w.\-"'\\])([A-Za-z][\w.\-]*(?: [A-Za-z][\w.\-]*){0,2})[ \t]*:(?!\/\/)[ \t]*`;

/**
 * One scan finds every `key <separator>` in free text; the value span is then measured by hand, only for
 * secret keys. Each alternative starts only at the beginning of its token (see the lookbehinds), so the
 * scan stays linear on adversarial text. Captures: 1-3 a quoted JSON key, 4 key=value, 5 Key: value.
 */
const KEYED = new RegExp([QUOTED_KEY_SOURCE, FORM_KEY_SOURCE, HEADER_KEY_SOURCE].join('|'), 'g');

/** Text that is not whole JSON: multipart parts, keyed values, secret path segments, then secret values. */
export function redactFlat(p: Passes, s: string, keyed: boolean, slash: boolean): string {
  let out = s.includes('form-data') ? redactMultipart(p, s) : s;
  if (keyed) out = redactKeyed(p, out);
  if (slash) out = p.matchers.pathSegments(out);
  return p.matchers.values(out);
}

/** The value after every secret key in text: "key": value (truncated JSON), key=value, Key: value. */
export function redactKeyed(p: Passes, s: string): string {
  const re = KEYED;
  re.lastIndex = 0;
  let out = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const i = re.lastIndex;
    if (i >= s.length) break;
    let r: Replacement | null;
    const quotedKey = m[2] ?? m[3];
    if (quotedKey !== undefined) {
      if (!p.matchers.isSecretKey(jsonKey(quotedKey))) continue;
      r = jsonValueReplacement(s, i, m[1]!.length, m[2] !== undefined ? '"' : "'");
    } else if (m[4] !== undefined) {
      const key = m[4].includes('%') || m[4].includes('+') ? safeDecode(m[4]) : m[4];
      if (!p.matchers.isSecretKey(key)) continue;
      r = unquotedOrQuoted(s, i, false);
    } else {
      if (!p.matchers.isSecretKey(m[5]!)) continue;
      r = unquotedOrQuoted(s, i, true);
    }
    if (r === null) continue;
    out += s.slice(last, r.from) + r.text;
    last = r.to;
    re.lastIndex = Math.max(last, i);
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * The value starting at i, or null to keep it. A quoted value runs to its closing quote (or the end
 * if cut off). Unquoted: a header value runs to the end of the line (Authorization: Bearer x, Cookie:
 * a=1; b=2), a form value to '&', whitespace or a quote.
 */
function unquotedOrQuoted(s: string, i: number, toEndOfLine: boolean): Replacement | null {
  const end = valueEnd(s, i, toEndOfLine);
  return end === -1 ? null : { from: i + (isQuoteAt(s, i) ? 1 : 0), to: end, text: REDACTED };
}

function valueEnd(s: string, i: number, toEndOfLine: boolean): number {
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
