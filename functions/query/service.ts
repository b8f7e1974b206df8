import {
  ROLLUP_COLUMNS,
  VARIABLES,
  VARIABLE_KINDS,
  type CATALOG_VARIABLES,
  type CatalogResponse,
  type QueryResponse,
  type RefIdResult,
  type RollupStatus,
  type VariableKind,
  type VariablesResponse,
} from '../../shared/api/contract.js';
import { ACTIONS, AREAS } from '../../shared/catalog/actions.js';
import { BUILTIN_RULES } from '../../shared/detections/builtin.js';
import { SEVERITIES } from '../../shared/detections/columns.js';
import {
  bucketMs,
  columnsRead,
  compileQuery,
  withoutApplied,
  type CompiledQuery,
  type CompileOptions,
} from '../../shared/query/compile.js';
import { GROUP_FIELDS } from '../../shared/query/fields.js';
import {
  DEFAULT_LIMIT,
  FiltersSchema,
  MAX_LIMIT,
  QueryValidationError,
  parseQuery,
  parseRange,
  type Query,
  type TimeRange,
} from '../../shared/query/model.js';
import { expandMacros } from '../../shared/query/raw-sql.js';
import { mergePartials, type PartialResult } from '../../shared/query/partial.js';
import { canEvaluate, evaluatePartial, type ColumnRows } from '../../shared/query/evaluate.js';
import { DAY_MS, HOUR_MS, floorHour, wholeHours } from '../../shared/event/partition.js';
import {
  QueryBusyError,
  QueryCancelledError,
  QueryTimeoutError,
  type CountNeed,
  type CountTable,
  type QueryEngine,
  type QueryResult,
  type RunOptions,
} from './engine.js';
import { AnswerCache, type KeptAnswer } from './answer-cache.js';
import { toFrames } from './frames.js';

type Counting = Extract<Query, { type: 'stat' | 'topn' | 'timeseries' }>;

export interface ServiceOptions {
  /** Per-query time limit. */
  timeoutMs?: number;
  maxQueriesPerRequest?: number;
  /** What one raw SQL query may return, about, in bytes of values (default 8 MiB). */
  maxResultBytes?: number;
  /**
   * Counting answers over whole hours kept between requests (answer-cache.ts), where the engine
   * can tell when its objects change: on by default; false turns it off.
   */
  answerCache?: boolean | AnswerCache;
  /**
   * The most events of one hour kept for an events query whose range ends inside it (default
   * 2,000): with more, that partial hour is asked again at each request.
   */
  hourRows?: number;
}

export const DEFAULT_MAX_RESULT_BYTES = 8 * 1024 * 1024;

/** A POST query body as received: the contract's QueryRequest once validated here. */
export interface QueryRequestBody {
  range?: unknown;
  intervalMs?: unknown;
  maxDataPoints?: unknown;
  queries?: unknown;
}

export class BadRequest extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The engine cannot take the work now (503): the caller may retry. */
export class Unavailable extends Error {}

/** The parts of a range an events query tries first, where the engine prefers it (latestFirst). */
const LATEST_FIRST_SPANS = [HOUR_MS, DAY_MS, 7 * DAY_MS];

/** The ends' rows kept in memory (answer cache): a few hours' worth, by their table's text. */
const END_ROWS = 24;

/** The query API's work, engine-agnostic: the HTTP layer (local server or Lambda) calls this. */
export class QueryService {
  private readonly answers: AnswerCache | null;
  private readonly endRows = new Map<string, ColumnRows>();
  /** Hours holding more than `hourRows` events of an events query (hourOfEvents), by its key. */
  private readonly fullHours = new Set<string>();

  constructor(
    private readonly engine: QueryEngine,
    private readonly options: ServiceOptions = {},
  ) {
    const cache = options.answerCache ?? true;
    this.answers = cache === false ? null : cache === true ? new AnswerCache() : cache;
  }

