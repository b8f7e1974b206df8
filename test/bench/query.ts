// npm run bench:query [-- --events N --days D --runs R --dir DIR --fresh --max-data-points N]
//
// Generates a sample feed of `--events` events over `--days` days into a local folder with the
// product's ingest pipeline (runSync + SampleSource, every day sealed, so one day object each), then
// times each panel query of the dashboards a Grafana user would have (Overview, Authentication,
// Configuration changes, Agent lifecycle, and one raw SQL query) over the last 24 h, 7 d and 30 d of
// the data through the product's QueryService on DuckDB: p50 / p95 / max latency, rows returned and
// Parquet files read per query. Prints the figures and the targets they are held against.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runSync } from '../../functions/ingest/sync.js';
import type { QueryEngine } from '../../functions/query/engine.js';
import { DuckDbEngine } from '../../functions/query/engines/duckdb.js';
import { TrinoEngine } from '../../functions/query/engines/trino.js';
import { QueryService } from '../../functions/query/service.js';
import { distribute } from '../../functions/sample/generator.js';
import { SampleSource } from '../../functions/sources/sample/sample-source.js';
import type { Frame, RefIdResult } from '../../shared/api/contract.js';
import { DAY_MS, HOUR_MS, floorDay } from '../../shared/event/partition.js';
import { daysOf } from '../../shared/query/compile.js';
import type { Query, TimeRange } from '../../shared/query/model.js';
import { STATUS_QUERY_TYPE } from '../../shared/status/query.js';
import { DEFAULT_DETECTIONS_TABLE, DETECTIONS_TABLE } from '../../shared/schema/athena.js';
import { trinoDdl } from '../../shared/schema/trino.js';
import { ingestContext } from '../support/ingest.js';
import { ensureEsIndex, ensureEsNode, esIndexFigures, esIndexName, esVersion } from './es-side.js';
import { reportSideBySide, runSideBySide, startApi, windowRange, type ApiServer } from './side-by-side.js';
import { secs, table } from './print.js';

const THIS_FILE = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(THIS_FILE), '../..');
const MARKER = 'bench-query.json';
/** The target: every panel's p95 over the last 30 days under this. */
const TARGET_P95_MS = 500;
/** What `closer-audit serve` gives each query before it stops it. */
const SERVE_TIMEOUT_MS = 30_000;

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

// ------------------------------------------------------------------------------------------ flags

const { values: flags } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '90' },
    runs: { type: 'string', default: '20' },
    dir: { type: 'string' },
    fresh: { type: 'boolean', default: false },
    'max-data-points': { type: 'string', default: '1000' },
    'generate-only': { type: 'boolean', default: false },
    dashboards: { type: 'string', default: 'plugin/dashboards' },
    'script-panels': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'duckdb' },
    'trino-url': { type: 'string' },
    'trino-table': { type: 'string' },
    es: { type: 'string', default: 'on' },
    ranges: { type: 'string', default: 'moving' },
    'api-root': { type: 'string' },
    'times-json': { type: 'string' },
    'es-heap': { type: 'string' },
    'es-home': { type: 'string' },
  },
});

if (flags.help) {
  process.stdout.write(`npm run bench:query -- [options]
  --events N             events generated over the range (default 10000000)
  --days D               length of the range in days, ending at today's UTC midnight (default 90)
  --runs R               timed runs per query and window, after one warm-up run (default 20)
  --dir DIR              the data folder (default $TMPDIR/closer-audit-bench-query-<events>-<days>);
                         kept between runs and reused when its marker (${MARKER}) says it is complete
  --fresh                delete the folder and generate it again
  --max-data-points N    Grafana's maxDataPoints for every request (default 1000)
  --dashboards DIR       the Grafana dashboards whose panels are timed (*.json; default the
                         bundled plugin/dashboards), template variables at All
  --script-panels        time this script's own list of panel queries instead
  --generate-only        generate (or reuse) the folder, print its figures and stop
  --engine E             duckdb (default), trino, or both (DuckDB, then Trino, same files)
  --es on|off            on (default): Elasticsearch beside the query API, each panel question asked
                         of both, interleaved, the API over HTTP in its own process as \`serve\`
                         runs it; then whole dashboards (one POST each). off: the engine(s) in-process
  --ranges moving|aligned
                         moving (default): each run asks "last 24 h / 7 d / 30 d" as Grafana does
                         from a dashboard refreshed every 15 s (now-relative to the millisecond,
                         now 2 h 13 min before the data's end); aligned: every run ends at the
                         data's end, a UTC midnight
  --api-root DIR         the source tree whose query API is timed beside Elasticsearch (default
                         this one): an older checkout gives the "before" figures on the same data
  --times-json FILE      also write every timed run of both sides, in order, to FILE (JSON)
  --es-home DIR          path.home of the node the bench starts, kept so its index is reused
                         (default $TMPDIR/closer-audit-bench-query-es-home)
  --es-heap SIZE         heap of the node the bench starts (ES_HEAP, default 1g)
  --trino-url URL        a running Trino to time, with --trino-table CATALOG.SCHEMA.TABLE over
                         the same files; without it the bench starts test/trino's server over
                         the folder's parent (TRINO_HEAP, default 2g here) and stops it after
`);
  process.exit(0);
}

