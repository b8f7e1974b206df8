import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { floorHour } from '../../../shared/event/partition.js';
import type { RawHit } from '../../../shared/normalise/normalise.js';
import { parseTimestamp } from '../../../shared/normalise/timestamp.js';
import type { HitSource, SourceHit, TimeRange } from '../source.js';
import { readLines } from './ndjson-lines.js';

const PAGE = 5_000;
const SPILL_BUFFER_BYTES = 16 << 20;

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

  constructor(private readonly file: string) {
    const base = path.basename(file).replace(/[^A-Za-z0-9._-]/g, '_');
    const digest = createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 8);
    this.id = `file-${base}-${digest}`;
    this.description = `export file ${file}`;
  }

  private prepare(): Promise<Spill> {
    this.spill ??= spillByHour(this.file);
    return this.spill;
  }

  async extent(): Promise<TimeRange | null> {
    const spill = await this.prepare();
    return spill.min === null || spill.max === null ? null : { from: spill.min, to: spill.max + 1 };
  }

  async *pages(range: TimeRange): AsyncIterable<SourceHit[]> {
    const spill = await this.prepare();
    // Records without a usable time are not in any slot: they go to quarantine on every run.
    if (spill.unslotted.length) yield spill.unslotted;
    const hours = [...spill.hours.keys()]
      .filter((h) => h + 3_600_000 > range.from && h < range.to)
      .sort((a, b) => a - b);
    for (const hour of hours) {
      let page: SourceHit[] = [];
      for await (const { line } of readLines(spill.hours.get(hour) as string)) {
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
    const counts = new Map<number, number>();
    for await (const page of this.pages(range)) {
      for (const { slotTs } of page) {
        if (slotTs === null) continue;
        const h = floorHour(slotTs);
        counts.set(h, (counts.get(h) ?? 0) + 1);
      }
    }
    return counts;
  }

  async close(): Promise<void> {
    if (!this.spill) return;
    const spill = await this.spill.catch(() => null);
    if (spill) await fs.rm(spill.dir, { recursive: true, force: true });
    this.spill = null;
  }
}

interface Spill {
  dir: string;
  hours: Map<number, string>;
  unslotted: SourceHit[];
  min: number | null;
  max: number | null;
}

async function spillByHour(file: string): Promise<Spill> {
  await fs.access(file).catch(() => {
    throw new Error(`export file ${file} cannot be read`);
  });
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'closer-audit-spill-'));
  const spill: Spill = { dir, hours: new Map(), unslotted: [], min: null, max: null };
  const buffers = new Map<number, string[]>();
  let buffered = 0;
  const flush = async () => {
    for (const [hour, lines] of buffers) await fs.appendFile(spill.hours.get(hour) as string, lines.join(''));
    buffers.clear();
    buffered = 0;
  };
  const add = async (hit: RawHit, lineNo: number) => {
    const source = hit._source as Record<string, unknown> | undefined;
    const sortTs = Array.isArray(hit.sort) && typeof hit.sort[0] === 'number' ? hit.sort[0] : null;
    const ts = parseTimestamp(source?.['@timestamp']) ?? sortTs;
    if (ts === null) {
      spill.unslotted.push({ hit, slotTs: null, rejected: `line ${lineNo}: no readable @timestamp` });
      return;
    }
    const hour = floorHour(ts);
    if (!spill.hours.has(hour)) spill.hours.set(hour, path.join(dir, `${hour}.ndjson`));
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
        for (const h of hits) await add(h as RawHit, n);
      } else if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        await add(parsed as RawHit, n);
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
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
}
