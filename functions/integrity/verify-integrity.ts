import { createHash } from 'node:crypto';
import { ManifestHead, ManifestIndex, parseManifest } from '../../shared/storage/manifest.js';
import {
  MANIFEST_HEAD_KEY,
  MANIFEST_PREFIX,
  MANIFESTED_PREFIXES,
  dayOfKey,
  manifestKey,
  manifestSeqOfKey,
} from '../../shared/layout/layout.js';
import type { Storage } from '../storage/storage.js';
import { hashObject } from './hash.js';

export type ProblemKind = 'changed' | 'vanished' | 'unlisted' | 'chain';

export interface Problem {
  kind: ProblemKind;
  key: string;
  detail: string;
}

export interface IntegrityReport {
  manifestsChecked: number;
  objectsChecked: number;
  bytesChecked: number;
  /** Superseded objects still there: a compaction that has not deleted them yet (not a fault). */
  supersededPresent: number;
  problems: Problem[];
  tookMs: number;
}

export interface IntegrityOptions {
  /** Only objects of the UTC days this range touches are hashed; the chain is always checked whole. */
  from?: number;
  to?: number;
  /** Called after each object hashed (progress). */
  onObject?: (key: string, bytes: number) => void;
}

/**
 * Proves the store is what the ingest wrote: the manifests form an unbroken chain (each carries
 * the SHA-256 of the one before, and HEAD.json names the last), every object a manifest lists is
 * there with the recorded size and SHA-256 (streamed, one chunk in memory at a time), and nothing
 * lies under a manifested prefix that no manifest lists. Needs only the storage.
 */
export async function verifyIntegrity(
  storage: Storage,
  options: IntegrityOptions = {},
): Promise<IntegrityReport> {
  const started = Date.now();
  const problems: Problem[] = [];
  const index = new ManifestIndex();
  const manifestsChecked = await checkChain(storage, index, problems);

  const firstDay = options.from === undefined ? null : new Date(options.from).toISOString().slice(0, 10);
  const lastDay = options.to === undefined ? null : new Date(options.to - 1).toISOString().slice(0, 10);
  const inRange = (key: string) => {
    if (firstDay === null && lastDay === null) return true;
    const dt = dayOfKey(key);
    return dt !== null && (firstDay === null || dt >= firstDay) && (lastDay === null || dt <= lastDay);
  };

  let objectsChecked = 0;
  let bytesChecked = 0;
  let supersededPresent = 0;
  const present = new Set<string>();
  for (const prefix of MANIFESTED_PREFIXES) {
    for await (const o of storage.list(prefix)) {
      if (!inRange(o.key)) continue;
      present.add(o.key);
      const listed = index.objects.get(o.key);
      if (!listed) {
        problems.push({ kind: 'unlisted', key: o.key, detail: 'appeared without a manifest entry' });
        continue;
      }
      const found = await hashObject(storage, o.key);
      if (!found) {
        present.delete(o.key); // deleted between the listing and the read: judged as absent below
        continue;
      }
      objectsChecked++;
      bytesChecked += found.size;
      options.onObject?.(o.key, found.size);
      if (listed.superseded) supersededPresent++;
      const { entry } = listed;
      if (found.size !== entry.size || found.sha256 !== entry.sha256) {
        problems.push({
          kind: 'changed',
          key: o.key,
          detail:
            `${manifestKey(listed.seq)} records ${entry.size} bytes, SHA-256 ${entry.sha256.slice(0, 16)}…; ` +
            `stored: ${found.size} bytes, SHA-256 ${found.sha256.slice(0, 16)}…`,
        });
      }
    }
  }
  for (const [key, listed] of index.objects) {
    if (listed.superseded || present.has(key) || !inRange(key)) continue;
    problems.push({ kind: 'vanished', key, detail: `listed in ${manifestKey(listed.seq)}, not in storage` });
  }
  const order: Record<ProblemKind, number> = { chain: 0, changed: 1, vanished: 2, unlisted: 3 };
  problems.sort((a, b) => order[a.kind] - order[b.kind] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    manifestsChecked,
    objectsChecked,
    bytesChecked,
    supersededPresent,
    problems,
    tookMs: Date.now() - started,
  };
}

