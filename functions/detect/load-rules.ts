import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RuleError, parseRule, type Rule } from '../../shared/detections/rule.js';

export interface LoadedRule {
  rule: Rule;
  /** Where it came from, for messages: `built-in/x.yaml` or the user's path. */
  file: string;
}

/**
 * The built-in rules' folder: beside the bundle (functions/build.ts copies them there), or in
 * the source tree.
 */
export function builtinRulesDir(): string {
  const candidates = [
    fileURLToPath(new URL('./detection-rules/', import.meta.url)),
    fileURLToPath(new URL('../../shared/detections/rules/', import.meta.url)),
  ];
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`built-in detection rules not found (looked in ${candidates.join(', ')})`);
  return found;
}

async function readDir(dir: string, label: (file: string) => string) {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return Promise.all(
    names.map(async (name) => ({ file: label(name), text: await readFile(path.join(dir, name), 'utf8') })),
  );
}

/**
 * The built-in rules plus the user's folder (`--rules DIR`, CLOSER_DETECTION_RULES). A rule that
 * cannot be used is reported with its file and field, and the others still load; a user rule
 * with a built-in's id replaces it (to tune a threshold).
 */
export async function loadRules(userDir?: string): Promise<{ rules: LoadedRule[]; errors: RuleError[] }> {
  const files = await readDir(builtinRulesDir(), (n) => `built-in/${n}`);
  if (userDir) {
    if (!existsSync(userDir)) throw new RuleError(userDir, '--rules', 'no such folder');
    files.push(...(await readDir(userDir, (n) => path.join(userDir, n))));
  }
  const byId = new Map<string, LoadedRule>();
  const errors: RuleError[] = [];
  for (const { file, text } of files) {
    try {
      const rule = parseRule(file, text);
      byId.set(rule.id, { rule, file });
    } catch (err) {
      errors.push(err instanceof RuleError ? err : new RuleError(file, '(rule)', (err as Error).message));
    }
  }
  return { rules: [...byId.values()], errors };
}
