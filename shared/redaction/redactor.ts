/**
 * Removes secrets from everything an event carries before it reaches storage, quarantine or logs:
 * JSON bodies (whole or truncated), form bodies, header dumps, free text and URLs.
 *
 * This module routes each text to the reader for its form (json.ts, truncated-json.ts, url.ts,
 * form.ts, free-text.ts); matchers.ts holds the compiled rules. Runs on every event, so: all regexes
 * are compiled once, key decisions are cached, every pass is linear (each regex can only start at a
 * token boundary, so a 1 MB adversarial string cannot make it backtrack quadratically), and cheap
 * substring checks skip the passes that cannot match.
 */
import { BoundedMemo } from '../memo/bounded-memo.js';
import { FORM_LIKE, MAX_NESTING, redactQuery } from './form.js';
import { redactFlat } from './free-text.js';
import { redactJsonText, redactJsonValue } from './json.js';
import { SecretMatchers } from './matchers.js';
import type { Passes } from './passes.js';
import { DEFAULT_REDACTION_RULES, type RedactionRules } from './rules.js';
import { NOT_URL, redactUrl, URL_LIKE } from './url.js';

export { REDACTED } from './matchers.js';

const TEXT_CACHE_LIMIT = 10_000;
const TEXT_CACHE_MAX_LENGTH = 256;

/** The public face: what the normaliser, the quarantine and the logs call. */
export class Redactor {
  private readonly router: Router;

  constructor(rules: RedactionRules = DEFAULT_REDACTION_RULES) {
    this.router = new Router(new SecretMatchers(rules));
  }

  isSecretKey(key: string): boolean {
    return this.router.matchers.isSecretKey(key);
  }

  /**
   * Redacts a body or any free text. JSON text is parsed, redacted as a value and re-serialised; URLs go
   * through url(); anything else (truncated JSON, form bodies, header lines, prose) gets the pattern passes.
   */
  text(text: string): string {
    return this.router.text(text);
  }

  /** Redacts a URL (see url.ts); text that cannot be a URL gets the text passes. Never throws. */
  url(url: string): string {
    return redactUrl(this.router, url);
  }

  /**
   * Deep copy of a JSON-like value: values under secret keys become REDACTED (objects and arrays whole;
   * null, booleans and '' are kept, they hold no secret), strings go through text()/url(). Never mutates
   * its input.
   */
  value<T>(value: T): T {
    return redactJsonValue(this.router, value, 0, true) as T;
  }
}

/** Sends each text to the reader for its form; the readers call back here for text inside theirs. */
class Router implements Passes {
  private readonly textMemo = new BoundedMemo(TEXT_CACHE_LIMIT, (s) => this.textUncached(s));
  private depth = 0;

  constructor(readonly matchers: SecretMatchers) {}

  text(text: string): string {
    if (typeof text !== 'string' || text.length < 3) return text;
    // Bodies repeat (the same setting toggled, the same form saved): short ones are remembered.
    if (text.length > TEXT_CACHE_MAX_LENGTH || this.depth > 0) return this.textUncached(text);
    return this.textMemo.get(text);
  }

  private textUncached(text: string): string {
    return redactJsonText(this, text) ?? this.plain(text, true);
  }

  plain(s: string, routeUrls: boolean): string {
    const colon = s.indexOf(':') !== -1;
    const eq = s.indexOf('=') !== -1;
    const slash = s.indexOf('/') !== -1;
    if (!colon && !eq && !slash) return this.matchers.values(s); // fast path: prose, ids, words
    if (routeUrls && (colon || slash) && URL_LIKE.test(s) && !NOT_URL.test(s)) return redactUrl(this, s);
    if (eq && this.depth < MAX_NESTING && FORM_LIKE.test(s)) {
      const out = redactQuery(this, s);
      return this.matchers.values(slash ? this.matchers.pathSegments(out) : out);
    }
    return this.flat(s, colon || eq, slash);
  }

  flat(s: string, keyed: boolean, slash: boolean): string {
    return redactFlat(this, s, keyed, slash);
  }

  get nesting(): number {
    return this.depth;
  }

  nested<T>(fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }
}
