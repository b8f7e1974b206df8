import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { DAY_MS, floorHour } from '../../../shared/event/partition.js';
import { distribute, generateHour } from '../../sample/generator.js';
import { UsageError, parseInstant } from '../options.js';

export async function sampleCommand(flags: {
  events: string;
  out: string;
  from?: string;
  to?: string;
  days: string;
  seed?: string;
  index: string;
}): Promise<void> {
  const total = Number(flags.events);
  if (!Number.isInteger(total) || total < 0)
    throw new UsageError(`--events ${flags.events}: a whole number, please`);
  const to = parseInstant('--to', flags.to) ?? floorHour(Date.now());
  const days = Number(flags.days);
  if (!(days > 0)) throw new UsageError(`--days ${flags.days}: a number of days above 0, please`);
  const from = parseInstant('--from', flags.from) ?? to - days * DAY_MS;
  if (!(from < to)) throw new UsageError('--from must be before --to');
  const file = createWriteStream(flags.out);
  const gzip = flags.out.endsWith('.gz') ? createGzip() : null;
  const out = gzip ?? file;
  if (gzip) gzip.pipe(file);
  let written = 0;
  for (const [hour, count] of distribute(total, from, to)) {
    if (count === 0) continue;
    const lines = generateHour(hour, count, { seed: flags.seed, index: flags.index }).map((h) =>
      JSON.stringify(h),
    );
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
    written += count;
  }
  out.end();
  await once(file, 'close');
  process.stdout.write(`wrote ${written.toLocaleString('en-US')} events to ${flags.out}\n`);
}
