import { createHash } from 'node:crypto';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type ColumnInfo,
  type GetQueryResultsCommandOutput,
  type QueryExecution,
  type Row,
} from '@aws-sdk/client-athena';
import { athenaDialect, type Param } from '../../../shared/query/dialect.js';
import type { Range } from '../../../shared/query/model.js';
import { DEFAULT_DATABASE, DEFAULT_DETECTIONS_TABLE, DEFAULT_TABLE } from '../../../shared/schema/athena.js';
import {
  QueryTimeoutError,
  type FieldType,
  type QueryEngine,
  type QueryResult,
  type RunOptions,
} from '../engine.js';

export interface AthenaEngineOptions {
  /** Injected in tests; otherwise one is created (and destroyed by close()). */
  client?: AthenaClient;
  workGroup: string;
  /** Glue database; default DEFAULT_DATABASE. */
  database?: string;
  /** Glue table; default DEFAULT_TABLE. */
  table?: string;
  /** Glue table of the alerts; default DEFAULT_DETECTIONS_TABLE. */
  detectionsTable?: string;
  /** Data catalog; default 'AwsDataCatalog'. */
  catalog?: string;
  /** Reuse a result of the same query this young (dashboard refreshes); 0 disables. Default 5. */
  resultReuseMinutes?: number;
  /** Poll backoff: first wait, cap (x1.5 each time). Defaults 200 ms and 2 s. */
  pollInitialMs?: number;
  pollMaxMs?: number;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Clock for the time limit; injected in tests with `sleep`. */
  now?: () => number;
}

const NAME = /^[A-Za-z0-9_]+$/;
/** StartQueryExecution's limit on each ExecutionParameters item (API reference). */
const MAX_PARAM_LENGTH = 1024;
const PAGE_SIZE = 1000;

/**
 * The cloud engine: Athena (engine version 3, Trino) over the Glue table. Values travel as
 * ExecutionParameters, never inside the query text; the query is polled until it ends and
 * stopped when the caller goes away or the time limit passes.
 */
export class AthenaEngine implements QueryEngine {
  readonly dialect = athenaDialect;

  private readonly client: AthenaClient;
  private readonly ownsClient: boolean;
  private readonly workGroup: string;
  private readonly database: string;
  private readonly table: string;
  private readonly detectionsTable: string;
  private readonly catalog: string;
  private readonly reuseMinutes: number;
  private readonly pollInitialMs: number;
  private readonly pollMaxMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(options: AthenaEngineOptions) {
    if (!options.workGroup) throw new Error('the Athena work group is required');
    this.workGroup = options.workGroup;
    this.database = checkName('database', options.database ?? DEFAULT_DATABASE);
    this.table = checkName('table', options.table ?? DEFAULT_TABLE);
    this.detectionsTable = checkName('detections table', options.detectionsTable ?? DEFAULT_DETECTIONS_TABLE);
    this.catalog = checkName('catalog', options.catalog ?? 'AwsDataCatalog');
    const reuse = options.resultReuseMinutes ?? 5;
    if (!Number.isInteger(reuse) || reuse < 0 || reuse > 10080)
      throw new Error('resultReuseMinutes must be a whole number of minutes from 0 to 10080');
    this.reuseMinutes = reuse;
    this.pollInitialMs = options.pollInitialMs ?? 200;
    this.pollMaxMs = options.pollMaxMs ?? 2000;
    if (!(this.pollInitialMs > 0 && this.pollMaxMs >= this.pollInitialMs))
      throw new Error('pollInitialMs must be above 0 and pollMaxMs at least pollInitialMs');
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
    this.ownsClient = !options.client;
    this.client = options.client ?? new AthenaClient({});
  }

  /** Glue lower-cases its names; quoted, so no name is read as a keyword. */
  async tableFor(_range: Range): Promise<string> {
    return [this.catalog, this.database, this.table].map((n) => `"${n.toLowerCase()}"`).join('.');
  }

  async detectionsTableFor(_range: Range): Promise<string> {
    return [this.catalog, this.database, this.detectionsTable].map((n) => `"${n.toLowerCase()}"`).join('.');
  }

  async run(sql: string, params: Param[], options: RunOptions = {}): Promise<QueryResult> {
    const marks = countPlaceholders(sql);
    if (marks !== params.length)
      throw new Error(`the statement has ${marks} placeholders but ${params.length} values`);
    const values = params.map(athenaLiteral);
    const { signal, timeoutMs } = options;
    if (signal?.aborted) throw abortError();

    const reuse = this.reuseMinutes > 0;
    const started = await this.client.send(
      new StartQueryExecutionCommand({
        QueryString: reuse && values.length ? `${reuseKey(values)}\n${sql}` : sql,
        WorkGroup: this.workGroup,
        QueryExecutionContext: { Catalog: this.catalog, Database: this.database },
        // The API refuses an empty list: a query without values sends none.
        ExecutionParameters: values.length ? values : undefined,
        ResultReuseConfiguration: reuse
          ? { ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: this.reuseMinutes } }
          : undefined,
      }),
    );
    const id = started.QueryExecutionId;
    if (!id) throw new Error('Athena started no query (no QueryExecutionId)');