  /** How the service's own compiled SQL runs: its plan may be kept (never raw SQL's). */
  private compiledRun(signal?: AbortSignal): RunOptions {
    return { signal, timeoutMs: this.options.timeoutMs, reusePlan: true };
  }

  private get maxResultBytes(): number {
    return this.options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  }

  get engineName(): string {
    return this.engine.name ?? this.engine.dialect.name;
  }

  /** The engine's rollups, where it keeps some. */
  get rollups(): RollupStatus | undefined {
    return this.engine.rollupStatus?.() ?? undefined;
  }

  async query(body: QueryRequestBody, signal?: AbortSignal): Promise<QueryResponse> {
    const range = this.range(body.range);
    if (!Array.isArray(body.queries) || body.queries.length === 0)
      throw new BadRequest('queries: expected a non-empty array', 'queries');
    const max = this.options.maxQueriesPerRequest ?? 20;
    if (body.queries.length > max) throw new BadRequest(`queries: at most ${max} per request`, 'queries');
    const intervalMs = typeof body.intervalMs === 'number' ? body.intervalMs : undefined;
    const maxDataPoints = typeof body.maxDataPoints === 'number' ? body.maxDataPoints : undefined;
    // Listed once, and only when a query reads the events (a rollup answers most counting ones).
    let events: Promise<string> | undefined;
    const eventsTable = () => (events ??= this.engine.tableFor(range));
    let detectionsTable: Promise<string> | undefined;
    const results: Record<string, RefIdResult> = {};
    // Each query succeeds or fails alone: one bad panel does not blank the dashboard.
    await Promise.all(
      body.queries.map(async (raw: unknown, i: number) => {
        const refId =
          typeof (raw as { refId?: unknown })?.refId === 'string'
            ? (raw as { refId: string }).refId
            : `Q${i}`;
        try {
          const query = parseQuery(raw);
          const counting = query.type === 'stat' || query.type === 'topn' || query.type === 'timeseries';
          if (counting) {
            const parts = await this.fromParts(query, range, { intervalMs, maxDataPoints }, signal);
            if (parts) {
              results[refId] = { frames: toFrames({ ...query, refId }, parts), status: 200 };
              return;
            }
          }
          const counted = counting ? await this.counted(query, range, { intervalMs, maxDataPoints }) : null;
          // Not listed here: a rollup's count, the alerts, events asked newest part first.
          const ownTable =
            counted || query.type === 'detections' || (query.type === 'events' && this.engine.latestFirst);
          const table = ownTable ? '' : await eventsTable();
          const opts = { dialect: this.engine.dialect, table, intervalMs, maxDataPoints };
          let compiled: CompiledQuery;
          if (query.type === 'sql') {
            // $__rollup from the engine's rollups where it keeps them for the range.
            const rollup = /\$__rollup\b/.test(query.sql)
              ? await this.engine.countTableFor?.(range, { columns: ROLLUP_COLUMNS, bounds: true })
              : null;
            compiled = expandMacros(query.sql, range, rollup ? { ...opts, rollup: rollup.table } : opts);
            await this.engine.checkReadOnly(compiled.sql).catch((err: Error) => {
              if (err instanceof QueryBusyError) throw err;
              throw new QueryValidationError('sql', err.message.split('\n')[0] as string);
            });
          } else if (query.type === 'detections') {
            const alerts = {
              ...opts,
              table: await (detectionsTable ??= this.engine.detectionsTableFor(range)),
            };
            compiled = compileQuery(query, range, alerts);
            if (query.format === 'events') {
              results[refId] = await this.alertEvents(query, compiled, signal);
              return;
            }
          } else if (query.type === 'events') {
            if (this.engine.latestFirst) {
              results[refId] = await this.eventsLatestFirst({ ...query, refId }, range, opts, signal);
              return;
            }
            compiled = compileQuery(query, range, opts);
          } else {
            compiled = compileQuery(query, range, counted ? { ...opts, ...counted } : opts);
          }
          const result = await this.engine.run(
            compiled.sql,
            compiled.params,
            query.type === 'sql'
              ? // Structured queries carry their own LIMIT; raw SQL gets a ceiling on what is returned.
                {
                  signal,
                  timeoutMs: this.options.timeoutMs,
                  maxRows: MAX_LIMIT,
                  maxBytes: this.maxResultBytes,
                }
              : this.compiledRun(signal),
          );
          results[refId] = { frames: toFrames({ ...query, refId }, result, compiled.limit), status: 200 };
        } catch (err) {
          results[refId] = { frames: [], ...describe(err) };
        }
      }),
    );
    return { results };
  }

