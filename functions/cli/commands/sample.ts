import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import { DAY_MS, HOUR_MS, floorHour } from '../../../shared/event/partition.js';
import {
  ATTACK_SCENARIOS,
  attackHits,
  distribute,
  generateHour,
  type AttackScenario,
} from '../../sample/generator.js';
import { UsageError, parseInstant } from '../options.js';

export async function sampleCommand(flags: {
  events: string;
  out: string;
  from?: string;
  to?: string;
  days: string;
  seed?: string;
  index: string;
  attacks?: string;
}): Promise<void> {
  const total = Number(flags.events);
  if (!Number.isInteger(total) || total < 0)
    throw new UsageError(`--events ${flags.events}: a whole number, please`);
  const to = parseInstant('--to', flags.to) ?? floorHour(Date.now());
  const days = Number(flags.days);
  if (!(days > 0)) throw new UsageError(`--days ${flags.days}: a number of days above 0, please`);
  const from = parseInstant('--from', flags.from) ?? to - days * DAY_MS;
  if (!(from < to)) throw new UsageError('--from must be before --to');
  const attacks = parseAttacks(flags.attacks);
  // Each scenario at its own office hour in the last third of the span (admin-login-new-ip needs
  // a week of the admin's history before it).
  const hours = Math.floor((to - from) / HOUR_MS);
  const planted = new Map<number, AttackScenario[]>();
  attacks.forEach((scenario, i) => {
    let hour = floorHour(from + Math.floor(hours * (2 / 3 + (i / attacks.length) * 0.3)) * HOUR_MS);
    while (new Date(hour).getUTCHours() < 9 || new Date(hour).getUTCHours() > 16) hour -= HOUR_MS;
    planted.set(hour, [...(planted.get(hour) ?? []), scenario]);
  });
  const feed = { seed: flags.seed, index: flags.index, bursts: attacks.length === 0 };
  const file = createWriteStream(flags.out);
  const gzip = flags.out.endsWith('.gz') ? createGzip() : null;
  const out = gzip ?? file;
  if (gzip) gzip.pipe(file);
  let written = 0;
  for (const [hour, count] of distribute(total, from, to)) {
    const hits = generateHour(hour, count, feed);
    for (const scenario of planted.get(hour) ?? []) hits.push(...attackHits(scenario, hour, feed));
    if (hits.length === 0) continue;
    const at = (h: (typeof hits)[number]) => String((h._source as Record<string, unknown>)['@timestamp']);
    hits.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : 0));
    const lines = hits.map((h) => JSON.stringify(h));
    if (!out.write(lines.join('\n') + '\n')) await once(out, 'drain');
    written += hits.length;
  }
  out.end();
  await once(file, 'close');
  process.stdout.write(`wrote ${written.toLocaleString('en-US')} events to ${flags.out}\n`);
}

function parseAttacks(text: string | undefined): AttackScenario[] {
  if (text === undefined) return [];
  if (text === 'all') return [...ATTACK_SCENARIOS];
  const names = text.split(',').map((n) => n.trim());
  for (const n of names)
    if (!(ATTACK_SCENARIOS as readonly string[]).includes(n))
      throw new UsageError(
        `--attacks ${n}: use all, or a comma-separated list of ${ATTACK_SCENARIOS.join(', ')}`,
      );
  return names as AttackScenario[];
}
