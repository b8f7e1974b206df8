import { REDACTED } from './matchers.js';
import {
  APOSTROPHE,
  BACKSLASH,
  balancedEnd,
  COMMA,
  findClosingQuote,
  isKeptLiteral,
  isOnlyBackslashes,
  isSpace,
  L_BRACE,
  L_BRACKET,
  QUOTE,
  R_BRACE,
  R_BRACKET,
} from './scan.js';

/** A span of text to replace: `text` stands for s[from, to). */
export interface Replacement {
  from: number;
  to: number;
  text: string;
}

/**
 * JSON that did not parse (a body cut off at a size limit, JSON escaped inside a string, JSON inside
 * a log line): a quoted key, "key" or 'key', possibly backslash-escaped inside a JSON string
 * (\"key\"), then ':'. Captures: 1 the escape backslashes, 2 a "key", 3 a 'key'.
 */
export const QUOTED_KEY_SOURCE = String.raw`(?<!\\)(\\*)(?:"((?:[^"\\\n]|\\u[0-9A-Fa-f]{4}){1,256})\1"|'((?:[^'\\\n]|\\u[0-9A-Fa-f]{4}){1,256})\1')[ \t\r\n]*:[ \t\r\n]*`;

/** A JSON key with \uXXXX escapes ("p\u0061ssword"), decoded for the key check. */
export function jsonKey(key: string): string {
  return key.includes('\\')
    ? key.replace(/\\u([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    : key;
}

/**
 * The value after a secret quoted key at `i` (the key escaped `level` times, quoted with `quote`):
 * a string up to its closing quote (or the end, if cut off), an object or array whole (to its
 * balanced end, or the end), a bare token up to the next delimiter. Null to keep it: "", a cut
 * right after the quote, null and booleans.
 */
export function jsonValueReplacement(s: string, i: number, level: number, quote: string): Replacement | null {
  const c = s.charCodeAt(i);
  if (s.startsWith(quote, i + level) && (level === 0 || isOnlyBackslashes(s, i, level))) {
    const contentStart = i + level + 1;
    const close = findClosingQuote(s, contentStart, level, quote);
    if (close === contentStart || contentStart >= s.length) return null; // "" or cut after the quote
    return { from: contentStart, to: close === -1 ? s.length : close, text: REDACTED };
  }
  if (c === L_BRACE || c === L_BRACKET) {
    const q = '\\'.repeat(level) + quote;
    return { from: i, to: balancedEnd(s, i, level, quote.charCodeAt(0)), text: q + REDACTED + q };
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === COMMA || d === R_BRACE || d === R_BRACKET || d === QUOTE) break;
    if (d === APOSTROPHE || d === BACKSLASH || isSpace(d)) break;
    j++;
  }
  if (j === i || isKeptLiteral(s.slice(i, j))) return null;
  return { from: i, to: j, text: REDACTED };
}
