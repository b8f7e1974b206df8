import { HOUR_MS, floorHour } from '../../../shared/event/partition.js';
import { defaultHourlyCount, generateHour, type SampleFeedOptions } from '../../sample/generator.js';
import type { HitSource, SourceCounts, SourceHit, TimeRange } from '../source.js';

/** The embedded default: a generated feed that behaves like a live index, hour by hour. */
export class SampleSource implements HitSource {
  readonly id = 'sample';
  readonly description = 'generated sample feed';
  readonly ordered = true;

  constructor(
    private readonly options: SampleFeedOptions & {
      perHour?: (hourStart: number) => number;
      /** Events after this instant are not there yet, as in a live index (default: the clock). */
      now?: () => number;
    } = {},
  ) {}

  private count(hour: number): number {
    return this.options.perHour ? this.options.perHour(hour) : defaultHourlyCount(hour, this.options.seed);
  }

  async *pages(range: TimeRange): AsyncIterable<SourceHit[]> {
    const to = Math.min(range.to, (this.options.now ?? Date.now)());
    for (let hour = floorHour(range.from); hour < to; hour += HOUR_MS) {
      const hits = generateHour(hour, this.count(hour), this.options);
      const page: SourceHit[] = [];
      for (const hit of hits) {
        const ts = Date.parse(
          String((hit._source as Record<string, unknown>)['@timestamp']).replace('+0000', 'Z'),
        );
        if (ts >= range.from && ts < to) page.push({ hit, slotTs: ts });
      }
      if (page.length) yield page;
    }
  }

  async countPerHour(range: TimeRange): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const page of this.pages(range)) {
      for (const { slotTs } of page) {
        const h = floorHour(slotTs as number);
        counts.set(h, (counts.get(h) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** Exact (the feed is generated again to count it); the sample has no document without a time. */
  async counts(range: TimeRange): Promise<SourceCounts> {
    return { perHour: await this.countPerHour(range), untimed: 0 };
  }

  async close(): Promise<void> {}
}
