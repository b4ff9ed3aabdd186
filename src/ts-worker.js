// The entry of every worker thread. Worker threads do not inherit the main thread's tsx loader
// (bin/auditrail.js registers it programmatically), so each loads the TypeScript module named in
// workerData.entry through tsx's require hook: unlike tsx's ESM loader, it runs in this thread,
// without a module-hooks thread of its own (about 30 MB less resident memory per worker). The
// module is therefore loaded as CommonJS: no top-level await.
import { createRequire } from 'node:module';
import { workerData } from 'node:worker_threads';

const require = createRequire(import.meta.url);
require('tsx/cjs/api').register();
require(workerData.entry);
