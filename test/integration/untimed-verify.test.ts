// verify accounts for the records no hour slot holds: the CLI end to end on an export file.
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs/promises';
import path from 'node:path';
import { unslottedQuarantineKey } from '../../shared/layout/layout.js';
import { FileSource } from '../../functions/sources/file/file-source.js';
import { generateHour } from '../../functions/sample/generator.js';
import { cli } from '../support/cli.js';
import { HOUR } from '../support/ingest.js';
import { tmpDir } from '../support/tmp.js';

const FROM = Date.UTC(2026, 9, 1);

describe('verify and documents without a readable @timestamp', () => {
  it('counts them at the source and in quarantine: a match after the sync, exit 1 while one is missing', async () => {
    const dir = await tmpDir('cli-untimed');
    const feed = path.join(dir, 'feed.ndjson');
    const hits = [...generateHour(FROM, 40), ...generateHour(FROM + HOUR, 30)];
    const body = hits[0]?._source as Record<string, unknown>;
    const { '@timestamp': _ts, ...noTime } = body;
    const lines = [
      ...hits.map((h) => JSON.stringify(h)),
      JSON.stringify({ _index: 'closer', _id: 'no-time', _source: noTime }),
      JSON.stringify({ _index: 'closer', _id: 'null-time', _source: { ...noTime, '@timestamp': null } }),
    ];
    await fs.writeFile(feed, lines.join('\n') + '\n');
    const out = path.join(dir, 'data');
    const verify = () =>
      cli(['verify', '--source', `file:${feed}`, '--out', out, '--from', '2026-10-01', '--to', '2026-10-02']);

    const sync = await cli(['sync', '--source', `file:${feed}`, '--out', out]);
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/rows written\s+70\n/);
    expect(sync.stdout).toMatch(/quarantined\s+2\n/);
    const ok = await verify();
    expect(ok.stdout).toMatch(/no @timestamp\s+2 in the index, 2 quarantined/);
    expect(ok.stdout).toContain('every hour matches');
    expect(ok.code).toBe(0);

    const source = new FileSource(feed);
    await fs.rm(path.join(out, unslottedQuarantineKey(source.id)));
    await source.close();
    const bad = await verify();
    expect(bad.stdout).toMatch(/no @timestamp\s+2 in the index, 0 quarantined/);
    expect(bad.stdout).toContain('2 document(s) without a readable @timestamp not quarantined yet');
    expect(bad.code).toBe(1);
  }, 240_000);
});
