import { createRequire } from 'node:module';
import { CommanderError } from 'commander';
import { loadConfig, type ConfigFlags } from './config/config.ts';
import { isAppError } from './domain/errors.ts';
import type { CliCommand, CliContext, CommandEntry } from './cli/command.ts';
import { buildProgram } from './cli/program.ts';
import { CliError, say } from './cli/output.ts';

/**
 * Every command, in the order `auditrail --help` lists them. Only the module of the command that
 * runs is loaded; src/cli/README.md says how to add one.
 */
export const COMMANDS: CommandEntry[] = [
  { name: 'serve', term: 'serve [options]', description: 'serve the API (and the worker)', module: 'entry/serve.ts' },
  { name: 'worker', term: 'worker', description: 'run the jobs worker alone (exports, retention, expired files)', module: 'entry/worker.ts' },
  { name: 'export', term: 'export [options]', description: 'export the audit log: schedule, follow, download and verify',
    module: 'cli/commands/export.ts' },
  { name: 'verify-export', term: 'verify-export [options] <file>', description: 'check an export\'s signed manifest (CSV or ZIP) offline',
    module: 'cli/commands/verify-export.ts' },
  { name: 'import', term: 'import [options]', description: 'import records from a CSV file (header: field api names), audited as one batch',
    module: 'cli/commands/import.ts' },
  { name: 'records', term: 'records', description: 'module records: export as CSV (audited)', module: 'cli/commands/records.ts' },
  { name: 'migrate', term: 'migrate', description: 'bring the database to the current schema', module: 'cli/commands/migrate.ts' },
  { name: 'demo', term: 'demo [options]', description: 'seed the demo organisation if absent', module: 'cli/commands/demo.ts' },
  { name: 'verify', term: 'verify [options]', description: 'walk the hash chain and check it against the signed heads; exit 0 only when intact',
    module: 'cli/commands/verify.ts' },
  { name: 'findings', term: 'findings [options]', description: 'anomaly findings: list, acknowledge, scan, evaluate a file offline',
    module: 'cli/commands/findings.ts' },
  { name: 'client', term: 'client', description: 'OAuth clients', module: 'cli/commands/client.ts' },
  { name: 'org', term: 'org', description: 'organisations', module: 'cli/commands/org.ts' },
  { name: 'retention', term: 'retention', description: 'audit log retention', module: 'cli/commands/retention.ts' },
  { name: 'user', term: 'user', description: 'users: create, update, list, set-password', module: 'cli/commands/user.ts' },
  { name: 'role', term: 'role', description: 'roles', module: 'cli/commands/role.ts' },
  { name: 'profile', term: 'profile', description: 'profiles', module: 'cli/commands/profile.ts' },
  { name: 'report', term: 'report', description: 'activity reports, saved reports and their scheduled runs', module: 'cli/commands/report.ts' },
  { name: 'sharing', term: 'sharing', description: 'data sharing: default access per module, sharing rules', module: 'cli/commands/sharing.ts' },
  { name: 'alert', term: 'alert', description: 'alert rules: create, list, test, deliveries and dead letters, retry',
    module: 'cli/commands/alert.ts' },
  { name: 'stream', term: 'stream', description: 'SIEM streams: the audit log to HTTPS, syslog or NATS (create, list, rewind, pause, delete)',
    module: 'cli/commands/stream.ts' },
];

// bin/auditrail.js runs the sources through tsx's require hook. An import() of a .ts file would
// go to Node's own ESM loader, which cannot read TypeScript; require() goes through the hook.
const requireSource = createRequire(import.meta.url);
const fromSource = async (module: string) => requireSource(`./${module}`) as unknown;
const VERSION = (requireSource('../package.json') as { version: string }).version;

/** Runs one CLI invocation; resolves to the exit code. `load` imports a module by its path from src/. */
export async function main(argv: string[], load: (module: string) => Promise<unknown> = fromSource): Promise<number> {
  let code = 0;
  const ctxFor = (program: { opts(): unknown }): CliContext => {
    const config: CliContext['config'] = (flags = {}) => loadConfig({ ...(program.opts() as ConfigFlags), ...flags });
    return {
      action: (run) => async (...args) => { code = await run(...args); },
      config,
      async withRuntime(opts, fn) {
        const { openRuntime } = await load('entry/runtime.ts') as typeof import('./entry/runtime.ts');
        const rt = await openRuntime(config(), opts);
        try { return await fn(rt); } finally { await rt.store.close(); }
      },
      async workerStarter(rt) {
        const { createAppWorker } = await load('jobs/index.ts') as typeof import('./jobs/index.ts');
        return () => {
          const worker = createAppWorker(rt, { maintenance: false });
          worker.start();
          return worker;
        };
      },
    };
  };
  try {
    const program = await buildProgram(COMMANDS, argv, ctxFor, (m) => load(m) as Promise<{ command: CliCommand }>, VERSION);
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof CliError) { say(`error: ${e.message}`); return e.exitCode; }
    if (isAppError(e)) { say(`error: ${e.code}: ${e.message}`); return 1; }
    say(`error: ${(e as Error).message}`);
    return 1;
  }
}
