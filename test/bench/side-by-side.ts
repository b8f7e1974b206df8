// `npm run bench:query` side by side: each panel question asked of Elasticsearch (es-side.ts) and of
// the query API over HTTP (`hostile-server.ts`: the DuckDB engine, QueryService and node server as
// `closer-audit serve` builds them, from this tree or the one given by --api-root), interleaved run
// by run, and whole dashboards as Grafana sends them (one POST with every target).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Query, TimeRange } from '../../shared/query/model.js';
import { esQuestion, esSearch } from './es-side.js';
import { table } from './print.js';

export interface SidePanel {
  dashboard: string;
  name: string;
  query: Query;
}

export interface SideWindow {
  label: string;
  ms: number;
}

interface FrameJson {
  fields: { values: unknown[] }[];
}
interface QueryJson {
  results: Record<string, { frames: FrameJson[]; status: number; error?: string }>;
}

/** What the API's answer counts, as es-side.ts counts Elasticsearch's. */
export function apiCount(query: Query, frames: FrameJson[]): number {
  const values = (f: FrameJson | undefined, i: number) => (f?.fields[i]?.values ?? []) as number[];
  const sum = (xs: number[]) => xs.reduce((s, x) => s + Number(x ?? 0), 0);
  switch (query.type) {
    case 'timeseries':
      return frames.reduce((s, f) => s + sum(values(f, 1)), 0);
    case 'topn':
      return sum(values(frames[0], 1));
    case 'stat':
      return Number(values(frames[0], 0)[0]);
    default:
      return values(frames[0], 0).length;
  }
}

export interface ApiServer {
  url: string;
  token: string;
  pid: number;
  /** Peak RSS of the server process so far (VmHWM), bytes. */
  peakRss: () => Promise<number>;
  stop: () => Promise<void>;
}

