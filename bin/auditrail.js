#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx: no build step between a checkout and a run.
// tsx's require hook rather than its ESM loader: the loader runs in a module-hooks thread of its
// own that holds about 45 MB of resident memory for the life of the process (bench:export counts
// it in the export's peak RSS). The sources are therefore loaded as CommonJS: no top-level await.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
const { main } = require('../src/main.ts');
process.exitCode = await main(process.argv);
