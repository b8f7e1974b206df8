import { statSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  DuckDBInstance,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  StatementType,
  type DuckDBDataChunk,
  type DuckDBPreparedStatement,
  type DuckDBVector,
} from '@duckdb/node-api';
import { COLUMN_TYPES } from '../../../shared/event/column-types.js';
import { DETECTION_COLUMNS, detectionsPrefix } from '../../../shared/detections/columns.js';
import { EVENT_COLUMNS } from '../../../shared/event/columns.js';
import { DAY_MS } from '../../../shared/event/partition.js';
import { dtBounds } from '../../../shared/query/compile.js';
import { duckdbDialect, type Param } from '../../../shared/query/dialect.js';
import type { TimeRange } from '../../../shared/query/model.js';
import { EVENTS_FOLDER } from '../../../shared/layout/layout.js';
import { listedParquetFiles } from '../../integrity/listed-files.js';
import type { RollupStatus } from '../../../shared/api/contract.js';
import { Rollups } from './duckdb-rollups.js';
import { Statements, objectIdentity } from './duckdb-statements.js';
import {
  QueryBusyError,
  QueryCancelledError,
  QueryTimeoutError,
  type FieldType,
  type CountNeed,
  type CountTable,
  type QueryEngine,
  type QueryResult,
  type RunOptions,
} from '../engine.js';

export interface DuckDbEngineOptions {
  threads?: number;
  /** DuckDB's memory limit (its buffer manager: scans, joins, aggregates), e.g. `1GB`. */
  memoryLimit?: string;
  /** Connections queries run on at once: a dashboard's short panels need not wait for its long ones. */
  connections?: number;
  /** Queries that may wait for a free connection; one more is refused as busy (503). */
  maxWaiting?: number;
  /**
   * Hourly rollups for the counting questions (duckdb-rollups.ts), built in the background in a
   * temporary folder and removed on close. On by default.
   */
  rollups?: boolean;
  /** Where the rollups' folder is made (default the system's temporary folder). */
  cacheDir?: string;
  /** Told what could not be rolled up (the query reads the events instead). */
  onWarning?: (message: string) => void;
}

const EMPTY_TABLE = 'closer_empty_events';
/** The rollups' temporary folders: closer-audit-rollups-XXXXXX. */
const ROLLUP_DIR_PREFIX = 'closer-audit-rollups-';
/** The attached database the rollups live in. */
const ROLLUP_DB = 'closer_rollups';
const EMPTY_DETECTIONS = 'closer_empty_detections';
const DETECTIONS_ROOT = detectionsPrefix().replace(/\/$/, '');
/** The name shown for the events in executed SQL and errors, where the engine reads files. */
const SHOWN_TABLE = 'events';
const EVENTS_ROOT = EVENTS_FOLDER;
/** A folder changed longer ago than this has an mtime no later change can repeat. */
const SETTLED_MS = 2_000;

interface Waiter {
  resolve: (conn: DuckDBConnection) => void;
}

/**
 * The embedded engine: DuckDB over the local sync folder. It may read the folder's Parquet
 * events and nothing else (external access off, `events/` the only allowed directory, no temp
 * directory, configuration locked), and each query reads only the day folders of its range that
 * exist.
 */
export class DuckDbEngine implements QueryEngine {
  readonly dialect = duckdbDialect;
  readonly latestFirst = true;

