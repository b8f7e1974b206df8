import { statSync } from 'node:fs';
import type { DuckDBConnection, DuckDBPreparedStatement } from '@duckdb/node-api';

/**
 * Prepared statements kept per connection and run again: DuckDB parses, binds (opening every
 * Parquet object's footer it names) and plans a dashboard's query in 1-2 ms, where running the
 * plan over a rollup takes a fraction of one. A dashboard asks the same questions at every refresh
 * with only the values bound to them changing (the range, the filters), so most requests skip that
 * work.
 *
 * Only for SQL the engine wrote itself (the compiled queries over table expressions it handed
 * out): raw SQL may name files by a glob, whose expansion a kept plan would not see change. A
 * statement is kept under its text and the identity of every object it names, so a replaced object
 * makes a new statement; the rollups' tables are DuckDB's own, whose plans see their rows as they
 * are when run.
 */
export class Statements {
  /** Per connection, least recently used first. */
  private readonly kept = new Map<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

  constructor(
    /** Objects under this folder are identified by their identity in a statement's key. */
    private readonly dataDir: string,
    private readonly perConnection = 128,
  ) {}

  /**
   * A statement for `sql` on `conn`: a kept one when there is one, else prepared and kept; one
   * not kept (`kept` false) is the caller's to destroy after its run.
   */
  async get(
    conn: DuckDBConnection,
    sql: string,
  ): Promise<{ statement: DuckDBPreparedStatement; kept: boolean }> {
    const key = this.keyOf(sql);
    let mine = this.kept.get(conn);
    if (!mine) this.kept.set(conn, (mine = new Map()));
    const found = key === null ? undefined : mine.get(key);
    if (found) {
      mine.delete(key as string);
      mine.set(key as string, found);
      return { statement: found, kept: true };
    }
    const prepared = await conn.prepare(sql);
    if (key !== null) {
      mine.set(key, prepared);
      for (const [oldest, statement] of mine) {
        if (mine.size <= this.perConnection) break;
        mine.delete(oldest);
        statement.destroySync();
      }
    }
    return { statement: prepared, kept: key !== null };
  }

  /** A statement whose run failed is not run again: prepared anew next time. */
  drop(conn: DuckDBConnection, statement: DuckDBPreparedStatement): void {
    const mine = this.kept.get(conn);
    for (const [key, s] of mine ?? [])
      if (s === statement) {
        mine?.delete(key);
        break;
      }
    statement.destroySync();
  }

  close(): void {
    for (const mine of this.kept.values()) for (const s of mine.values()) s.destroySync();
    this.kept.clear();
  }

  /**
   * The statement's text and the identity of every object it names (its quoted paths under the
   * data folder); null when one of them is gone (prepared once, not kept).
   */
  private keyOf(sql: string): string | null {
    const ids: string[] = [];
    for (const m of sql.matchAll(/'((?:[^']|'')*)'/g)) {
      const text = (m[1] as string).replace(/''/g, "'");
      if (!text.startsWith(this.dataDir)) continue;
      const id = objectIdentity(text);
      if (id === null) return null;
      ids.push(id);
    }
    return [sql, ...ids].join(SEP);
  }
}

const SEP = '\u0000';

/**
 * An object's identity: path, size, modification time and inode (objects are written whole and
 * renamed in, so a changed object is a new identity). Synchronous on purpose: a local stat takes
 * microseconds, where a promise's round trip through libuv's thread pool, times the range's
 * objects, was a visible share of a 5 ms answer.
 */
export function objectIdentity(file: string): string | null {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  return st ? [file, st.size, st.mtimeNs, st.ino].join(SEP) : null;
}

/** The path an identity is of. */
export function identityPath(id: string): string {
  return id.slice(0, id.indexOf(SEP));
}

/** The size in bytes an identity records. */
export function identityBytes(id: string): number {
  return Number(id.split(SEP)[1]);
}