/** The query API in its own process, as `closer-audit serve` runs it, from the tree `root`. */
export async function startApi(root: string, dir: string, here: string): Promise<ApiServer> {
  const token = randomBytes(18).toString('base64url');
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, 'hostile-server.ts'), '--root', root, '--dir', dir, '--token', token],
    { cwd: here, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /^(http\S+)\n/m.exec(out);
      if (line?.[1]) resolve(line[1]);
    });
    child.once('exit', (code) => reject(new Error(`the query API exited with ${code}`)));
  });
  return {
    url,
    token,
    pid: child.pid as number,
    peakRss: async () => {
      const status = await fs.readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const kb = /VmHWM:\s+(\d+)/.exec(status)?.[1];
      return kb ? Number(kb) * 1024 : NaN;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

async function post(api: ApiServer, body: unknown): Promise<QueryJson> {
  const res = await fetch(`${api.url}/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${api.token}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /query: ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as QueryJson;
}

export interface SideTiming {
  panel: SidePanel;
  es: number[] | null;
  api: number[];
  esCount: number | null;
  apiCount: number;
  error?: string;
}

export interface SideResult {
  window: SideWindow;
  range: TimeRange;
  timings: SideTiming[];
  dashboards: { dashboard: string; targets: number; times: number[] }[];
}

/** Where "now" stands before the data's end when ranges move (an ordinary moment of a day). */
const MOVING_LAG_MS = 2 * 3_600_000 + 13 * 60_000 + 7_123;
/** How far "now" moves between two runs: a dashboard refreshed every 15 s. */
const MOVING_STEP_MS = 15_000;

/**
 * The range of a window at one run. `moving` (the default of the bench): as Grafana sends
 * "last 30 days" from a dashboard refreshed every 15 s, now-relative to the millisecond, so no
 * run repeats another's range and none starts or ends on a whole hour; else the window ends at
 * the data's end (a UTC midnight) at every run.
 */
export function windowRange(windowMs: number, to: number, run: number, moving: boolean): TimeRange {
  const end = moving ? to - MOVING_LAG_MS - run * MOVING_STEP_MS : to;
  return { from: end - windowMs, to: end };
}

export interface SideOptions {
  esUrl: string;
  index: string;
  api: ApiServer;
  panels: SidePanel[];
  windows: SideWindow[];
  to: number;
  runs: number;
  maxDataPoints: number;
  intervalMs: (range: TimeRange) => number;
  /** Now-relative ranges moving at every run (windowRange). */
  moving: boolean;
  log: (m: string) => void;
}

export async function runSideBySide(o: SideOptions): Promise<SideResult[]> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: SideResult[] = [];
  for (const window of o.windows) {
    const rangeAt = (run: number) => windowRange(window.ms, o.to, run, o.moving);
    const range = rangeAt(o.runs);
    // Both sides of a run ask of the same range.
    const request = (run: number, queries: object[]) => {
      const r = rangeAt(run);
      return {
        range: { from: iso(r.from), to: iso(r.to) },
        intervalMs: o.intervalMs(r),
        maxDataPoints: o.maxDataPoints,
        queries,
      };
    };
    o.log(
      `side by side, ${window.label}: ${o.panels.length} panels × (1 + ${o.runs}) runs each side, interleaved`,
    );
    const timings: SideTiming[] = [];
    for (const panel of o.panels) {
      const questionAt = (run: number) => esQuestion(panel.query, rangeAt(run), o.intervalMs(rangeAt(run)));
      const t: SideTiming = { panel, es: questionAt(0) ? [] : null, api: [], esCount: null, apiCount: NaN };
      try {
        for (let i = 0; i <= o.runs; i++) {
          const question = questionAt(i);
          if (question) {
            const t0 = performance.now();
            const res = await esSearch(o.esUrl, o.index, question.body);
            const ms = performance.now() - t0;
            if (i > 0) t.es?.push(ms);
            t.esCount = question.count(res);
          }
          const t0 = performance.now();
          const res = await post(o.api, request(i, [{ ...panel.query, refId: 'A' }]));
          const ms = performance.now() - t0;
          const a = res.results.A;
          if (!a || a.status !== 200) throw new Error(`API ${a?.status ?? '?'}: ${a?.error ?? 'no result'}`);
          if (i > 0) t.api.push(ms);
          t.apiCount = apiCount(panel.query, a.frames);
        }
      } catch (err) {
        t.error = err instanceof Error ? err.message : String(err);
        o.log(`  ${panel.dashboard} / ${panel.name}: FAILED ${t.error}`);
      }
      timings.push(t);
    }
    const dashboards: SideResult['dashboards'] = [];
    for (const dashboard of [...new Set(o.panels.map((p) => p.dashboard))]) {
      const its = o.panels.filter((p) => p.dashboard === dashboard);
      const times: number[] = [];
      for (let i = 0; i <= o.runs; i++) {
        const body = request(
          i,
          its.map((p, n) => ({ ...p.query, refId: `R${n}` })),
        );
        const t0 = performance.now();
        const res = await post(o.api, body);
        const ms = performance.now() - t0;
        const bad = Object.values(res.results).find((r) => r.status !== 200);
        if (bad) throw new Error(`dashboard ${dashboard}: ${bad.status} ${bad.error}`);
        if (i > 0) times.push(ms);
      }
      dashboards.push({ dashboard, targets: its.length, times: times.sort((a, b) => a - b) });
    }
    out.push({ window, range, timings, dashboards });
  }
  return out;
}

/** Nearest-rank percentile of sorted values. */
export function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

const ms0 = (v: number) => (Number.isNaN(v) ? '-' : v < 10 ? `${v.toFixed(1)}` : `${v.toFixed(0)}`);
const num = (v: number | null) =>
  v === null || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US');

export interface SideSummary {
  lines: string[];
  /** Questions with an Elasticsearch form where the API's p50 or p95 is slower. */
  slower: number;
  compared: number;
  mismatches: number;
}

export function reportSideBySide(results: SideResult[]): SideSummary {
  const lines: string[] = [];
  let slower = 0;
  let compared = 0;
  let mismatches = 0;
  for (const r of results) {
    lines.push(
      '',
      `Side by side, last ${r.window.label} (the last run: ${new Date(r.range.from).toISOString()} → ${new Date(r.range.to).toISOString()}), ms:`,
    );
    const rows: string[][] = [
      [
        'dashboard',
        'panel',
        'type',
        'ES p50',
        'ES p95',
        'API p50',
        'API p95',
        'API÷ES p50',
        'API÷ES p95',
        'ES count',
        'API count',
      ],
    ];
    for (const t of r.timings) {
      const es = t.es ? [...t.es].sort((a, b) => a - b) : null;
      const api = [...t.api].sort((a, b) => a - b);
      const e50 = es ? pct(es, 50) : NaN;
      const e95 = es ? pct(es, 95) : NaN;
      const a50 = pct(api, 50);
      const a95 = pct(api, 95);
      if (es && !t.error) {
        compared++;
        if (a50 > e50 || a95 > e95) slower++;
        if (t.esCount !== t.apiCount) mismatches++;
      }
      rows.push([
        t.panel.dashboard,
        t.panel.name.length > 40 ? `${t.panel.name.slice(0, 39)}…` : t.panel.name,
        t.panel.query.type,
        es ? ms0(e50) : 'n/a',
        es ? ms0(e95) : 'n/a',
        t.error ? 'failed' : ms0(a50),
        t.error ? t.error.slice(0, 40) : ms0(a95),
        es ? `${(a50 / e50).toFixed(2)}×` : '',
        es ? `${(a95 / e95).toFixed(2)}×` : '',
        num(t.esCount),
        `${num(t.apiCount)}${es && t.esCount !== t.apiCount ? ' ≠' : ''}`,
      ]);
    }
    lines.push(table(rows, [3, 4, 5, 6, 7, 8, 9, 10]));
  }
  lines.push('', 'Whole dashboards on DuckDB (one POST /query with every target of the dashboard), ms:');
  const rows: string[][] = [['window', 'dashboard', 'targets', 'p50', 'p95']];
  for (const r of results)
    for (const d of r.dashboards)
      rows.push([
        r.window.label,
        d.dashboard,
        String(d.targets),
        ms0(pct(d.times, 50)),
        ms0(pct(d.times, 95)),
      ]);
  lines.push(table(rows, [2, 3, 4]));
  return { lines, slower, compared, mismatches };
}
