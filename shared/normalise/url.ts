/**
 * Derives the path and, where the path names one, the resource it acts on, from `url.full`:
 * `/api/users/agents/<uuid>/skills` → agent, <uuid>. The last id-like segment wins, named by the
 * segment before it, singularised.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMERIC = /^\d+$/;
const OBJECT_ID = /^[0-9a-f]{24}$/i;

export function urlPath(url: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/[^/?#]*)?([^?#]*)/i.exec(url);
  const path = m?.[1] ?? '';
  return path === '' ? null : path;
}

function isId(segment: string): boolean {
  return UUID.test(segment) || NUMERIC.test(segment) || OBJECT_ID.test(segment);
}

function singular(word: string): string {
  const w = word.toLowerCase().replace(/-/g, '_');
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('sses') || w.endsWith('xes')) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

export function resourceOf(path: string | null): { type: string; id: string } | null {
  if (!path) return null;
  const segments = path.split('/').filter(Boolean);
  for (let i = segments.length - 1; i > 0; i--) {
    const seg = segments[i] as string;
    const prev = segments[i - 1] as string;
    if (isId(seg) && !isId(prev)) return { type: singular(decodeSafe(prev)), id: decodeSafe(seg) };
  }
  return null;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
