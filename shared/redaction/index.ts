export { DEFAULT_REDACTION_RULES, mergeRedactionRules, parseRedactionRules } from './rules.js';
export type { RedactionRules } from './rules.js';
export { REDACTED, Redactor } from './redactor.js';
