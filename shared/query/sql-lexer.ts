/**
 * The one SQL lexer: where raw SQL's string literals, quoted identifiers and comments are, so
 * that what reads the SQL (the `$__` macros, the Athena placeholder count and read-only check,
 * the plugin's template variables) sees only code, as the engines do. It splits where Trino's
 * and DuckDB's lexers split: `''` inside a string is a quote (`""` inside a quoted name), a `--`
 * comment ends at CR or LF, block comments do not nest, and an unclosed literal or comment runs
 * to the end. DuckDB's E'...' strings read backslash escapes (`\'` does not end them). Backquoted
 * names (Trino's lexer knows them, to refuse them) are quoted identifiers too.
 * Browser-safe: the plugin bundles it.
 */
export type SqlTokenKind = 'code' | 'string' | 'escape-string' | 'identifier' | 'comment';

export interface SqlToken {
  kind: SqlTokenKind;
  text: string;
  /** Offset of the token's first character in the SQL. */
  start: number;
}

/** The SQL as tokens, in order; joined, their texts are the SQL again. */
export function lexSql(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  let codeStart = 0;
  let i = 0;
  const push = (kind: SqlTokenKind, end: number) => {
    if (i > codeStart) tokens.push({ kind: 'code', text: sql.slice(codeStart, i), start: codeStart });
    tokens.push({ kind, text: sql.slice(i, end), start: i });
    i = end;
    codeStart = end;
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"' || ch === '`') {
      // E'...' right after a non-word character (DuckDB): backslash escapes apply.
      const escape = ch === "'" && /(^|[^A-Za-z0-9_])[Ee]$/.test(sql.slice(Math.max(codeStart, i - 2), i));
      push(ch === "'" ? (escape ? 'escape-string' : 'string') : 'identifier', closing(sql, i, escape));
    } else if (sql.startsWith('--', i)) {
      const end = sql.slice(i).search(/[\r\n]/);
      push('comment', end === -1 ? sql.length : i + end);
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      push('comment', end === -1 ? sql.length : end + 2);
    } else {
      i++;
    }
  }
  if (i > codeStart) tokens.push({ kind: 'code', text: sql.slice(codeStart, i), start: codeStart });
  return tokens;
}

/** The end (exclusive) of the literal or quoted name opening at `start`. */
function closing(sql: string, start: number, backslashEscapes: boolean): number {
  const quote = sql[start] as string;
  let j = start + 1;
  while (j < sql.length) {
    const c = sql[j];
    if (backslashEscapes && c === '\\') {
      j += 2;
      continue;
    }
    if (c === quote) {
      if (sql[j + 1] === quote) {
        j += 2;
        continue;
      }
      return j + 1;
    }
    j++;
  }
  return sql.length;
}

/**
 * The SQL with literals, quoted names and comments blanked out (a literal as `''`, a name as
 * `""`, a comment as a space), so that what is left is code only.
 */
export function codeOnly(sql: string): string {
  return lexSql(sql)
    .map((t) =>
      t.kind === 'code' ? t.text : t.kind === 'comment' ? ' ' : t.kind === 'identifier' ? ' "" ' : " '' ",
    )
    .join('');
}
