import { describe, expect, it } from '@jest/globals';
import { interpolateSql } from '../../plugin/src/request.js';
import { mockTemplateSrv } from './support/grafana.js';

// Template variables in raw SQL (issue 10): always data, wherever the user wrote them.

const srv = () =>
  mockTemplateSrv([
    { name: 'user', value: "x' OR 1=1 --" },
    { name: 'users', value: ["o'brien", 'u7'] },
    { name: 'path', value: 'a\\' },
  ]);

describe('template variables in raw SQL', () => {
  it('become quoted literals in code, one per value', () => {
    expect(interpolateSql('SELECT 1 FROM $__table WHERE user_id IN ($users) AND x = $user', srv())).toBe(
      "SELECT 1 FROM $__table WHERE user_id IN ('o''brien', 'u7') AND x = 'x'' OR 1=1 --'",
    );
  });

  it('inside a literal the SQL already quotes, stay inside it', () => {
    // Quoted again here, the value would close the literal and its OR 1=1 would run as SQL.
    expect(interpolateSql("SELECT 1 WHERE user_id = '$user' OR url LIKE '%${users}%'", srv())).toBe(
      "SELECT 1 WHERE user_id = 'x'' OR 1=1 --' OR url LIKE '%o''brien,u7%'",
    );
    // DuckDB's E'...' reads backslashes: a trailing one must not escape the closing quote.
    expect(interpolateSql("SELECT E'$path' AS p, '$path' AS q", srv())).toBe(
      "SELECT E'a\\\\' AS p, 'a\\' AS q",
    );
  });

  it('inside a quoted identifier stay inside it, and in comments stay as written', () => {
    expect(interpolateSql('SELECT 1 AS "$user" -- by $user\n/* $users */ FROM $__table', srv())).toBe(
      'SELECT 1 AS "x\' OR 1=1 --" -- by $user\n/* $users */ FROM $__table',
    );
  });

  it('leave the API macros and SQL without variables as written', () => {
    const sql =
      "SELECT $__timeGroup(ts, $__interval) AS time FROM $__table WHERE $__timeFilter(ts) AND a = 'it''s'";
    expect(interpolateSql(sql, srv())).toBe(sql);
  });
});
