import { BoundedMemo } from '../memo/bounded-memo.js';
import { compileRule } from './rules.js';
import type { RedactionRules } from './rules.js';
import { safeDecode } from './scan.js';

export const REDACTED = '[REDACTED]';

const KEY_CACHE_LIMIT = 10_000;
const KEY_CACHE_MAX_KEY_LENGTH = 200;
const VALUE_CACHE_LIMIT = 10_000;
const VALUE_CACHE_MAX_LENGTH = 64;

const NORMALISE_KEY = /[-_. ]/g;
const KEY_PARTS = /[.[\]]+/;
const HAS_KEY_PARTS = /[.[\]]/;
const NAMED_GROUP = /(?<!\\)((?:\\\\)*)\(\?<(?![=!])[A-Za-z_$][\w$]*>/g;
const SECRET_GROUP = /\(\?<secret>/;
const BACKREFERENCE = /\\(?:[1-9]|k<)/;

interface ValueRule {
  re: RegExp;
  /** Only the named group `secret` is replaced. */
  group: boolean;
}

export interface KeyInfo {
  secret: boolean;
  /** The key itself with secret-looking values redacted (a token used as a map key). */
  name: string;
}

/**
 * The redaction rules, compiled once: which keys and path segments are secret, and the secret value
 * patterns. Key decisions and short values are remembered (they repeat across events).
 */
export class SecretMatchers {
  private readonly keyRe: RegExp;
  private readonly segmentRe: RegExp;
  private readonly pathTextRe: RegExp;
  private readonly valueRules: ValueRule[];
  /** One regex for "could any value rule match?"; null when the sources cannot be combined. */
  private readonly valueDetector: RegExp | null;
  private readonly keyMemo = new BoundedMemo(KEY_CACHE_LIMIT, (key) => this.keyInfoUncached(key));
  private readonly valueMemo = new BoundedMemo(VALUE_CACHE_LIMIT, (s) => this.valuesUncached(s));

  constructor(rules: RedactionRules) {
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

  keyInfo(key: string): KeyInfo {
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

  isSecretSegment(seg: string): boolean {
    const semicolon = seg.indexOf(';');
    const bare = semicolon === -1 ? seg : seg.slice(0, semicolon);
    return this.segmentRe.test(bare.includes('%') ? safeDecode(bare) : bare);
  }

  /** The path segment after a secret segment, wherever it appears in text (/reset/<token>). */
  pathSegments(s: string): string {
    return replaceGroup(s, this.pathTextRe);
  }

  /** Secret-looking values (tokens, keys, card numbers) wherever they appear in `s`. */
  values(s: string): string {
    // Short values repeat (statuses, names, flags): their answer is remembered, as for keys.
    return s.length > VALUE_CACHE_MAX_LENGTH ? this.valuesUncached(s) : this.valueMemo.get(s);
  }

  private valuesUncached(s: string): string {
    if (this.valueDetector !== null && !this.valueDetector.test(s)) return s;
    let out = s;
    for (const rule of this.valueRules) {
      out = rule.group ? replaceGroup(out, rule.re) : out.replace(rule.re, replaceNonEmpty);
    }
    return out;
  }
}

function stripNamedGroups(source: string): string {
  return source.replace(NAMED_GROUP, '$1(?:');
}

/** Replaces the named group `secret` of every match of a global regex compiled with the 'd' flag. */
function replaceGroup(s: string, re: RegExp): string {
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

function replaceNonEmpty(match: string): string {
  return match.length === 0 ? match : REDACTED;
}
