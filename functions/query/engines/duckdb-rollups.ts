import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';
import { COLUMN_TYPES } from '../../../shared/event/column-types.js';
import { DETECTION_COLUMNS } from '../../../shared/detections/columns.js';
import { EVENT_COLUMNS, type ColumnName } from '../../../shared/event/columns.js';
import { DAY_MS, HOUR_MS, ceilHour, floorHour, wholeHours } from '../../../shared/event/partition.js';
import type { TimeRange } from '../../../shared/query/model.js';
import type { RollupStatus } from '../../../shared/api/contract.js';
import type { CountNeed, CountTable } from '../engine.js';
import {
  EVENT_COLUMNS_SHOWN,
  FILTER_COLUMNS,
  containsNeedle,
  containsSql,
} from '../../../shared/query/compile.js';
import { ROLLUP_COLUMNS } from '../../../shared/api/contract.js';
import { identityBytes, identityPath, objectIdentity } from './duckdb-statements.js';

const SEP = '\u0000';

/** A list of stored columns, quoted. */
const quoted = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');
/** An instant as SQL: epoch values the server computed, never a caller's text. */
const at = (ms: number) => `make_timestamptz(${BigInt(ms) * 1000n})`;
const firstLine = (err: unknown) => (err instanceof Error ? err.message.split('\n')[0] : String(err));

/**
 * Hourly (and daily) rollups of the event objects, for the counting questions (stat, topn, timeseries) that
 * make up most of a dashboard: per object, per UTC hour, how many events share each combination
 * of a few columns. A question that reads only columns a rollup keeps is answered from it, with
 * `sum(n)` for `count(*)`: the same answer from 15-50 times fewer rows, in DuckDB's own compressed
 * storage instead of Parquet.
 *
 * A cache, never a source: built by the engine in the background from exactly the objects the
 * store lists, one object at a time; an object is identified by its path, size, modification time
 * and inode (objects are written whole and renamed in, so a changed object is a new identity). A
 * query uses a rollup only when every object of its range is rolled up, and reads from it only the
 * rows of those objects: the whole days (or hours) inside its range from the counts, the rest at
 * its ends event by event (from a copy of the same columns per event once the objects there have
 * one, else from those objects). Otherwise (an object not built yet, or one that failed to build)
 * the query reads the events, as it would without rollups.
 */

/** One rollup: the columns it keeps (besides ts, the hour, and dt). Smallest first. */
const LEVELS: { name: string; columns: readonly ColumnName[] }[] = [
  // Low-cardinality columns: what most panels count, split and filter by.
  {
    name: 'closer_rollup_activity',
    columns: ['action', 'area', 'outcome', 'http_method', 'http_status', 'resource_type', 'known_action'],
  },
  // Who and from where: distinct and top users and addresses, and the dashboards' variables.
  { name: 'closer_rollup_identity', columns: ['user_id', 'source_ip', 'user_roles'] },
  // Both, for questions that mix them (failed logins by user, changes by user), and raw SQL's
  // $__rollup (its rows also keep their events' first and last time).
  { name: 'closer_rollup_all', columns: ROLLUP_COLUMNS },
];
const WIDEST = LEVELS[LEVELS.length - 1] as (typeof LEVELS)[number];
/**
 * The widest rollup's columns per event, at the event's own time, in DuckDB's storage sorted by
 * time, for the hours of objects that hold the ends of the ranges asked lately: a range's partial
 * hours and days at its ends (every range Grafana sends: now-30d to now) read a few of its rows
 * instead of opening those objects. Copied an hour of an object at a time when a range's end first
 * falls there (an hour, not the object: most of the cost of a copy is DuckDB compressing the
 * strings, a few hundred ms for a whole day of 100k events, which a query running beside it
 * feels), and only for so many hours, the least recently used dropped.
 */
const EVENTS_LEVEL = 'closer_rollup_events';
const EDGE_HOURS = 768;
/**
 * The worker lets queries go first: before each piece of work it waits while one runs, up to this
 * long (then works anyway, so that a steady stream of queries does not starve it).
 */
const YIELD_MS = 50;
/** How long a query waits for the copies of its range's end hours before reading the objects. */
const EDGE_WAIT_MS = 150;
/**
 * The widest rollup's columns per event, for the events whose request body holds a text a counting
 * query asked about ("role changes naming ADMIN"): no rollup can keep free text, and reading every
 * body of a month costs DuckDB far more than the rest of a dashboard. Copied object by object from
 * the first ask of a text, for so many texts (the least recently asked dropped); a text matching
 * more than a share of an object's events is not copied (the events answer it).
 */
