#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so `npx closer-audit` works right after `npm ci`.
import { register } from 'tsx/esm/api';

// The AWS SDK warns on every run that its releases after January 2027 need Node 22; the lockfile
// pins the versions this CLI ships with, so the warning says nothing about this install.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv);