  /**
   * An events query asked of the range's newest hour, day and week first (its oldest, in
   * ascending order) and of the whole range only when those hold too few rows: the rows past
   * such a part are all older (newer) than any in it, so once it fills the limit the answer is
   * exact. "Latest events" over 30 days then reads an hour of them.
   */
  private async eventsLatestFirst(
    query: Extract<Query, { type: 'events' }>,
    range: TimeRange,
    opts: CompileOptions,
    signal?: AbortSignal,
  ): Promise<RefIdResult> {
    const run = this.compiledRun(signal);
    const limit = query.limit ?? DEFAULT_LIMIT;
    /** The query's rows over a part of the range: one more than the limit when it held more. */
    const ask = async (part: TimeRange, rows = limit) => {
      const asked = { ...query, limit: rows };
      // The copy by action for a few actions; others read the objects, sorted by time.
      const actions = query.filters?.actions?.length ?? 0;
      const copy =
        actions > 0 && actions <= BY_ACTION_MAX ? ((await this.engine.eventsTableFor?.(part)) ?? null) : null;
      const table = copy ?? (await this.engine.tableFor(part));
      const compiled =
        copy && actions > 1
          ? byAction(asked, part, { ...opts, table })
          : compileQuery(asked, part, { ...opts, table });
      return this.engine.run(compiled.sql, compiled.params, run);
    };
    const answer = (result: QueryResult): RefIdResult => ({
      frames: toFrames(query, result, limit),
      status: 200,
    });
    const counted = await this.spanHolding(query, range, opts, run);
    if (counted)
      return answer((await this.eventsFromParts(query, counted, run, ask)) ?? (await ask(counted)));
    for (const span of LATEST_FIRST_SPANS) {
      const part =
        query.order === 'asc'
          ? { from: range.from, to: Math.min(range.to, range.from + span) }
          : { from: Math.max(range.from, range.to - span), to: range.to };
      if (part.from === range.from && part.to === range.to) break;
      const result = await ask(part);
      if (result.rows.length > limit) return answer(result);
    }
    return answer(await ask(range));
  }

