import type { SecretMatchers } from './matchers.js';

/**
 * What each reader of the redactor (JSON, truncated JSON, URLs, forms, free text) may call: the
 * compiled rules, and the orchestrator's routing for text found inside what it reads (a parameter
 * value that is itself a URL, a string inside JSON).
 */
export interface Passes {
  readonly matchers: SecretMatchers;
  /** Any text, routed by its form (JSON, URL, form, free text). */
  text(s: string): string;
  /** Non-JSON text, routed; `routeUrls` false once the caller knows it is not a URL. */
  plain(s: string, routeUrls: boolean): string;
  /** The passes that never recurse: keyed, secret path segments, secret values. */
  flat(s: string, keyed: boolean, slash: boolean): string;
  /** How many parameter values deep the current pass is (a redirect URL inside a parameter...). */
  readonly nesting: number;
  /** Runs `fn` one nesting level deeper. */
  nested<T>(fn: () => T): T;
}
