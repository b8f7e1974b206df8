import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isDuration, parseDuration } from '../time/duration.js';
import { SEVERITIES } from './columns.js';

/**
 * A detection rule: one YAML file, declarative. Its `sql` selects the matching events over the
 * events table with the query API's macros (`$__table`, `$__timeFilter(ts)`, …, plus
 * `$__jsonString(column, field)` for a top-level field of a JSON body); every selected row needs
 * `ts`, `event_id` and the `key` column. The evaluator groups the rows by key and fixed windows
 * (`window` long, aligned to the epoch), computes `measure` per group, and raises an alert where it
 * reaches `threshold` (and `condition`, an extra test over the group, holds).
 */
export { SEVERITIES, type Severity } from './columns.js';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const RuleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'lower-case letters, digits and dashes'),
    title: z.string().min(1).describe('template: {{entity}}, {{count}}, {{measure}}, {{key}}'),
    severity: z.enum(SEVERITIES),
    technique: z
      .string()
      .regex(/^T\d{4}(\.\d{3})?$/, 'a MITRE ATT&CK technique id such as T1110 or T1110.003'),
    description: z.string().min(1),
    next_steps: z.string().min(1),
    window: z.string().refine(isDuration, 'a duration such as 10m, 1h or 1d'),
    threshold: z.number().int().positive(),
    key: z.string().regex(IDENT, 'a column name the SQL selects'),
    measure: z.string().min(1).default('count(*)'),
    condition: z.string().min(1).optional(),
    history: z.string().refine(isDuration, 'a duration such as 30d').optional(),
    sql: z.string().min(1),
  })
  .strict();

export type Rule = z.infer<typeof RuleSchema>;

/** A rule file that cannot be used: the file and the field at fault, in one line. */
export class RuleError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    problem: string,
  ) {
    super(`${file}: ${field}: ${problem}`);
    this.name = 'RuleError';
  }
}

/** A rule's `window` or `history` (validated by RuleSchema) in ms. */
export const durationMs = parseDuration;

export function parseRule(file: string, text: string): Rule {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new RuleError(file, 'yaml', (err as Error).message.split('\n')[0] ?? 'not YAML');
  }
  const parsed = RuleSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuleError(file, issue?.path.join('.') || '(rule)', issue?.message ?? 'invalid');
  }
  const rule = parsed.data;
  const window = durationMs(rule.window);
  if (window < 60_000 || window > 7 * 86_400_000) throw new RuleError(file, 'window', 'between 1m and 7d');
  if ((86_400_000 % window !== 0 && window % 86_400_000 !== 0) || window % 2000 !== 0)
    throw new RuleError(file, 'window', 'must divide a day (e.g. 5m, 10m, 15m, 1h, 6h, 1d)');
  if (rule.history && durationMs(rule.history) > 400 * 86_400_000)
    throw new RuleError(file, 'history', 'at most 400d');
  if (/;\s*\S/.test(rule.sql)) throw new RuleError(file, 'sql', 'one SELECT statement, no `;` inside');
  return rule;
}

/** The alert's title: `{{entity}}`, `{{count}}`, `{{measure}}` and `{{key}}` filled in. */
export function renderTitle(rule: Rule, values: { entity: string; count: number; measure: number }): string {
  return rule.title.replace(/\{\{\s*(entity|count|measure|key)\s*\}\}/g, (_, name: string) =>
    name === 'key' ? rule.key : String(values[name as 'entity' | 'count' | 'measure']),
  );
}
