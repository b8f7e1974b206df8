export { REDACTED, Redactor } from './redactor.js';
export {
  DEFAULT_REDACTION_RULES,
  mergeRedactionRules,
  parseRedactionRules,
  type RedactionRules,
} from './rules.js';