function count(name: string, value: string | undefined, min = 0): number {
  const v = Number(value?.replace(/_/g, ''));
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} ${value}: a whole number ≥ ${min}, please`);
  return v;
}

const EVENTS = count('events', flags.events, 1);
const DAYS = count('days', flags.days, 1);
const RUNS = count('runs', flags.runs, 1);
const MAX_DATA_POINTS = count('max-data-points', flags['max-data-points'], 1);
if (flags.ranges !== 'moving' && flags.ranges !== 'aligned')
  throw new Error(`--ranges ${flags.ranges}: moving or aligned`);
const MOVING = flags.ranges === 'moving';
const RANGES_TEXT = MOVING
  ? 'ranges now-relative, now 2 h 13 min before the data end and 15 s earlier at each run'
  : "ranges ending at the data's end at every run";
const ENGINES =
  flags.engine === 'both'
    ? ['duckdb', 'trino']
    : flags.engine === 'duckdb' || flags.engine === 'trino'
      ? [flags.engine]
      : [];
if (ENGINES.length === 0) throw new Error(`--engine ${flags.engine}: duckdb, trino or both`);
if ((flags['trino-url'] === undefined) !== (flags['trino-table'] === undefined))
  throw new Error('--trino-url and --trino-table go together');
const DIR = path.resolve(flags.dir ?? path.join(os.tmpdir(), `closer-audit-bench-query-${EVENTS}-${DAYS}`));

// ------------------------------------------------------------------------------- formatting

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const ms1 = (ms: number) => `${ms.toFixed(1)} ms`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

// ------------------------------------------------------------------------------- the data

interface Marker {
  complete: true;
  events: number;
  days: number;
  from: number;
  to: number;
  generation: {
    at: string;
    ms: number;
    eventsRead: number;
    rowsWritten: number;
    quarantined: number;
    daysWritten: number;
    maxRssBytes: number;
  };
}

async function readMarker(dir: string): Promise<Marker | null> {
  try {
    const m = JSON.parse(await fs.readFile(path.join(dir, MARKER), 'utf8')) as Marker;
    return m.complete && m.events === EVENTS && m.days === DAYS ? m : null;
  } catch {
    return null;
  }
}

/**
 * The folder through the product pipeline: runSync over an explicit range with `now` two days
 * after it, so every day is sealed and written straight to its one day object. The events are
 * spread over the hours by the sample feed's own office-hours weighting, exactly `EVENTS` in all.
 */
async function generate(dir: string): Promise<Marker> {
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { recursive: true });
  const to = floorDay(Date.now());
  const from = to - DAYS * DAY_MS;
  const perHour = distribute(EVENTS, from, to);
  const source = new SampleSource({ perHour: (h) => perHour.get(h) ?? 0 });
  log(`generating ${n(EVENTS)} events over ${DAYS} days (${iso(from)} → ${iso(to)}) into ${dir}`);
  const t0 = performance.now();
  let lastLog = t0;
  const summary = await runSync(
    ingestContext(dir, source, {
      now: () => to + 2 * DAY_MS,
      onSlot: (slot, s) => {
        const t = performance.now();
        if ((slot + HOUR_MS) % DAY_MS === 0 && t - lastLog > 15_000) {
          lastLog = t;
          const rate = (s.eventsRead * 1000) / (t - t0);
          log(
            `  through ${iso(slot + HOUR_MS).slice(0, 10)}: ${n(s.eventsRead)} events, ${n(rate)} events/s`,
          );
        }
      },
    }),
    { from, to },
  );
  const ms = performance.now() - t0;
  await source.close();
  if (summary.stoppedEarly) throw new Error('the sync stopped early');
  const marker: Marker = {
    complete: true,
    events: EVENTS,
    days: DAYS,
    from,
    to,
    generation: {
      at: new Date().toISOString(),
      ms,
      eventsRead: summary.eventsRead,
      rowsWritten: summary.rowsWritten,
      quarantined: summary.quarantined,
      daysWritten: summary.daysWritten,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
  await fs.writeFile(path.join(dir, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
  return marker;
}

/** Generates in a child process, so this process's peak RSS is the query side's alone. */
async function generateInChild(dir: string): Promise<Marker> {
  const args = ['--import', 'tsx', THIS_FILE, '--generate-only', '--fresh'];
  args.push('--events', String(EVENTS), '--days', String(DAYS), '--dir', dir);
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise<number | null>((resolve, reject) =>
    child.once('error', reject).once('close', resolve),
  );
  if (code !== 0) throw new Error(`generation exited with ${code}`);
  const marker = await readMarker(dir);
  if (!marker) throw new Error(`generation ended without writing ${path.join(dir, MARKER)}`);
  return marker;
}

interface Stored {
  bytes: number;
  files: number;
  days: number;
  filesPerDay: { min: number; max: number };
}

async function storedFigures(dir: string): Promise<Stored> {
  const events = path.join(dir, 'events');
  const perDay: number[] = [];
  let bytes = 0;
  for (const d of (await fs.readdir(events, { withFileTypes: true })).filter((e) => e.isDirectory())) {
    let files = 0;
    for (const f of await fs.readdir(path.join(events, d.name))) {
      if (!f.endsWith('.parquet')) continue;
      files++;
      bytes += (await fs.stat(path.join(events, d.name, f))).size;
    }
    perDay.push(files);
  }
  return {
    bytes,
    files: perDay.reduce((s, f) => s + f, 0),
    days: perDay.length,
    filesPerDay: { min: Math.min(...perDay), max: Math.max(...perDay) },
  };
}

// ------------------------------------------------------------------------------- the panels

type Panel = { dashboard: string; name: string; query: Query };

const CONFIG_AREAS = [
  'org',
  'widget',
  'bot',
  'ai_suggestions',
  'oauth',
  'forms',
  'proactive_messages',
  'profanities',
  'tag_mapping',
  'topics',
];
const LIFECYCLE_ACTIONS = [
  'agent_invitation',
  'agent_invitation_acceptation',
  'agent_deactivation',
  'agent_restore',
  'agent_role_change',
];
const AUTH_FAILURES = { outcomes: ['failure'], areas: ['auth'] };

/** The panels of the four dashboards (a later issue builds them from these), and one raw SQL query. */
const PANELS: Panel[] = [
  {
    dashboard: 'Overview',
    name: 'Events over time by area',
    query: { type: 'timeseries', splitBy: 'area' },
  },
  {
    dashboard: 'Overview',
    name: 'Success / failure over time',
    query: { type: 'timeseries', splitBy: 'outcome' },
  },
  { dashboard: 'Overview', name: 'Total events', query: { type: 'stat', metric: 'count' } },
  {
    dashboard: 'Overview',
    name: 'Distinct users',
    query: { type: 'stat', metric: 'distinct', field: 'user_id' },
  },
  { dashboard: 'Overview', name: 'Top actions', query: { type: 'topn', field: 'action', limit: 10 } },
  { dashboard: 'Overview', name: 'Top users', query: { type: 'topn', field: 'user_id', limit: 10 } },
  { dashboard: 'Overview', name: 'Top source IPs', query: { type: 'topn', field: 'source_ip', limit: 10 } },
  { dashboard: 'Overview', name: 'Latest events', query: { type: 'events', limit: 100 } },
  {
    dashboard: 'Authentication',
    name: 'Logins and magic-link logins',
    query: {
      type: 'timeseries',
      splitBy: 'action',
      filters: { actions: ['agent_login', 'agent_login_with_magic_link'] },
    },
  },
  {
    dashboard: 'Authentication',
    name: 'Failures by source IP',
    query: { type: 'topn', field: 'source_ip', limit: 20, filters: AUTH_FAILURES },
  },
  {
    dashboard: 'Authentication',
    name: 'Failures by user',
    query: { type: 'topn', field: 'user_id', limit: 20, filters: AUTH_FAILURES },
  },
  {
    dashboard: 'Authentication',
    name: 'Password changes and resets',
    query: {
      type: 'events',
      limit: 200,
      filters: {
        actions: ['agent_password_change', 'agent_password_change_with_token', 'agent_password_reset'],
      },
    },
  },
  {
    dashboard: 'Authentication',
    name: 'Users failing from many IPs (SQL)',
    query: {
      type: 'sql',
      sql: [
        'SELECT user_id, count(*) AS failures, count(DISTINCT source_ip) AS ips',
        'FROM $__table',
        "WHERE $__timeFilter(ts) AND area = 'auth' AND outcome = 'failure' AND user_id IS NOT NULL",
        'GROUP BY user_id',
        'ORDER BY failures DESC, user_id',
        'LIMIT 20',
      ].join('\n'),
    },
  },
  {
    dashboard: 'Configuration changes',
    name: 'Timeline',
    query: { type: 'events', limit: 200, filters: { areas: CONFIG_AREAS } },
  },
  {
    dashboard: 'Configuration changes',
    name: 'Changes by area',
    query: { type: 'timeseries', splitBy: 'area', filters: { areas: CONFIG_AREAS } },
  },
  {
    dashboard: 'Agent lifecycle',
    name: 'Invitations, deactivations, roles',
    query: { type: 'events', limit: 200, filters: { actions: LIFECYCLE_ACTIONS } },
  },
  {
    dashboard: 'Agent lifecycle',
    name: 'Role changes',
    query: { type: 'stat', metric: 'count', filters: { actions: ['agent_role_change'] } },
  },
];

const VAR_REF = /^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$/;

/**
 * What the plugin sends for a dashboard target with every template variable at All: the target
 * without its Grafana keys, each `$name` element of a list filter gone, and a filter left empty
 * dropped (as test/unit/dashboards.test.ts has it).
 */
function atAll(target: Record<string, unknown>): Query {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.filter((x) => !(typeof x === 'string' && VAR_REF.test(x))).map(walk);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const w = walk(x);
        if ((Array.isArray(w) && w.length === 0) || (typeof w === 'string' && VAR_REF.test(w))) continue;
        out[k] = w;
      }
      return out;
    }
    return v;
  };
  const { datasource: _d, refId: _r, hide: _h, ...query } = target;
  return walk(query) as Query;
}

/** The panels of the bundled Grafana dashboards (rows' nested panels too), one per target. */
async function dashboardPanels(dir: string): Promise<Panel[]> {
  type GrafanaPanel = { title?: string; targets?: Record<string, unknown>[]; panels?: GrafanaPanel[] };
  const flat = (ps: GrafanaPanel[]): GrafanaPanel[] => ps.flatMap((p) => [p, ...flat(p.panels ?? [])]);
  const out: Panel[] = [];
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  for (const file of files) {
    const d = JSON.parse(await fs.readFile(path.join(dir, file), 'utf8')) as {
      title?: string;
      panels?: GrafanaPanel[];
    };
    const dashboard = (d.title ?? file).replace(/^Closer audit:\s*/i, '');
    for (const p of flat(d.panels ?? [])) {
      // Data-health targets go to GET /status, not POST /query: not a query to time.
      const targets = (p.targets ?? []).filter((t) => t.hide !== true && t.type !== STATUS_QUERY_TYPE);
      targets.forEach((t, i) => {
        const title = p.title ?? '(untitled)';
        const short = title.length > 48 ? `${title.slice(0, 47)}…` : title;
        const name = `${short}${targets.length > 1 ? ` [${String(t.refId ?? i)}]` : ''}`;
        out.push({ dashboard, name, query: atAll(t) });
      });
    }
  }
  if (out.length === 0) throw new Error(`--dashboards ${dir}: no panel targets in its *.json files`);
  return out;
}

const WINDOWS = [
  { label: '24 h', ms: DAY_MS, maxFiles: 2 },
  { label: '7 d', ms: 7 * DAY_MS, maxFiles: 8 },
  { label: '30 d', ms: 30 * DAY_MS, maxFiles: 31 },
];

// ------------------------------------------------------------------------------- measuring

/** Grafana's interval for a panel: the range over maxDataPoints, rounded up to a round step. */
function grafanaIntervalMs(range: TimeRange): number {
  const steps = [1e3, 2e3, 5e3, 1e4, 15e3, 2e4, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 12e5, 18e5, 36e5, 72e5, 108e5];
  const raw = (range.to - range.from) / MAX_DATA_POINTS;
  return steps.find((s) => s >= raw) ?? 216e5;
}

interface Timing {
  dashboard: string;
  name: string;
  type: string;
  times: number[];
  p50: number;
  p95: number;
  max: number;
  rows: number;
  filesRead: number | null;
  /** Days of the files the executed SQL names, outside the window's days. */
  foreignDays: string[];
  error?: string;
}

function frameRows(frames: Frame[]): number {
  return frames.reduce((s, f) => s + (f.fields[0]?.values.length ?? 0), 0);
}

function request(range: TimeRange, queries: object[]) {
  return {
    range: { from: iso(range.from), to: iso(range.to) },
    intervalMs: grafanaIntervalMs(range),
    maxDataPoints: MAX_DATA_POINTS,
    queries,
  };
}

async function timePanel(
  service: QueryService,
  rangeAt: (run: number) => TimeRange,
  panel: Panel,
): Promise<Timing> {
  const range = rangeAt(RUNS);
  const timing: Timing = {
    dashboard: panel.dashboard,
    name: panel.name,
    type: panel.query.type,
    times: [],
    p50: NaN,
    p95: NaN,
    max: NaN,
    rows: 0,
    filesRead: null,
    foreignDays: [],
  };
  let last: RefIdResult | undefined;
  for (let i = 0; i <= RUNS; i++) {
    const body = request(rangeAt(i), [{ ...panel.query, refId: 'A' }]);
    const t0 = performance.now();
    const res = await service.query(body);
    const ms = performance.now() - t0;
    last = res.results.A;
    if (!last || last.status !== 200) {
      timing.error = `${last?.status ?? '?'}: ${last?.error ?? 'no result'}`;
      return timing;
    }
    if (i > 0) timing.times.push(ms); // the first run is the warm-up
  }
  const frames = (last as RefIdResult).frames;
  const meta = frames[0]?.meta;
  const files = meta?.custom?.filesRead;
  timing.filesRead = typeof files === 'number' ? files : null;
  const windowDays = new Set(daysOf(range));
  const named = new Set(
    [...(meta?.executedQueryString ?? '').matchAll(/dt=(\d{4}-\d{2}-\d{2})\//g)].map((m) => m[1]),
  );
  timing.foreignDays = [...named].filter((d): d is string => d !== undefined && !windowDays.has(d));
  timing.rows = frameRows(frames);
  const sorted = [...timing.times].sort((a, b) => a - b);
  timing.p50 = percentile(sorted, 50);
  timing.p95 = percentile(sorted, 95);
  timing.max = sorted[sorted.length - 1] as number;
  return timing;
}

/** A dashboard opening: Grafana sends one request per panel, all at once. */
async function timeDashboard(
  service: QueryService,
  rangeAt: (run: number) => TimeRange,
  panels: Panel[],
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const range = rangeAt(i);
    const t0 = performance.now();
    await Promise.all(panels.map((p) => service.query(request(range, [{ ...p.query, refId: 'A' }]))));
    if (i > 0) times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** One value from a raw SQL query, through the service (and so through the engine's own connection). */
async function scalar(service: QueryService, sql: string): Promise<string> {
  const res = await service.query({
    range: { from: 0, to: 1 },
    queries: [{ refId: 'A', type: 'sql', sql }],
  });
  const value = res.results.A?.frames[0]?.fields[0]?.values[0];
  return value === undefined ? '?' : String(value);
}

// ------------------------------------------------------------------------------- the run

const started = performance.now();

if (flags['generate-only']) {
  const marker = (!flags.fresh && (await readMarker(DIR))) || (await generate(DIR));
  const stored = await storedFigures(DIR);
  const g = marker.generation;
  process.stdout.write(
    `${DIR}: ${n(g.rowsWritten)} rows in ${secs(g.ms)} (${n((g.eventsRead * 1000) / g.ms)} events/s), ` +
      `${mb(stored.bytes)} in ${n(stored.files)} files over ${stored.days} days\n`,
  );
  process.exit(0);
}

const load0 = os.loadavg();
let marker = flags.fresh ? null : await readMarker(DIR);
const reused = marker !== null;
if (marker) log(`reusing ${DIR} (generated ${marker.generation.at}; --fresh regenerates)`);
else marker = await generateInChild(DIR);
const stored = await storedFigures(DIR);
const gen = marker.generation;

const useDashboards = !flags['script-panels'];
const panels = useDashboards ? await dashboardPanels(path.resolve(ROOT, flags.dashboards)) : PANELS;
const panelsText = useDashboards
  ? `${panels.length} panel targets of ${path.resolve(ROOT, flags.dashboards)}/*.json, template variables at All`
  : `${panels.length} panel queries of 4 dashboards defined in this script (one raw SQL)`;
/** The test Trino over the folder's parent, the table over the folder (or the one named by flags). */
async function openTrino(): Promise<{ engine: TrinoEngine; stop: () => Promise<void> }> {
  if (flags['trino-url'] && flags['trino-table'])
    return {
      engine: new TrinoEngine({ url: flags['trino-url'], table: flags['trino-table'] }),
      stop: async () => {},
    };
  const script = path.join(ROOT, 'test/trino/trino-server.sh');
  const parent = path.dirname(DIR);
  let running = true;
  try {
    execFileSync('bash', [script, 'status'], { stdio: 'ignore' });
  } catch {
    running = false;
  }
  if (running) {
    const root = execFileSync('bash', [script, 'root'], { encoding: 'utf8' }).trim();
    if (root !== parent)
      throw new Error(
        `a test Trino is running over ${root}, not ${parent}: stop it (bash ${script} stop) or pass --trino-url and --trino-table`,
      );
  }
  log(`starting the test Trino over ${parent}`);
  const url = execFileSync('bash', [script, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, TRINO_ROOT: parent, TRINO_HEAP: process.env.TRINO_HEAP ?? '2g' },
  })
    .trim()
    .split('\n')
    .pop() as string;
  const schema = 'closer_audit_bench';
  const admin = new TrinoEngine({ url, table: 'system.runtime.nodes' });
  // The table is dropped first: a reused name may point at another folder.
  const ddl = [
    `DROP TABLE IF EXISTS local.${schema}.events`,
    `DROP TABLE IF EXISTS local.${schema}.${DEFAULT_DETECTIONS_TABLE}`,
    ...trinoDdl({ location: `local:///${path.basename(DIR)}`, catalog: 'local', schema }).split(/;\n+/),
    // The alerts the rules stored beside the events (the Detections dashboard's table).
    ...trinoDdl({
      location: `local:///${path.basename(DIR)}`,
      catalog: 'local',
      schema,
      table: DEFAULT_DETECTIONS_TABLE,
      spec: DETECTIONS_TABLE,
    }).split(/;\n+/),
  ];
  for (const statement of ddl.map((x) => x.trim().replace(/;$/, '')).filter(Boolean))
    await admin.run(statement, []);
  return {
    engine: new TrinoEngine({ url, table: `local.${schema}.events` }),
    stop: async () => {
      if (!running) execFileSync('bash', [script, 'stop'], { stdio: 'inherit' });
    },
  };
}