const TEXT_LEVEL = 'closer_rollup_text';
const TEXTS = 16;
const TEXT_MAX_SHARE = 0.2;
/**
 * Every column an events query shows or filters by, per event, sorted by action and then time,
 * for the objects the events panels read lately ("latest role changes"): their rows of one action
 * are then together, where a day object sorted by time spreads them over the whole day, and DuckDB
 * decodes every column of every row in the range to keep a few hundred (15 ms for the newest 500
 * role changes of a month; 2 ms from the copy). Copied when an events query first reads an object,
 * for objects of so many bytes in all (two days of 10M events over 90 days: the copies' memory
 * counts against serve's), the least recently used dropped; a range whose objects hold more than
 * that reads them.
 */
const EVENTS_COPY = 'closer_events_copy';
/** Hours of an object sorted at once into the copy (see copyEvents). */
const COPY_SLAB_MS = 4 * HOUR_MS;
const EVENTS_COPY_BYTES = 9 * 2 ** 20;
const EVENTS_COPY_COLUMNS = [
  ...new Set<ColumnName | 'dt'>(['ts', 'dt', ...EVENT_COLUMNS_SHOWN, ...Object.values(FILTER_COLUMNS)]),
];
/** Each rollup also by UTC day: a range's whole days read one row where the hours read 24. */
const daily = (level: (typeof LEVELS)[number]) => `${level.name}_daily`;
const WEIGHT = 'n';
/** The copy of the alerts the detection rules stored. */
const ALERTS = 'closer_alerts';
export type Kind = 'events' | 'alerts' | 'edges' | 'text' | 'copy';
/**
 * The order the worker takes queued work in, first in first out within a kind: the rollups every
 * counting question needs, then the hours at ranges' ends (small, and asked by every counting
 * panel of a moving range), the alerts' rollups, then the long copies: the body texts (a text asked
 * once is copied from every object, the range's first: a scan each, that would otherwise hold the
 * ends back) and the copy by action.
 */
const KIND_ORDER: readonly Kind[] = ['events', 'edges', 'alerts', 'text', 'copy'];

/** The queued work to take next: what a query waits for, then by KIND_ORDER (first queued first within a kind). */
export function nextQueued<W extends { kind: Kind; urgent?: boolean }>(
  queue: Map<string, W>,
): IteratorResult<[string, W]> {
  let best: [string, W] | undefined;
  let rank = KIND_ORDER.length;
  for (const entry of queue) {
    const r = entry[1].urgent ? -1 : KIND_ORDER.indexOf(entry[1].kind);
    if (r < rank) {
      [best, rank] = [entry, r];
      if (r === -1) break;
    }
  }
  return best ? { done: false, value: best } : { done: true, value: undefined };
}

interface QueuedWork {
  file: string;
  kind: Kind;
  key: string;
  needle?: string;
  hour?: number;
  /** A query waits for it: first, and without yielding to queries. */
  urgent?: boolean;
}

/** An hour of an object's events copied into EVENTS_LEVEL. */
const edgeKey = (id: number, hour: number) => `${id}:${hour}`;

