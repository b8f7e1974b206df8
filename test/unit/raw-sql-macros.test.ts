import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MACROS, MACRO_NAMES } from '../../shared/api/contract.js';
import { ROOT } from '../support/cli.js';

// Every raw SQL macro the API expands is documented once, where users look for it (issue 10); the
// list is the API contract's, which the server expands and the editor's help shows (issue 14).

const mentions = (text: string, macro: string) =>
  [...text.matchAll(/`([^`]*)`/g)].filter((m) => new RegExp(`\\${macro}(?![A-Za-z_])`).test(m[1] as string))
    .length;

describe('raw SQL macros in the docs', () => {
  it('README’s macro table lists each macro exactly once', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'README.md'), 'utf8');
    const table = readme
      .split('\n')
      .filter((line) => line.startsWith('| `$__'))
      .map((line) => line.split('|')[1] as string)
      .join('\n');
    for (const macro of MACRO_NAMES)
      expect({ macro, rows: mentions(table, macro) }).toEqual({ macro, rows: 1 });
    // What the editor's help shows for each macro uses that macro.
    for (const m of MACROS) expect(mentions(`\`${m.usage}\``, m.name)).toBe(1);
    // And nothing in the table that the API would refuse as unknown.
    const listed = [...table.matchAll(/\$__[A-Za-z_]+/g)].map((m) => m[0]);
    expect(listed.filter((m) => !(MACRO_NAMES as string[]).includes(m))).toEqual([]);
  });

  it('the plugin’s README names each macro exactly once', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'plugin/README.md'), 'utf8');
    const item = readme.split('\n- **Raw SQL**')[1]?.split('\n\n')[0]?.split('listed under')[0] ?? '';
    for (const macro of MACRO_NAMES)
      expect({ macro, times: mentions(item, macro) }).toEqual({ macro, times: 1 });
  });
});
