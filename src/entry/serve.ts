import type { Config } from '../config/config.ts';
import type { CliCommand } from '../cli/command.ts';
import { out, say } from '../cli/output.ts';
import { createHttpApp } from '../http/create-http-app.ts';
import { createAppWorker } from '../jobs/index.ts';
import { consoleBuildState, ensureConsoleBuilt, ViteMissingError } from './console-build.ts';
import { openRuntime } from './runtime.ts';
import { onStopSignal } from './signals.ts';

/** `auditrail serve`: the API, with the jobs worker in-process unless `--no-worker`. */
export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--port <n>', 'port (env AUDITRAIL_PORT, default 4000)')
      .option('--host <h>', 'host (env AUDITRAIL_HOST, default 127.0.0.1)')
      .option('--data-dir <dir>', 'SQLite data directory')
      .option('--demo', 'seed the demo organisation on an empty database')
      .option('--no-worker', 'serve the API only; jobs are run by `auditrail worker` processes')
      .action(ctx.action((opts: { port?: string; host?: string; dataDir?: string; demo?: boolean; worker?: boolean }) =>
        serve(ctx.config(opts), opts)));
  },
};

/**
 * Builds the console when web/dist is missing or older than its sources. Without Vite (an install
 * without devDependencies) or when the build fails, the server still starts: with the build there
 * is, or with the API alone, and says so.
 */
async function buildConsole() {
  try {
    await ensureConsoleBuilt({ log: say });
  } catch (e) {
    const state = consoleBuildState();
    const missingVite = e instanceof ViteMissingError;
    const why = missingVite ? 'vite is not installed' : 'its build failed';
    if (state.state === 'missing') {
      say(`warning: the console is not built (web/dist is missing) and ${why}: serving the API alone. `
        + (missingVite ? 'Build it with `npm run build:web` where the devDependencies are installed.' : 'Fix the error below and restart.'));
    } else {
      say(`warning: the console's build is older than its sources${state.state === 'stale' ? ` (web/${state.newer})` : ''} and ${why}: `
        + 'serving the existing build.');
    }
    if (!missingVite) say(String((e as Error).message));
  }
}

/** A path as a POSIX shell reads it back unchanged. */
const shellQuote = (s: string) => (/^[\w./:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** Runs until SIGINT or SIGTERM, then closes the server, the worker and the store and exits 0. */
async function serve(config: Config, opts: { demo?: boolean; worker?: boolean }): Promise<number> {
  const rt = await openRuntime(config);
  const orgs = await rt.services.directory.listOrgs();
  const base = `http://${config.host}:${config.port}`;
  if (orgs.length === 0) {
    if (opts.demo) {
      say('seeding the demo organisation Zylker (six months of activity)...');
      const r = await rt.demo.seedDemo();
      out(`demo organisation Zylker created (${r.orgId})`);
      out(`administrator login: ${r.adminEmail}  password: ${r.password}`);
    } else {
      const r = await rt.services.directory.createOrganisation({ name: 'My Organisation', adminEmail: 'admin@example.com' });
      out(`organisation created (${r.org.id})`);
      out(`administrator login: ${r.admin.email}  password: ${r.password}  (shown only now)`);
    }
    // The next steps name this server's own database and address, so they work as printed.
    const where = config.databaseUrl ? 'DATABASE_URL=<the same URL> ' : `AUDITRAIL_DATA_DIR=${shellQuote(config.dataDir)} `;
    out(`sign in to the console at ${base}; create API credentials with: ${where}npx auditrail client create`);
  }
  // Before the app is built: it serves web/dist only if web/dist is there when it starts.
  await buildConsole();
  const app = await createHttpApp(rt, { logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel, publicUrl: config.publicUrl,
    trustProxy: config.trustProxy });
  await app.listen({ port: config.port, host: config.host });
  out(`auditrail listening on ${base} (${rt.store.dialect}${rt.store.file ? `: ${rt.store.file}` : ''})`);
  const worker = opts.worker === false ? null : createAppWorker(rt, { leaseMs: config.workerLeaseMs });
  worker?.start();
  rt.services.heads.start(config.headsIntervalMs);
  if (!worker) out('running without a worker (--no-worker): jobs wait for an `auditrail worker`');
  await onStopSignal();
  await app.close();
  await worker?.stop();
  await rt.services.heads.stop();
  await rt.store.close();
  process.exit(0);
}
