import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readSettings, SettingError } from '../../functions/config/settings.js';
import { fromJsonRow, toJsonRow } from '../../functions/formats/ndjson-row.js';
import { readParquetEvents } from '../../functions/formats/parquet-reader.js';
import { ParquetEventWriter } from '../../functions/formats/parquet-writer.js';
import { StateStore } from '../../functions/ingest/state.js';
import { runIngest } from '../../functions/lambda/ingest/run.js';
import { generateHour } from '../../functions/sample/generator.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { LocalFolderStorage } from '../../functions/storage/local-folder.js';
import { COLUMN_TYPES, type ColumnType } from '../../shared/event/column-types.js';
import { EVENT_COLUMNS, type StoredEvent } from '../../shared/event/columns.js';
import { durationMs, parseRule } from '../../shared/detections/rule.js';
import { FOLDERS, formatPrefix, quarantineKey, syncStateKey } from '../../shared/layout/layout.js';
import { intervalMs } from '../../shared/query/model.js';
import { parseDuration } from '../../shared/time/duration.js';
import { storedRows } from '../support/duckdb.js';
import { tmpDir } from '../support/tmp.js';

const DAY = Date.UTC(2026, 9, 5);
const HOUR = 3_600_000;
const quiet = { info: () => undefined, warn: () => undefined };

/** A value of every column type, chosen so a lossy encoding would show. */
const SAMPLE: { [T in ColumnType]: unknown } = {
  timestamp: Date.UTC(2026, 9, 5, 7, 8, 9, 123),
  string: 'ünïcode "quoted"\nline',
  boolean: false,
  int: 503,
  string_list: ['a', 'b,c'],
};

function sampleEvent(): StoredEvent {
  const row: Record<string, unknown> = {};
  for (const c of EVENT_COLUMNS) row[c.name] = SAMPLE[c.type];
  return row as StoredEvent;
}

describe('one table of column types', () => {
  it('round-trips every column through NDJSON, timestamps as ISO-8601 text', () => {
    const event = sampleEvent();
    const line = JSON.parse(JSON.stringify(toJsonRow(event))) as Record<string, unknown>;
    for (const c of EVENT_COLUMNS.filter((c) => c.type === 'timestamp'))
      expect(line[c.name]).toBe('2026-10-05T07:08:09.123Z');
    expect(fromJsonRow(line)).toEqual(event);
  });

  it('round-trips every column through Parquet', async () => {
    const dir = await tmpDir('contracts-parquet');
    const storage = new LocalFolderStorage(dir);
    const writer = await ParquetEventWriter.open(await storage.openWrite('x.parquet'));
    const event = sampleEvent();
    const nulls = { ...event } as Record<string, unknown>;
    for (const c of EVENT_COLUMNS) if (!c.required) nulls[c.name] = null;
    await writer.append(event);
    await writer.append(nulls as StoredEvent);
    expect(await writer.close()).toBe(2);
    const object = await storage.openRead('x.parquet');
    const back: StoredEvent[] = [];
    for await (const row of readParquetEvents(object!)) back.push(row);
    await object!.close();
    expect(back).toEqual([event, nulls]);
  });

  it('gives every type its name in each engine', () => {
    for (const spec of Object.values(COLUMN_TYPES)) {
      expect(spec.hive).toMatch(/^[a-z<>()]+$/);
      expect(spec.trino).toMatch(/^[a-z0-9()]+$/);
      expect(spec.duckdb).toMatch(/^[A-Z[\]]+$/);
    }
  });
});

describe('the storage layout', () => {
  it('builds every key from the folder names in layout.json, which serverless.yml reads too', async () => {
    expect(formatPrefix('parquet')).toBe(`${FOLDERS.events}/`);
    expect(formatPrefix('ndjson')).toBe(`${FOLDERS.eventsNdjson}/`);
    expect(quarantineKey(DAY + 9 * HOUR)).toBe(`${FOLDERS.quarantine}/dt=2026-10-05/h09.ndjson.gz`);
    expect(syncStateKey('es-closer')).toBe(`${FOLDERS.state}/sync-es-closer.json`);
    const yml = await fs.readFile(path.resolve('serverless.yml'), 'utf8');
    expect(yml).toContain('${file(./shared/layout/layout.json):events}');
    expect(yml).not.toMatch(/dataPrefix\}\/(events|quarantine)\//);
  });
});