/** Reads every manifest in order into the index, and records each broken link. Returns how many were read. */
async function checkChain(storage: Storage, index: ManifestIndex, problems: Problem[]): Promise<number> {
  const seqs: number[] = [];
  for await (const o of storage.list(MANIFEST_PREFIX)) {
    const seq = manifestSeqOfKey(o.key);
    if (seq !== null) seqs.push(seq);
    else if (o.key !== MANIFEST_HEAD_KEY)
      problems.push({ kind: 'chain', key: o.key, detail: 'not a manifest: appeared under manifests/' });
  }
  seqs.sort((a, b) => a - b);
  let expected = 1;
  let previous: string | null = null;
  let read = 0;
  for (const seq of seqs) {
    const key = manifestKey(seq);
    if (seq !== expected) {
      problems.push({
        kind: 'chain',
        key:
          expected === seq - 1 ? manifestKey(expected) : `${manifestKey(expected)} … ${manifestKey(seq - 1)}`,
        detail: 'vanished: the chain is broken here',
      });
      previous = null; // the link across the gap cannot be checked; the next one can
    }
    expected = seq + 1;
    const body = await storage.get(key);
    if (!body) {
      problems.push({ kind: 'chain', key, detail: 'vanished while being read' });
      previous = null;
      continue;
    }
    read++;
    const sha256 = createHash('sha256').update(body).digest('hex');
    let manifest;
    try {
      manifest = parseManifest(body);
    } catch (err) {
      problems.push({ kind: 'chain', key, detail: `not a valid manifest (${(err as Error).message})` });
      previous = sha256;
      continue;
    }
    if (manifest.seq !== seq) {
      problems.push({ kind: 'chain', key, detail: `says it is manifest ${manifest.seq}` });
    }
    const link = seq === 1 ? null : previous;
    if ((seq === 1 && manifest.previous !== null) || (link !== null && manifest.previous !== link)) {
      problems.push({
        kind: 'chain',
        key,
        detail: `chain broken: it records SHA-256 ${String(manifest.previous).slice(0, 16)}… for ${manifestKey(seq - 1)}, which hashes to ${String(link).slice(0, 16)}… (one of the two was edited or replaced)`,
      });
    }
    index.add(manifest);
    previous = sha256;
  }
  // The newest manifest has no successor to vouch for it: HEAD.json does.
  const headBody = await storage.get(MANIFEST_HEAD_KEY);
  const last = seqs[seqs.length - 1];
  if (headBody) {
    let head: ManifestHead | null = null;
    try {
      head = ManifestHead.parse(JSON.parse(Buffer.from(headBody).toString('utf8')));
    } catch {
      problems.push({ kind: 'chain', key: MANIFEST_HEAD_KEY, detail: 'not a valid HEAD pointer' });
    }
    if (head && last !== undefined) {
      if (head.seq > last) {
        problems.push({
          kind: 'chain',
          key:
            head.seq === last + 1
              ? manifestKey(head.seq)
              : `${manifestKey(last + 1)} … ${manifestKey(head.seq)}`,
          detail: `vanished: ${MANIFEST_HEAD_KEY} names manifest ${head.seq} as the newest`,
        });
      } else if (head.seq === last && head.sha256 !== previous) {
        problems.push({
          kind: 'chain',
          key: manifestKey(last),
          detail: `chain broken: ${MANIFEST_HEAD_KEY} records SHA-256 ${head.sha256.slice(0, 16)}… for it, it hashes to ${String(previous).slice(0, 16)}…`,
        });
      }
      // head.seq < last: a run stopped between a manifest and its HEAD update; the chain vouches.
    }
  } else if (last !== undefined) {
    problems.push({
      kind: 'chain',
      key: MANIFEST_HEAD_KEY,
      detail: 'vanished: the newest manifest cannot be vouched for',
    });
  }
  return read;
}
