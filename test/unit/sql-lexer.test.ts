import { describe, expect, it } from '@jest/globals';
import { countPlaceholders } from '../../functions/query/engines/athena/literals.js';
import { codeOnly, lexSql } from '../../shared/query/sql-lexer.js';

// The one lexer the raw-SQL macros, the Athena placeholder count and read-only check, and the
// plugin's template variables read SQL with (issue 14).

const kinds = (sql: string) => lexSql(sql).map((t) => [t.kind, t.text]);

describe('the SQL lexer', () => {
  it('splits code, literals, quoted names and comments, and joins back to the SQL', () => {
    const sql = `SELECT 'it''s ?', "a""b", \`c\` -- x ?\r\nFROM t /* ? */ WHERE x = ?`;
    expect(kinds(sql)).toEqual([
      ['code', 'SELECT '],
      ['string', "'it''s ?'"],
      ['code', ', '],
      ['identifier', '"a""b"'],
      ['code', ', '],
      ['identifier', '`c`'],
      ['code', ' '],
      ['comment', '-- x ?'],
      ['code', '\r\nFROM t '],
      ['comment', '/* ? */'],
      ['code', ' WHERE x = ?'],
    ]);
    expect(
      lexSql(sql)
        .map((t) => t.text)
        .join(''),
    ).toBe(sql);
    expect(lexSql(sql).every((t) => sql.startsWith(t.text, t.start))).toBe(true);
  });

  it("reads DuckDB's E'...' strings with backslash escapes; a plain string has none", () => {
    expect(kinds(`SELECT E'a\\'b ?', 'c\\' ?`)).toEqual([
      ['code', 'SELECT E'],
      ['escape-string', `'a\\'b ?'`],
      ['code', ', '],
      ['string', `'c\\'`],
      ['code', ' ?'],
    ]);
  });

  it('runs an unclosed literal or comment to the end', () => {
    expect(kinds("SELECT 'open ?")).toEqual([
      ['code', 'SELECT '],
      ['string', "'open ?"],
    ]);
    expect(kinds('SELECT 1 /* open ?')).toEqual([
      ['code', 'SELECT 1 '],
      ['comment', '/* open ?'],
    ]);
  });

  it('leaves code only, which is what counts placeholders', () => {
    expect(codeOnly(`a = '?' AND "?" = b -- ?\n AND c = ?`)).not.toMatch(/'\?'|"\?"|-- \?/);
    expect(countPlaceholders(`a = '?' AND "?" = b -- ?\n AND c = ? /* ? */ AND d = ?`)).toBe(2);
    expect(countPlaceholders(`x = E'\\'?' AND y = ?`)).toBe(1);
  });
});
