import fs from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { ATTACK_SCENARIOS } from '../../functions/sample/generator.js';
import { loadRules } from '../../functions/detect/load-rules.js';
import { SEVERITIES } from '../../shared/detections/rule.js';
import { cli } from '../support/cli.js';
import { duckdb } from '../support/duckdb.js';
import { tmpDir } from '../support/tmp.js';

interface AlertLine {
  rule: string;
  title: string;
  severity: string;
  technique: string;
  entity: string;
  first_ts: string;
  last_ts: string;
  count: number;
  event_ids: string[];
  new: boolean;
  id: string;
}

const FROM = '2026-09-01';
const TO = '2026-10-01';
/** Rules that flag every occurrence of a notable change (threshold 1): they fire on benign days too. */
const NOTABLE = new Set(['role-change-to-admin', 'credential-created']);

const lines = (stdout: string): AlertLine[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AlertLine);

describe('detection rules', () => {
  it('ships one rule per scenario, each complete (severity, ATT&CK technique, window, next steps)', async () => {
    const { rules, errors } = await loadRules();
    expect(errors).toEqual([]);
    expect(rules.map((r) => r.rule.id).sort()).toEqual([...ATTACK_SCENARIOS].sort());
    for (const { rule } of rules) {
      expect(SEVERITIES).toContain(rule.severity);
      expect(rule.technique).toMatch(/^T\d{4}/);
      expect(rule.next_steps.length).toBeGreaterThan(20);
      expect(rule.sql).toContain('$__timeFilter(ts)');
    }
  });

  describe('on 30 days of sample with every attack scenario planted', () => {
    let data: string;
    let first: AlertLine[];

    beforeAll(async () => {
      const dir = await tmpDir('detect');
      const feed = path.join(dir, 'feed.ndjson.gz');
      const made = await cli([
        'sample',
        '--events',
        '30000',
        '--from',
        FROM,
        '--to',
        TO,
        '--out',
        feed,
        '--attacks',
        'all',
      ]);
      expect(made.code).toBe(0);
      data = path.join(dir, 'data');
      const sync = await cli(['sync', '--source', `file:${feed}`, '--out', data, '--no-detect']);
      expect(sync.code).toBe(0);
      const run = await cli(['detect', '--out', data, '--from', FROM, '--to', TO, '--json']);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      first = lines(run.stdout);
    }, 240_000);

    it('each rule finds its scenario', () => {
      for (const scenario of ATTACK_SCENARIOS) {
        const found = first.filter(
          (a) => a.rule === scenario && a.event_ids.some((id) => id.startsWith(`attack-${scenario}-`)),
        );
        expect({ scenario, found: found.length > 0 }).toEqual({ scenario, found: true });
      }
    });

    it('raises nothing on the benign feed but notable changes, each of which is a real one', async () => {
      const benign = first.filter((a) => !a.event_ids.some((id) => id.startsWith('attack-')));
      expect(benign.filter((a) => !NOTABLE.has(a.rule))).toEqual([]);
      // Every notable alert stands for events that are what the rule says: ADMIN role changes,
      // OAuth or bot credentials created.
      const db = await duckdb();
      try {
        const ids = benign.flatMap((a) => a.event_ids).map((id) => `'${id.replace(/'/g, "''")}'`);
        const rows = await db.rows(
          `SELECT action, request_body FROM read_parquet('${data}/events/*/*.parquet') WHERE event_id IN (${ids.join(',')})`,
        );
        expect(rows.length).toBe(ids.length);
        for (const r of rows) {
          if (r.action === 'agent_role_change') expect(String(r.request_body)).toContain('"ADMIN"');
          else expect(['oauth_config_creation', 'lekta_config_creation']).toContain(r.action);
        }
      } finally {
        db.close();
      }
    });

    it('prints every field an alert needs, and raises the same alert once however many runs see it', async () => {
      for (const a of first) {
        expect(Object.keys(a)).toEqual(
          expect.arrayContaining([
            'rule',
            'title',
            'severity',
            'technique',
            'entity',
            'first_ts',
            'last_ts',
            'count',
            'event_ids',
          ]),
        );
        expect(a.event_ids.length).toBeGreaterThan(0);
        expect(a.event_ids.length).toBeLessThanOrEqual(20);
        expect(a.title).not.toContain('{{');
      }
      expect(first.every((a) => a.new)).toBe(true);
      const again = lines(
        (await cli(['detect', '--out', data, '--from', FROM, '--to', TO, '--json'])).stdout,
      );
      expect(again.map((a) => a.id).sort()).toEqual(first.map((a) => a.id).sort());
      expect(again.filter((a) => a.new)).toEqual([]);
      // A narrower range that starts inside some windows raises nothing new either.
      const part = lines(
        (await cli(['detect', '--out', data, '--from', '2026-09-20T00:05Z', '--to', TO, '--json'])).stdout,
      );
      expect(part.filter((a) => a.new)).toEqual([]);
      // Stored once each, as Parquet under detections/dt=…/.
      const db = await duckdb();
      try {
        const stored = await db.rows(
          `SELECT id, count(*) AS n FROM read_parquet('${data}/detections/*/*.parquet', hive_partitioning = true) GROUP BY id HAVING count(*) > 1`,
        );
        expect(stored).toEqual([]);
        const total = await db.rows(
          `SELECT count(*) AS n FROM read_parquet('${data}/detections/*/*.parquet')`,
        );
        expect(Number(total[0]?.n)).toBe(first.length);
      } finally {
        db.close();
      }
    });

    it('runs your own rules beside the built-in ones; a broken rule is named with its field, the rest still run', async () => {
      const rules = await tmpDir('rules');
      await fs.writeFile(
        path.join(rules, 'logouts.yaml'),
        [
          'id: many-logouts',
          'title: "{{entity}} logged out {{count}} times"',
          'severity: low',
          'technique: T1078',
          'description: Many logouts.',
          'next_steps: Nothing to do; this is a test rule.',
          'window: 1d',
          'threshold: 3',
          'key: user_id',
          "sql: SELECT ts, event_id, user_id FROM $__table WHERE $__timeFilter(ts) AND action = 'agent_logout'",
        ].join('\n'),
      );
      await fs.writeFile(path.join(rules, 'no-threshold.yaml'), 'id: broken\ntitle: x\nseverity: low\n');
      await fs.writeFile(path.join(rules, 'bad-yaml.yaml'), 'id: [unclosed\n');
      const run = await cli([
        'detect',
        '--out',
        data,
        '--from',
        FROM,
        '--to',
        '2026-09-08',
        '--rules',
        rules,
        '--json',
      ]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/no-threshold\.yaml: technique: /);
      expect(run.stderr).toMatch(/bad-yaml\.yaml: yaml: /);
      const alerts = lines(run.stdout);
      expect(alerts.some((a) => a.rule === 'many-logouts' && a.count >= 3)).toBe(true);
      expect(alerts.some((a) => a.rule === 'credential-created')).toBe(true);
    });
  });

  it('runs after every sync into a folder, over the hours written', async () => {
    const dir = await tmpDir('detect-sync');
    const run = await cli(['sync', '--out', dir, '--from', '2026-08-03', '--to', '2026-08-05']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/detections\s+10 rules, \d+ new alerts?/);
    const again = await cli(['sync', '--out', dir, '--from', '2026-08-03', '--to', '2026-08-05']);
    expect(again.stdout).toMatch(/detections\s+10 rules, 0 new alerts/);
    const usage = await cli(['detect', '--out', 's3://bucket/prefix']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--out s3:\/\/bucket\/prefix: detect runs DuckDB over a local folder/);
  }, 240_000);
});
