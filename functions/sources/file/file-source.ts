import { createCipheriv, createDecipheriv, createHash, randomBytes, type Cipher } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import { createInterface } from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import { floorHour } from '../../../shared/event/partition.js';
import type { RawHit } from '../../../shared/normalise/normalise.js';
import { parseTimestamp } from '../../../shared/normalise/timestamp.js';
import type { HitSource, SourceCounts, SourceHit, TimeRange } from '../source.js';
import { currentOwner, ownerIsGone } from '../../storage/owner.js';
import { readLines } from './ndjson-lines.js';

const PAGE = 5_000;
const SPILL_BUFFER_BYTES = 16 << 20;
const SPILL_PREFIX = 'closer-audit-spill-';
/** Deeper than Elasticsearch itself accepts (its JSON parser stops at 1,000 levels). */
const MAX_NESTING = 1_000;
/** Spills of another machine sharing the temporary folder, or of an older version: removed after a day. */
const FOREIGN_SPILL_MAX_AGE_MS = 24 * 3_600_000;

/**
 * Elasticsearch hits from an export: one hit per line (elasticdump, `jq -c '.hits.hits[]'`) or
 * whole `_search` responses per line, optionally gzip'd. Exports are not in time order, so the
 * file is first spilled to one temporary file per hour slot; memory stays bounded by the spill
 * buffer, not by the size of the export.
 */
export class FileSource implements HitSource {
  readonly id: string;
  readonly description: string;
  readonly ordered = false;
  private spill: Promise<Spill> | null = null;
  private unslottedDelivered = false;

  constructor(
    private readonly file: string,
    /** Where the spill folder goes (default: the system's temporary folder). */
    private readonly tmpDir: string = os.tmpdir(),
  ) {
    const base = path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
    const digest = createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 8);
    this.id = `file-${base}-${digest}`;
    this.description = `export file ${file}`;
  }

  private prepare(): Promise<Spill> {
    this.spill ??= spillByHour(this.file, this.tmpDir);
    return this.spill;
  }

  async extent(): Promise<TimeRange | null> {
    const spill = await this.prepare();
    return spill.min === null || spill.max === null ? null : { from: spill.min, to: spill.max + 1 };
  }

  async *pages(range: TimeRange): AsyncIterable<SourceHit[]> {
    const spill = await this.prepare();
    // Records without a usable time are not in any slot: they go to quarantine once per run (the
    // sync reads a run's range in several calls). A copy: the sync lets go of entries as it reads.
    if (!this.unslottedDelivered && spill.unslotted.length) {
      this.unslottedDelivered = true;
      yield [...spill.unslotted];
    }
    const hours = [...spill.hours.keys()]
      .filter((h) => h + 3_600_000 > range.from && h < range.to)
      .sort((a, b) => a - b);
    for (const hour of hours) {
      let page: SourceHit[] = [];
      for await (const line of readSpill(spill, hour)) {
        const { hit, slotTs } = JSON.parse(line) as { hit: RawHit; slotTs: number };
        if (slotTs < range.from || slotTs >= range.to) continue;
        page.push({ hit, slotTs });
        if (page.length >= PAGE) {
          yield page;
          page = [];
        }
      }
      if (page.length) yield page;
    }
  }

  async countPerHour(range: TimeRange): Promise<Map<number, number>> {
    return (await this.counts(range)).perHour;
  }

  /** Exact: whole hours from the spill's tallies, an hour the range cuts by reading it. */
  async counts(range: TimeRange): Promise<SourceCounts> {
    const spill = await this.prepare();
    const perHour = new Map<number, number>();
    for (const [hour, n] of spill.counts) {
      if (hour + 3_600_000 <= range.from || hour >= range.to) continue;
      if (hour >= range.from && hour + 3_600_000 <= range.to) {
        perHour.set(hour, n);
        continue;
      }
      // Read directly, not through pages(): that would hand the unslotted records over here.
      let inRange = 0;
      for await (const line of readSpill(spill, hour)) {
        const { slotTs } = JSON.parse(line) as { slotTs: number };
        if (slotTs >= range.from && slotTs < range.to) inRange++;
      }
      if (inRange > 0) perHour.set(hour, inRange);
    }
    return { perHour, untimed: spill.unslotted.length };
  }

  async close(): Promise<void> {
    if (!this.spill) return;
    const spill = await this.spill.catch(() => null);
    if (spill) await removeSpill(spill.dir);
    this.spill = null;
    this.unslottedDelivered = false;
  }
}

/**
 * Spills hold raw, unredacted hits, so nothing readable may outlive the process: each hour file is
 * encrypted (AES-256-CTR) with a key that exists only in this process's memory, the folder is
 * private (0700), removed on close and on exit, and a later run removes what a killed run left.
 */
interface Spill {
  dir: string;
  key: Buffer;
  ivs: Map<number, Buffer>;
  hours: Map<number, string>;
  /** Records spilled per hour. */
  counts: Map<number, number>;
  unslotted: SourceHit[];
  min: number | null;
  max: number | null;
}

