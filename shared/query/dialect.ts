import type { Cidr } from './model.js';

/** A bound value; each engine passes it the way its API binds parameters. */
export type Param =
  | { type: 'string'; value: string }
  | { type: 'int'; value: number }
  | { type: 'bool'; value: boolean }
  /** Epoch milliseconds. */
  | { type: 'timestamp'; value: number };

/** Where the two SQL dialects differ; everything else is written once in ./compile. */
export interface Dialect {
  readonly name: 'duckdb' | 'athena';
  /**
   * Athena binds parameters only in WHERE. Elsewhere (LIMIT, the bucket width) a dialect that
   * cannot bind gets the integer written out: always a number the model validated and the
   * compiler computed, never text from a request.
   */
  readonly bindsOutsideWhere: boolean;
  /** A placeholder bound to a timestamp param. */
  timestamp(): string;
  /** Epoch milliseconds of a timestamp expression, as a whole number. */
  epochMs(expr: string): string;
  /** The timestamp (UTC) of a whole number of epoch milliseconds. */
  fromEpochMs(expr: string): string;
  /** `list` has at least one of the n bound strings. */
  listHasAny(list: string, n: number): string;
  /** FROM-clause fragment that yields one row per element of user_roles, as `user_role`. */
  unnestRoles(): string;
  /** source_ip within a CIDR; the dialect pushes the params it needs. */
  ipInCidr(cidr: Cidr, text: string, params: Param[]): string;
}

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

export const duckdbDialect: Dialect = {
  name: 'duckdb',
  bindsOutsideWhere: true,
  timestamp: () => 'to_timestamp(CAST(? AS DOUBLE) / 1000.0)',
  epochMs: (expr) => `epoch_ms(${expr})`,
  fromEpochMs: (expr) => `epoch_ms(${expr})`,
  listHasAny: (list, n) => `list_has_any(${list}, [${marks(n)}])`,
  unnestRoles: () => 'CROSS JOIN unnest(user_roles) AS r(user_role)',
  ipInCidr(cidr, _text, params) {
    if (cidr.version === 4) {
      const size = 1n << BigInt(32 - cidr.prefix);
      params.push(
        { type: 'int', value: Number(cidr.network) },
        { type: 'int', value: Number(cidr.network + size - 1n) },
      );
      // DuckDB's inet extension would be downloaded at run time: the address is computed here.
      return (
        "(regexp_full_match(source_ip, '[0-9]{1,3}(\\.[0-9]{1,3}){3}') AND " +
        "(CAST(split_part(source_ip, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(source_ip, '.', 2) AS BIGINT) * 65536 + " +
        "CAST(split_part(source_ip, '.', 3) AS BIGINT) * 256 + CAST(split_part(source_ip, '.', 4) AS BIGINT)) BETWEEN ? AND ?)"
      );
    }
    // IPv6: the stored (canonical, RFC 5952) address expanded to 32 hex digits, which sort as the
    // addresses do, so a network is a range of them (Athena/Trino use IPADDRESS; a real Trino
    // and DuckDB are compared on the same IPv6 networks in the tests).
    const size = 1n << BigInt(128 - cidr.prefix);
    const hex = (n: bigint) => n.toString(16).padStart(32, '0');
    params.push(
      { type: 'string', value: hex(cidr.network) },
      { type: 'string', value: hex(cidr.network + size - 1n) },
    );
    const groups = (s: string) => `list_filter(string_split(${s}, ':'), lambda g: g <> '')`;
    const full = `CASE WHEN contains(source_ip, '::') THEN replace(source_ip, '::', ':' || repeat('0:', 8 - len(${groups('source_ip')}))) ELSE source_ip END`;
    return (
      "(contains(source_ip, ':') AND NOT contains(source_ip, '.') AND " +
      `array_to_string(list_transform(${groups(full)}, lambda g: lpad(lower(g), 4, '0')), '') BETWEEN ? AND ?)`
    );
  },
};

export const athenaDialect: Dialect = {
  name: 'athena',
  bindsOutsideWhere: false,
  timestamp: () => '?',
  // `ts` is a timestamp without zone holding UTC; to_unixtime reads it in the session's zone
  // (UTC on Athena, anything on a self-hosted Trino), so the zone is named (a real Trino shows it).
  epochMs: (expr) => `CAST(to_unixtime(with_timezone(${expr}, 'UTC')) * 1000 AS BIGINT)`,
  fromEpochMs: (expr) => `from_unixtime((${expr}) / 1000.0)`,
  listHasAny: (list, n) => `arrays_overlap(${list}, ARRAY[${marks(n)}])`,
  unnestRoles: () => 'CROSS JOIN UNNEST(user_roles) AS r(user_role)',
  ipInCidr(_cidr, text, params) {
    params.push({
      type: 'string',
      value: text.includes('/') ? text : `${text}/${text.includes(':') ? 128 : 32}`,
    });
    return '(source_ip IS NOT NULL AND contains(?, CAST(source_ip AS IPADDRESS)))';
  },
};

/** An integer outside WHERE: bound where the dialect can, written out (validated) where it cannot. */
export function intOutsideWhere(d: Dialect, value: number, params: Param[]): string {
  if (!Number.isSafeInteger(value)) throw new Error(`not an integer: ${value}`);
  if (!d.bindsOutsideWhere) return String(value);
  params.push({ type: 'int', value });
  return '?';
}