  private readonly idle: DuckDBConnection[];
  private readonly waiting: Waiter[] = [];
  /** Folder listings by path, with the folder's mtime and inode when it was listed (listObjects). */
  private readonly listings = new Map<string, { mtimeNs: bigint; ino: bigint; entries: string[] }>();
  /** Table expressions handed out lately, so executed SQL and errors can show a name instead. */
  private readonly shown = new Map<string, string>();
  /** Plans of the engine's own SQL, kept per connection (RunOptions.reusePlan). */
  private readonly statements: Statements;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly all: DuckDBConnection[],
    private readonly dataDir: string,
    private readonly maxWaiting: number,
    private readonly rollups: Rollups | null,
    private readonly rollupDir: string | null,
    private readonly builder: DuckDBConnection | null,
  ) {
    this.idle = [...all];
    this.statements = new Statements(dataDir + path.sep);
  }

  /** A free connection; waits in line while the caller is still there, and refuses a long line. */
  private acquire(signal?: AbortSignal): Promise<DuckDBConnection> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.waiting.length >= this.maxWaiting)
      return Promise.reject(new QueryBusyError(this.all.length, this.waiting.length));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (c) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(c);
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(waiter);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** A query holds a connection now. */
  private running(): boolean {
    return this.idle.length < this.all.length;
  }

  private release(conn: DuckDBConnection): void {
    const next = this.waiting.shift();
    if (next) next.resolve(conn);
    else this.idle.push(conn);
  }

  static async open(dataDir: string, options: DuckDbEngineOptions = {}): Promise<DuckDbEngine> {
    const dir = path.resolve(dataDir);
    const instance = await DuckDBInstance.create(':memory:', {
      threads: String(options.threads ?? 2),
      memory_limit: options.memoryLimit ?? '1GB',
      // No spilling: DuckDB would add its temp directory (`<cwd>/.tmp/` by default) to the
      // allowed directories, and raw SQL could read whatever lies there.
      temp_directory: '',
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await instance.connect();
    const cols = EVENT_COLUMNS.map((c) => `"${c.name}" ${COLUMN_TYPES[c.type].duckdb}`).join(', ');
    // A range with no files yet still answers, with the right columns and no rows. (Raw SQL
    // cannot write to it: only a single SELECT ever runs.)
    await conn.run(`CREATE TABLE ${EMPTY_TABLE} (${cols}, dt VARCHAR)`);
    const alertCols = DETECTION_COLUMNS.map((c) => `"${c.name}" ${COLUMN_TYPES[c.type].duckdb}`).join(', ');
    await conn.run(`CREATE TABLE ${EMPTY_DETECTIONS} (${alertCols}, dt VARCHAR)`);
    // The rollups' own database, attached before access to files is shut off.
    let rollupDir: string | null = null;
    if (options.rollups ?? true) {
      const cacheDir = options.cacheDir ?? os.tmpdir();
      await removeOrphanedRollups(cacheDir);
      rollupDir = await fs.mkdtemp(path.join(cacheDir, ROLLUP_DIR_PREFIX));
      await fs.writeFile(path.join(rollupDir, 'pid'), String(process.pid));
      await conn.run(
        `ATTACH '${path.join(rollupDir, 'rollups.duckdb').replace(/'/g, "''")}' AS ${ROLLUP_DB}`,
      );
    }
    // Only the Parquet events: not the folder's state/, .tmp/ or NDJSON copies.
    const events = path.join(dir, EVENTS_ROOT) + path.sep;
    // And the alerts the detection rules stored (the `detections` query type).
    const detections = path.join(dir, DETECTIONS_ROOT) + path.sep;
    await conn.run(
      `SET allowed_directories = [${[events, detections].map((d) => `'${d.replace(/'/g, "''")}'`).join(', ')}]`,
    );
    // Each file's footer (schema, row groups, statistics) is parsed once and kept, not read again
    // by every query; DuckDB checks the file's modification time before it reuses it, and does not
    // trust a time too recent to tell two writes apart. (The Parquet extension's setting: set here,
    // not at create.)
    await conn.run('SET GLOBAL parquet_metadata_cache = true');
    // Not a second copy of the files' bytes (the system's page cache keeps local files): it held
    // over 100 MB at 10M events, a third of serve's memory.
    await conn.run('SET GLOBAL enable_external_file_cache = false');
    await conn.run('SET enable_external_access = false');
    await conn.run('SET lock_configuration = true');
    // Settings are the instance's: connections opened after the lock share them.
    const more = await Promise.all(
      Array.from({ length: Math.max(0, (options.connections ?? 2) - 1) }, () => instance.connect()),
    );
    let rollups: Rollups | null = null;
    let builder: DuckDBConnection | null = null;
    if (rollupDir) {
      builder = await instance.connect();
      rollups = await Rollups.create(
        builder,
        ROLLUP_DB,
        readParquet,
        (m) => options.onWarning?.(m.split(dir + path.sep).join('')),
        () => engine.running(),
      );
    }
    const engine = new DuckDbEngine(
      instance,
      [conn, ...more],
      dir,
      options.maxWaiting ?? 16,
      rollups,
      rollupDir,
      builder,
    );
    return engine;
  }

  /** A rollup for a counting query over the range, when one keeps every column it reads. */
  async countTableFor(range: TimeRange, need: CountNeed): Promise<CountTable | null> {
    if (!this.rollups) return null;
    // The ends alone (but for a body text, whose copies are per object of the range) list only
    // the objects at the ends.
    const ends = need.except !== undefined && need.bodyContains === undefined;
    const files = ends ? [] : await this.listObjects(range);
    const counted = await this.rollups.tableFor(range, need, files, (r) => this.listObjects(r));
    if (counted) this.remember(counted.table, 'rollup');
    return counted;
  }

  /**
   * The identities (path, size, mtime, inode) of the objects holding the range's events: objects
   * are written whole and renamed in, so any change to them changes this. Null when one cannot be
   * read (gone between the listing and the stat): the caller does without.
   */
  async versionOf(range: TimeRange): Promise<string | null> {
    const ids = (await this.listObjects(range)).map(objectIdentity);
    return ids.includes(null) ? null : ids.join('\n');
  }

  /** How far the rollups are built (null: off). */
  rollupStatus(): RollupStatus | null {
    return this.rollups?.status() ?? null;
  }

  /**
   * Rolls up every object the store lists now, in the background (serve, at start: the first
   * dashboards then need not wait for it).
   */
  async warmRollups(): Promise<void> {
    if (!this.rollups) return;
    const all = { from: 0, to: Date.now() + DAY_MS };
    const objects = await this.listObjects(all);
    await this.rollups.enqueueAll(objects);
    // The newest objects, which the events panels read, copied by action behind them.
    this.rollups.copyFirst(objects);
    await this.rollups.enqueueAll(await this.filesOf(DETECTIONS_ROOT, dtBounds(all)), 'alerts');
  }

  /** Resolves once every object queries asked about so far is rolled up. */
  async rollupsSettled(): Promise<void> {
    await this.rollups?.settled();
  }

  /**
   * The Parquet objects of the range's days that exist, newest day first (DuckDB's top-N pushes a
   * dynamic filter into the scan, so "latest events" fills its heap from the newest files and then
   * skips older row groups by their ts statistics). The one place the engine learns which objects
   * hold the events.
   *
   * Listings are kept between queries and reused while their folder is unchanged: a folder's
   * mtime moves whenever an object is added, removed or renamed into it (a sync writes objects
   * whole and renames them in; compaction adds the day object and deletes the hours), so one stat
   * per folder replaces a listing per query, and a changed store is listed again at once.
   */
  async tableFor(range: TimeRange): Promise<string> {
    return this.tableOf(await this.listObjects(range), EMPTY_TABLE, SHOWN_TABLE);
  }

  /** The range's events from their copy by action (duckdb-rollups.ts), once every object has one. */
  async eventsTableFor(range: TimeRange): Promise<string | null> {
    const copied = this.rollups?.eventsFor(await this.listObjects(range)) ?? null;
    if (copied) this.remember(copied, 'events_copy');
    return copied;
  }

  /** The alerts' files: an alert's day is its window's, up to a week before its first event. */
  async detectionsTableFor(range: TimeRange): Promise<string> {
    const bounds = dtBounds({ from: Math.max(0, range.from - 7 * DAY_MS), to: range.to });
    const files = await this.filesOf(DETECTIONS_ROOT, bounds);
    const copied = await this.rollups?.alertsFor(files);
    if (copied) {
      this.remember(copied, 'detections');
      return copied;
    }
    return this.tableOf(files, EMPTY_DETECTIONS, 'detections');
  }

  /** The Parquet event objects a query over the range reads. */
  async listObjects(range: TimeRange): Promise<string[]> {
    const bounds = dtBounds(range);
    // Exactly the objects the manifests list, so a day never counts twice while its hours fold
    // into the day object; a folder from before manifests: listed.
    const listed = await listedParquetFiles(this.dataDir, bounds[0], bounds[1]);
    return listed ?? this.filesOf(EVENTS_ROOT, bounds);
  }

  /** A folder's Parquet files of the days from first to last, newest day first. */
  private async filesOf(folder: string, [first, last]: [string, string]): Promise<string[]> {
    const root = path.join(this.dataDir, folder);
    // Newest day first: DuckDB's top-N pushes a dynamic filter into the scan, so "latest events"
    // fills its heap from the newest files and then skips older row groups by their ts statistics.
    const days = await this.listing(root, (names) =>
      names
        .map((name) => /^dt=(\d{4}-\d{2}-\d{2})$/.exec(name)?.[1])
        .filter((dt): dt is string => dt !== undefined)
        .sort()
        .reverse(),
    );
    if (!days) return [];
    const files: string[] = [];
    const wanted = days.filter((dt) => dt >= first && dt <= last);
    const lists = await Promise.all(
      wanted.map((dt) => {
        const dir = path.join(root, `dt=${dt}`);
        return this.listing(dir, (names) =>
          names
            .filter((n) => n.endsWith('.parquet'))
            .sort()
            .map((n) => path.join(dir, n)),
        );
      }),
    );
    for (const list of lists) if (list) files.push(...list);
    return files;
  }

  /** A folder's entries as `shape` makes them, from the cache while the folder's mtime holds. */
  private async listing(dir: string, shape: (names: string[]) => string[]): Promise<string[] | null> {
    // Synchronous: microseconds each, where a promise per folder through libuv's thread pool
    // added up to a millisecond per query over a month of day folders.
    const before = statSync(dir, { bigint: true, throwIfNoEntry: false });
    if (!before?.isDirectory()) {
      this.listings.delete(dir);
      return null;
    }
    const cached = this.listings.get(dir);
    if (cached && cached.mtimeNs === before.mtimeNs && cached.ino === before.ino) return cached.entries;
    const entries = shape(await fs.readdir(dir).catch(() => []));
    // Kept only when the folder did not change while it was read, and its mtime is old enough that
    // a later change cannot share it (file systems stamp with a coarse clock: two writes within one
    // tick get the same mtime); otherwise listed again next time.
    const after = statSync(dir, { bigint: true, throwIfNoEntry: false });
    const settled = Date.now() - Number(before.mtimeNs / 1_000_000n) > SETTLED_MS;
    if (settled && after && after.mtimeNs === before.mtimeNs && after.ino === before.ino)
      this.listings.set(dir, { mtimeNs: before.mtimeNs, ino: before.ino, entries });
    else this.listings.delete(dir);
    return entries;
  }

  /** The table expression over these objects, or the empty table when there are none. */
  private tableOf(files: string[], empty: string, shown: string): string {
    if (files.length === 0) return empty;
    const table = readParquet(files);
    this.remember(table, shown);
    return table;
  }

  private remember(table: string, shown: string): void {
    this.shown.delete(table);
    this.shown.set(table, shown);
    // A dashboard's refresh asks for a few ranges; older ones are shown by the folder rule below.
    while (this.shown.size > 64) this.shown.delete(this.shown.keys().next().value as string);
  }

  /** Text for the caller: table names instead of file lists, and no server paths. */
  private show(text: string): string {
    let out = text;
    // Longest first: a rollup's expression holds the events' expression of its partial hours.
    const tables = [...this.shown].sort(([a], [b]) => b.length - a.length);
    for (const [table, name] of tables) if (out.includes(table)) out = out.split(table).join(name);
    out = out.replace(/read_parquet\(\[[^\]]*\][^)]*\)/g, SHOWN_TABLE);
    out = out
      .split(this.dataDir + path.sep)
      .join('')
      .split(this.dataDir)
      .join('.');
    // DuckDB resolves relative paths against the working directory, and names it in errors.
    const cwd = process.cwd();
    return cwd === path.parse(cwd).root
      ? out
      : out
          .split(cwd + path.sep)
          .join('')
          .split(cwd)
          .join('.');
  }

  async run(sql: string, params: Param[], options: RunOptions = {}): Promise<QueryResult> {
    // One signal for both ends: the caller leaving and the time limit (waiting for a connection
    // included).
    const timeout = options.timeoutMs !== undefined ? AbortSignal.timeout(options.timeoutMs) : undefined;
    const signals = [options.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    let conn: DuckDBConnection;
    try {
      conn = await this.acquire(signal);
    } catch (err) {
      throw this.reason(err, timeout, options);
    }
    try {
      return await this.runOn(conn, sql, params, options, signal);
    } catch (err) {
      throw this.reason(err, timeout, options);
    } finally {
      this.release(conn);
    }
  }

  private reason(err: unknown, timeout: AbortSignal | undefined, options: RunOptions): Error {
    if (timeout?.aborted) return new QueryTimeoutError(options.timeoutMs ?? 0);
    if (options.signal?.aborted) return new QueryCancelledError();
    if (err instanceof QueryBusyError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new Error(this.show(message));
  }

  private async runOn(
    conn: DuckDBConnection,
    sql: string,
    params: Param[],
    options: RunOptions,
    signal: AbortSignal | undefined,
  ): Promise<QueryResult> {
    const stop = () => conn.interrupt();
    signal?.addEventListener('abort', stop, { once: true });
    let prepared: DuckDBPreparedStatement | null = null;
    let kept = false;
    let failed = true;
    try {
      if (options.reusePlan) ({ statement: prepared, kept } = await this.statements.get(conn, sql));
      else prepared = await conn.prepare(sql);
      bindAll(prepared, params);
      if (signal?.aborted) throw abortReason(signal);
      const result = await prepared.stream();
      const types = result.columnTypes();
      const columns = result.columnNames().map((name, i) => ({ name, type: fieldType(types[i]?.typeId) }));
      const { maxRows, maxBytes } = options;
      const rows: unknown[][] = [];
      let bytes = 0;
      let truncatedBy: 'rows' | 'bytes' | undefined;
      // Chunk by chunk, so a cap stops the reading instead of trimming a result already in memory.
      read: for (;;) {
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        if (maxBytes === undefined) {
          // Column by column, with the common types read straight from their vectors: a time
          // series of thousands of points converts in a fraction of the per-value path's time.
          const values = columns.map((_, c) => columnValues(chunk.getColumnVector(c), chunk.rowCount));
          for (let r = 0; r < chunk.rowCount; r++) {
            if (maxRows !== undefined && rows.length >= maxRows) {
              truncatedBy = 'rows';
              break read;
            }
            rows.push(values.map((v) => v[r]));
          }
          continue;
        }
        for (let r = 0; r < chunk.rowCount; r++) {
          if (maxRows !== undefined && rows.length >= maxRows) {
            truncatedBy = 'rows';
            break read;
          }
          if (maxBytes !== undefined) {
            const size = rowBytes(chunk, r, maxBytes - bytes);
            if (bytes + size > maxBytes) {
              truncatedBy = 'bytes';
              break read;
            }
            bytes += size;
          }
          rows.push(chunk.convertRowValues(r, JSDuckDBValueConverter).map(toPlain));
        }
      }
      failed = false;
      return {
        columns,
        rows,
        executedSql: this.show(sql),
        filesRead: countFiles(sql),
        truncated: truncatedBy !== undefined,
        ...(truncatedBy ? { truncatedBy } : {}),
      };
    } finally {
      signal?.removeEventListener('abort', stop);
      if (prepared && kept && failed) this.statements.drop(conn, prepared);
      else if (prepared && !kept) prepared.destroySync();
    }
  }

  /** One statement, and a SELECT: DuckDB's own parser says which. */
  async checkReadOnly(sql: string): Promise<void> {
    const conn = await this.acquire();
    try {
      await this.checkOn(conn, sql);
    } catch (err) {
      throw new Error(this.show(err instanceof Error ? err.message : String(err)));
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
    this.rollups?.close();
    await this.rollups?.settled().catch(() => undefined);
    this.statements.close();
    for (const conn of this.all) conn.closeSync();
    this.builder?.closeSync();
    this.instance.closeSync();
    if (this.rollupDir) await fs.rm(this.rollupDir, { recursive: true, force: true });
  }
}

/**
 * Rollup folders whose process is gone (killed before it could remove its own): each holds the
 * pid that made it. A folder without one, or of a process still running, is left alone.
 */
async function removeOrphanedRollups(cacheDir: string): Promise<void> {
  const names = await fs.readdir(cacheDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(ROLLUP_DIR_PREFIX))) {
    const dir = path.join(cacheDir, name);
    const pid = Number(await fs.readFile(path.join(dir, 'pid'), 'utf8').catch(() => ''));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || running(pid)) continue;
    await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** DuckDB's reading of these Parquet objects (paths from the listing, never from a request; quoted all the same). */
function readParquet(files: string[]): string {
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  return `read_parquet([${list}], hive_partitioning = true, hive_types = {'dt': VARCHAR}, union_by_name = true)`;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new QueryCancelledError();
}

/**
 * A row's size as text, about what it adds to the JSON answer. Strings and blobs are measured in
 * DuckDB's own memory (a `string_t` starts with its length), so a 300 MB value is never copied
 * into JavaScript only to be left out; other values are measured once converted.
 */
function rowBytes(chunk: DuckDBDataChunk, row: number, budget: number): number {
  let size = 0;
  for (let c = 0; c < chunk.columnCount; c++) {
    const vector = chunk.getColumnVector(c);
    const peeked = stringLength(vector, row);
    if (peeked !== undefined) size += peeked + 3;
    else size += approxBytes(toPlain(convertItem(vector, row)));
    if (size > budget) return size;
  }
  return size;
}

/** The largest |ms| a JS Date holds: the generic path refuses timestamps past it. */
const MAX_DATE_MS = 8_640_000_000_000_000n;

/** A vector's values as plain JSON-able values, the same the generic conversion gives. */
function columnValues(vector: DuckDBVector, n: number): unknown[] {
  const out = new Array<unknown>(n);
  switch (vector.type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UTINYINT:
      for (let i = 0; i < n; i++) out[i] = vector.getItem(i);
      return out;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UBIGINT:
      for (let i = 0; i < n; i++) {
        const v = vector.getItem(i) as bigint | null;
        out[i] = v === null ? null : Number(v);
      }
      return out;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
      for (let i = 0; i < n; i++) {
        const v = vector.getItem(i) as { micros: bigint } | null;
        const ms = v === null ? null : v.micros / 1000n;
        out[i] =
          ms === null
            ? null
            : ms >= -MAX_DATE_MS && ms <= MAX_DATE_MS
              ? Number(ms)
              : toPlain(convertItem(vector, i));
      }
      return out;
    default:
      for (let i = 0; i < n; i++) out[i] = toPlain(convertItem(vector, i));
      return out;
  }
}

function convertItem(vector: DuckDBVector, row: number): unknown {
  const value = vector.getItem(row);
  return value === null ? null : JSDuckDBValueConverter(value, vector.type, JSDuckDBValueConverter);
}

function stringLength(vector: DuckDBVector, row: number): number | undefined {
  const id = vector.type.typeId;
  if (id !== DuckDBTypeId.VARCHAR && id !== DuckDBTypeId.BLOB) return undefined;
  // The vector's own view of its string_t array and validity (not public API: checked, and
  // measured by conversion where they are not there).
  const inner = vector as unknown as {
    dataView?: unknown;
    validity?: { itemValid?: (i: number) => boolean };
  };
  if (!(inner.dataView instanceof DataView) || typeof inner.validity?.itemValid !== 'function')
    return undefined;
  if (!inner.validity.itemValid(row)) return 1;
  return inner.dataView.getUint32(row * 16, true);
}

function approxBytes(v: unknown): number {
  if (v === null || v === undefined) return 4;
  if (typeof v === 'string') return v.length + 3;
  if (typeof v === 'number' || typeof v === 'bigint') return 9;
  if (typeof v === 'boolean') return 5;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + approxBytes(x), 2);
  if (v instanceof Date) return 14;
  if (typeof v === 'object')
    return Object.entries(v as Record<string, unknown>).reduce(
      (n, [k, x]) => n + k.length + 4 + approxBytes(x),
      2,
    );
  return String(v).length;
}

/** Binds the compiled query's values to its placeholders, in order. */
export function bindAll(prepared: DuckDBPreparedStatement, params: Param[]): void {
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
