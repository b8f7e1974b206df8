import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance, DuckDBTypeId, StatementType, type DuckDBPreparedStatement } from '@duckdb/node-api';
import { EVENT_COLUMNS } from '../../../shared/event/columns.js';
import { daysOf } from '../../../shared/query/compile.js';
import { duckdbDialect, type Param } from '../../../shared/query/dialect.js';
import type { Range } from '../../../shared/query/model.js';
import { partitionPrefix } from '../../ingest/layout.js';
import {
  QueryTimeoutError,
  type FieldType,
  type QueryEngine,
  type QueryResult,
  type RunOptions,
} from '../engine.js';

export interface DuckDbEngineOptions {
  threads?: number;
  memoryLimit?: string;
  /** Connections queries run on at once: a dashboard's short panels need not wait for its long ones. */
  connections?: number;
}

const EMPTY_TABLE = 'closer_empty_events';
const SQL_TYPE = {
  timestamp: 'TIMESTAMPTZ',
  string: 'VARCHAR',
  boolean: 'BOOLEAN',
  int: 'INTEGER',
  string_list: 'VARCHAR[]',
};

/**
 * The embedded engine: DuckDB over the local sync folder. It may read that folder and nothing
 * else (external access off, the folder the only allowed directory, configuration locked), and
 * each query reads only the day folders of its range.
 */
export class DuckDbEngine implements QueryEngine {
  readonly dialect = duckdbDialect;

  private readonly idle: DuckDBConnection[];
  private readonly waiting: ((conn: DuckDBConnection) => void)[] = [];

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly all: DuckDBConnection[],
    private readonly dataDir: string,
  ) {
    this.idle = [...all];
  }

  private acquire(): Promise<DuckDBConnection> {
    const conn = this.idle.pop();
    return conn ? Promise.resolve(conn) : new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(conn: DuckDBConnection): void {
    const next = this.waiting.shift();
    if (next) next(conn);
    else this.idle.push(conn);
  }

  static async open(dataDir: string, options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const dir = path.resolve(dataDir);
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? '1GB',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await instance.connect();
    const cols = EVENT_COLUMNS.map((c) => `"${c.name}" ${SQL_TYPE[c.type]}`).join(', ');
    // A range with no files yet still answers, with the right columns and no rows. (Raw SQL
    // cannot write to it: only a single SELECT ever runs.)
    await conn.run(`CREATE TABLE ${EMPTY_TABLE} (${cols}, dt VARCHAR)`);
    await conn.run(`SET allowed_directories = ['${dir.replace(/'/g, "''")}/']`);
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
    // Settings are the instance's: connections opened after the lock share them.
    const more = await Promise.all(
      Array.from({ length: Math.max(0, (options.connections ?? 2) - 1) }, () => instance.connect()),
    );
    return new DuckDbEngine(instance, [conn, ...more], dir);
  }

  /** The files of the range's days only: a one-day query opens that day's objects and no others. */
  async tableFor(range: Range): Promise<string> {
    const files: string[] = [];
    // Newest day first: DuckDB's top-N pushes a dynamic filter into the scan, so "latest events"
    // fills its heap from the newest files and then skips older row groups by their ts statistics.
    for (const dt of daysOf(range).reverse()) {
      const dir = path.join(this.dataDir, ...partitionPrefix('parquet', dt).split('/').filter(Boolean));
      let names: string[];
      try {
        names = await fs.readdir(dir);
      } catch {
        continue;
      }
      for (const n of names.sort()) if (n.endsWith('.parquet')) files.push(path.join(dir, n));
    }
    if (files.length === 0) return EMPTY_TABLE;
    // Paths come from the folder listing above, never from a request; quoted all the same.
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    return `read_parquet([${list}], hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`;
  }

  async run(sql: string, params: Param[], options: RunOptions = {}): Promise<QueryResult> {
    const conn = await this.acquire();
    try {
      return await this.runOn(conn, sql, params, options);
    } finally {
      this.release(conn);
    }
  }

  private async runOn(
    conn: DuckDBConnection,
    sql: string,
    params: Param[],
    options: RunOptions,
  ): Promise<QueryResult> {
    const prepared = await conn.prepare(sql);
    bindAll(prepared, params);
    const stop = () => conn.interrupt();
    let timedOut = false;
    const timer =
      options.timeoutMs !== undefined
        ? setTimeout(() => {
            timedOut = true;
            stop();
          }, options.timeoutMs)
        : null;
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      const max = options.maxRows;
      const reader =
        max === undefined ? await prepared.runAndReadAll() : await prepared.runAndReadUntil(max + 1);
      const types = reader.columnTypes();
      const columns = reader.columnNames().map((name, i) => ({ name, type: fieldType(types[i]?.typeId) }));
      let rows = reader.getRowsJS().map((row) => row.map(toPlain));
      const truncated = max !== undefined && rows.length > max;
      if (truncated) rows = rows.slice(0, max);
      return { columns, rows, executedSql: sql, filesRead: countFiles(sql), truncated };
    } catch (err) {
      if (timedOut) throw new QueryTimeoutError(options.timeoutMs ?? 0);
      if (options.signal?.aborted) throw new Error('query cancelled: the caller went away');
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', stop);
      prepared.destroySync();
    }
  }

  /** One statement, and a SELECT: DuckDB's own parser says which. */
  async checkReadOnly(sql: string): Promise<void> {
    const conn = await this.acquire();
    try {
      await this.checkOn(conn, sql);
    } finally {
      this.release(conn);
    }
  }

  private async checkOn(conn: DuckDBConnection, sql: string): Promise<void> {
    const extracted = await conn.extractStatements(sql);
    if (extracted.count !== 1) throw new Error('raw SQL must be exactly one statement');
    let prepared: DuckDBPreparedStatement | null = null;
    try {
      prepared = await extracted.prepare(0);
      if (prepared.statementType !== StatementType.SELECT) throw new Error('raw SQL must be a SELECT');
    } finally {
      prepared?.destroySync();
    }
  }

  async close(): Promise<void> {
    for (const conn of this.all) conn.closeSync();
    this.instance.closeSync();
  }
}

function bindAll(prepared: DuckDBPreparedStatement, params: Param[]): void {
  if (prepared.parameterCount !== params.length) {
    throw new Error(`the statement has ${prepared.parameterCount} placeholders but ${params.length} values`);
  }
  params.forEach((p, i) => {
    const at = i + 1;
    if (p.type === 'string') prepared.bindVarchar(at, p.value);
    else if (p.type === 'int') prepared.bindBigInt(at, BigInt(p.value));
    else if (p.type === 'bool') prepared.bindBoolean(at, p.value);
    else prepared.bindDouble(at, p.value);
  });
}

function fieldType(id: DuckDBTypeId | undefined): FieldType {
  switch (id) {
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.DATE:
      return 'time';
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.DECIMAL:
      return 'number';
    case DuckDBTypeId.BOOLEAN:
      return 'boolean';
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.ENUM:
      return 'string';
    default:
      return 'other';
  }
}

function toPlain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

function countFiles(sql: string): number {
  const m = /read_parquet\(\[([^\]]*)\]/.exec(sql);
  return m ? (m[1] as string).split("', '").length : 0;
}