export class Rollups {
  private nextId = 1;
  /** The id of each copied object's rows, by object identity (path, size, mtime, inode). */
  private readonly built = new Map<string, number>();
  private readonly failed = new Set<string>();
  /** Hours of objects copied into EVENTS_LEVEL, by edgeKey, least recently used first. */
  private readonly edgeCopies = new Map<string, { src: number; hour: number }>();
  private readonly edgesFailed = new Set<number>();
  /** Objects copied whole into EVENTS_COPY and their sizes, least recently used first. */
  private readonly eventCopies = new Map<number, number>();
  private eventCopiesBytes = 0;
  private readonly eventCopiesFailed = new Set<number>();
  /** The texts whose matching events are (being) copied, by needle: their id, least recently asked first. */
  private readonly texts = new Map<string, number>();
  private readonly refusedTexts = new Set<string>();
  /** By text id: the ids of the objects whose matching events are copied. */
  private readonly textCopies = new Map<number, Set<number>>();
  /** Texts dropped whose rows the worker deletes (only the worker writes through its connection). */
  private readonly textsToDelete: number[] = [];
  private nextText = 1;
  /** By kind and identity: the object's path, what to do with it and its identity (and text). */
  private readonly queue = new Map<string, QueuedWork>();
  /** The queue key of the work being done now. */
  private current: string | null = null;
  /** By queue key: the queries waiting for that work to be done (urgent). */
  private readonly waiters = new Map<string, (() => void)[]>();
  private working: Promise<void> | null = null;
  private closed = false;

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly schema: string,
    private readonly readObjects: (files: string[]) => string,
    private readonly onError: (message: string) => void,
    /** Whether a query is running now (the worker waits for it: YIELD_MS). */
    private readonly busy: () => boolean = () => false,
  ) {}

  /**
   * The rollup tables in `schema` (an attached database: DuckDB compresses a stored table, where an
   * in-memory one would hold every string whole), written through `conn`, which no query uses.
   */
  static async create(
    conn: DuckDBConnection,
    schema: string,
    readObjects: (files: string[]) => string,
    onError: (message: string) => void,
    busy?: () => boolean,
  ): Promise<Rollups> {
    const typeOf = (name: string) => {
      const spec = EVENT_COLUMNS.find((c) => c.name === name);
      if (!spec) throw new Error(`rollup column ${name} is not an event column`);
      return COLUMN_TYPES[spec.type].duckdb;
    };
    const alertCols = DETECTION_COLUMNS.map((c) => `"${c.name}" ${COLUMN_TYPES[c.type].duckdb}`).join(', ');
    await conn.run(`CREATE TABLE ${schema}.${ALERTS} (src INTEGER, ${alertCols}, dt VARCHAR)`);
    const widestCols = WIDEST.columns.map((c) => `"${c}" ${typeOf(c)}`).join(', ');
    await conn.run(
      `CREATE TABLE ${schema}.${EVENTS_LEVEL} (src INTEGER, ts ${typeOf('ts')}, dt VARCHAR, ${widestCols})`,
    );
    await conn.run(
      `CREATE TABLE ${schema}.${TEXT_LEVEL} (src INTEGER, text INTEGER, ts ${typeOf('ts')}, dt VARCHAR, ${widestCols})`,
    );
    const copyCols = EVENTS_COPY_COLUMNS.map((c) => `"${c}" ${c === 'dt' ? 'VARCHAR' : typeOf(c)}`).join(
      ', ',
    );
    await conn.run(`CREATE TABLE ${schema}.${EVENTS_COPY} (src INTEGER, ${copyCols})`);
    for (const level of LEVELS) {
      const cols = level.columns.map((c) => `"${c}" ${typeOf(c)}`).join(', ');
      const bounds = level === WIDEST ? `, first_ts ${typeOf('ts')}, last_ts ${typeOf('ts')}` : '';
      for (const table of [level.name, daily(level)])
        await conn.run(
          `CREATE TABLE ${schema}.${table} (src INTEGER, ts ${typeOf('ts')}, dt VARCHAR, ${cols}, ${WEIGHT} BIGINT${bounds})`,
        );
    }
    return new Rollups(conn, schema, readObjects, onError, busy);
  }

  status(): RollupStatus {
    return { objects: this.built.size, pending: this.queue.size, failed: this.failed.size };
  }

  /** Resolves once nothing waits to be rolled up (tests, benchmarks). */
  async settled(): Promise<void> {
    while (this.working) await this.working;
  }

  /**
   * The table expression answering a counting query over `range` whose objects are `files`
   * (newest first, as the engine lists them), or null when no rollup can; objects not rolled up
   * yet are queued. `edges(range)` lists the objects of a part of the range.
   */
  async tableFor(
    range: TimeRange,
    need: CountNeed,
    files: string[],
    edges: (range: TimeRange) => Promise<string[]>,
  ): Promise<CountTable | null> {
    if (this.closed) return null;
    if (need.bodyContains !== undefined) return this.textTableFor(range, need, files);
    const except = need.except;
    // The ends alone are read event by event: any bucket width.
    if (!except && need.stepMs !== undefined && need.stepMs % HOUR_MS !== 0) return null;
    const level = LEVELS.find(
      (l) => need.columns.every((c) => l.columns.includes(c)) && (!need.bounds || l === WIDEST),
    );
    if (!level) return null;
    const { from: fullFrom, to: fullTo } = except ?? wholeHours(range);
    if (!except && (fullFrom >= fullTo || files.length === 0)) return null;
    const ids = except ? [] : await this.builtIds(files, 'events');
    if (!ids) return null;
    const cols = `ts, dt, ${quoted(level.columns)}`;
    // One part per table and span, each a single time range: DuckDB skips a stored table's row
    // groups by their min/max only for such a filter (not for two ranges OR-ed).
    const parts: string[] = [];
    // A row's count and, where asked, its events' first and last time: kept by the widest rollup;
    // a row of one event, its own.
    const counts = need.bounds ? `${WEIGHT}, first_ts, last_ts` : WEIGHT;
    const event = need.bounds ? `1 AS ${WEIGHT}, ts AS first_ts, ts AS last_ts` : `1 AS ${WEIGHT}`;
    const read = (table: string, from: number, to: number, values = counts, of = ids) => {
      if (from < to)
        parts.push(
          `SELECT ${cols}, ${values} FROM ${this.schema}.${table} WHERE src IN (${of.join(', ')}) AND ts >= ${at(from)} AND ts < ${at(to)}`,
        );
    };
    // Whether every part is a copy (named by object identity and whole hours): rows that never
    // change under the same text.
    let stable = true;
    // A range's end, event by event: from the copy when its objects have one, else (and the copy
    // queued) from the objects.
    const end = async (from: number, to: number) => {
      if (from >= to) return;
      const objects = await edges({ from, to });
      if (objects.length === 0) return;
      const hours: number[] = [];
      for (let h = floorHour(from); h < to; h += HOUR_MS) hours.push(h);
      let whole = true;
      const asked: string[] = [];
      const copied = objects.map((f) => {
        const key = objectIdentity(f);
        const id = key === null ? undefined : this.built.get(key);
        if (id === undefined || key === null) {
          whole = false;
          return -1;
        }
        for (const h of hours)
          if (!this.edgeCopies.has(edgeKey(id, h)) && !this.edgesFailed.has(id))
            asked.push(this.enqueue(key, f, 'edges', undefined, h, true));
        return id;
      });
      // An hour's copy takes about what reading it from the object takes: the query waits for it
      // (a little) rather than read the object beside the worker copying it, and the next ranges
      // of a dashboard refreshed within the hour read the copy.
      if (whole && asked.length > 0 && !(await this.awaitWork(asked, EDGE_WAIT_MS))) whole = false;
      if (whole) whole = copied.every((id) => hours.every((h) => this.edgeCopies.has(edgeKey(id, h))));
      if (whole) {
        for (const id of copied) for (const h of hours) this.touchEdges(edgeKey(id, h));
        read(EVENTS_LEVEL, from, to, event, copied);
        return;
      }
      stable = false;
      parts.push(
        `SELECT ${cols}, ${event} FROM ${this.readObjects(objects)} WHERE ts >= ${at(from)} AND ts < ${at(to)}`,
      );
    };
    // Whole UTC days from the daily rows, unless a time series buckets finer than a day; then
    // whole hours from the hourly rows; the partial hours at the ends event by event. With the
    // activity columns alone, the rest of the first and last day event by event too: fewer parts
    // over more rows (each part costs DuckDB about as much as summing a day of events), where
    // users and addresses make those rows dearer than the parts (distinct counts: 10 ms against
    // 6 at 10M events). The query's own filter keeps the range's exact bounds; the parts' bounds
    // are whole hours around them.
    const dayFrom = Math.ceil(range.from / DAY_MS) * DAY_MS;
    const dayTo = Math.floor(range.to / DAY_MS) * DAY_MS;
    const hourBefore = floorHour(range.from);
    const hourAfter = ceilHour(range.to);
    if (except) {
      await end(hourBefore, Math.min(except.from, hourAfter));
      await end(Math.max(except.to, hourBefore), hourAfter);
      // Nothing at the ends: no rows, the same columns.
      if (parts.length === 0)
        parts.push(`SELECT ${cols}, ${event} FROM ${this.schema}.${EVENTS_LEVEL} WHERE false`);
    } else if ((need.stepMs === undefined || need.stepMs % DAY_MS === 0) && dayFrom < dayTo) {
      read(daily(level), dayFrom, dayTo);
      if (level === LEVELS[0]) {
        await end(hourBefore, dayFrom);
        await end(dayTo, hourAfter);
      } else {
        read(level.name, fullFrom, dayFrom);
        read(level.name, dayTo, fullTo);
        await end(hourBefore, fullFrom);
        await end(fullTo, hourAfter);
      }
    } else {
      read(level.name, fullFrom, fullTo);
      await end(hourBefore, fullFrom);
      await end(fullTo, hourAfter);
    }
    return {
      table: `(${parts.join('\nUNION ALL\n')})`,
      weight: WEIGHT,
      ...(except && stable ? { stable } : {}),
    };
  }

  /**
   * The events of the range whose body holds the query's text, from their copy once every object
   * of the range has one (any bucket: the rows are events, at their own time); null until then
   * (the copies queued), or for a text not worth copying.
   */
  private async textTableFor(range: TimeRange, need: CountNeed, files: string[]): Promise<CountTable | null> {
    if (!need.columns.every((c) => WIDEST.columns.includes(c)) || files.length === 0) return null;
    const needle = containsNeedle(need.bodyContains ?? '');
    if (needle === '' || this.refusedTexts.has(needle)) return null;
    const ids = await this.builtIds(files, 'events');
    if (!ids) return null;
    let text = this.texts.get(needle);
    const fresh = text === undefined;
    if (text === undefined) {
      text = this.nextText++;
      this.dropTexts();
    } else this.texts.delete(needle);
    this.texts.set(needle, text);
    const copies = this.textCopies.get(text);
    let missing = false;
    ids.forEach((id, i) => {
      if (copies?.has(id)) return;
      missing = true;
      const key = objectIdentity(files[i] as string);
      if (key !== null) this.enqueue(key, files[i] as string, 'text', needle);
    });
    // A text asked once is asked again over other ranges (the panel's next time range): the other
    // objects' copies follow the range's, in the background.
    if (fresh)
      for (const [key, id] of this.built)
        if (!ids.includes(id)) this.enqueue(key, identityPath(key), 'text', needle);
    if (missing) return null;
    const cols = `ts, dt, ${quoted(WIDEST.columns)}`;
    // Whole hours around the range (the query's own filter keeps its exact bounds), or its ends.
    const from = floorHour(range.from);
    const to = ceilHour(range.to);
    const { except } = need;
    const spans = except
      ? [
          [from, Math.min(except.from, to)],
          [Math.max(except.to, from), to],
        ]
      : [[from, to]];
    const parts = spans.map(
      ([a, b]) =>
        `SELECT ${cols}, 1 AS ${WEIGHT} FROM ${this.schema}.${TEXT_LEVEL} WHERE text = ${text} AND src IN (${ids.join(', ')}) AND ts >= ${at(a as number)} AND ts < ${at(b as number)}`,
    );
    // The ends' rows never change under the same text: the copies are named by text and object.
    return {
      table: `(${parts.join('\nUNION ALL\n')})`,
      weight: WEIGHT,
      applied: ['bodyContains'],
      ...(except ? { stable: true } : {}),
    };
  }

  /**
   * Drops the copies of these texts (by default the least recently asked beyond TEXTS - 1): no
   * query takes them from now on; the worker deletes their rows.
   */
  private dropTexts(
    needles = [...this.texts.keys()].slice(0, Math.max(0, this.texts.size - (TEXTS - 1))),
  ): void {
    const gone = needles.flatMap((n) => this.texts.get(n) ?? []);
    for (const needle of needles) this.texts.delete(needle);
    if (gone.length === 0) return;
    for (const text of gone) this.textCopies.delete(text);
    this.textsToDelete.push(...gone);
    this.kick();
  }

  /**
   * The events of these objects (every column an events query reads), from their copy once each
   * has one; null until then (the copies queued: the objects answer meanwhile).
   */
  eventsFor(files: string[]): string | null {
    if (this.closed || files.length === 0) return null;
    const keys = files.map(objectIdentity);
    const bytes = keys.reduce((n, key) => n + (key === null ? 0 : identityBytes(key)), 0);
    if (bytes > EVENTS_COPY_BYTES) return null;
    const ids: number[] = [];
    files.forEach((file, i) => {
      const key = keys[i] as string | null;
      const id = key === null ? undefined : this.built.get(key);
      if (id !== undefined && this.eventCopies.has(id)) ids.push(id);
      else if (key !== null && id !== undefined && !this.eventCopiesFailed.has(id))
        this.enqueue(key, file, 'copy');
    });
    if (ids.length < files.length) return null;
    for (const id of ids) {
      const size = this.eventCopies.get(id) as number;
      this.eventCopies.delete(id);
      this.eventCopies.set(id, size);
    }
    return `(SELECT ${quoted(EVENTS_COPY_COLUMNS)} FROM ${this.schema}.${EVENTS_COPY} WHERE src IN (${ids.join(', ')}))`;
  }

  /**
   * Queues the copy by action of the first of these objects (the newest, as the engine lists
   * them: what the events panels read) up to half the copies' bytes, behind their rollups.
   */
  copyFirst(files: string[]): void {
    let bytes = 0;
    for (const file of files) {
      const key = objectIdentity(file);
      if (key === null) continue;
      bytes += identityBytes(key);
      if (bytes > EVENTS_COPY_BYTES / 2) break;
      this.enqueue(key, file, 'copy');
    }
  }

  /** Queues every object of these not rolled up (or, alerts, copied) yet. */
  async enqueueAll(files: string[], kind: Kind = 'events'): Promise<void> {
    const keys = files.map(objectIdentity);
    keys.forEach((key, i) => {
      if (key && !this.built.has(key) && !this.failed.has(key)) this.enqueue(key, files[i] as string, kind);
    });
  }

  /**
   * The alerts of these objects (the detections folder's, one per rule and day), from the copy
   * kept in DuckDB's own storage once every one of them is there: a month's dashboard otherwise
   * opens a couple of hundred small files per panel. Null (the files are read) until then.
   */
  async alertsFor(files: string[]): Promise<string | null> {
    if (this.closed || files.length === 0) return null;
    const ids = await this.builtIds(files, 'alerts');
    if (!ids) return null;
    const cols = `${quoted(DETECTION_COLUMNS.map((c) => c.name))}, dt`;
    return `(SELECT ${cols} FROM ${this.schema}.${ALERTS} WHERE src IN (${ids.join(', ')}))`;
  }

  /** The ids of these objects' copies, or null (and the missing ones queued) while one lacks. */
  private async builtIds(files: string[], kind: Kind): Promise<number[] | null> {
    const keys = files.map(objectIdentity);
    const ids: number[] = [];
    let missing = false;
    keys.forEach((key, i) => {
      const id = key ? this.built.get(key) : undefined;
      if (id !== undefined) ids.push(id);
      else {
        missing = true;
        if (key && !this.failed.has(key)) this.enqueue(key, files[i] as string, kind);
      }
    });
    return missing ? null : ids;
  }

  private enqueue(
    key: string,
    file: string,
    kind: Kind,
    needle?: string,
    hour?: number,
    urgent = false,
  ): string {
    const at =
      kind === 'edges'
        ? `edges${SEP}${key}${SEP}${hour}`
        : kind === 'copy'
          ? `copy${SEP}${key}`
          : kind === 'text'
            ? `text${SEP}${needle}${SEP}${key}`
            : key;
    this.queue.set(at, { file, kind, key, needle, hour, urgent: urgent || this.queue.get(at)?.urgent });
    this.kick();
    return at;
  }

  /**
   * Queued work done (or given up on) within `ms`: whether it was. The work goes first, without
   * waiting for queries to finish; a query that waits for its own copy then reads the copy instead
   * of reading the object beside the worker copying it.
   */
  private async awaitWork(ats: string[], ms: number): Promise<boolean> {
    const pending = ats.filter((at) => this.queue.has(at) || this.current === at);
    if (pending.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = Promise.all(
      pending.map(
        (at) =>
          new Promise<void>((resolve) => this.waiters.set(at, [...(this.waiters.get(at) ?? []), resolve])),
      ),
    ).then(() => true);
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
      timer.unref();
    });
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The work under this key is done: its waiters go on. */
  private release(at: string): void {
    const waiting = this.waiters.get(at);
    if (!waiting) return;
    this.waiters.delete(at);
    for (const go of waiting) go();
  }

  /** The hour's copy was used now: the last to be dropped. */
  private touchEdges(key: string): void {
    const copy = this.edgeCopies.get(key);
    if (!copy) return;
    this.edgeCopies.delete(key);
    this.edgeCopies.set(key, copy);
  }

  /** One worker at a time; one queued while the last was finishing starts another. */
  private kick(): void {
    if (this.working || this.closed) return;
    this.working = this.work().finally(() => {
      this.working = null;
      if (this.queue.size > 0 || this.textsToDelete.length > 0) this.kick();
    });
  }

  private async work(): Promise<void> {
    while (!this.closed) {
      if (this.textsToDelete.length > 0) {
        const gone = this.textsToDelete.splice(0);
        await this.conn
          .run(`DELETE FROM ${this.schema}.${TEXT_LEVEL} WHERE text IN (${gone.join(', ')})`)
          .catch(() => undefined);
        continue;
      }
      let next = nextQueued(this.queue);
      if (next.done) {
        // Rows written stay in memory whole until a checkpoint compresses them into the file:
        // once the queue is empty (it does nothing while a query reads; the next empty queue
        // tries again).
        await this.conn.run(`CHECKPOINT ${this.schema}`).catch(() => undefined);
        return;
      }
      // Queries first: a piece of work waits while one runs (up to YIELD_MS), unless a query waits
      // for some work (then that goes now).
      for (let waited = 0; this.busy() && waited < YIELD_MS && !this.closed; waited += 5) {
        if ([...this.queue.values()].some((w) => w.urgent)) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      next = nextQueued(this.queue);
      if (next.done) continue;
      const [at, { file, kind, key, needle, hour }] = next.value;
      this.queue.delete(at);
      this.current = at;
      try {
        await this.doWork(file, kind, key, needle, hour);
      } finally {
        this.current = null;
        this.release(at);
      }
    }
  }

  /** One piece of queued work. */
  private async doWork(file: string, kind: Kind, key: string, needle?: string, hour?: number): Promise<void> {
    if (kind === 'edges') return this.copyEdges(key, file, hour ?? 0);
    if (kind === 'text') return this.copyText(key, file, needle ?? '');
    if (kind === 'copy') return this.copyEvents(key, file);
    if (this.built.has(key) || this.failed.has(key)) return;
    await (kind === 'alerts' ? this.copyAlerts(key, file) : this.build(key, file)).catch((err: unknown) => {
      this.failed.add(key);
      this.onError(`rollup of ${file}: ${firstLine(err)}`);
    });
  }

  /** One object's rollups, all levels in one transaction: a query sees all of them or none. */
  private async build(key: string, file: string): Promise<void> {
    const id = this.nextId++;
    const dims = (l: (typeof LEVELS)[number]) => quoted(l.columns);
    const widest = `${this.schema}.${WIDEST.name}`;
    await this.conn.run('BEGIN TRANSACTION');
    try {
      // UTC hours by epoch arithmetic: date_trunc on a TIMESTAMPTZ would use the session's zone.
      await this.conn.run(
        `INSERT INTO ${widest} SELECT ${id}, to_timestamp(CAST(floor(epoch_ms(ts) / ${HOUR_MS}) AS BIGINT) * ${HOUR_MS / 1000}) AS hour, dt, ${dims(WIDEST)}, count(*), min(ts), max(ts) FROM ${this.readObjects([file])} GROUP BY ALL ORDER BY 2`,
      );
      for (const level of LEVELS.filter((l) => l !== WIDEST))
        await this.conn.run(
          `INSERT INTO ${this.schema}.${level.name} SELECT src, ts, dt, ${dims(level)}, sum(${WEIGHT}) FROM ${widest} WHERE src = ${id} GROUP BY ALL ORDER BY 2`,
        );
      for (const level of LEVELS)
        await this.conn.run(
          `INSERT INTO ${this.schema}.${daily(level)} SELECT src, to_timestamp(CAST(floor(epoch_ms(ts) / ${DAY_MS}) AS BIGINT) * ${DAY_MS / 1000}), dt, ${dims(level)}, sum(${WEIGHT})${level === WIDEST ? ', min(first_ts), max(last_ts)' : ''} FROM ${this.schema}.${level.name} WHERE src = ${id} GROUP BY ALL ORDER BY 2`,
        );
      await this.conn.run('COMMIT');
      this.built.set(key, id);
    } catch (err) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await this.forgetReplaced(file, key);
  }

  /**
   * The events of an hour of a rolled-up object into EVENTS_LEVEL (sorted by time, so that a
   * range's end skips the rest by the table's min/max); the least recently used hours beyond
   * EDGE_HOURS go. An object whose copy fails is not tried again (its ends read the object).
   */
  private async copyEdges(key: string, file: string, hour: number): Promise<void> {
    const id = this.built.get(key);
    if (id === undefined || this.edgeCopies.has(edgeKey(id, hour)) || this.edgesFailed.has(id)) return;
    try {
      await this.conn.run(
        `INSERT INTO ${this.schema}.${EVENTS_LEVEL} SELECT ${id}, ts, dt, ${quoted(WIDEST.columns)} FROM ${this.readObjects([file])} WHERE ts >= ${at(hour)} AND ts < ${at(hour + HOUR_MS)} ORDER BY ts`,
      );
    } catch (err) {
      this.edgesFailed.add(id);
      this.onError(`copy of ${file}: ${firstLine(err)}`);
      return;
    }
    // A query takes the copy only once it is listed here, whole. A copy dropped is the least
    // recently used: one a query just took is the most.
    this.edgeCopies.set(edgeKey(id, hour), { src: id, hour });
    const over = [...this.edgeCopies].slice(0, Math.max(0, this.edgeCopies.size - EDGE_HOURS));
    if (over.length === 0) return;
    for (const [old] of over) this.edgeCopies.delete(old);
    const gone = over.map(
      ([, { src, hour: h }]) => `(src = ${src} AND ts >= ${at(h)} AND ts < ${at(h + HOUR_MS)})`,
    );
    await this.conn.run(`DELETE FROM ${this.schema}.${EVENTS_LEVEL} WHERE ${gone.join(' OR ')}`);
  }

  /**
   * A rolled-up object's events into EVENTS_COPY, by action then time; the least recently used
   * objects go while the copies are of more than EVENTS_COPY_BYTES. One that fails is not tried
   * again (the object answers).
   */
  private async copyEvents(key: string, file: string): Promise<void> {
    const id = this.built.get(key);
    if (id === undefined || this.eventCopies.has(id) || this.eventCopiesFailed.has(id)) return;
    const bytes = identityBytes(key);
    try {
      // The object's hours, from its rollup.
      const span = await this.conn.runAndReadAll(
        `SELECT epoch_ms(min(ts)), epoch_ms(max(ts)) FROM ${this.schema}.${LEVELS[0]?.name} WHERE src = ${id}`,
      );
      const [first, last] = (span.getRowsJS()[0] ?? []).map((v) => (v === null ? NaN : Number(v)));
      // Sorted a slab of hours at a time: a sort holds every column of its rows in memory (a whole
      // day of 10M events over 90 days took 80 MB more of serve's peak); an action's rows are then
      // together within each slab.
      for (let from = first as number; from <= (last as number); from += COPY_SLAB_MS)
        await this.conn.run(
          `INSERT INTO ${this.schema}.${EVENTS_COPY} SELECT ${id}, ${quoted(EVENTS_COPY_COLUMNS)} FROM ${this.readObjects([file])} WHERE ts >= ${at(from)} AND ts < ${at(from + COPY_SLAB_MS)} ORDER BY action, ts`,
        );
      await this.conn.run(`CHECKPOINT ${this.schema}`);
    } catch (err) {
      this.eventCopiesFailed.add(id);
      this.onError(`copy of ${file}: ${firstLine(err)}`);
      await this.conn
        .run(`DELETE FROM ${this.schema}.${EVENTS_COPY} WHERE src = ${id}`)
        .catch(() => undefined);
      return;
    }
    this.eventCopies.set(id, bytes);
    this.eventCopiesBytes += bytes;
    const over: number[] = [];
    for (const [old, n] of this.eventCopies) {
      if (this.eventCopiesBytes <= EVENTS_COPY_BYTES || old === id) break;
      over.push(old);
      this.eventCopies.delete(old);
      this.eventCopiesBytes -= n;
    }
    if (over.length > 0)
      await this.conn.run(`DELETE FROM ${this.schema}.${EVENTS_COPY} WHERE src IN (${over.join(', ')})`);
  }

  /**
   * The events of a rolled-up object whose body holds the text, into TEXT_LEVEL, unless they are
   * more than TEXT_MAX_SHARE of its events: then the text is refused (its questions read the
   * events) and its copies dropped.
   */
  private async copyText(key: string, file: string, needle: string): Promise<void> {
    const id = this.built.get(key);
    const text = this.texts.get(needle);
    if (id === undefined || text === undefined || this.textCopies.get(text)?.has(id)) return;
    let copied: number;
    let insert: DuckDBPreparedStatement | null = null;
    try {
      // The text bound, never pasted: it is the caller's.
      insert = await this.conn.prepare(
        `INSERT INTO ${this.schema}.${TEXT_LEVEL} SELECT ${id}, ${text}, ts, dt, ${quoted(WIDEST.columns)} FROM ${this.readObjects([file])} WHERE ${containsSql('request_body', '$1')} ORDER BY ts`,
      );
      insert.bindVarchar(1, needle);
      copied = Number((await insert.run()).rowsChanged);
    } catch (err) {
      // Its questions read the events from now on.
      this.refusedTexts.add(needle);
      this.dropTexts([needle]);
      this.onError(`copy of ${file}: ${firstLine(err)}`);
      return;
    } finally {
      insert?.destroySync();
    }
    // Dropped while it was copied: the worker deletes its rows next.
    if (this.texts.get(needle) !== text) return;
    const all = await this.conn.runAndReadAll(
      `SELECT coalesce(sum(${WEIGHT}), 0) FROM ${this.schema}.${daily(WIDEST)} WHERE src = ${id}`,
    );
    const copies = this.textCopies.get(text) ?? new Set<number>();
    this.textCopies.set(text, copies.add(id));
    if (copied > TEXT_MAX_SHARE * Number(all.getRows()[0]?.[0] ?? 0)) {
      this.refusedTexts.add(needle);
      this.dropTexts([needle]);
    }
  }

  private async copyAlerts(key: string, file: string): Promise<void> {
    const id = this.nextId++;
    // By name: an alerts object from an older writer lacks a column or two (null here, as a read
    // of the files would give).
    await this.conn.run(
      `INSERT INTO ${this.schema}.${ALERTS} BY NAME SELECT ${id} AS src, * FROM ${this.readObjects([file])}`,
    );
    this.built.set(key, id);
    await this.forgetReplaced(file, key);
  }

  /** Rows of older versions of the object, or of objects its day no longer lists, go. */
  private async forgetReplaced(file: string, key: string): Promise<void> {
    for (const k of [...this.failed]) if (k !== key && identityPath(k) === file) this.failed.delete(k);
    // Older versions of this object, and objects that vanished (hours folded into their day
    // object): their path no longer stats as the identity they were copied under.
    const stale: number[] = [];
    for (const [k, id] of [...this.built])
      if (objectIdentity(identityPath(k)) !== k) {
        stale.push(id);
        this.built.delete(k);
      }
    if (stale.length === 0) return;
    const gone = new Set(stale);
    for (const [k, { src }] of [...this.edgeCopies]) if (gone.has(src)) this.edgeCopies.delete(k);
    for (const id of stale) {
      this.edgesFailed.delete(id);
      this.eventCopiesBytes -= this.eventCopies.get(id) ?? 0;
      this.eventCopies.delete(id);
      this.eventCopiesFailed.delete(id);
    }
    for (const copies of this.textCopies.values()) for (const id of stale) copies.delete(id);
    for (const table of [
      ALERTS,
      EVENTS_LEVEL,
      EVENTS_COPY,
      TEXT_LEVEL,
      ...LEVELS.flatMap((l) => [l.name, daily(l)]),
    ])
      await this.conn.run(`DELETE FROM ${this.schema}.${table} WHERE src IN (${stale.join(', ')})`);
  }

  close(): void {
    this.closed = true;
    this.queue.clear();
    for (const at of [...this.waiters.keys()]) this.release(at);
  }
}
