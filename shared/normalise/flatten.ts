/**
 * Elasticsearch treats `{"event.action": x}` and `{"event": {"action": x}}` as the same field,
 * and one document may mix both. Flattening to dotted paths makes them one key for us too.
 * Arrays are leaves (ECS fields such as event.type are arrays of scalars).
 */
export type Flat = Map<string, unknown>;

export class ConflictError extends Error {}

export function flatten(value: unknown, prefix = '', into: Flat = new Map()): Flat {
  if (!isPlainObject(value)) {
    if (prefix) put(into, prefix, value);
    return into;
  }
  const entries = Object.entries(value);
  if (entries.length === 0 && prefix) {
    put(into, prefix, value);
    return into;
  }
  for (const [key, child] of entries) {
    flatten(child, prefix ? `${prefix}.${key}` : key, into);
  }
  return into;
}

function put(into: Flat, key: string, value: unknown): void {
  // JSON holds no undefined: undefined means the key is not there yet (one lookup, not two).
  const existing = into.get(key);
  if (existing !== undefined) {
    if (JSON.stringify(existing) !== JSON.stringify(value)) {
      throw new ConflictError(`field ${key} is given twice with different values (dotted and nested forms)`);
    }
    return;
  }
  into.set(key, value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
