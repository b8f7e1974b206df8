import { readFileSync } from 'node:fs';
import {
  DEFAULT_REDACTION_RULES,
  mergeRedactionRules,
  parseRedactionRules,
  Redactor,
} from '../../shared/redaction/index.js';
import { SettingError } from './settings.js';

/** The default rules, plus the JSON file CLOSER_REDACTION_RULES (or --redaction-rules) names. */
export function loadRedactor(file: string | undefined): Redactor {
  if (!file) return new Redactor(DEFAULT_REDACTION_RULES);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new SettingError('CLOSER_REDACTION_RULES', `redaction rules ${file}: ${oneLine(err)}`);
  }
  try {
    return new Redactor(mergeRedactionRules(DEFAULT_REDACTION_RULES, parseRedactionRules(json)));
  } catch (err) {
    throw new SettingError('CLOSER_REDACTION_RULES', `redaction rules ${file}: ${oneLine(err)}`);
  }
}

function oneLine(err: unknown): string {
  return ((err as Error).message ?? String(err)).split('\n')[0] as string;
}