async function spillByHour(file: string, tmp: string): Promise<Spill> {
  await fs.access(file).catch(() => {
    throw new Error(`export file ${file} cannot be read`);
  });
  await sweepDeadSpills(tmp);
  const dir = await fs.mkdtemp(path.join(tmp, SPILL_PREFIX));
  await fs.chmod(dir, 0o700);
  await fs.writeFile(path.join(dir, 'owner.json'), JSON.stringify(currentOwner()), { mode: 0o600 });
  liveSpills.add(dir);
  const spill: Spill = {
    dir,
    key: randomBytes(32),
    ivs: new Map(),
    hours: new Map(),
    counts: new Map(),
    unslotted: [],
    min: null,
    max: null,
  };
  const ciphers = new Map<number, Cipher>();
  const buffers = new Map<number, string[]>();
  let buffered = 0;
  const flush = async () => {
    for (const [hour, lines] of buffers) {
      let cipher = ciphers.get(hour);
      if (!cipher) {
        const iv = randomBytes(16);
        spill.ivs.set(hour, iv);
        ciphers.set(hour, (cipher = createCipheriv('aes-256-ctr', spill.key, iv)));
      }
      await fs.appendFile(spill.hours.get(hour) as string, cipher.update(lines.join(''), 'utf8'), {
        mode: 0o600,
      });
    }
    buffers.clear();
    buffered = 0;
  };
  const add = async (hit: RawHit, lineNo: number, input: string) => {
    if (nestedDeeperThan(hit, MAX_NESTING)) {
      spill.unslotted.push({
        hit: { _raw: input.slice(0, 2000) },
        slotTs: null,
        rejected: `line ${lineNo}: nested deeper than ${MAX_NESTING.toLocaleString('en-US')} levels`,
      });
      return;
    }
    const source = hit._source as Record<string, unknown> | undefined;
    const sortTs = Array.isArray(hit.sort) && typeof hit.sort[0] === 'number' ? hit.sort[0] : null;
    const ts = parseTimestamp(source?.['@timestamp']) ?? sortTs;
    if (ts === null) {
      spill.unslotted.push({ hit, slotTs: null, rejected: `line ${lineNo}: no readable @timestamp` });
      return;
    }
    const hour = floorHour(ts);
    if (!spill.hours.has(hour)) spill.hours.set(hour, path.join(dir, `${hour}.ndjson`));
    spill.counts.set(hour, (spill.counts.get(hour) ?? 0) + 1);
    const line = JSON.stringify({ hit, slotTs: ts }) + '\n';
    let list = buffers.get(hour);
    if (!list) buffers.set(hour, (list = []));
    list.push(line);
    buffered += line.length;
    spill.min = spill.min === null ? ts : Math.min(spill.min, ts);
    spill.max = spill.max === null ? ts : Math.max(spill.max, ts);
    if (buffered > SPILL_BUFFER_BYTES) await flush();
  };
  try {
    for await (const { line, n } of readLines(file)) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        spill.unslotted.push({
          hit: { _raw: line.slice(0, 2000) },
          slotTs: null,
          rejected: `line ${n}: not JSON`,
        });
        continue;
      }
      const hits = (parsed as { hits?: { hits?: unknown } })?.hits?.hits;
      if (Array.isArray(hits)) {
        for (const h of hits) await add(h as RawHit, n, line);
      } else if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        await add(parsed as RawHit, n, line);
      } else {
        spill.unslotted.push({
          hit: { _raw: line.slice(0, 2000) },
          slotTs: null,
          rejected: `line ${n}: not a hit object`,
        });
      }
    }
    await flush();
    return spill;
  } catch (err) {
    await removeSpill(dir);
    throw err;
  }
}

async function* readSpill(spill: Spill, hour: number): AsyncIterable<string> {
  const decipher = createDecipheriv('aes-256-ctr', spill.key, spill.ivs.get(hour) as Buffer);
  const input = createReadStream(spill.hours.get(hour) as string).pipe(decipher);
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line) yield line;
}

/** Without recursion: a record nested thousands of levels deep would overflow the stack. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v as object))
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

const liveSpills = new Set<string>();
let exitHook = false;

async function removeSpill(dir: string): Promise<void> {
  liveSpills.delete(dir);
  await fs.rm(dir, { recursive: true, force: true });
}

/** Spill folders whose process is gone (killed runs) are removed; live ones are left alone. */
async function sweepDeadSpills(tmp: string): Promise<void> {
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const dir of liveSpills) rmSync(dir, { recursive: true, force: true });
    });
  }
  const names = await fs.readdir(tmp).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(SPILL_PREFIX)) continue;
    const dir = path.join(tmp, name);
    const owner = await fs
      .readFile(path.join(dir, 'owner.json'), 'utf8')
      .then((t) => JSON.parse(t) as Record<string, unknown>)
      .catch(() => null);
    let dead = owner !== null && ownerIsGone(owner);
    if (!dead && (owner === null || owner.host !== os.hostname())) {
      const st = await fs.stat(dir).catch(() => null);
      dead = st !== null && Date.now() - st.mtimeMs > FOREIGN_SPILL_MAX_AGE_MS;
    }
    if (dead) await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }
}
