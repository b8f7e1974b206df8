import { lookupAction } from '../catalog/actions.js';
import type { StoredEvent } from '../event/columns.js';
import { REDACTED, type Redactor } from '../redaction/index.js';
import { ConflictError, flatten, isPlainObject, type Flat } from './flatten.js';
import { canonicalIp } from './ip.js';
import { parseTimestamp } from './timestamp.js';
import { resourceOf, urlPath } from './url.js';

/** An Elasticsearch hit as `_search` or an export delivers it. */
export interface RawHit {
  _index?: unknown;
  _id?: unknown;
  _source?: unknown;
  sort?: unknown;
  [key: string]: unknown;
}

export type NormaliseResult = { ok: true; event: StoredEvent } | { ok: false; reason: string };

export interface NormaliseContext {
  redactor: Redactor;
  /** Epoch ms stamped into `ingested_at`. */
  ingestedAt: number;
}

// Paths (relative to `message`) whose value is kept whole, even when it is an object.
const BODY_LEAVES = ['http.request.body.content', 'http.response.body.content'];

export function normaliseHit(hit: RawHit, ctx: NormaliseContext): NormaliseResult {
  try {
    return { ok: true, event: build(hit, ctx) };
  } catch (err) {
    if (err instanceof Rejection || err instanceof ConflictError) return { ok: false, reason: err.message };
    throw err;
  }
}

class Rejection extends Error {}

function build(hit: RawHit, ctx: NormaliseContext): StoredEvent {
  const eventId = hit._id;
  if (typeof eventId !== 'string' || eventId === '') throw new Rejection('missing _id');
  const esIndex = hit._index;
  if (typeof esIndex !== 'string' || esIndex === '') throw new Rejection('missing _index');
  let source = hit._source;
  if (!isPlainObject(source)) throw new Rejection('missing _source object');
  source = withMessageObject(source);

  const { msg, top } = flattenSource(source as Record<string, unknown>);
  const fields = new FieldReader(msg, top);

  const rawTs = fields.timestamp();
  if (rawTs === undefined) throw new Rejection('missing @timestamp');
  const ts = parseTimestamp(single('@timestamp', rawTs));
  if (ts === null) throw new Rejection(`unreadable @timestamp ${JSON.stringify(rawTs)}`);

  const action = str(fields.field('event.action'), 'event.action');
  const info = lookupAction(action);

  const rawIp = fields.field('source.ip');
  const sourceIp = canonicalIp(str(rawIp, 'source.ip'));
  if (rawIp != null && sourceIp === null) fields.keep('source.ip', rawIp);

  const rawStatus = fields.field('http.response.status_code');
  const httpStatus = toInt(single('http.response.status_code', rawStatus));
  if (rawStatus != null && httpStatus === null) fields.keep('http.response.status_code', rawStatus);

  const rawUrl = str(fields.field('url.full') ?? fields.field('url.original'), 'url.full');
  const url = rawUrl === null ? null : ctx.redactor.url(rawUrl);
  const path = url === null ? null : urlPath(url);
  const resource = resourceOf(path);

  const method = str(fields.field('http.request.method'), 'http.request.method');
  const outcome = str(fields.field('event.outcome'), 'event.outcome');

  const event: StoredEvent = {
    ts,
    event_id: eventId,
    es_index: esIndex,
    action,
    known_action: info !== undefined,
    area: info?.area ?? null,
    outcome: outcome === null ? null : outcome.toLowerCase(),
    categories: list(fields.field('event.category')),
    types: list(fields.field('event.type')),
    kinds: list(fields.field('event.kind')),
    user_id: str(fields.field('user.id'), 'user.id'),
    user_roles: list(fields.field('user.roles')),
    source_ip: sourceIp,
    http_method: method === null ? null : method.toUpperCase(),
    http_status: httpStatus,
    url,
    url_path: path,
    resource_type: resource?.type ?? null,
    resource_id: resource?.id ?? null,
    request_body: body(fields, REQUEST_BODY, ctx.redactor),
    response_body: body(fields, RESPONSE_BODY, ctx.redactor),
    ecs_version: str(fields.field('ecs.version'), 'ecs.version'),
    extra: null,
    ingested_at: ctx.ingestedAt,
  };
  event.extra = fields.extra(ctx.redactor);
  return event;
}

/** `message` as a JSON string (some shippers do that) is read as the object it holds. */
function withMessageObject(source: Record<string, unknown>): Record<string, unknown> {
  const message = source.message;
  if (typeof message !== 'string') return source;
  const trimmed = message.trim();
  if (!trimmed.startsWith('{')) return source;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return isPlainObject(parsed) ? { ...source, message: parsed } : source;
  } catch {
    return source;
  }
}

/**
 * The fields of `_source.message` (keys relative to it) and of the rest of `_source`, flattened
 * apart: no `message.` prefix is built or stripped per key, and the common case, a message of
 * dotted keys with scalar or array values, is one pass with no string building at all.
 */
function flattenSource(source: Record<string, unknown>): { msg: Flat; top: Flat } {
  const msg: Flat = new Map();
  const top: Flat = new Map();
  const walk = (value: unknown, prefix: string, into: Flat): void => {
    if (isPlainObject(value) && !BODY_LEAVES.includes(prefix)) {
      let any = false;
      for (const k in value) {
        any = true;
        walk(value[k], prefix ? `${prefix}.${k}` : k, into);
      }
      if (any) return;
    }
    flatten(value, prefix, into);
  };
  for (const k in source) {
    const v = source[k];
    if (k === 'message' && isPlainObject(v)) walk(v, '', msg);
    else walk(v, k, top);
  }
  return { msg, top };
}