    const deadline = timeoutMs !== undefined ? this.now() + timeoutMs : Infinity;
    const aborted = abortPromise(signal);
    try {
      const execution = await this.wait(id, deadline, timeoutMs ?? 0, signal, aborted.promise);
      return await this.results(id, execution, sql, signal, options.maxRows, options.maxBytes);
    } finally {
      aborted.dispose();
    }
  }

  /** Polls with backoff until the query ends; stops it on abort or timeout. */
  private async wait(
    id: string,
    deadline: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
    aborted: Promise<void>,
  ): Promise<QueryExecution> {
    let delay = this.pollInitialMs;
    for (;;) {
      const out = await this.client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const execution = out.QueryExecution ?? {};
      const status = execution.Status ?? {};
      if (status.State === 'SUCCEEDED') return execution;
      if (status.State === 'FAILED') {
        const reason = status.StateChangeReason ?? 'no reason given';
        const detail = status.AthenaError?.ErrorMessage;
        throw new Error(
          `Athena query ${id} failed: ${reason}${detail && detail !== reason ? ` (${detail})` : ''}`,
        );
      }
      if (status.State === 'CANCELLED') {
        const reason = status.StateChangeReason;
        throw new Error(`Athena query ${id} was cancelled${reason ? `: ${reason}` : ''}`);
      }
      const left = deadline - this.now();
      if (signal?.aborted || left <= 0) return this.stop(id, signal?.aborted ? null : timeoutMs);
      await Promise.race([this.sleep(Math.min(delay, left)), aborted]);
      if (signal?.aborted || this.now() >= deadline) return this.stop(id, signal?.aborted ? null : timeoutMs);
      delay = Math.min(delay * 1.5, this.pollMaxMs);
    }
  }

  /** Stops the query (best effort: the caller's error matters more), then throws. */
  private async stop(id: string, timeoutMs: number | null): Promise<never> {
    try {
      await this.client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    } catch {
      // Already ended, or not allowed: either way there is nothing more to stop.
    }
    throw timeoutMs === null ? abortError() : new QueryTimeoutError(timeoutMs);
  }

  private async results(
    id: string,
    execution: QueryExecution,
    sql: string,
    signal: AbortSignal | undefined,
    maxRows?: number,
    maxBytes?: number,
  ): Promise<QueryResult> {
    let info: ColumnInfo[] | undefined;
    const rows: unknown[][] = [];
    let token: string | undefined;
    let first = true;
    let bytes = 0;
    let truncatedBy: 'rows' | 'bytes' | undefined;
    pages: do {
      if (signal?.aborted) throw abortError();
      const page: GetQueryResultsCommandOutput = await this.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: PAGE_SIZE, NextToken: token }),
      );
      info ??= page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? [];
      let pageRows: Row[] = page.ResultSet?.Rows ?? [];
      // A SELECT's first row is its header (column names), on the first page only.
      if (first && execution.StatementType !== 'UTILITY') pageRows = pageRows.slice(1);
      first = false;
      const cols = info;
      for (const row of pageRows) {
        if (maxRows !== undefined && rows.length >= maxRows) {
          truncatedBy = 'rows';
          break pages;
        }
        if (maxBytes !== undefined) {
          // Every value arrives as text: its length is what it adds to the answer, about.
          const size = cols.reduce((n, _c, i) => n + (row.Data?.[i]?.VarCharValue?.length ?? 1) + 3, 0);
          if (bytes + size > maxBytes) {
            truncatedBy = 'bytes';
            break pages;
          }
          bytes += size;
        }
        rows.push(cols.map((c, i) => parseValue(c, row.Data?.[i]?.VarCharValue)));
      }
      token = page.NextToken;
    } while (token);
    const truncated = truncatedBy !== undefined;
    const columns = (info ?? []).map((c) => ({ name: c.Name ?? c.Label ?? '', type: fieldType(c.Type) }));
    const scanned = execution.Statistics?.DataScannedInBytes;
    return {
      columns,
      rows,
      executedSql: sql,
      truncated,
      ...(truncatedBy ? { truncatedBy } : {}),
      ...(scanned !== undefined ? { bytesScanned: Number(scanned) } : {}),
    };
  }

  /**
   * Athena cannot dry-run a statement, so this is a conservative lexer: it refuses more than it
   * must. The real guard is IAM: the query role may only read the events table.
   */
  async checkReadOnly(sql: string): Promise<void> {
    checkReadOnlySql(sql);
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}

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

function checkName(what: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`the Athena ${what} name must match ${NAME}, not ${name}`);
  return name;
}

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
function reuseKey(values: string[]): string {
  const digest = createHash('sha256').update(JSON.stringify(values)).digest('hex').slice(0, 32);
  return `-- closer-audit params ${digest}`;
}

