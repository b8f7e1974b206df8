import type { FieldType, FilterKey, RollupStatus } from '../../shared/api/contract.js';
import type { ColumnName } from '../../shared/event/columns.js';
import type { Dialect, Param } from '../../shared/query/dialect.js';
import type { TimeRange } from '../../shared/query/model.js';

export type { FieldType };

/** A result set in the shape the API turns into Grafana data frames. */
export interface QueryResult {
  columns: { name: string; type: FieldType }[];
  /** Row-major; times as epoch ms, lists as arrays, integers as numbers. */
  rows: unknown[][];
  /** The SQL that ran, with `?` where values were bound. */
  executedSql: string;
  /** Reported by engines that bill by it (Athena). */
  bytesScanned?: number;
  /** Files or partitions opened, where the engine can tell (DuckDB). */
  filesRead?: number;
  /** More rows existed than `maxRows` (or more bytes than `maxBytes`) allowed. */
  truncated?: boolean;
  /** Which cap cut the result, when `truncated`: engines that cap only rows may leave it out. */
  truncatedBy?: 'rows' | 'bytes';
}

export interface RunOptions {
  /** Aborted when the caller goes away: the engine stops the query. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Read at most this many rows (raw SQL): the result then says it was cut. */
  maxRows?: number;
  /**
   * Read at most about this many bytes of values (raw SQL): rows past it are left out and the
   * result says it was cut. A value is counted by its length as text (a string's characters).
   */
  maxBytes?: number;
  /**
   * The SQL is the engine's own (compiled over table expressions it handed out, never raw SQL):
   * its plan may be kept and run again with other values bound, while the objects it names are
   * unchanged. Engines without such plans ignore it.
   */
  reusePlan?: boolean;
}

export class QueryTimeoutError extends Error {
  constructor(ms: number) {
    super(`query ran longer than ${Math.round(ms / 1000)} s and was stopped`);
    this.name = 'QueryTimeoutError';
  }
}

/** Too many queries are already running or waiting: the caller may retry later (503). */
export class QueryBusyError extends Error {
  constructor(running: number, waiting: number) {
    super(`the query API is busy (${running} queries running, ${waiting} waiting): try again shortly`);
    this.name = 'QueryBusyError';
  }
}

export class QueryCancelledError extends Error {
  constructor() {
    super('query cancelled: the caller went away');
    this.name = 'QueryCancelledError';
  }
}

export interface CountNeed {
  /** Stored columns the query filters, groups or counts by (besides ts and dt). */
  columns: readonly ColumnName[];
  /** A time series' bucket width: rows of a rollup stand for whole buckets of theirs. */
  stepMs?: number;
  /**
   * The query's body text filter (its column is not in `columns`): a table may answer with the
   * events whose body holds it, and say so in `applied`.
   */
  bodyContains?: string;
  /** Rows also carry first_ts and last_ts, their events' first and last time (`$__rollup`). */
  bounds?: boolean;
  /**
   * Whole hours of the range the table leaves out: it holds only the range's rows outside them,
   * event by event (the ends of a range whose middle the answer cache holds).
   */
  except?: TimeRange;
}

export interface CountTable {
  table: string;
  /** The column holding how many events a row stands for. */
  weight: string;
  /** Filters the table has applied already: the query leaves them out. */
  applied?: readonly FilterKey[];
  /**
   * The table's rows are the same whenever its text is (copies named by object identity and
   * whole hours): they may be kept by it.
   */
  stable?: boolean;
}

/** A SQL engine over the stored events: DuckDB over a folder, Athena over the Glue table, Trino over a Hive table. */
export interface QueryEngine {
  readonly dialect: Dialect;
  /** What /health calls the engine when it is not its dialect's name (Trino speaks Athena's SQL). */
  readonly name?: string;
  /**
   * Events queries are best asked of the newest part of the range first (an embedded engine,
   * where a query costs little beyond what it reads; not Athena, which bills and waits per query).
   */
  readonly latestFirst?: boolean;
  /** The table expression for queries over this range (DuckDB: only that range's day files). */
  tableFor(range: TimeRange): Promise<string>;
  /**
   * A copy of the range's events kept for the events panels (every column they show or filter
   * by, its rows of one action together), or null where there is none yet (tableFor answers).
   */
  eventsTableFor?(range: TimeRange): Promise<string | null>;
  /** The detections table (alerts the rules raised) for this range, as tableFor is for the events. */
  detectionsTableFor(range: TimeRange): Promise<string>;
  /**
   * A smaller table that answers a counting query (stat, topn, timeseries) over this range exactly
   * as the events table would, its rows weighted by a count column: pre-aggregated rollups. Null
   * when the engine has none that keeps every column the query reads (or not yet for this range):
   * the query then reads the events.
   */
  countTableFor?(range: TimeRange, need: CountNeed): Promise<CountTable | null>;
  /**
   * What the stored events of a range are now, as a text that changes whenever an object holding
   * any of them does (the answer cache's key); null when the engine cannot tell.
   */
  versionOf?(range: TimeRange): Promise<string | null>;
  /** How far those rollups are built, for /health. */
  rollupStatus?(): RollupStatus | null;
  run(sql: string, params: Param[], options?: RunOptions): Promise<QueryResult>;
  /** Refuses raw SQL that is not exactly one read-only statement (throws with the reason). */
  checkReadOnly(sql: string): Promise<void>;
  close(): Promise<void>;
}
