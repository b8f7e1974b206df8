import { z } from 'zod';
import { isDuration, parseDuration } from '../time/duration.js';
import { SEVERITIES } from '../detections/columns.js';
import { GROUP_FIELDS } from './fields.js';

/**
 * The structured query the Grafana plugin sends and the query API runs: one JSON shape,
 * validated here, compiled to Athena (Trino) and DuckDB SQL by ./compile.
 */
export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 500;

const text = z.string().min(1).max(512);
const list = <T extends z.ZodType>(item: T) => z.array(item).max(200);

const cidrOrIp = z
  .string()
  .max(64)
  .refine((s) => parseCidr(s) !== null, {
    message: 'expected an IPv4/IPv6 address or CIDR, e.g. 10.0.0.0/8',
  });

const status = z.union([z.number().int().min(100).max(599), z.enum(['1xx', '2xx', '3xx', '4xx', '5xx'])]);

export const FiltersSchema = z
  .object({
    actions: list(text).optional(),
    areas: list(text).optional(),
    outcomes: list(text).optional(),
    userIds: list(text).optional(),
    userRoles: list(text).optional(),
    sourceIps: list(cidrOrIp).optional(),
    httpMethods: list(text).optional(),
    statuses: list(status).optional(),
    urlContains: text.optional(),
    pathContains: text.optional(),
    resourceTypes: list(text).optional(),
    resourceIds: list(text).optional(),
    bodyContains: text.optional(),
    knownAction: z.boolean().optional(),
    eventIds: list(text).optional(),
  })
  .strict();

const groupField = z.enum(GROUP_FIELDS);
const interval = z
  .string()
  .regex(/^\d+(s|m|h|d)$/, 'expected an interval such as 30s, 5m, 1h, 1d')
  .optional();

const base = { refId: z.string().max(64).optional(), filters: FiltersSchema.optional() };

export const QuerySchema = z.discriminatedUnion('type', [
  z
    .object({
      ...base,
      type: z.literal('events'),
      limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
      order: z.enum(['desc', 'asc']).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('timeseries'),
      interval,
      splitBy: groupField.optional(),
      /** Series kept when split (the largest); the rest are summed into "other". */
      maxSeries: z.number().int().min(1).max(50).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('topn'),
      field: groupField,
      limit: z.number().int().min(1).max(1000).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('stat'),
      metric: z.enum(['count', 'distinct']).optional(),
      field: groupField.optional(),
    })
    .strict()
    .refine((q) => q.metric !== 'distinct' || q.field !== undefined, {
      message: 'distinct needs a field',
      path: ['field'],
    }),
  z.object({ refId: base.refId, type: z.literal('sql'), sql: z.string().min(1).max(20_000) }).strict(),
  /**
   * The alerts the detection rules raised (the detections table), whose first event is in the
   * range: as rows (`alerts`, newest first), counted over time (`timeseries`, split by rule or
   * severity), or the events of the alerts named by `alertIds` (`events`: the drill-down).
   */
  z
    .object({
      refId: base.refId,
      type: z.literal('detections'),
      format: z.enum(['alerts', 'timeseries', 'events']).optional(),
      rules: list(text).optional(),
      severities: list(z.enum(SEVERITIES)).optional(),
      alertIds: list(text).optional(),
      splitBy: z.enum(['rule', 'severity']).optional(),
      interval,
      limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
    })
    .strict(),
]);

export const TimeRangeSchema = z
  .object({ from: z.union([z.string(), z.number()]), to: z.union([z.string(), z.number()]) })
  .strict();

export type Filters = z.infer<typeof FiltersSchema>;
export type Query = z.infer<typeof QuerySchema>;
export type QueryType = Query['type'];

export interface Range {
  from: number;
  to: number;
}

export class QueryValidationError extends Error {
  constructor(
    readonly field: string,
    /** The message without the field. */
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'QueryValidationError';
  }
}

/** Parses one query; throws QueryValidationError naming the first field at fault. */
export function parseQuery(input: unknown): Query {
  const r = QuerySchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : 'query';
  throw new QueryValidationError(field, issue?.message ?? 'invalid');
}

/**
 * The instants a range may name: 1970-01-01 to the end of year 9999 (ISO-8601's four-digit years).
 * Anything outside is a caller's mistake, refused before any work is done.
 */
export const MIN_TIME_MS = 0;
export const MAX_TIME_MS = Date.UTC(10000, 0, 1);

export function parseRange(input: unknown): Range {
  const r = TimeRangeSchema.safeParse(input);
  if (!r.success) throw new QueryValidationError('range', 'expected {from, to} as ISO-8601 or epoch ms');
  const from = toMs(r.data.from, 'range.from');
  const to = toMs(r.data.to, 'range.to');
  if (from >= to) throw new QueryValidationError('range', 'from must be before to');
  return { from, to };
}

function toMs(v: string | number, field: string): number {
  const ms =
    typeof v === 'number' ? v : /^\d+$/.test(v) ? Number(v) : /^\s*$/.test(v) ? Number.NaN : Date.parse(v);
  if (!Number.isFinite(ms)) throw new QueryValidationError(field, 'not an ISO-8601 instant or epoch ms');
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) {
    const shown =
      typeof v === 'number' ? String(v) : JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    throw new QueryValidationError(
      field,
      `${shown} is outside 1970-01-01 … 9999-12-31 (epoch ms 0 … ${MAX_TIME_MS})`,
    );
  }
  return Math.floor(ms);
}

/** The shortest and longest bucket a time series may ask for. */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 366 * 86_400_000;

/** `30s`, `5m`, `1h`, `1d` (shared/time/duration) → ms; `field` names where it came from, for the error. */
export function intervalMs(interval: string, field = 'interval'): number {
  if (!isDuration(interval))
    throw new QueryValidationError(field, `${JSON.stringify(interval)}: expected e.g. 30s, 5m, 1h, 1d`);
  const ms = parseDuration(interval);
  if (ms < MIN_INTERVAL_MS) throw new QueryValidationError(field, `${interval}: an interval is at least 1s`);
  if (ms > MAX_INTERVAL_MS) throw new QueryValidationError(field, `${interval}: an interval is at most 366d`);
  return ms;
}

export interface Cidr {
  version: 4 | 6;
  /** Network address as a bigint, and the prefix length. */
  network: bigint;
  prefix: number;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(text: string): Cidr | null {
  const [addr = '', len] = text.split('/');
  const v4 = parseIpv4(addr);
  const v6 = v4 === null ? parseIpv6(addr) : null;
  if (v4 === null && v6 === null) return null;
  const version = v4 !== null ? 4 : 6;
  const bits = version === 4 ? 32 : 128;
  const prefix = len === undefined ? bits : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= bits)) return null;
  const value = (v4 ?? v6) as bigint;
  const mask = prefix === 0 ? 0n : ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
  return { version, network: value & mask, prefix };
}

function parseIpv4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n);
}

function parseIpv6(s: string): bigint | null {
  if (!/^[0-9a-fA-F:]+$/.test(s) || s.split('::').length > 2) return null;
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  if (tail === undefined && h.length !== 8) return null;
  if (h.length + t.length > 8) return null;
  const groups = [...h, ...Array(tail === undefined ? 0 : 8 - h.length - t.length).fill('0'), ...t];
  if (!groups.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return null;
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}