// A field read is marked, not deleted: deleting shrinks (reallocates) a Map again and again.
const TAKEN: unique symbol = Symbol('taken');

class FieldReader {
  private kept: Map<string, unknown> | null = null;
  /** Fields not taken yet. */
  private left: number;

  constructor(
    private readonly msg: Flat,
    private readonly top: Flat,
  ) {
    this.left = msg.size + top.size;
  }

  /** The first of `@timestamp`, `message.@timestamp`, `timestamp` that is there. */
  timestamp(): unknown {
    if (present(this.top, '@timestamp')) return this.take(this.top, '@timestamp');
    if (present(this.msg, '@timestamp')) return this.take(this.msg, '@timestamp');
    if (present(this.top, 'timestamp')) return this.take(this.top, 'timestamp');
    return undefined;
  }

  /** An ECS field under `message` or at the top of `_source`; both there and different is a conflict. */
  field(path: string): unknown {
    // One lookup per map: this runs a dozen times per event.
    const a = this.msg.get(path);
    const b = this.top.get(path);
    const inMessage = a !== undefined && a !== TAKEN;
    if (b === undefined || b === TAKEN) {
      if (!inMessage) return undefined;
      this.mark(this.msg, path);
      return a;
    }
    this.mark(this.top, path);
    if (!inMessage) return b;
    this.mark(this.msg, path);
    if (a !== b && JSON.stringify(a) !== JSON.stringify(b)) {
      throw new Rejection(`field ${path} is given twice with different values (message.${path} and ${path})`);
    }
    return a;
  }

  /** Keys under `path.` not read yet, rebuilt as an object (a body logged as an object). */
  takeObjectUnder(path: string): Record<string, unknown> | null {
    let out: Record<string, unknown> | null = null;
    const start = `${path}.`;
    for (const map of [this.msg, this.top]) {
      map.forEach((value, key) => {
        if (value === TAKEN || !key.startsWith(start)) return;
        map.set(key, TAKEN);
        this.left--;
        out ??= Object.create(null) as Record<string, unknown>;
        out[key.slice(start.length)] = value;
      });
    }
    return out;
  }

  hasKeyContaining(fragment: string): boolean {
    let found = false;
    const look = (value: unknown, key: string) => {
      if (!found && value !== TAKEN && key.includes(fragment)) found = true;
    };
    this.msg.forEach(look);
    this.top.forEach(look);
    return found;
  }

  keep(path: string, value: unknown): void {
    (this.kept ??= new Map()).set(path, value);
  }

  /** What no column took, as JSON, redacted; `message.` is kept only where a top-level key is alike. */
  extra(redactor: Redactor): string | null {
    if (this.left === 0 && !this.kept) return null;
    // No prototype: a field named __proto__ is data like any other.
    const out: Record<string, unknown> = Object.create(null);
    const put = (key: string, value: unknown) => {
      const last = key.slice(key.lastIndexOf('.') + 1);
      out[key] = redactor.isSecretKey(last) ? REDACTED : redactor.value(value);
    };
    this.msg.forEach((value, key) => {
      if (value !== TAKEN) put(present(this.top, key) ? `message.${key}` : key, value);
    });
    this.top.forEach((value, key) => {
      if (value !== TAKEN) put(key, value);
    });
    this.kept?.forEach((value, key) => put(key, value));
    return JSON.stringify(out);
  }

  private take(map: Flat, key: string): unknown {
    const value = map.get(key);
    this.mark(map, key);
    return value;
  }

  private mark(map: Flat, key: string): void {
    map.set(key, TAKEN);
    this.left--;
  }
}

/** JSON never yields undefined: a key maps to undefined only when it is not there. */
function present(map: Flat, key: string): boolean {
  const value = map.get(key);
  return value !== undefined && value !== TAKEN;
}

/** The keys a body is looked up under, built once (a key built per event is hashed per event). */
function bodyKeys(path: string) {
  return { path, content: `${path}.content`, under: `${path}.` };
}
const REQUEST_BODY = bodyKeys('http.request.body');
const RESPONSE_BODY = bodyKeys('http.response.body');

function body(fields: FieldReader, keys: ReturnType<typeof bodyKeys>, redactor: Redactor): string | null {
  let value = fields.field(keys.content);
  if (value === undefined) value = fields.field(keys.path);
  if (value === undefined && fields.hasKeyContaining(keys.under))
    value = fields.takeObjectUnder(keys.path) ?? undefined;
  if (value == null) return null;
  if (typeof value === 'string') return redactor.text(value);
  return JSON.stringify(redactor.value(value));
}

function single(path: string, value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  const distinct = [...new Set(value.map((v) => JSON.stringify(v)))];
  if (distinct.length > 1) throw new Rejection(`field ${path} has several values ${JSON.stringify(value)}`);
  return value[0];
}

function str(value: unknown, path: string): string | null {
  const v = single(path, value);
  if (v == null) return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v.trim();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Rejection(`field ${path} is not a scalar: ${JSON.stringify(v).slice(0, 80)}`);
}

function list(value: unknown): string[] {
  if (value == null) return [];
  if (!Array.isArray(value))
    return value === '' ? [] : [typeof value === 'string' ? value : JSON.stringify(value)];
  // Usually an array of non-empty strings already (the hit is ours to keep): taken as it is.
  let plain = true;
  for (let i = 0; i < value.length && plain; i++) plain = typeof value[i] === 'string' && value[i] !== '';
  if (plain) return value as string[];
  return value
    .filter((v) => v != null && v !== '')
    .map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
}

function toInt(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) ? value : null;
  if (typeof value === 'string' && /^\s*\d{1,9}\s*$/.test(value)) return Number(value);
  return null;
}
