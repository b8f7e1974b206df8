/** Character-level helpers the hand-written scanners of the redactor share. */

// Character codes compared in the scanners.
export const TAB = 9;
export const LF = 10;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const APOSTROPHE = 39;
export const COMMA = 44;
export const AMP = 38;
export const L_BRACKET = 91;
export const BACKSLASH = 92;
export const R_BRACKET = 93;
export const L_BRACE = 123;
export const SLASH = 47;
export const QUESTION = 63;
export const HASH = 35;
export const R_BRACE = 125;
const LOWER_N = 110;
const LOWER_R = 114;
const LOWER_T = 116;
const LOWER_U = 117;

export function isSpace(c: number): boolean {
  return c === SPACE || c === TAB || c === LF || c === CR;
}

export function isKeptLiteral(token: string): boolean {
  // null and booleans carry no secret, and keeping them says "no password was set" or "mfa: false"
  return token === 'null' || token === 'true' || token === 'false';
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
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
export function findClosingQuote(s: string, from: number, level: number, quote: string): number {
  let j = from;
  for (;;) {
    const q = s.indexOf(quote, j);
    if (q === -1) return -1;
    if (isClosingQuote(s, q, level)) return q - level;
    j = q + 1;
  }
}

/** End (exclusive) of the object/array starting at i, or the end of text if truncated. */
export function balancedEnd(s: string, i: number, level: number, quote: number): number {
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
export function isEscapedTerminator(s: string, j: number): boolean {
  const n = s.charCodeAt(j + 1);
  return (
    n === QUOTE ||
    n === LOWER_N ||
    n === LOWER_R ||
    n === LOWER_T ||
    (n === LOWER_U && s.startsWith('0026', j + 2))
  );
}

export function isEscapedNewline(s: string, j: number): boolean {
  const n = s.charCodeAt(j + 1);
  return n === LOWER_N || n === LOWER_R;
}

export function firstNonSpace(s: string): number {
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i < s.length ? s.charCodeAt(i) : -1;
}

export function lastNonSpace(s: string): number {
  let i = s.length - 1;
  while (i >= 0 && isSpace(s.charCodeAt(i))) i--;
  return i >= 0 ? s.charCodeAt(i) : -1;
}

export function isQuoteAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c === QUOTE || c === APOSTROPHE;
}

export function isOnlyBackslashes(s: string, i: number, n: number): boolean {
  for (let j = i; j < i + n; j++) if (s.charCodeAt(j) !== BACKSLASH) return false;
  return true;
}
