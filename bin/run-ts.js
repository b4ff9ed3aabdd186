#!/usr/bin/env node
// Runs a TypeScript file the way bin/auditrail.js runs the product, through tsx's require hook:
//   node bin/run-ts.js <file.ts> [args...]
// (benchmarks use it for child processes whose memory must be the product's).
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
const [file] = process.argv.splice(2, 1);
require(path.resolve(file));
