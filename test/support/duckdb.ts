import fs from 'node:fs/promises';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** DuckDB, an independent Parquet reader, over a sync target folder. */
export async function duckdb() {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  await conn.run("SET TimeZone = 'UTC'");
  return {
    async rows(sql: string): Promise<Record<string, unknown>[]> {
      const reader = await conn.runAndReadAll(sql);
      return reader.getRowObjectsJson() as Record<string, unknown>[];
    },
    close() {
      conn.closeSync();
      db.closeSync();
    },
  };
}

export function eventsGlob(dir: string): string {
  return `read_parquet('${path.join(dir, 'events')}/*/*.parquet', hive_partitioning = true)`;
}

/** Every stored row (but ingested_at, which a rerun changes by design), ordered by event id. */
export async function storedRows(dir: string): Promise<Record<string, unknown>[]> {
  const db = await duckdb();
  try {
    return await db.rows(`SELECT * EXCLUDE (ingested_at) FROM ${eventsGlob(dir)} ORDER BY event_id, ts`);
  } finally {
    db.close();
  }
}

/** Object keys under a folder, sorted, without temporary files. */
export async function listKeys(dir: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    let entries;
    try {
      entries = await fs.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name === '.tmp') continue;
      if (e.isDirectory()) await walk(path.join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  await walk(path.join(dir, sub), sub ? `${sub}/` : '');
  return out.sort();
}
