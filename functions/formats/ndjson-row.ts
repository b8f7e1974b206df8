import { COLUMN_TYPES } from '../../shared/event/column-types.js';
import { EVENT_COLUMNS, type StoredEvent } from '../../shared/event/columns.js';

type Codec = (value: never) => unknown;

// Only the columns whose type JSON does not carry as it is (timestamps: ISO-8601 text) are touched.
const ENCODERS = EVENT_COLUMNS.flatMap((c) => {
  const encode = COLUMN_TYPES[c.type].toJson as Codec | undefined;
  return encode ? [[c.name, encode] as const] : [];
});
const DECODERS = EVENT_COLUMNS.flatMap((c) => {
  const decode = COLUMN_TYPES[c.type].fromJson as Codec | undefined;
  return decode ? [[c.name, decode] as const] : [];
});

/** A stored row as one NDJSON object: every column, timestamps as ISO-8601 strings. */
export function toJsonRow(event: StoredEvent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...event };
  for (const [name, encode] of ENCODERS) out[name] = encode(event[name] as never);
  return out;
}

/** An NDJSON object back into the stored row it was written from. */
export function fromJsonRow(row: Record<string, unknown>): StoredEvent {
  const out: Record<string, unknown> = { ...row };
  for (const [name, decode] of DECODERS) out[name] = decode(row[name] as never);
  return out as StoredEvent;
}
