import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { ACTIONS, AREAS, lookupAction } from '../../shared/catalog/actions.js';

// Closer's reference sits beside the repository (../shared/reference); the catalog must match it.
const here = path.dirname(fileURLToPath(import.meta.url));
const reference = readFileSync(
  path.resolve(here, '../../../shared/reference/closer-elasticsearch-security-logs.md'),
  'utf8',
);
const documented = [...reference.matchAll(/^\* `([a-z_]+)`-/gm)].map((m) => m[1]);

describe('action catalog', () => {
  it('has exactly the 58 actions of the reference, once each', () => {
    expect(documented).toHaveLength(58);
    expect(ACTIONS.map((a) => a.action).sort()).toEqual([...documented].sort());
    expect(new Set(ACTIONS.map((a) => a.action)).size).toBe(ACTIONS.length);
  });

  it('gives every action a description, a known area and a verb', () => {
    for (const a of ACTIONS) {
      expect(a.description.length).toBeGreaterThan(5);
      expect(Object.keys(AREAS)).toContain(a.area);
      expect(a.verb).toBeTruthy();
    }
  });

  it('classifies by name where the name says it', () => {
    for (const a of ACTIONS) {
      if (a.action.endsWith('_creation')) expect(a.verb).toBe('creation');
      if (a.action.endsWith('_deletion')) expect(a.verb).toBe('deletion');
    }
    expect(lookupAction('agent_login')?.area).toBe('auth');
    expect(lookupAction('oauth_config_change')?.area).toBe('oauth');
    expect(lookupAction('org_topic_deletion')?.area).toBe('topics');
    expect(lookupAction('nope')).toBeUndefined();
  });

  it('covers every area with at least one action', () => {
    for (const area of Object.keys(AREAS)) expect(ACTIONS.some((a) => a.area === area)).toBe(true);
  });
});
