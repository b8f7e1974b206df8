import { AthenaClient } from '@aws-sdk/client-athena';
import { athenaDialect, type Param } from '../../../shared/query/dialect.js';
import type { TimeRange } from '../../../shared/query/model.js';
import { DEFAULT_DATABASE, DEFAULT_DETECTIONS_TABLE, DEFAULT_TABLE } from '../../../shared/schema/athena.js';
import type { QueryEngine, QueryResult, RunOptions } from '../engine.js';
import { AthenaQueries, abortError } from './athena/client.js';
import { athenaLiteral, countPlaceholders } from './athena/literals.js';
import { checkReadOnlySql } from './athena/read-only.js';
import { ResultRows } from './athena/results.js';

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

/**
 * The cloud engine: Athena (engine version 3, Trino) over the Glue table. Values travel as
 * ExecutionParameters, never inside the query text; the query is polled until it ends and
 * stopped when the caller goes away or the time limit passes.
 */
export class AthenaEngine implements QueryEngine {
  readonly dialect = athenaDialect;

  private readonly client: AthenaClient;
  private readonly queries: AthenaQueries;
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
    this.queries = new AthenaQueries(this.client);
  }

  /** Glue lower-cases its names; quoted, so no name is read as a keyword. */
  async tableFor(_range: TimeRange): Promise<string> {
    return [this.catalog, this.database, this.table].map((n) => `"${n.toLowerCase()}"`).join('.');
  }

  async detectionsTableFor(_range: TimeRange): Promise<string> {
    return [this.catalog, this.database, this.detectionsTable].map((n) => `"${n.toLowerCase()}"`).join('.');
  }

  async run(sql: string, params: Param[], options: RunOptions = {}): Promise<QueryResult> {
    const marks = countPlaceholders(sql);
    if (marks !== params.length)
      throw new Error(`the statement has ${marks} placeholders but ${params.length} values`);
    const values = params.map(athenaLiteral);
    const { signal, timeoutMs } = options;
    if (signal?.aborted) throw abortError();

    const id = await this.queries.start({
      sql,
      values,
      workGroup: this.workGroup,
      catalog: this.catalog,
      database: this.database,
      reuseMinutes: this.reuseMinutes,
    });
    const execution = await this.queries.wait(id, {
      initialMs: this.pollInitialMs,
      maxMs: this.pollMaxMs,
      sleep: this.sleep,
      now: this.now,
      timeoutMs,
      signal,
    });
    const rows = new ResultRows(execution, options.maxRows, options.maxBytes);
    for await (const page of this.queries.pages(id, signal)) {
      if (!rows.add(page.columns, page.rows)) break;
    }
    return rows.result(sql);
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

function checkName(what: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`the Athena ${what} name must match ${NAME}, not ${name}`);
  return name;
}
