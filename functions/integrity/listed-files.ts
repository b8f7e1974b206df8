import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ManifestHead, ManifestIndex, parseManifest } from '../../shared/storage/manifest.js';
import {
  MANIFEST_HEAD_KEY,
  MANIFEST_PREFIX,
  dayKey,
  dayOfKey,
  formatPrefix,
  manifestKey,
  manifestSeqOfKey,
} from '../../shared/layout/layout.js';

interface Cached {
  seq: number;
  index: ManifestIndex;
}

/** Per data folder: the manifests read so far; a query reads only the ones written since. */
const cache = new Map<string, Cached>();

// Synchronous reads and stats: a query lists its objects here every time, and each small local
// file operation takes microseconds where a promise through libuv's thread pool takes far more.
function readFile(file: string): Buffer | null {
  // A stat first: most probes are for a manifest not written yet, and a failed open throws (an
  // exception per query costs more than the stat).
  if (!statSync(file, { throwIfNoEntry: false })) return null;
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

/** Per data folder: HEAD's seq, as of its stat (read again only once the file changes). */
const heads = new Map<string, { stamp: string; seq: number | null }>();

function headSeq(file: string): number | null {
  const st = statSync(file, { bigint: true, throwIfNoEntry: false });
  if (!st) {
    heads.delete(file);
    return null;
  }
  const stamp = `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const known = heads.get(file);
  if (known?.stamp === stamp) return known.seq;
  const head = readFile(file);
  let seq: number | null = null;
  if (head) {
    try {
      seq = ManifestHead.parse(JSON.parse(head.toString('utf8'))).seq;
    } catch {
      seq = null;
    }
  }
  heads.set(file, { stamp, seq });
  return seq;
}

/** The manifests of a local folder as an index, brought up to date; null when it has none. */
async function currentIndex(dataDir: string): Promise<ManifestIndex | null> {
  const file = (key: string) => path.join(dataDir, ...key.split('/'));
  let newest = headSeq(file(MANIFEST_HEAD_KEY));
  if (newest === null) {
    let names: string[];
    try {
      names = readdirSync(file(MANIFEST_PREFIX));
    } catch {
      names = [];
    }
    for (const n of names) newest = Math.max(newest ?? 0, manifestSeqOfKey(MANIFEST_PREFIX + n) ?? 0) || null;
  }
  if (newest === null) {
    cache.delete(dataDir);
    return null;
  }
  let cached = cache.get(dataDir);
  if (!cached || cached.seq > newest) cached = { seq: 0, index: new ManifestIndex() };
  // Through HEAD, and past it while later manifests exist (a run between a manifest and its HEAD).
  for (let seq = cached.seq + 1; ; seq++) {
    const body = readFile(file(manifestKey(seq)));
    if (!body) {
      if (seq <= newest) continue; // a gap is verify's finding; the entries of the others still count
      break;
    }
    cached.index.add(parseManifest(body));
    cached.seq = seq;
  }
  cache.set(dataDir, cached);
  return cached.index;
}

/**
 * The Parquet objects of the days first…last (YYYY-MM-DD) that the manifests list and are there,
 * newest day first: a compaction's day object replaces its hour objects in one manifest, so no
 * query reads a day twice while the hours fold into it (a day object still being written is not
 * listed yet, and its hours are; once listed, the hours are superseded). A day object rewritten
 * since its entry (a fold of a day already compacted) already holds the hours it folds in: that
 * day is read from it alone. Null when the folder has no manifests (a store from before them).
 */
export async function listedParquetFiles(
  dataDir: string,
  first: string,
  last: string,
): Promise<string[] | null> {
  const index = await currentIndex(dataDir);
  if (!index) return null;
  const byDay = new Map<string, string[]>();
  for (const key of index.live(formatPrefix('parquet'))) {
    const dt = dayOfKey(key);
    if (dt === null || dt < first || dt > last || !key.endsWith('.parquet')) continue;
    byDay.set(dt, [...(byDay.get(dt) ?? []), key]);
  }
  const files: string[] = [];
  for (const dt of [...byDay.keys()].sort().reverse()) {
    const day = dayKey('parquet', dt);
    const dayEntry = index.objects.get(day);
    const found: string[] = [];
    let refolded = false;
    for (const key of (byDay.get(dt) as string[]).sort()) {
      const full = path.join(dataDir, ...key.split('/'));
      const st = statSync(full, { throwIfNoEntry: false });
      if (!st) continue;
      if (key === day && dayEntry && st.size !== dayEntry.entry.size) refolded = true;
      found.push(full);
    }
    files.push(...(refolded ? [path.join(dataDir, ...day.split('/'))] : found));
  }
  return files;
}
