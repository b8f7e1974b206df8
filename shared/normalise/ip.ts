import { isIPv4, isIPv6 } from 'node:net';

/**
 * `source.ip` arrives as Java's `InetAddress.toString()`: `/89.187.249.34`, `host/89.187.249.34`,
 * `/0:0:0:0:0:0:0:1`, sometimes with a `%scope`; or as a plain address. Returns the bare address in
 * canonical form (IPv6 compressed per RFC 5952), or null when no address can be read.
 */
export function canonicalIp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  let s = value.trim();
  const slash = s.lastIndexOf('/');
  if (slash >= 0) s = s.slice(slash + 1);
  // Nearly every address is a canonical dotted quad already: checked by hand, returned as it is.
  if (isCanonicalIpv4(s)) return s;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  if (isIPv4(s)) return s.split('.').map(Number).join('.');
  if (isIPv6(s)) return compressIpv6(s);
  return null;
}

/** Four decimal octets, each 0-255 without leading zeros. */
function isCanonicalIpv4(s: string): boolean {
  let dots = 0;
  let octet = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
      octet = 0;
      continue;
    }
    if (c < 48 || c > 57) return false;
    if (digits === 0) leadingZero = c === 48;
    else if (leadingZero) return false;
    octet = octet * 10 + (c - 48);
    if (++digits > 3 || octet > 255) return false;
  }
  return dots === 3 && digits > 0;
}

function compressIpv6(addr: string): string {
  const groups = expandIpv6(addr);
  // IPv4-mapped addresses read better, and compare equal to the IPv4 form, as dotted quads.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [a = 0, b = 0] = groups.slice(6);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function expandIpv6(addr: string): number[] {
  let s = addr.toLowerCase();
  const tail: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = last.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    s = s.slice(0, lastColon + 1) + '0';
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  let groups: number[];
  if (rest === undefined) groups = parse(head);
  else {
    const h = parse(head);
    const r = parse(rest);
    groups = [...h, ...new Array<number>(8 - h.length - r.length - (tail.length ? 1 : 0)).fill(0), ...r];
  }
  if (tail.length) groups = [...groups.slice(0, 6), ...tail];
  return groups.slice(0, 8);
}
