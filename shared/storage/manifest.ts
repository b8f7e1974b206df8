import { z } from 'zod';

/**
 * The manifest format (README, "Manifests"): every object the ingest commits under `events/`,
 * `events-ndjson/` or `quarantine/` is recorded with its size and SHA-256, in numbered manifests
 * chained by hash: manifest N carries the SHA-256 of manifest N-1's exact bytes, so rewriting
 * history means rewriting every later manifest. The keys are in shared/layout/layout.ts.
 */
export const MANIFEST_FORMAT = 'closer-audit-manifest/1';

export const ManifestEntry = z.object({
  key: z.string(),
  size: z.number(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Rows (events objects) or records (quarantine objects); null when not known (adopted objects). */
  rows: z.number().nullable(),
  /** The earliest and latest `ts` of the rows, ISO-8601; null for quarantine or when not known. */
  minTs: z.string().nullable(),
  maxTs: z.string().nullable(),
  /** The source's count for the hour(s) the object holds when they were read, when the sync knew it. */
  sourceCount: z.number().nullable(),
  /** Quarantined records of the hour(s) the object holds (events objects); null when not known. */
  quarantined: z.number().nullable(),
  /** Objects this one replaces (a day object's hour objects): deleted next, and not "vanished". */
  supersedes: z.array(z.string()).optional(),
  /** Found in storage when the first manifest was written (data stored before manifests existed). */
  adopted: z.boolean().optional(),
  /**
   * Found by the run after a crash, in a day the crashed run had declared it was writing: committed
   * by it, its manifest never written. Recorded as found.
   */
  recovered: z.boolean().optional(),
});
export type ManifestEntry = z.infer<typeof ManifestEntry>;

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  seq: z.number().int().positive(),
  /** SHA-256 (hex) of the previous manifest's bytes; null for the first. */
  previous: z.string().nullable(),
  writtenAt: z.string(),
  /** What wrote it: `sync`, `backfill`. */
  run: z.string(),
  entries: z.array(ManifestEntry),
});
export type Manifest = z.infer<typeof Manifest>;

/** The pointer at the newest manifest (`manifests/HEAD.json`). */
export const ManifestHead = z.object({ seq: z.number().int().positive(), sha256: z.string() });
export type ManifestHead = z.infer<typeof ManifestHead>;

export interface ListedObject {
  entry: ManifestEntry;
  /** The manifest that recorded it last. */
  seq: number;
  /** A later day object replaced it (and it is deleted, or about to be). */
  superseded: boolean;
}

/** What the manifests say the store holds: for each key, its latest entry, in manifest order. */
export class ManifestIndex {
  readonly objects = new Map<string, ListedObject>();

  add(manifest: Manifest): void {
    for (const entry of manifest.entries) {
      for (const old of entry.supersedes ?? []) {
        const listed = this.objects.get(old);
        if (listed) listed.superseded = true;
      }
      this.objects.set(entry.key, { entry, seq: manifest.seq, superseded: false });
    }
  }

  /** The keys that are the store's content now (recorded and not superseded), in key order. */
  live(prefix = ''): string[] {
    const keys: string[] = [];
    for (const [key, o] of this.objects) if (!o.superseded && key.startsWith(prefix)) keys.push(key);
    return keys.sort();
  }
}

/** Parses manifest bytes; throws with the reason when they are not a manifest of this format. */
export function parseManifest(body: Uint8Array): Manifest {
  const parsed = Manifest.safeParse(JSON.parse(Buffer.from(body).toString('utf8')));
  if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'not a manifest');
  return parsed.data;
}