  /**
   * An events query over a part of its range from the answer kept for the part's whole hours (read
   * the first time) and the events of its partial hours, before or after them: the parts do not
   * overlap in time, so the answer is theirs one after the other, cut at the limit. The ends are
   * read only when they hold a matching event, told by their kept rows where the filters can be
   * evaluated on them: a dashboard refreshed over a range ending after the last sync asks no query
   * at all. Null where the engine cannot tell its objects' versions, or no whole hour is in the
   * part.
   */
  private async eventsFromParts(
    query: Extract<Query, { type: 'events' }>,
    part: TimeRange,
    run: RunOptions,
    ask: (part: TimeRange, limit?: number) => Promise<QueryResult>,
  ): Promise<QueryResult | null> {
    const { engine, answers } = this;
    if (!answers || !engine.versionOf || !engine.countTableFor) return null;
    const whole = wholeHours(part);
    if (whole.from >= whole.to) return null;
    const version = await engine.versionOf(whole);
    if (version === null) return null;
    const key = JSON.stringify([{ ...query, refId: undefined }, whole.from, whole.to, version]);
    let middle = answers.get(key);
    const kept = middle !== undefined;
    let filesRead = 0;
    if (!middle) {
      const r = await ask(whole);
      filesRead += r.filesRead ?? 0;
      middle = { columns: r.columns, rows: r.rows, executedSql: r.executedSql };
      // Kept only if no object changed while it was read.
      if ((await engine.versionOf(whole)) === version) answers.set(key, middle);
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const asc = query.order === 'asc';
    // The partial hours before and after them: the one read first (the newest; the oldest
    // ascending) before the middle, the other after it, each only when the limit needs it (one row
    // past the limit tells that rows were cut).
    const before = { from: part.from, to: whole.from };
    const after = { from: whole.to, to: part.to };
    let sql = shownWhole(whole, kept, middle.executedSql);
    const rows: unknown[][] = [];
    const read = async (end: TimeRange) => {
      if (end.from >= end.to || rows.length > limit) return;
      if (!(await this.holdsEvents(query, part, whole, end, run))) {
        sql += `\n-- ${iso(end.from)} to ${iso(end.to)}: no matching event in its kept rows`;
        return;
      }
      const hour = await this.hourOfEvents(query, end, ask);
      if (hour) {
        filesRead += hour.filesRead;
        sql += `\n-- ${iso(end.from)} to ${iso(end.to)}, of the ${hour.rows.length} events of its hour${hour.kept ? ' kept since asked' : ''}:\n${hour.executedSql}`;
        // Rows ordered by time: those of the end keep their order.
        const ts = middle.columns.findIndex((c) => c.name === 'ts');
        for (const row of hour.rows) {
          const t = row[ts] as number;
          if (t >= end.from && t < end.to) rows.push(row);
        }
        return;
      }
      const r = await ask(end);
      filesRead += r.filesRead ?? 0;
      sql += `\n-- ${iso(end.from)} to ${iso(end.to)}:\n${r.executedSql}`;
      rows.push(...r.rows);
    };
    await read(asc ? before : after);
    if (rows.length <= limit) rows.push(...middle.rows);
    await read(asc ? after : before);
    return { columns: middle.columns, rows: rows.slice(0, limit + 1), executedSql: sql, filesRead };
  }

  /**
   * Every event of the query's filters in the hour holding a partial hour of its range (`end`), in
   * the query's order, kept by the hour's objects' versions: a range that moves within the hour
   * takes its end from them (times are whole ms, so `ts < to` on them is the SQL's test). Null
   * where the hour holds more than `hourRows` of them (the end is then asked), or no version is told.
   */
  private async hourOfEvents(
    query: Extract<Query, { type: 'events' }>,
    end: TimeRange,
    ask: (part: TimeRange, limit?: number) => Promise<QueryResult>,
  ): Promise<(KeptAnswer & { kept: boolean; filesRead: number }) | null> {
    const { engine, answers } = this;
    if (!answers || !engine.versionOf) return null;
    const from = floorHour(end.from);
    const hour = { from, to: from + HOUR_MS };
    const version = await engine.versionOf(hour);
    if (version === null) return null;
    const key = JSON.stringify(['hour', { ...query, refId: undefined, limit: undefined }, from, version]);
    if (this.fullHours.has(key)) return null;
    const kept = answers.get(key);
    if (kept) return { ...kept, kept: true, filesRead: 0 };
    const most = this.options.hourRows ?? 2_000;
    const r = await ask(hour, most);
    if ((await engine.versionOf(hour)) !== version) return null;
    if (r.rows.length > most) {
      // Remembered, so that the hour is not read whole again.
      if (this.fullHours.size >= END_ROWS) this.fullHours.clear();
      this.fullHours.add(key);
      return null;
    }
    const answer = { columns: r.columns, rows: r.rows, executedSql: r.executedSql };
    answers.set(key, answer);
    return { ...answer, kept: false, filesRead: r.filesRead ?? 0 };
  }

  /**
   * Whether a partial hour of an events query's part may hold a matching event: false only where
   * the engine's kept rows of the part's ends say none does.
   */
  private async holdsEvents(
    query: Extract<Query, { type: 'events' }>,
    part: TimeRange,
    whole: TimeRange,
    end: TimeRange,
    run: RunOptions,
  ): Promise<boolean> {
    const count: Counting = { refId: query.refId, type: 'stat', filters: query.filters };
    if (!this.engine.countTableFor) return true;
    const ends = await this.engine.countTableFor(part, { ...countNeed(count), except: whole });
    const asked = ends?.stable ? withoutApplied(count, ends.applied) : null;
    if (!ends || !asked || !canEvaluate(asked)) return true;
    const rows = await this.rowsOf(ends.table, run);
    const counted = evaluatePartial(asked, end, rows, { dialect: this.engine.dialect, weight: ends.weight });
    return Number(counted.rows[0]?.[0] ?? 0) > 0;
  }

  /**
   * The shortest part of the range, newest (oldest, ascending) whole hours first, that holds more
   * events matching the query than its limit, told by the rollups' hourly counts: the events query
   * then reads just that part. The whole range when it holds no more; null without a rollup for
   * the query's filters.
   */
  private async spanHolding(
    query: Extract<Query, { type: 'events' }>,
    range: TimeRange,
    opts: CompileOptions,
    run: RunOptions,
  ): Promise<TimeRange | null> {
    if (!this.engine.countTableFor) return null;
    const hourly = { type: 'timeseries' as const, interval: '1h', filters: query.filters };
    // Whole hours only: a part holding some of them holds at least their count (the partial hours
    // at the range's ends only add to it), and the rollups count them in one read.
    const whole = wholeHours(range);
    if (whole.from >= whole.to) return null;
    let rows = (await this.fromParts(hourly, whole, {}, run.signal, true))?.rows;
    if (!rows) {
      const counted = await this.engine.countTableFor(whole, countNeed(hourly, HOUR_MS));
      if (!counted) return null;
      const compiled = compileQuery(hourly, whole, { ...opts, ...counted });
      rows = (await this.engine.run(compiled.sql, compiled.params, run)).rows;
    }
    const wanted = (query.limit ?? DEFAULT_LIMIT) + 1;
    const asc = query.order === 'asc';
    let seen = 0;
    for (let i = 0; i < rows.length; i++) {
      const [time, count] = rows[asc ? i : rows.length - 1 - i] as [number, number];
      seen += count;
      if (seen >= wanted)
        return asc
          ? { from: range.from, to: Math.min(range.to, time + HOUR_MS) }
          : { from: Math.max(range.from, time), to: range.to };
    }
    return range;
  }

  /**
   * A counting query answered from the answer kept for its range's whole hours (computed and kept
   * the first time) and a read of its partial hours at the ends only, merged as its own SQL would
   * (partial.ts). Null where the engine cannot tell its objects' versions or read the ends apart,
   * and, with `rollupsOnly`, where no rollup answers the whole hours: the query then runs whole.
   */
  private async fromParts(
    query: Counting,
    range: TimeRange,
    grafana: { intervalMs?: number; maxDataPoints?: number },
    signal?: AbortSignal,
    rollupsOnly = false,
  ): Promise<QueryResult | null> {
    const { engine, answers } = this;
    if (!answers || !engine.versionOf || !engine.countTableFor) return null;
    const whole = wholeHours(range);
    if (whole.from >= whole.to) return null;
    const dialect = engine.dialect;
    // A time series buckets every part by the whole range's step.
    let stepMs: number | undefined;
    if (query.type === 'timeseries') {
      stepMs = bucketMs(query, range, { dialect, table: '', ...grafana });
      query = { ...query, interval: `${stepMs / 1000}s` };
    }
    const need = countNeed(query, stepMs);
    const atEnds = whole.from !== range.from || whole.to !== range.to;
    const ends = atEnds ? await engine.countTableFor(range, { ...need, except: whole }) : null;
    if (atEnds && !ends) return null;
    const version = await engine.versionOf(whole);
    if (version === null) return null;
    const run = this.compiledRun(signal);
    // What the partial answer depends on: not the refId, nor the cut applied after merging.
    const shape = { ...query, refId: undefined, limit: undefined, maxSeries: undefined };
    const key = JSON.stringify([shape, whole.from, whole.to, version]);
    let middle = answers.get(key);
    const kept = middle !== undefined;
    let filesRead = 0;
    if (!middle) {
      const rollup = await engine.countTableFor(whole, need);
      if (!rollup && rollupsOnly) return null;
      const table = rollup ?? { table: await engine.tableFor(whole) };
      const c = compileQuery(query, whole, { dialect, ...table, partial: true });
      const r = await engine.run(c.sql, c.params, run);
      filesRead += r.filesRead ?? 0;
      middle = { columns: r.columns, rows: r.rows, executedSql: r.executedSql };
      // Kept only if no object changed while it was read.
      if ((await engine.versionOf(whole)) === version) answers.set(key, middle);
    }
    const parts: PartialResult[] = [middle];
    let endSql = '';
    // (A body text's copy has applied its filter: the rest is counted.)
    const counted = ends?.stable ? withoutApplied(query, ends.applied) : null;
    if (ends && counted && canEvaluate(counted)) {
      // The ends' few rows, fetched once per hour and kept: counted here, no query to plan.
      const rows = await this.rowsOf(ends.table, run);
      parts.push(evaluatePartial(counted, range, rows, { dialect, weight: ends.weight }));
      endSql = `\n-- the rest of the range, at its ends: ${rows.length} rows kept from\nSELECT * FROM ${ends.table}`;
    } else if (ends) {
      const c = compileQuery(query, range, { dialect, ...ends, partial: true });
      const r = await engine.run(c.sql, c.params, run);
      filesRead += r.filesRead ?? 0;
      parts.push(r);
      endSql = `\n-- the rest of the range, at its ends:\n${r.executedSql}`;
    }
    return {
      ...mergePartials(query, parts),
      executedSql: shownWhole(whole, kept, middle.executedSql) + endSql,
      filesRead,
    };
  }

  /** A stable table's rows by column, read once and kept (END_ROWS tables, least recent first out). */
  private async rowsOf(table: string, run: RunOptions): Promise<ColumnRows> {
    const kept = this.endRows.get(table);
    if (kept) {
      this.endRows.delete(table);
      this.endRows.set(table, kept);
      return kept;
    }
    const result = await this.engine.run(`SELECT * FROM ${table}`, [], run);
    const columns = new Map<string, unknown[]>(
      result.columns.map((c, i) => [c.name, result.rows.map((r) => r[i])] as const),
    );
    const rows = { length: result.rows.length, columns };
    this.endRows.set(table, rows);
    while (this.endRows.size > END_ROWS) this.endRows.delete(this.endRows.keys().next().value as string);
    return rows;
  }

  /**
   * The engine's rollup for a counting query, when one answers it (the same answer from far fewer
   * rows); null: the events table.
   */
  private async counted(
    query: Counting,
    range: TimeRange,
    grafana: { intervalMs?: number; maxDataPoints?: number },
  ): Promise<CountTable | null> {
    if (!this.engine.countTableFor) return null;
    const stepMs =
      query.type === 'timeseries'
        ? bucketMs(query, range, { dialect: this.engine.dialect, table: '', ...grafana })
        : undefined;
    return this.engine.countTableFor(range, countNeed(query, stepMs));
  }

  /**
   * The drill-down from alerts to their events: the alerts first (the compiled alerts query),
   * then their stored event ids as an events query over the alerts' own time span.
   */
  private async alertEvents(
    query: Extract<Query, { type: 'detections' }>,
    alertsQuery: CompiledQuery,
    signal?: AbortSignal,
  ): Promise<RefIdResult> {
    const run = this.compiledRun(signal);
    const alerts = await this.engine.run(alertsQuery.sql, alertsQuery.params, run);
    const at = (name: string) => alerts.columns.findIndex((c) => c.name === name);
    const [iIds, iFirst, iLast] = [at('event_ids'), at('first_ts'), at('last_ts')] as [
      number,
      number,
      number,
    ];
    const rows = alerts.rows.slice(0, alertsQuery.limit);
    const ids = [...new Set(rows.flatMap((r) => (Array.isArray(r[iIds]) ? (r[iIds] as string[]) : [])))];
    const events = { refId: query.refId, type: 'events' as const, limit: MAX_LIMIT, order: 'asc' as const };
    if (ids.length === 0) return { frames: [], status: 200 };
    const span = {
      from: Math.min(...rows.map((r) => Number(r[iFirst]))),
      to: Math.max(...rows.map((r) => Number(r[iLast]))) + 1,
    };
    const table = await this.engine.tableFor(span);
    const compiled = compileQuery({ ...events, filters: { eventIds: ids } }, span, {
      dialect: this.engine.dialect,
      table,
    });
    const result = await this.engine.run(compiled.sql, compiled.params, run);
    return { frames: toFrames(events, result, compiled.limit), status: 200 };
  }

  /** Values for a template variable: actions, areas, users, ips, roles, ... */
  async variables(
    body: {
      range?: unknown;
      variable?: unknown;
      filters?: unknown;
      limit?: unknown;
    },
    signal?: AbortSignal,
  ): Promise<VariablesResponse> {
    const name = String(body.variable ?? '');
    if (name === 'rules' || name === 'severities') return this.detectionVariable(name, body.range, signal);
    if (!isVariableKind(name))
      throw new BadRequest(`variable: one of ${VARIABLE_KINDS.join(', ')}`, 'variable');
    const field = VARIABLES[name].field;
    if (field === null) throw new BadRequest(`variable: ${name} is not a field of the events`, 'variable');
    const filters = body.filters === undefined ? undefined : FiltersSchema.safeParse(body.filters);
    if (filters && !filters.success)
      throw new BadRequest(`filters: ${filters.error.issues[0]?.message}`, 'filters');
    const range = this.range(body.range);
    const limit = typeof body.limit === 'number' ? Math.min(Math.max(1, body.limit), 1000) : 500;
    const topn = { type: 'topn' as const, field, limit, filters: filters?.data };
    const result = await this.variableValues(topn, range, signal).catch((err: unknown) => {
      if (err instanceof QueryBusyError) throw new Unavailable(err.message);
      throw err;
    });
    const seen = result.rows.map((r) => String(r[0])).filter((v) => v !== 'null');
    // Actions and areas also offer the whole catalog, seen in the range or not.
    const catalog: Record<(typeof CATALOG_VARIABLES)[number], string[]> = {
      actions: ACTIONS.map((a) => a.action),
      areas: Object.keys(AREAS),
    };
    const all = name in catalog ? [...new Set([...seen, ...catalog[name as keyof typeof catalog]])] : seen;
    return { values: all.map((v) => ({ text: v, value: v })) };
  }

  /** A variable's values: its field's top values in the range. */
  private async variableValues(
    topn: Extract<Query, { type: 'topn' }>,
    range: TimeRange,
    signal?: AbortSignal,
  ): Promise<{ rows: unknown[][] }> {
    const parts = await this.fromParts(topn, range, {}, signal);
    if (parts) return parts;
    const counted = await this.counted(topn, range, {});
    const table = counted ?? { table: await this.engine.tableFor(range) };
    const compiled = compileQuery(topn, range, { dialect: this.engine.dialect, ...table });
    return this.engine.run(compiled.sql, compiled.params, this.compiledRun(signal));
  }

  /** Severities (all four), and rules: the built-in ones plus those with alerts in the range. */
  private async detectionVariable(
    name: 'rules' | 'severities',
    rawRange: unknown,
    signal?: AbortSignal,
  ): Promise<{ values: { text: string; value: string }[] }> {
    const listed = name === 'severities' ? [...SEVERITIES] : [...BUILTIN_RULES];
    let seen: string[] = [];
    if (name === 'rules') {
      const range = this.range(rawRange);
      const table = await this.engine.detectionsTableFor(range);
      const compiled = compileQuery({ type: 'detections', format: 'timeseries', interval: '366d' }, range, {
        dialect: this.engine.dialect,
        table,
      });
      const result = await this.engine
        .run(compiled.sql, compiled.params, this.compiledRun(signal))
        .catch((err: unknown) => {
          if (err instanceof QueryBusyError) throw new Unavailable(err.message);
          throw err;
        });
      seen = result.rows.map((r) => String(r[1]));
    }
    return { values: [...new Set([...listed, ...seen])].map((v) => ({ text: v, value: v })) };
  }

  catalog(): CatalogResponse {
    return { areas: AREAS, actions: ACTIONS, groupFields: GROUP_FIELDS };
  }

  private range(input: unknown): TimeRange {
    try {
      return parseRange(input);
    } catch (err) {
      if (err instanceof QueryValidationError) throw new BadRequest(err.message, err.field);
      throw err;
    }
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The SQL shown for the whole hours of an answer put together from parts (answer cache). */
function shownWhole(whole: TimeRange, kept: boolean, sql: string): string {
  return `-- whole hours ${iso(whole.from)} to ${iso(whole.to)}${kept ? ', an answer kept since it was asked' : ''}:\n${sql}`;
}

/** The most actions an events query over the copy by action asks one by one. */
const BY_ACTION_MAX = 8;

/**
 * An events query over the engine's copy by action, asked action by action: each part's rows are
 * together in the copy and DuckDB filters a single value before reading the other columns (a list
 * it tests after reading them all). The same rows, in the same order, as the query asked whole.
 */
function byAction(
  query: Extract<Query, { type: 'events' }>,
  range: TimeRange,
  opts: CompileOptions,
): CompiledQuery {
  const parts = (query.filters?.actions ?? []).map((action) =>
    compileQuery({ ...query, filters: { ...query.filters, actions: [action] } }, range, opts),
  );
  const limit = query.limit ?? DEFAULT_LIMIT;
  return {
    sql:
      `SELECT * FROM (\n${parts.map((p) => `(${p.sql})`).join('\nUNION ALL\n')}\n)\n` +
      `ORDER BY ts ${query.order === 'asc' ? 'ASC' : 'DESC'}, event_id\nLIMIT ${limit + 1}`,
    params: parts.flatMap((p) => p.params),
    limit,
  };
}

/** What a counting query asks of a rollup: the columns it reads, its step, its body text apart. */
function countNeed(query: Counting, stepMs?: number): CountNeed {
  const body = query.filters?.bodyContains;
  if (!body) return { columns: columnsRead(query), stepMs };
  const rest = { ...query, filters: { ...query.filters, bodyContains: undefined } };
  return { columns: columnsRead(rest), stepMs, bodyContains: body };
}

function isVariableKind(name: string): name is VariableKind {
  return (VARIABLE_KINDS as string[]).includes(name);
}

function describe(err: unknown): { error: string; status: number } {
  if (err instanceof QueryValidationError) return { error: err.message, status: 400 };
  if (err instanceof QueryTimeoutError) return { error: err.message, status: 504 };
  if (err instanceof QueryBusyError) return { error: err.message, status: 503 };
  if (err instanceof QueryCancelledError) return { error: err.message, status: 499 };
  const message = err instanceof Error ? err.message : String(err);
  // Engine errors about the SQL itself (raw mode) are the caller's to fix.
  if (
    /Parser Error|Binder Error|Catalog Error|Permission Error|Conversion Error|Out of Range Error|SYNTAX_ERROR|COLUMN_NOT_FOUND/.test(
      message,
    )
  ) {
    return { error: message.split('\n')[0] as string, status: 400 };
  }
  return { error: message.split('\n')[0] as string, status: 500 };
}