/** `?` placeholders as Trino counts them: not inside literals, quoted names or comments. */
export function countPlaceholders(sql: string): number {
  return codeOnly(sql).split('?').length - 1;
}

/**
 * The SQL with string literals, quoted identifiers and comments blanked out, split where
 * Trino's lexer splits them: `''` inside a string is a quote, a `--` comment ends at CR or LF,
 * block comments do not nest. Anything left is code.
 */
function codeOnly(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'" || ch === '"' || ch === '`') {
      let j = i + 1;
      for (;;) {
        const k = sql.indexOf(ch, j);
        if (k === -1) {
          j = sql.length;
          break;
        }
        if (sql[k + 1] === ch) {
          j = k + 2;
          continue;
        }
        j = k + 1;
        break;
      }
      out += ch === "'" ? " '' " : ' "" ';
      i = j;
      continue;
    }
    if (sql.startsWith('--', i)) {
      const end = sql.slice(i).search(/[\r\n]/);
      i = end === -1 ? sql.length : i + end;
      out += ' ';
      continue;
    }
    if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
      out += ' ';
      continue;
    }
    out += ch;
    i++;
  }
  return out;
}

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

/** Athena's type name without its parameters: `varchar(12)` → varchar, `timestamp(3) with time zone` → timestamp with time zone. */
export function baseType(type: string | undefined): string {
  return (type ?? '')
    .toLowerCase()
    .replace(/\([^)]*\)/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

export const NUMBER_TYPES = new Set([
  'tinyint',
  'smallint',
  'integer',
  'int',
  'bigint',
  'double',
  'real',
  'float',
  'decimal',
]);
const STRING_TYPES = new Set(['varchar', 'char', 'string', 'json', 'ipaddress', 'uuid']);
export const TIME_TYPES = new Set(['timestamp', 'timestamp with time zone', 'date']);

/** Athena's (and Trino's) type name → the frame field type. */
export function fieldType(type: string | undefined): FieldType {
  const t = baseType(type);
  if (STRING_TYPES.has(t)) return 'string';
  if (NUMBER_TYPES.has(t)) return 'number';
  if (t === 'boolean') return 'boolean';
  if (TIME_TYPES.has(t)) return 'time';
  return 'other';
}

/** Athena returns every value as text; absent text is NULL. */
function parseValue(col: ColumnInfo, text: string | undefined): unknown {
  if (text === undefined) return null;
  const t = baseType(col.Type);
  if (NUMBER_TYPES.has(t)) return Number(text); // bigint as a Number: counts stay far below 2^53
  if (t === 'boolean') return text === 'true';
  if (TIME_TYPES.has(t)) return parseTime(text);
  // Best effort: Athena prints an array as `[a, b]`, so an element containing ", " or brackets
  // cannot be told apart, and a NULL element reads as the string "null".
  if (t === 'array') return parseArray(text);
  return text;
}

function parseArray(text: string): string[] | string {
  if (!text.startsWith('[') || !text.endsWith(']')) return text;
  const inner = text.slice(1, -1);
  return inner === '' ? [] : inner.split(', ');
}

/** `2026-11-20 09:27:12.529`, with ` UTC`, an offset or a zone name, or a date: epoch ms. */
export function parseTime(text: string): number | string {
  const m = /^(-?\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?\s*(.*)$/.exec(
    text.trim(),
  );
  if (!m) return text;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = ''] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const ms = local + Number(frac.padEnd(3, '0').slice(0, 3));
  if (zone === '' || zone === 'UTC' || zone === 'Z') return ms;
  const offset = /^([+-])(\d\d):?(\d\d)$/.exec(zone);
  if (offset) {
    const minutes = Number(offset[2]) * 60 + Number(offset[3]);
    return ms - (offset[1] === '-' ? -minutes : minutes) * 60_000;
  }
  try {
    return ms - zoneOffsetMs(zone, ms);
  } catch {
    return text;
  }
}

/** The offset of a named zone at (about) that wall-clock time, from the ICU data Node carries. */
function zoneOffsetMs(zone: string, wallMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(wallMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return asUtc - Math.floor(wallMs / 1000) * 1000;
}

function abortError(): Error {
  const err = new Error('query cancelled: the caller went away');
  err.name = 'AbortError';
  return err;
}

/** Resolves when the signal aborts, so a poll wait ends at once; dispose() drops the listener. */
function abortPromise(signal: AbortSignal | undefined): { promise: Promise<void>; dispose: () => void } {
  if (!signal) return { promise: new Promise<void>(() => {}), dispose: () => {} };
  let listener = () => {};
  const promise = new Promise<void>((resolve) => {
    listener = () => resolve();
    signal.addEventListener('abort', listener, { once: true });
  });
  return { promise, dispose: () => signal.removeEventListener('abort', listener) };
}
