import { codeOnly } from '../../../../shared/query/sql-lexer.js';

const FORBIDDEN = new RegExp(
  `\\b(${[
    'INSERT',
    'UPDATE',
    'DELETE',
    'MERGE',
    'DROP',
    'CREATE',
    'ALTER',
    'TRUNCATE',
    'GRANT',
    'REVOKE',
    'CALL',
    'EXECUTE',
    'PREPARE',
    'DEALLOCATE',
    'UNLOAD',
    'MSCK',
    'VACUUM',
    'OPTIMIZE',
    'SET',
    'RESET',
    'USE',
    'DESCRIBE',
    'SHOW',
    'EXPLAIN',
    'COPY',
  ].join('|')})\\b`,
  'i',
);

/**
 * Refuses SQL that is not one SELECT (or WITH ... SELECT) in Trino's syntax: a conservative
 * lexer, shared by the Athena and Trino engines.
 */
export function checkReadOnlySql(sql: string): void {
  const code = codeOnly(sql);
  if (!code.trim()) throw new Error('raw SQL is empty');
  const semi = code.indexOf(';');
  if (semi !== -1 && code.slice(semi + 1).trim() !== '')
    throw new Error('only one SELECT statement is allowed');
  const forbidden = FORBIDDEN.exec(code);
  if (forbidden) throw new Error(`${(forbidden[1] as string).toUpperCase()} is not allowed in raw SQL`);
  const start = /^\s*(\(|[A-Za-z_]+)/.exec(code)?.[1] ?? '';
  if (start !== '(' && !/^(select|with)$/i.test(start))
    throw new Error(`raw SQL must be a SELECT (or WITH ... SELECT), not ${start.toUpperCase() || 'that'}`);
}
