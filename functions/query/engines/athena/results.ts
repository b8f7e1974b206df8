import type { ColumnInfo, QueryExecution, Row } from '@aws-sdk/client-athena';
import type { FieldType, QueryResult } from '../../engine.js';

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
export function parseValue(col: ColumnInfo, text: string | undefined): unknown {
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

/**
 * Rows of GetQueryResults pages as a query result: values parsed by column type, the header row
 * dropped, and cut at `maxRows` rows or about `maxBytes` bytes of values.
 */
export class ResultRows {
  private info: ColumnInfo[] | undefined;
  private readonly rows: unknown[][] = [];
  private first = true;
  private bytes = 0;
  private truncatedBy: 'rows' | 'bytes' | undefined;

  constructor(
    private readonly execution: QueryExecution,
    private readonly maxRows?: number,
    private readonly maxBytes?: number,
  ) {}

  /** Takes one page; false when the result is full and no more pages are wanted. */
  add(columns: ColumnInfo[] | undefined, pageRows: Row[]): boolean {
    this.info ??= columns ?? [];
    // A SELECT's first row is its header (column names), on the first page only.
    if (this.first && this.execution.StatementType !== 'UTILITY') pageRows = pageRows.slice(1);
    this.first = false;
    const cols = this.info;
    for (const row of pageRows) {
      if (this.maxRows !== undefined && this.rows.length >= this.maxRows) {
        this.truncatedBy = 'rows';
        return false;
      }
      if (this.maxBytes !== undefined) {
        // Every value arrives as text: its length is what it adds to the answer, about.
        const size = cols.reduce((n, _c, i) => n + (row.Data?.[i]?.VarCharValue?.length ?? 1) + 3, 0);
        if (this.bytes + size > this.maxBytes) {
          this.truncatedBy = 'bytes';
          return false;
        }
        this.bytes += size;
      }
      this.rows.push(cols.map((c, i) => parseValue(c, row.Data?.[i]?.VarCharValue)));
    }
    return true;
  }

  result(executedSql: string): QueryResult {
    const truncatedBy = this.truncatedBy;
    const columns = (this.info ?? []).map((c) => ({
      name: c.Name ?? c.Label ?? '',
      type: fieldType(c.Type),
    }));
    const scanned = this.execution.Statistics?.DataScannedInBytes;
    return {
      columns,
      rows: this.rows,
      executedSql,
      truncated: truncatedBy !== undefined,
      ...(truncatedBy ? { truncatedBy } : {}),
      ...(scanned !== undefined ? { bytesScanned: Number(scanned) } : {}),
    };
  }
}
