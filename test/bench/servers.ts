// npm run bench:servers [-- --events N --days D --servers es-6.8.23,opensearch-2.19.6 --runs R]
//
// The reader's fetch-only rate on every server of the version matrix, in one run: each node is
// started in turn (test/elasticsearch/es-node.sh), loaded with the same generated feed (typed on
// 6.x, as Closer's 6.x cluster has it), read `--runs` times by the product's ElasticsearchSource
// with the strategy it picks for that server (pages discarded; the first read also warms the
// caches and is not counted), then stopped. A script that prints figures, not a test.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { distribute, generateHour } from '../../functions/sample/generator.js';
import { createEsClient } from '../../functions/sources/elasticsearch/config.js';
import { ElasticsearchSource } from '../../functions/sources/elasticsearch/es-source.js';
import { detectServer, wireFor } from '../../functions/sources/elasticsearch/server.js';
import { table } from './print.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ES_NODE = path.join(ROOT, 'test/elasticsearch/es-node.sh');
const DAY = 86_400_000;

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    days: { type: 'string', default: '10' },
    servers: { type: 'string' },
    runs: { type: 'string', default: '2' },
    heap: { type: 'string', default: '1g' },
  },
});
const events = Number(flags.events);
const days = Number(flags.days);
const runs = Number(flags.runs);
if (!(events > 0) || !(days > 0) || !(runs > 0))
  throw new Error('--events, --days and --runs: numbers above 0');

const log = (m: string) => process.stderr.write(`[bench:servers] ${m}\n`);
const node = (command: string, server: string) =>
  execFileSync('bash', [ES_NODE, command, server], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ES_HEAP: flags.heap },
  });

const servers = flags.servers
  ? flags.servers.split(',').map((s) => s.trim())
  : node('list', '').trim().split(/\s+/).filter(Boolean);
const to = Math.floor(Date.UTC(2026, 10, 1) / DAY) * DAY;
const from = to - days * DAY;
const rows: string[][] = [['server', 'read strategy', 'events', 'best read', 'events/s', 'pages']];

for (const server of servers) {
  log(`${server}: starting`);
  const url = node('start', server).trim().split('\n').pop() ?? '';
  try {
    const probe = createEsClient({ url, index: 'x' }, wireFor(null));
    const found = await detectServer(probe, url, 'none');
    await probe.close();
    const client = createEsClient({ url, index: 'x' }, wireFor(found));
    const typed = found.product === 'Elasticsearch' && found.major < 7;
    const index = `closer-bench-${Date.now()}`;
    const properties = { '@timestamp': { type: 'date' } };
    await client.indices.create({
      index,
      settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '-1' },
      mappings: (typed ? { entry: { dynamic: false, properties } } : { dynamic: false, properties }) as never,
    });
    log(`${server}: loading ${events.toLocaleString('en-US')} events`);
    let batch: unknown[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const res = await client.bulk({ operations: batch });
      if (res.errors)
        throw new Error(`bulk load failed: ${JSON.stringify(res.items.find((x) => x.index?.error))}`);
      batch = [];
    };
    for (const [hour, count] of distribute(events, from, to)) {
      for (const hit of generateHour(hour, count)) {
        batch.push(
          { index: { _index: index, _id: hit._id as string, ...(typed ? { _type: 'entry' } : {}) } },
          hit._source,
        );
        if (batch.length >= 10_000) await flush();
      }
    }
    await flush();
    await client.indices.refresh({ index });
    await client.close();

    let best = Infinity;
    let read = 0;
    let pages = 0;
    let strategy = '';
    for (let run = 0; run <= runs; run++) {
      const source = new ElasticsearchSource({ url, index });
      await source.open();
      strategy = source.description.replace(/^.*?, /, '');
      const t0 = performance.now();
      let n = 0;
      let p = 0;
      for await (const page of source.pages({ from, to })) {
        n += page.length;
        p++;
      }
      const ms = performance.now() - t0;
      await source.close();
      log(
        `${server}: read ${run === 0 ? '(warm-up) ' : ''}${n.toLocaleString('en-US')} events in ${Math.round(ms)} ms`,
      );
      if (run > 0 && ms < best) best = ms;
      read = n;
      pages = p;
    }
    rows.push([
      `${found.product} ${found.version}`,
      strategy,
      read.toLocaleString('en-US'),
      `${(best / 1000).toFixed(2)} s`,
      Math.round((read * 1000) / best).toLocaleString('en-US'),
      String(pages),
    ]);
  } finally {
    node('stop', server);
  }
}

process.stdout.write(
  `\nfetch-only, ${events.toLocaleString('en-US')} events over ${days} days, best of ${runs} after a warm-up\n`,
);
process.stdout.write(`${table(rows, [2, 3, 4, 5])}\n`);
