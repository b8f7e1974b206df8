/**
 * Derives the path and, where the path names one, the resource it acts on, from `url.full`:
 * `/api/users/agents/<uuid>/skills` → agent, <uuid>. The last id-like segment wins, named by the
 * segment before it, singularised.
 */

export function urlPath(url: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/[^/?#]*)?([^?#]*)/i.exec(url);
  const path = m?.[1] ?? '';
  return path === '' ? null : path;
}

/** A UUID, a number, or a 24-hex-digit object id; checked by hand, it runs for every segment. */
function isId(segment: string): boolean {
  const n = segment.length;
  if (n === 0) return false;
  if (n === 36) {
    for (let i = 0; i < 36; i++) {
      const c = segment.charCodeAt(i);
      if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !isHex(c)) return false;
    }
    return true;
  }
  let digits = true;
  let hex = true;
  for (let i = 0; i < n && (digits || hex); i++) {
    const c = segment.charCodeAt(i);
    if (c < 48 || c > 57) digits = false;
    if (!isHex(c)) hex = false;
  }
  return digits || (hex && n === 24);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function singular(word: string): string {
  const w = word.toLowerCase().replaceAll('-', '_');
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('sses') || w.endsWith('xes')) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

export function resourceOf(path: string | null): { type: string; id: string } | null {
  if (!path) return null;
  const segments = path.split('/').filter((segment) => segment !== '');
  for (let i = segments.length - 1; i > 0; i--) {
    const seg = segments[i] as string;
    const prev = segments[i - 1] as string;
    if (isId(seg) && !isId(prev)) return { type: singular(decodeSafe(prev)), id: decodeSafe(seg) };
  }
  return null;
}

function decodeSafe(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