describe('one duration parser', () => {
  it('reads sums of s, m, h, d and w, and nothing else', () => {
    expect(parseDuration('90m')).toBe(90 * 60_000);
    expect(parseDuration('1d12h')).toBe(36 * HOUR);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('1w')).toBe(7 * 24 * HOUR);
    for (const bad of ['', '3 hours', '5x', '1h junk', 'h'])
      expect(() => parseDuration(bad)).toThrow(/cannot read duration .*: use e\.g\./);
  });

  it('is what query intervals and rule windows use', () => {
    expect(intervalMs('1h30m')).toBe(parseDuration('1h30m'));
    expect(durationMs('1d')).toBe(parseDuration('1d'));
    expect(() => intervalMs('5x')).toThrow('"5x": expected e.g. 30s, 5m, 1h, 1d');
    const rule = (window: string) =>
      [
        'id: test-rule',
        'title: t',
        'severity: low',
        'technique: T1110',
        'description: d',
        'next_steps: n',
        `window: ${window}`,
        'threshold: 1',
        'key: source_ip',
        'sql: SELECT ts, event_id, source_ip FROM $__table',
      ].join('\n');
    expect(parseRule('r.yaml', rule('1w')).window).toBe('1w');
    expect(() => parseRule('r.yaml', rule('10 minutes'))).toThrow('r.yaml: window: a duration such as');
  });
});

