// The deploy checks' tools, installed on first use by test/deploy/setup.sh (which .ci/run also
// runs up front): the Lambda runtime's Node.js from the npm registry, cfn-lint and parliament
// from PyPI. Paths are under test/deploy/, so every worktree has its own.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.join(root, 'test/deploy');

export interface DeployTools {
  /** The Node.js binary of the Lambda runtime's version. */
  node: string;
  /** Its `node --version`, e.g. v24.22.3. */
  nodeVersion: string;
  cfnLint: string;
  parliament: string;
}

let tools: Promise<DeployTools> | undefined;

export function deployTools(): Promise<DeployTools> {
  tools ??= promisify(execFile)('bash', [path.join(dir, 'setup.sh')], {
    encoding: 'utf8',
    timeout: 900_000,
    maxBuffer: 16 * 1024 * 1024,
  }).then(({ stdout }) => {
    const [node, nodeVersion] = stdout.trim().split('\n').pop()!.split(' ') as [string, string];
    if (!/^v\d+\.\d+\.\d+$/.test(nodeVersion ?? '')) {
      throw new Error(`test/deploy/setup.sh printed no Node.js version: ${stdout}`);
    }
    return {
      node,
      nodeVersion,
      cfnLint: path.join(dir, '.venv/bin/cfn-lint'),
      parliament: path.join(dir, '.venv/bin/parliament'),
    };
  });
  return tools;
}
