import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs/promises';
import path from 'node:path';
import { MACROS } from '../../shared/query/raw-sql.js';
import { ROOT } from '../support/cli.js';

// Every raw SQL macro the API expands is documented once, where users look for it (issue 10).

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
    for (const macro of MACROS) expect({ macro, rows: mentions(table, macro) }).toEqual({ macro, rows: 1 });
    // The editor's help offers the same macros (its source is read as text: it is a React module).
    const editor = await fs.readFile(path.join(ROOT, 'plugin/src/components/QueryEditor.tsx'), 'utf8');
    const offered = [...editor.matchAll(/\['(\$__[A-Za-z_]+)/g)].map((m) => m[1] as string);
    expect(offered.length).toBeGreaterThanOrEqual(5);
    for (const macro of offered) expect({ macro, rows: mentions(table, macro) }).toEqual({ macro, rows: 1 });
    // And nothing in the table that the API would refuse as unknown.
    const listed = [...table.matchAll(/\$__[A-Za-z_]+/g)].map((m) => m[0]);
    expect(listed.filter((m) => !MACROS.includes(m))).toEqual([]);
  });

  it('the plugin’s README names each macro exactly once', async () => {
    const readme = await fs.readFile(path.join(ROOT, 'plugin/README.md'), 'utf8');
    const item = readme.split('\n- **Raw SQL**')[1]?.split('\n\n')[0]?.split('listed under')[0] ?? '';
    for (const macro of MACROS) expect({ macro, times: mentions(item, macro) }).toEqual({ macro, times: 1 });
  });
});
