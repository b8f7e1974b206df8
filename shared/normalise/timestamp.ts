/**
 * Parses the timestamp forms Closer's feed is known to use into UTC epoch milliseconds:
 * `2021-05-05T09:27:12.529+0000` (Java's offset without colon), ISO-8601 with `Z` or `+00:00`,
 * and epoch millis (number or digit string). A missing offset means UTC, as in Elasticsearch.
 * Sub-millisecond digits are truncated, never rounded, so a value never moves to the next hour.
 */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

export function parseTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value !== 'string') return null;
  const fast = parseUsualForm(value);
  if (fast !== null) return fast;
  const s = value.trim();
  if (/^-?\d{1,16}$/.test(s)) return Number(s);
  const m = ISO.exec(s);
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', , sign, oh = '0', om = '0'] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(sec);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  if (Number(oh) > 23 || Number(om) > 59) return null;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls 31 February into March: reject dates that do not exist.
  const check = new Date(local);
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return null;
  const offsetMin = (Number(oh) * 60 + Number(om)) * (sign === '-' ? -1 : 1);
  return local - offsetMin * 60_000;
}

// Character codes of the usual form's fixed characters.
const DASH = 45;
const T = 84;
const COLON = 58;
const DOT = 46;

/**
 * `YYYY-MM-DDTHH:MM:SS.mmm` then `Z`, `+0000` or `+00:00`: what Closer writes on every event, read
 * without a regex. Anything else (other offsets, other precisions) returns null and takes the
 * general path.
 */
function parseUsualForm(s: string): number | null {
  const n = s.length;
  if (n < 24 || n > 29) return null;
  if (
    s.charCodeAt(4) !== DASH ||
    s.charCodeAt(7) !== DASH ||
    s.charCodeAt(10) !== T ||
    s.charCodeAt(13) !== COLON ||
    s.charCodeAt(16) !== COLON ||
    s.charCodeAt(19) !== DOT
  ) {
    return null;
  }
  const zone = s.slice(23);
  if (zone !== 'Z' && zone !== '+0000' && zone !== '+00:00') return null;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  const ms = digits(s, 20, 3);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23) return null;
  if (minute < 0 || minute > 59 || second < 0 || second > 59 || ms < 0) return null;
  if (day > daysIn(year, month)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

function digits(s: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    value = value * 10 + c;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