describe('one configuration for the CLI and the Lambda', () => {
  it('has its defaults stated once', () => {
    const s = readSettings({});
    expect(s.CLOSER_FORMAT).toEqual(['parquet']);
    expect(s.CLOSER_LOOKBACK).toBe(3 * HOUR);
    expect(s.CLOSER_STOP_MARGIN_SECONDS).toBe(60);
    expect(s.CLOSER_ES_INDEX).toBe('closer');
    // serverless.yml passes parameters left empty as ''.
    expect(readSettings({ CLOSER_LOOKBACK: '', CLOSER_FORMAT: '' }).CLOSER_LOOKBACK).toBe(3 * HOUR);
  });

  it('names the NDJSON format ndjson, and still takes json', () => {
    expect(readSettings({ CLOSER_FORMAT: 'ndjson' }).CLOSER_FORMAT).toEqual(['ndjson']);
    expect(readSettings({ CLOSER_FORMAT: 'json' }).CLOSER_FORMAT).toEqual(['ndjson']);
    expect(readSettings({ CLOSER_FORMAT: 'both' }).CLOSER_FORMAT).toEqual(['parquet', 'ndjson']);
  });

  it('refuses a setting given wrong in one line naming it, the flag first when one was given', () => {
    const error = (env: NodeJS.ProcessEnv, flags = {}) => {
      try {
        readSettings(env, flags);
      } catch (err) {
        return err as SettingError;
      }
      throw new Error('accepted');
    };
    const format = error({ CLOSER_FORMAT: 'xml' });
    expect(format).toBeInstanceOf(SettingError);
    expect(format.exitCode).toBe(2);
    expect(format.message).toBe('CLOSER_FORMAT "xml": use parquet, ndjson (alias json) or both');
    expect(error({}, { CLOSER_LOOKBACK: 'soon' }).message).toBe(
      '--lookback (CLOSER_LOOKBACK) "soon": use a duration such as 30s, 90m, 6h, 2d or 1w',
    );
    expect(error({ CLOSER_FIRST_WINDOW: '0d' }).message).toMatch(
      /^CLOSER_FIRST_WINDOW "0d": .*longer than 0/,
    );
    expect(error({ CLOSER_STOP_MARGIN_SECONDS: 'a minute' }).message).toMatch(/^CLOSER_STOP_MARGIN_SECONDS /);
    expect(error({ CLOSER_ES_COMPRESSION: 'gzip' }).message).not.toContain('\n');
  });

  /** One hour of generated hits with a customer reference in one request body, as an export file. */
  async function exportWithReference(): Promise<string> {
    const hits = generateHour(DAY + 5 * HOUR, 20);
    (hits[3]!._source as { message: Record<string, unknown> }).message['http.request.body.content'] =
      '{"note":"customer CUST-12345678 called"}';
    const dir = await tmpDir('contracts-export');
    const file = path.join(dir, 'hits.ndjson');
    await fs.writeFile(file, hits.map((h) => JSON.stringify(h)).join('\n') + '\n');
    return file;
  }

  const lambdaRun = async (out: string, file: string, env: NodeJS.ProcessEnv) =>
    runIngest(
      { kind: 'scheduled', time: null },
      {
        storage: new LocalFolderStorage(out),
        source: new FileSource(file),
        log: quiet,
        remainingMs: () => 600_000,
        now: () => DAY + 60 * HOUR,
        env,
      },
    );

  it('the Lambda refuses an unknown CLOSER_FORMAT instead of writing Parquet', async () => {
    const out = await tmpDir('contracts-lambda-format');
    await expect(lambdaRun(out, await exportWithReference(), { CLOSER_FORMAT: 'xml' })).rejects.toThrow(
      'CLOSER_FORMAT "xml": use parquet, ndjson (alias json) or both',
    );
    expect(await fs.readdir(out)).toEqual([]);
  });

  it('the Lambda honours CLOSER_REDACTION_RULES, as the CLI does', async () => {
    const file = await exportWithReference();
    const rules = path.join(await tmpDir('contracts-rules'), 'rules.json');
    await fs.writeFile(rules, JSON.stringify({ secretValues: ['CUST-[0-9]{8}'] }));
    const bodies = async (env: NodeJS.ProcessEnv) => {
      const out = await tmpDir('contracts-lambda-rules');
      const outcome = await lambdaRun(out, file, env);
      expect(outcome.status).toBe('done');
      return JSON.stringify((await storedRows(out)).map((r) => r.request_body));
    };
    expect(await bodies({})).toContain('CUST-12345678');
    const parquet = await bodies({ CLOSER_REDACTION_RULES: rules });
    expect(parquet).not.toContain('CUST-12345678');
    expect(parquet).toContain('[REDACTED]');
    await expect(
      lambdaRun(await tmpDir('contracts-lambda-norules'), file, {
        CLOSER_REDACTION_RULES: `${rules}.missing`,
      }),
    ).rejects.toThrow(/^redaction rules .*rules\.json\.missing: ENOENT/);
  });
});

describe('the state file', () => {
  it('is refused in one line naming the field at fault', async () => {
    const dir = await tmpDir('contracts-state');
    const storage = new LocalFolderStorage(dir);
    const key = syncStateKey('test');
    const load = async (state: unknown) => {
      await storage.put(key, JSON.stringify(state));
      return new StateStore(storage, key).load();
    };
    await expect(load({ version: 1, sealedThrough: '2026-10-05T06:00:00.000Z' })).resolves.toMatchObject({
      sealedThrough: '2026-10-05T06:00:00.000Z',
      pendingCompaction: [],
    });
    await expect(load({ version: 1, sealedThrough: 'yesterday' })).rejects.toThrow(
      `state object ${key}: sealedThrough: not an ISO-8601 instant; fix or remove it to start over`,
    );
    await expect(load({ version: 1, pendingCompaction: ['2026-13-40'] })).rejects.toThrow(
      'pendingCompaction.0: not a YYYY-MM-DD day',
    );
    await expect(load({ version: 2 })).rejects.toThrow('version: unknown state version (expected 1)');
    // A field a newer release added is kept, not refused.
    await expect(load({ version: 1, storedThrough: 'x' })).resolves.toMatchObject({ storedThrough: 'x' });
  });
});
