import { createHash } from 'node:crypto';
import type { Param } from '../../../../shared/query/dialect.js';
import { codeOnly } from '../../../../shared/query/sql-lexer.js';

/** StartQueryExecution's limit on each ExecutionParameters item (API reference). */
const MAX_PARAM_LENGTH = 1024;

/**
 * One bound value as ExecutionParameters wants it. Athena substitutes each value for its `?` as
 * SQL text (AWS: "For SQL execution parameters to be treated as strings, they must be enclosed
 * in single quotes"; a date is given as CAST('2014-07-05' AS DATE); EXECUTE ... USING 'usa', 12),
 * so each value is a Trino literal: strings quoted with `'` doubled (the only escape Trino
 * strings have), integers as digits, booleans as true/false, timestamps as TIMESTAMP '... .mmm'
 * in UTC without a zone, which is how `ts` (timestamp, UTC) compares with no session time zone.
 * The value is a literal token and never part of the query text, so a quote, `;` or `--` in it
 * cannot change the statement.
 */
export function athenaLiteral(p: Param): string {
  let text: string;
  switch (p.type) {
    case 'string':
      text = `'${p.value.replace(/'/g, "''")}'`;
      break;
    case 'int':
      if (!Number.isSafeInteger(p.value)) throw new Error(`not an integer parameter: ${p.value}`);
      text = String(p.value);
      break;
    case 'bool':
      text = p.value ? 'true' : 'false';
      break;
    case 'timestamp': {
      const date = new Date(p.value);
      const iso = Number.isNaN(date.getTime()) ? '' : date.toISOString();
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(iso))
        throw new Error(`not a timestamp parameter: ${p.value}`);
      text = `TIMESTAMP '${iso.slice(0, 10)} ${iso.slice(11, 23)}'`;
      break;
    }
  }
  if (text.length > MAX_PARAM_LENGTH)
    throw new Error(`a bound value is longer than Athena's ${MAX_PARAM_LENGTH}-character limit`);
  return text;
}

/**
 * A comment that makes the query text differ when the values differ: result reuse matches on
 * "query strings", and a reused result must never be one computed for other filter values.
 */
export function reuseKey(values: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32);
  return `-- closer-audit params ${digest}`;
}

/** `?` placeholders as Trino counts them: not inside literals, quoted names or comments. */
export function countPlaceholders(sql: string): number {
  return codeOnly(sql).split('?').length - 1;
}
