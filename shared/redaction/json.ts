import { REDACTED } from './matchers.js';
import type { Passes } from './passes.js';
import { firstNonSpace, lastNonSpace, L_BRACE, L_BRACKET, QUOTE, R_BRACE, R_BRACKET } from './scan.js';

// Deeper JSON is replaced whole: no audit body nests this far, and recursion must not blow the stack.
const MAX_DEPTH = 100;

/**
 * Text that is whole JSON (an object, an array or a string): parsed, redacted as a value and
 * re-serialised. Null when it is not (truncated, or not JSON after all): the text passes apply.
 */
export function redactJsonText(p: Passes, text: string): string | null {
  const first = firstNonSpace(text);
  if (first !== L_BRACE && first !== L_BRACKET && first !== QUOTE) return null;
  const last = lastNonSpace(text);
  if (!(
    (first === L_BRACE && last === R_BRACE) ||
    (first === L_BRACKET && last === R_BRACKET) ||
    (first === QUOTE && last === QUOTE)
  ))
    return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  // Always re-serialised, never "unchanged, return the input": with duplicate keys JSON.parse keeps
  // only the last one, and the input could still hold a secret under an earlier duplicate.
  return JSON.stringify(redactJsonValue(p, parsed, 0, false));
}

/**
 * A JSON-like value: values under secret keys become REDACTED (objects and arrays whole; null,
 * booleans and '' are kept, they hold no secret), strings go through the text passes.
 * Copy-on-write unless `copy`: returns the same reference when nothing under it changed.
 */
export function redactJsonValue(p: Passes, v: unknown, depth: number, copy: boolean): unknown {
  if (typeof v === 'string') return p.text(v);
  if (typeof v === 'number') return redactNumber(p, v);
  if (v === null || typeof v !== 'object') return v;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined = copy ? new Array<unknown>(v.length) : undefined;
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      const y = redactJsonValue(p, x, depth + 1, copy);
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
    const info = p.matchers.keyInfo(k);
    const y =
      info.secret && x !== null && x !== undefined && typeof x !== 'boolean' && x !== ''
        ? REDACTED
        : redactJsonValue(p, x, depth + 1, copy);
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
function redactNumber(p: Passes, n: number): number | string {
  if (n < 1e12 || !Number.isSafeInteger(n)) return n;
  const s = String(n);
  return p.matchers.values(s) === s ? n : REDACTED;
}

function setProp(target: Record<string, unknown>, key: string, value: unknown): void {
  // '__proto__' is an own key after JSON.parse; plain assignment would set the prototype instead
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
