import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export async function tmpDir(name: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `closer-audit-${name}-`));
}
