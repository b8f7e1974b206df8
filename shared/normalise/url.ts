import { BoundedMemo } from '../memo/bounded-memo.js';

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

/** path[from, to) is a UUID, a number, or a 24-hex-digit object id; read in place, for every segment. */
function isIdAt(path: string, from: number, to: number): boolean {
  const n = to - from;
  if (n <= 0) return false;
  if (n === 36) {
    for (let i = 0; i < 36; i++) {
      const c = path.charCodeAt(from + i);
      if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !isHex(c)) return false;
    }
    return true;
  }
  let digits = true;
  let hex = true;
  for (let i = from; i < to && (digits || hex); i++) {
    const c = path.charCodeAt(i);
    if (c < 48 || c > 57) digits = false;
    if (!isHex(c)) hex = false;
  }
  return digits || (hex && n === 24);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

// Resource names are few (agents, bots, event-actions…): each is worked out once.
const singulars = new BoundedMemo(1_000, singularOf);

function singularOf(word: string): string {
  const w = word.toLowerCase().replaceAll('-', '_');
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('sses') || w.endsWith('xes')) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

export function resourceOf(path: string | null): { type: string; id: string } | null {
  if (!path) return null;
  // Segments from the right, read in place: [start, end) is a segment, [laterStart, laterEnd) the
  // non-empty one after it.
  let laterStart = -1;
  let laterEnd = -1;
  let laterIsId = false;
  for (let end = path.length; end > 0;) {
    const start = path.lastIndexOf('/', end - 1) + 1;
    if (start < end) {
      const isId = isIdAt(path, start, end);
      if (laterIsId && !isId) {
        return {
          type: singulars.get(decodeSafe(path.slice(start, end))),
          id: decodeSafe(path.slice(laterStart, laterEnd)),
        };
      }
      laterStart = start;
      laterEnd = end;
      laterIsId = isId;
    }
    end = start - 1;
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
