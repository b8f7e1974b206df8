/**
 * @jest-environment node
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './support/build.js';
import { GRAFANA, GRAFANA_NAME } from './support/grafana-version.js';

// The bundled dashboards against this Grafana version's dashboard schema, @grafana/schema of that
// version: the TypeScript types Grafana generates from its CUE schema (the dashboard, and each
// panel plugin's options and field config), checked by the compiler as an object literal each,
// so a wrong type, an unknown key or a value outside an enum fails, naming dashboard and panel.

const DASHBOARDS = path.join(ROOT, 'plugin/dashboards');
const SCHEMA = path.join(GRAFANA.dir, 'node_modules/@grafana/schema');
/**
 * The newest dashboard schemaVersion this Grafana migrates to: @grafana/schema's defaultDashboard
 * says so from 11.x on; 10.4's package still says 36 while its migrator writes 39.
 */
const KNOWN_LATEST: Record<string, number> = { '10.4': 39 };

interface Panel {
  id: number;
  type: string;
  title: string;
  options?: object;
  fieldConfig?: { defaults?: { custom?: object } };
  panels?: Panel[];
}

const dashboards = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const text = readFileSync(path.join(DASHBOARDS, file), 'utf8');
    return { file, text, json: JSON.parse(text) as { schemaVersion: number; panels: Panel[] } };
  });

const panelsOf = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...panelsOf(p.panels ?? [])]);

/** A panel plugin's generated types in this version's @grafana/schema (their folder moved in 12). */
function panelTypes(type: string): string | undefined {
  for (const dir of ['dist/types', 'dist/esm']) {
    const folder = path.join(SCHEMA, dir, 'raw/composable', type, 'panelcfg/x');
    if (!existsSync(folder)) continue;
    const file = readdirSync(folder).find((f) => f.endsWith('types.gen.d.ts'));
    if (file) return path.join(folder, file);
  }
  return undefined;
}

/** Type-checks the dashboards against this version's types; returns the compiler's complaints. */
function typeCheck(): string[] {
  const checks: Array<{ label: string; code: string }> = [];
  const imports = new Map<string, string>();
  for (const d of dashboards) {
    checks.push({ label: d.file, code: `: Json<Dashboard> = ${d.text}` });
    for (const p of panelsOf(d.json.panels)) {
      if (p.type === 'row') continue;
      const types = panelTypes(p.type);
      if (!types) {
        checks.push({
          label: `${d.file} panel ${p.id}`,
          code: `: never = ${JSON.stringify(`unknown panel type ${p.type}`)}`,
        });
        continue;
      }
      const ns = `P_${p.type.replace(/\W/g, '_')}`;
      imports.set(ns, types.replace(/\.d\.ts$/, ''));
      const label = `${d.file} panel ${p.id} (${p.type}, "${p.title}")`;
      checks.push({
        label: `${label} options`,
        code: `: Partial<Json<${ns}.Options>> = ${JSON.stringify(p.options ?? {})}`,
      });
      const custom = p.fieldConfig?.defaults?.custom;
      if (custom && /export (interface|type) FieldConfig\b/.test(readFileSync(types, 'utf8'))) {
        checks.push({
          label: `${label} fieldConfig.defaults.custom`,
          code: `: Partial<Json<${ns}.FieldConfig>> = ${JSON.stringify(custom)}`,
        });
      }
    }
  }
  const header = [
    "import type { Dashboard } from '@grafana/schema';",
    // JSON holds an enum's values, not the enum: each string enum as the union of its values.
    'type Json<T> = T extends string ? `${T}` : T extends ReadonlyArray<infer U> ? Array<Json<U>> : T extends object ? { [K in keyof T]: Json<T[K]> } : T;',
    ...[...imports].map(([ns, file]) => `import type * as ${ns} from ${JSON.stringify(file)};`),
  ];
  // One check per line range, to name what a complaint is about.
  const lines: string[] = [...header];
  const starts: Array<{ line: number; label: string }> = [];
  checks.forEach((c, i) => {
    starts.push({ line: lines.length, label: c.label });
    lines.push(...`export const check${i}${c.code};`.split('\n'));
  });
  const virtual = path.join(GRAFANA.dir, '__closer_dashboards_check__.ts');
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, lang, ...rest) =>
    file === virtual ? ts.createSourceFile(file, source, lang) : getSourceFile(file, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => file === virtual || fileExists(file);
  const program = ts.createProgram([virtual], options, host);
  const sf = program.getSourceFile(virtual)!;
  return ts.getPreEmitDiagnostics(program, sf).map((d) => {
    const line = d.start === undefined ? 0 : sf.getLineAndCharacterOfPosition(d.start).line;
    const about = [...starts].reverse().find((s) => s.line <= line)?.label ?? 'imports';
    return `${about}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}

describe(`the bundled dashboards against ${GRAFANA_NAME}'s dashboard schema`, () => {
  it('are five, each with panels', () => {
    expect(dashboards.map((d) => d.file)).toEqual([
      'agent-lifecycle.json',
      'authentication.json',
      'configuration-changes.json',
      'data-health.json',
      'detections.json',
      'overview.json',
    ]);
    for (const d of dashboards) expect(d.json.panels.length).toBeGreaterThan(0);
  });

  it('have a schemaVersion this Grafana reads, migrating it forward when newer', async () => {
    const { defaultDashboard } = (await import(SCHEMA)) as { defaultDashboard: { schemaVersion: number } };
    const latest = KNOWN_LATEST[GRAFANA.label] ?? defaultDashboard.schemaVersion;
    for (const d of dashboards) {
      expect(`${d.file} ${d.json.schemaVersion}`).toBe(`${d.file} ${Math.min(d.json.schemaVersion, latest)}`);
      // Grafana's migrator upgrades anything from schemaVersion 13 on.
      expect(d.json.schemaVersion).toBeGreaterThanOrEqual(13);
    }
  });

  it('type-check against the Dashboard type and each panel plugin’s options and field config', () => {
    expect(typeCheck()).toEqual([]);
  }, 120_000);
});