interface EngineRun {
  name: string;
  about: string;
  results: { window: (typeof WINDOWS)[number]; range: TimeRange; events: number; timings: Timing[] }[];
  dashboards: { window: string; dashboard: string; panels: number; p50: number; p95: number }[];
}

async function measure(
  name: string,
  engine: QueryEngine,
  about: (s: QueryService) => Promise<string>,
): Promise<EngineRun> {
  const service = new QueryService(engine, { timeoutMs: SERVE_TIMEOUT_MS });
  const run: EngineRun = { name, about: await about(service), results: [], dashboards: [] };
  for (const window of WINDOWS) {
    const rangeAt = (run: number) => windowRange(window.ms, (marker as Marker).to, run, MOVING);
    const range = rangeAt(RUNS);
    log(
      `${name}, ${window.label}: ${iso(range.from)} → ${iso(range.to)}, ${panels.length} panels × (1 + ${RUNS}) runs`,
    );
    const timings: Timing[] = [];
    for (const panel of panels) {
      const t = await timePanel(service, rangeAt, panel);
      if (t.error) log(`  ${panel.dashboard} / ${panel.name}: FAILED ${t.error}`);
      timings.push(t);
    }
    const events = Number(
      (await service.query(request(range, [{ refId: 'A', type: 'stat' }]))).results.A?.frames[0]?.fields[0]
        ?.values[0] ?? NaN,
    );
    run.results.push({ window, range, events, timings });
    log(`  worst p95 ${ms1(Math.max(...timings.map((x) => x.p95 || 0)))}; timing the dashboard openings`);
    for (const dashboard of [...new Set(panels.map((p) => p.dashboard))]) {
      const its = panels.filter((p) => p.dashboard === dashboard);
      const times = await timeDashboard(service, rangeAt, its);
      run.dashboards.push({
        window: window.label,
        dashboard,
        panels: its.length,
        p50: percentile(times, 50),
        p95: percentile(times, 95),
      });
    }
  }
  return run;
}

