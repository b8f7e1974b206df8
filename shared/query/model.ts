import { z } from 'zod';
import { isDuration, parseDuration } from '../time/duration.js';
import {
  DETECTION_FORMATS,
  DETECTION_SPLITS,
  SEVERITIES,
  FLAG_FILTERS,
  LIMITS,
  LIST_FILTERS,
  METRICS,
  ORDERS,
  STATUS_CLASSES,
  TEXT_FILTERS,
  type Filters,
  type FlagFilter,
  type ListFilter,
  type Query,
  type TextFilter,
} from '../api/contract.js';
import { GROUP_FIELDS } from './fields.js';

/**
 * The server's validation of the API's queries (shared/api/contract.ts states them): zod schemas
 * built from the contract's lists, checked below to accept exactly the contract's types. The
 * query API parses every request with them; ./compile turns a query into Athena (Trino) or
 * DuckDB SQL.
 */
export const MAX_LIMIT = LIMITS.events.max;
export const DEFAULT_LIMIT = LIMITS.events.default;

const text = z.string().min(1).max(512);
const list = <T extends z.ZodType>(item: T) => z.array(item).max(200);

const cidrOrIp = z
  .string()
  .max(64)
  .refine((s) => parseCidr(s) !== null, {
    message: 'expected an IPv4/IPv6 address or CIDR, e.g. 10.0.0.0/8',
  });

const status = z.union([z.number().int().min(100).max(599), z.enum(STATUS_CLASSES)]);

/** Each filter from the contract's lists: list filters hold text, but IPs/CIDRs and statuses. */
const listFilters = Object.fromEntries(
  LIST_FILTERS.map((k) => [
    k,
    list(k === 'sourceIps' ? cidrOrIp : k === 'statuses' ? status : text).optional(),
  ]),
) as { [K in ListFilter]: z.ZodOptional<z.ZodArray<K extends 'statuses' ? typeof status : typeof text>> };
const textFilters = Object.fromEntries(TEXT_FILTERS.map((k) => [k, text.optional()])) as {
  [K in TextFilter]: z.ZodOptional<typeof text>;
};
const flagFilters = Object.fromEntries(FLAG_FILTERS.map((k) => [k, z.boolean().optional()])) as {
  [K in FlagFilter]: z.ZodOptional<z.ZodBoolean>;
};

export const FiltersSchema = z.object({ ...listFilters, ...textFilters, ...flagFilters }).strict();

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
      limit: z.number().int().min(1).max(LIMITS.events.max).optional(),
      order: z.enum(ORDERS).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('timeseries'),
      interval,
      splitBy: groupField.optional(),
      maxSeries: z.number().int().min(1).max(LIMITS.maxSeries.max).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('topn'),
      field: groupField,
      limit: z.number().int().min(1).max(LIMITS.topn.max).optional(),
    })
    .strict(),
  z
    .object({
      ...base,
      type: z.literal('stat'),
      metric: z.enum(METRICS).optional(),
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
      format: z.enum(DETECTION_FORMATS).optional(),
      rules: list(text).optional(),
      severities: list(z.enum(SEVERITIES)).optional(),
      alertIds: list(text).optional(),
      splitBy: z.enum(DETECTION_SPLITS).optional(),
      interval,
      limit: z.number().int().min(1).max(MAX_LIMIT).optional(),
    })
    .strict(),
]);

// The schemas accept exactly the contract's shapes: a field added on one side only fails here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameFilters: Same<z.infer<typeof FiltersSchema>, Filters> = true;
const _sameQuery: Same<z.infer<typeof QuerySchema>, Query> = true;
void _sameFilters;
void _sameQuery;

/** A time range as the API receives it: ISO-8601 text or epoch ms, each end. */
const TimeRangeInputSchema = z
  .object({ from: z.union([z.string(), z.number()]), to: z.union([z.string(), z.number()]) })
  .strict();

export type { Filters, Query, QueryType } from '../api/contract.js';

/** A half-open range of epoch milliseconds, [from, to): what a query, a sync or a count covers. */
export interface TimeRange {
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
const MIN_TIME_MS = 0;
const MAX_TIME_MS = Date.UTC(10000, 0, 1);

export function parseRange(input: unknown): TimeRange {
  const r = TimeRangeInputSchema.safeParse(input);
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
const MIN_INTERVAL_MS = 1000;
const MAX_INTERVAL_MS = 366 * 86_400_000;

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