if (flags.es !== 'on' && flags.es !== 'off') throw new Error(`--es ${flags.es}: on or off`);
if (flags.es === 'on') {
  await sideBySide(marker);
  process.exit(0);
}

/** Elasticsearch beside the query API (side-by-side.ts), over the same generated events. */
async function sideBySide(m: Marker): Promise<void> {
  const esHome = path.resolve(flags['es-home'] ?? path.join(os.tmpdir(), 'closer-audit-bench-query-es-home'));
  const node = await ensureEsNode(ROOT, esHome, log, flags['es-heap']);
  const apiRoot = path.resolve(flags['api-root'] ?? ROOT);
  let api: ApiServer | null = null;
  try {
    const index = esIndexName(EVENTS, m.from, DAYS);
    await ensureEsIndex(node.url, index, { events: EVENTS, from: m.from, to: m.to }, log);
    const esAbout = await esVersion(node.url);
    const esStored = await esIndexFigures(node.url, index);
    api = await startApi(apiRoot, DIR, path.dirname(THIS_FILE));
    log(`query API ${api.url} (pid ${api.pid}, ${apiRoot}); Elasticsearch ${node.url} ${index}`);
    const results = await runSideBySide({
      esUrl: node.url,
      index,
      api,
      panels,
      windows: WINDOWS,
      to: m.to,
      runs: RUNS,
      maxDataPoints: MAX_DATA_POINTS,
      intervalMs: grafanaIntervalMs,
      moving: MOVING,
      log,
    });
    const rss = await api.peakRss();
    if (flags['times-json'])
      await fs.writeFile(
        flags['times-json'],
        JSON.stringify(
          results.flatMap((r) =>
            r.timings.map((t) => ({
              window: r.window.label,
              dashboard: t.panel.dashboard,
              panel: t.panel.name,
              es: t.es,
              api: t.api,
            })),
          ),
        ),
      );
    const summary = reportSideBySide(results);
    const head = table([
      [
        'machine',
        `${os.availableParallelism()} CPUs, ${os.cpus()[0]?.model ?? '?'}, ${mb(os.totalmem())} RAM`,
      ],
      ['node', `${process.version} ${process.platform}-${process.arch}`],
      [
        'elasticsearch',
        `${esAbout}, ${node.url}, index ${index}: ${n(esStored.docs)} docs, ${mb(esStored.bytes)}, 1 shard`,
      ],
      ['query API', `${apiRoot} (DuckDbEngine.open defaults, node HTTP server, as serve runs it)`],
      [
        'data',
        `${DIR}${reused ? ' (reused)' : ''}: ${mb(stored.bytes)} of Parquet in ${n(stored.files)} files`,
      ],
      ['range', `${iso(m.from)} → ${iso(m.to)}, ${n(EVENTS)} events over ${DAYS} days`],
      ['panels', panelsText],
      [
        'requests',
        `1 warm-up + ${RUNS} timed runs per question and side, ES then API in turn; ES request_cache=false; ` +
          RANGES_TEXT,
      ],
      [
        'load average',
        `${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')} at end`,
      ],
    ]);
    process.stdout.write(
      [
        '',
        'closer-audit query API beside Elasticsearch (same events, same questions)',
        '',
        head,
        ...summary.lines,
        '',
        `questions with an Elasticsearch form: ${summary.compared}; API slower at p50 or p95: ${summary.slower}; counts differing: ${summary.mismatches}`,
        `peak RSS of the query API process ${mb(rss)}`,
        `bench took ${secs(performance.now() - started)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await api?.stop();
    if (node.started) await node.stop();
  }
}

const runs: EngineRun[] = [];
for (const name of ENGINES) {
  if (name === 'duckdb') {
    const engine = await DuckDbEngine.open(DIR);
    // Timed with its rollups built, as a running serve has them.
    const t0 = performance.now();
    await engine.warmRollups();
    await engine.rollupsSettled();
    log(
      `DuckDB: ${engine.rollupStatus()?.objects ?? 0} objects rolled up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    try {
      runs.push(
        await measure('DuckDB', engine, async (service) => {
          const version = await scalar(service, 'SELECT version()');
          const threads = await scalar(service, "SELECT current_setting('threads')");
          const memoryLimit = await scalar(service, "SELECT current_setting('memory_limit')");
          return `${version}, threads ${threads}, memory_limit ${memoryLimit} (DuckDbEngine.open defaults)`;
        }),
      );
    } finally {
      await engine.close();
    }
  } else {
    const trino = await openTrino();
    try {
      runs.push(
        await measure(
          'Trino',
          trino.engine,
          async (service) =>
            `Trino ${await scalar(service, 'SELECT version()')} (${flags['trino-url'] ? flags['trino-url'] : `test/trino, heap ${process.env.TRINO_HEAP ?? '2g'}`}), table ${await trino.engine.tableFor({ from: 0, to: 1 })}`,
        ),
      );
    } finally {
      await trino.engine.close();
      await trino.stop();
    }
  }
}

// ------------------------------------------------------------------------------- report

const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
const out: string[] = [
  '',
  `closer-audit query benchmark (${runs.map((x) => x.name).join(' and ')}, QueryService end to end, same files)`,
  '',
];
const cpus = os.cpus();
out.push(
  table([
    [
      'machine',
      `${os.availableParallelism()} CPUs (nproc), ${cpus[0]?.model ?? '?'}, ${mb(os.totalmem())} RAM`,
    ],
    ['node', `${process.version} ${process.platform}-${process.arch}`],
    ...runs.map((x) => [x.name.toLowerCase(), x.about]),
    [
      'load average',
      `${load0.map((l) => l.toFixed(2)).join(' ')} at start, ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} at end`,
    ],
    ['data', `${DIR}${reused ? ' (reused)' : ''}`],
    ['range', `${iso(marker.from)} → ${iso(marker.to)}, ${marker.days} days, all sealed`],
    [
      'generation',
      `${n(gen.rowsWritten)} rows (${n(gen.eventsRead)} events read, ${n(gen.quarantined)} quarantined) in ` +
        `${secs(gen.ms)}: ${n((gen.eventsRead * 1000) / gen.ms)} events/s, peak RSS ${mb(gen.maxRssBytes)}` +
        `${reused ? `, on ${gen.at}` : ''}`,
    ],
    [
      'on disk',
      `${mb(stored.bytes)} of Parquet (${(stored.bytes / gen.rowsWritten).toFixed(1)} bytes/event), ` +
        `${n(stored.files)} files over ${stored.days} days: ${stored.filesPerDay.min}–${stored.filesPerDay.max} per day`,
    ],
    ['panels', panelsText],
    [
      'requests',
      `one panel per request, 1 warm-up + ${RUNS} timed runs each, maxDataPoints ${MAX_DATA_POINTS}, ` +
        `intervalMs range/maxDataPoints rounded up; ${RANGES_TEXT}`,
    ],
  ]),
);

for (const run of runs) {
  for (const r of run.results) {
    out.push(
      '',
      `${run.name}, last ${r.window.label}: ${iso(r.range.from)} → ${iso(r.range.to)}, ${n(r.events)} events, ` +
        `${daysOf(r.range).length} day(s), intervalMs ${n(grafanaIntervalMs(r.range))}`,
    );
    const rows: string[][] = [['dashboard', 'panel', 'type', 'p50', 'p95', 'max', 'rows', 'files']];
    for (const t of r.timings) {
      rows.push(
        t.error
          ? [t.dashboard, t.name, t.type, 'failed', t.error, '', '', '']
          : [
              t.dashboard,
              t.name,
              t.type,
              ms1(t.p50),
              ms1(t.p95),
              ms1(t.max),
              n(t.rows),
              t.filesRead === null ? '-' : String(t.filesRead),
            ],
      );
    }
    out.push(table(rows, [3, 4, 5, 6, 7]));
  }

  out.push(
    '',
    `${run.name}: dashboard openings (all its panels' requests at once), 1 warm-up + ${RUNS} timed runs:`,
  );
  out.push(
    table(
      [
        ['window', 'dashboard', 'panels', 'p50', 'p95'],
        ...run.dashboards.map((d) => [d.window, d.dashboard, String(d.panels), ms1(d.p50), ms1(d.p95)]),
      ],
      [2, 3, 4],
    ),
  );
}

if (runs.length > 1) {
  out.push('', 'p50 / p95 per panel, both engines over the same files:');
  const head = ['panel', ...WINDOWS.flatMap((w) => runs.map((x) => `${x.name} ${w.label}`))];
  const rows = panels.map((p, i) => [
    `${p.dashboard} / ${p.name}`,
    ...WINDOWS.flatMap((_, wi) =>
      runs.map((x) => {
        const t = x.results[wi]?.timings[i];
        return !t ? '-' : t.error ? 'failed' : `${t.p50.toFixed(0)} / ${t.p95.toFixed(0)} ms`;
      }),
    ),
  ]);
  out.push(table([head, ...rows], head.map((_, i) => i).slice(1)));
}

const targets: string[][] = [['target', 'figure', 'verdict']];
// The targets are DuckDB's (the local engine's latency and files read); Trino's figures are above.
const results = runs.find((x) => x.name === 'DuckDB')?.results ?? [];
for (const r of results) {
  const ok = r.timings.filter((t) => !t.error);
  const worst = ok.reduce<Timing | null>((w, t) => (w === null || t.p95 > w.p95 ? t : w), null);
  const failed = r.timings.length - ok.length;
  const worstText = worst ? `${ms1(worst.p95)} (${worst.dashboard} / ${worst.name})` : '-';
  targets.push([
    `worst p95, last ${r.window.label}${r.window.label === '30 d' ? ` < ${TARGET_P95_MS} ms` : ''}`,
    `${worstText}${failed ? `, ${failed} failed` : ''}`,
    r.window.label === '30 d' ? verdict(failed === 0 && worst !== null && worst.p95 < TARGET_P95_MS) : '',
  ]);
}
// Event objects only: the alerts' panels read the detections folder's files. 0 is a question the
// rollups answered whole (no partial hour read from the events).
const eventPanels = (r: (typeof results)[number]) => r.timings.filter((t) => t.type !== 'detections');
for (const r of results) {
  const panels = eventPanels(r);
  const files = panels.map((t) => t.filesRead).filter((f): f is number => f !== null);
  const most = files.length ? Math.max(...files) : NaN;
  const exact = daysOf(r.range).length;
  const foreign = [...new Set(panels.flatMap((t) => t.foreignDays))];
  const rolled = files.filter((f) => f === 0).length;
  targets.push([
    `event files read, last ${r.window.label} ≤ ${r.window.maxFiles} (at most ${exact} day file${exact > 1 ? 's' : ''})`,
    `${Number.isNaN(most) ? '-' : `at most ${most}; ${rolled} of ${files.length} panels from the rollups alone`}` +
      `${foreign.length ? `; days outside the window: ${foreign.join(', ')}` : '; only the window’s days'}`,
    verdict(files.length === panels.length && most <= r.window.maxFiles && foreign.length === 0),
  ]);
}
const last24 = results.find((r) => r.window.label === '24 h');
if (last24) {
  const files = eventPanels(last24).map((t) => t.filesRead);
  // One day's file, or the two of a 24 h range that crosses midnight (moving ranges).
  const days = daysOf(last24.range).length;
  const ok = files.every((f) => f !== null && f <= days);
  targets.push([
    `a 24 h query reads at most the files of its ${days === 1 ? 'day' : `${days} days`}`,
    ok ? `every panel read ${days} file${days > 1 ? 's' : ''} or fewer` : `files read: ${files.join(', ')}`,
    verdict(ok),
  ]);
}
if (results.length) out.push('', table(targets));
out.push(
  '',
  `peak RSS of this process (queries only; generation ran in its own process) ${mb(
    process.resourceUsage().maxRSS * 1024,
  )}`,
  `bench took ${secs(performance.now() - started)}`,
  '',
);
process.stdout.write(out.join('\n'));
