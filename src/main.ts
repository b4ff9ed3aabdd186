import path from 'node:path';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { loadConfig, type Config, type ConfigFlags } from './config/config.ts';
import { openStore, type Store } from './store/db.ts';
import { sharedSecret } from './store/kv-store.ts';
import { createRuntime, type Runtime } from './services/runtime.ts';
import { buildApp } from './http/app.ts';
import { createAppWorker } from './jobs/index.ts';
import { createPageTokenCodec } from './http/page-token.ts';
import { isAppError } from './domain/errors.ts';
import { CliError, out, say } from './cli/output.ts';
import { migrateCommand } from './cli/migrate.ts';
import { verifyCommand, type VerifyFlags } from './cli/verify.ts';
import { clientCodeCommand, clientCreateCommand, clientListCommand, clientRevokeCommand } from './cli/client.ts';
import { orgCreateCommand, orgListCommand } from './cli/org.ts';
import { demoCommand } from './cli/demo.ts';
import { orgSettingsCommand, retentionRunCommand } from './cli/retention.ts';
import { exportCommand, verifyExportCommand } from './cli/export.ts';
import { importCommand } from './cli/import.ts';
import {
  profileCloneCommand, profileUpdateCommand, roleCreateCommand, roleUpdateCommand, userCreateCommand, userListCommand,
  userUpdateCommand,
} from './cli/directory.ts';

/** Opens the store (migrating it) and wires every service over it. */
export async function openRuntime(config: Config, opts: { migrate?: boolean } = {}): Promise<Runtime> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: opts.migrate });
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const rt = createRuntime(store, logger, { publicUrl: config.publicUrl, keyDir: path.join(config.dataDir, 'integrity'),
    blobDir: path.join(config.dataDir, 'exports'), headsUrl: config.headsUrl });
  await rt.services.integrity.ensureRegistered();
  return rt;
}

/** Builds the HTTP app over a runtime (used by `serve`, the SDK test and the benchmarks). */
export async function createHttpApp(rt: Runtime, opts: { logLevel?: string; publicUrl?: string; trustProxy?: number } = {}) {
  const secret = await sharedSecret(rt.store.db, 'page_token_secret');
  return buildApp({ services: rt.services, pageTokens: createPageTokenCodec(secret), logger: rt.logger,
    logLevel: opts.logLevel, publicUrl: opts.publicUrl, trustProxy: opts.trustProxy });
}

async function serve(config: Config, opts: { demo?: boolean; worker?: boolean }) {
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
    out('create API credentials with: npx auditrail client create');
  }
  const app = await createHttpApp(rt, { logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel, publicUrl: config.publicUrl,
    trustProxy: config.trustProxy });
  await app.listen({ port: config.port, host: config.host });
  out(`auditrail listening on ${base} (${rt.store.dialect}${rt.store.file ? `: ${rt.store.file}` : ''})`);
  const worker = opts.worker === false ? null : createAppWorker(rt, { leaseMs: config.workerLeaseMs });
  worker?.start();
  rt.services.heads.start(config.headsIntervalMs);
  if (!worker) out('running without a worker (--no-worker): jobs wait for an `auditrail worker`');
  const stop = async () => {
    await app.close();
    await worker?.stop();
    await rt.services.heads.stop();
    await rt.store.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise<number>(() => {});
}

/** Runs one CLI invocation; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('auditrail').description('tamper-evident audit log and recycle bin speaking Zoho CRM API v8')
    .option('--data-dir <dir>', 'SQLite data directory (default ./data, env AUDITRAIL_DATA_DIR)')
    .exitOverride();
  let code = 0;
  const withRuntime = (fn: (rt: Runtime, opts: Record<string, unknown>) => Promise<number>, migrate = true) =>
    async (opts: Record<string, unknown>) => {
      const config = loadConfig({ ...(program.opts() as ConfigFlags), ...(opts as ConfigFlags) });
      const rt = await openRuntime(config, { migrate });
      try {
        code = await fn(rt, opts);
      } finally {
        await rt.store.close();
      }
    };

  program.command('serve').description('serve the API (and the worker)')
    .option('--port <n>', 'port (env AUDITRAIL_PORT, default 4000)')
    .option('--host <h>', 'host (env AUDITRAIL_HOST, default 127.0.0.1)')
    .option('--data-dir <dir>', 'SQLite data directory')
    .option('--demo', 'seed the demo organisation on an empty database')
    .option('--no-worker', 'serve the API only; jobs are run by `auditrail worker` processes')
    .action(async (opts) => {
      const config = loadConfig({ ...(program.opts() as ConfigFlags), ...opts });
      code = await serve(config, opts);
    });
  program.command('worker').description('run the jobs worker alone (exports, retention, expired files)')
    .action(async () => {
      const config = loadConfig(program.opts() as ConfigFlags);
      const rt = await openRuntime(config);
      const worker = createAppWorker(rt, { leaseMs: config.workerLeaseMs });
      worker.start();
      rt.services.heads.start(config.headsIntervalMs);
      out(`auditrail worker ${worker.id} running (${rt.store.dialect})`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await worker.stop();
      await rt.services.heads.stop();
      await rt.store.close();
    });
  program.command('export').description('export the audit log: schedule, follow, download and verify')
    .option('--criteria <file.json>', 'criteria as in the Export Audit Log API (or the whole request body)')
    .option('--out <dir>', 'where to write the file (default: current directory)')
    .option('--user <email>', 'export as this user (default: the first Administrator)').option('--org <id>')
    .action(withRuntime((rt, o) => exportCommand(rt, o, () => {
      const worker = createAppWorker(rt, { maintenance: false });
      worker.start();
      return worker;
    })));
  program.command('verify-export <file>').description('check an export ZIP\'s signed manifest offline')
    .option('--public-key <file>', 'PEM or the JSON of /api/integrity/public-key (default: this installation\'s key)')
    .action(async (file: string, o: { publicKey?: string }) => {
      if (o.publicKey) {
        code = await verifyExportCommand(file, o, async () => []);
        return;
      }
      await withRuntime((rt) => verifyExportCommand(file, o, async () => rt.services.integrity.trustedKeys()))({});
    });
  program.command('import').description('import records from a CSV file (header: field api names), audited as one batch')
    .requiredOption('--module <api name>').requiredOption('--file <file.csv>')
    .option('--user <email>', 'import as this user (default: the first Administrator)').option('--org <id>')
    .action(withRuntime((rt, o) => importCommand(rt, o as { module: string; file: string; user?: string; org?: string })));
  program.command('migrate').description('bring the database to the current schema')
    .action(async () => {
      const config = loadConfig(program.opts() as ConfigFlags);
      const store: Store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false });
      try { code = await migrateCommand(store); } finally { await store.close(); }
    });
  program.command('demo').description('seed the demo organisation if absent')
    .option('--history <n>', 'bulk-load N historic audit entries over the last three years')
    .action(withRuntime((rt, o) => demoCommand(rt, o as { history?: string })));
  program.command('verify').description('walk the hash chain and check it against the signed heads; exit 0 only when intact')
    .option('--org <id>', 'organisation id (default: all)')
    .option('--since <seq>', 'check only the entries after the newest signed head at or before this sequence number')
    .option('--heads <file>', 'a heads log kept elsewhere to check against as well (repeatable)', (v: string, a: string[]) => [...a, v], [])
    .option('--public-key <file>', 'trust heads and checkpoints signed by this key as well (PEM or the JSON of /api/integrity/public-key)')
    .option('--json', 'one JSON object per organisation')
    .action(withRuntime((rt, o) => verifyCommand(rt, o as VerifyFlags)));

  const client = program.command('client').description('OAuth clients');
  client.command('create').description('create a self-client and print client_id, client_secret, refresh_token')
    .option('--org <id>', 'organisation id (default: the first)')
    .option('--user <email>', 'the user the client acts as (default: the first Administrator)')
    .option('--scopes <list>', 'comma-separated scopes (default: everything the user may do)')
    .option('--name <name>', 'client name')
    .option('--json', 'print exactly one JSON object')
    .action(withRuntime((rt, o) => clientCreateCommand(rt, o)));
  client.command('code').description('print a one-time grant code (10 minutes) for the authorization_code grant')
    .requiredOption('--client-id <id>').option('--scopes <list>')
    .action(withRuntime((rt, o) => clientCodeCommand(rt, o as { clientId: string; scopes?: string })));
  client.command('list').option('--org <id>').action(withRuntime((rt, o) => clientListCommand(rt, o)));
  client.command('revoke').requiredOption('--client-id <id>').option('--org <id>')
    .action(withRuntime((rt, o) => clientRevokeCommand(rt, o as { clientId: string; org?: string })));

  const org = program.command('org').description('organisations');
  org.command('create').requiredOption('--name <name>').requiredOption('--admin-email <email>')
    .option('--time-zone <tz>', 'IANA time zone', 'UTC').option('--json')
    .action(withRuntime((rt, o) => orgCreateCommand(rt, o as { name: string; adminEmail: string; timeZone?: string; json?: boolean })));
  org.command('list').action(withRuntime((rt) => orgListCommand(rt)));
  org.command('settings').description('show or change audit log window, retention, legal hold, recycle bin period, API rate limit')
    .option('--org <id>').option('--audit-log-window-days <n>').option('--retention-years <n>', '1 to 10')
    .option('--legal-hold <on|off>').option('--recycle-bin-days <n>')
    .option('--api-requests-per-minute <n>', 'API requests each access token may make per minute (default 6000)')
    .action(withRuntime((rt, o) => orgSettingsCommand(rt, o)));
  program.command('retention').description('audit log retention').command('run')
    .description('purge entries older than each organisation\'s retention now (the server does this daily)')
    .option('--org <id>').action(withRuntime((rt, o) => retentionRunCommand(rt, o)));

  const user = program.command('user').description('users');
  user.command('create').requiredOption('--email <email>').option('--first-name <n>').requiredOption('--last-name <n>')
    .requiredOption('--role <name or id>').requiredOption('--profile <name or id>').option('--org <id>')
    .action(withRuntime((rt, o) => userCreateCommand(rt, o as never)));
  user.command('update').requiredOption('--email <email>').option('--first-name <n>').option('--last-name <n>')
    .option('--new-email <email>').option('--role <name or id>').option('--profile <name or id>')
    .option('--status <active|disabled>').option('--email-tracking <on|off>', 'audit the emails this user sends').option('--org <id>')
    .action(withRuntime((rt, o) => userUpdateCommand(rt, o as never)));
  user.command('list').option('--org <id>').action(withRuntime((rt, o) => userListCommand(rt, o)));
  const role = program.command('role').description('roles');
  role.command('create').requiredOption('--name <name>').requiredOption('--reports-to <role>').option('--description <d>')
    .option('--org <id>').action(withRuntime((rt, o) => roleCreateCommand(rt, o as never)));
  role.command('update').requiredOption('--role <name or id>').option('--name <name>').option('--reports-to <role>')
    .option('--description <d>').option('--org <id>').action(withRuntime((rt, o) => roleUpdateCommand(rt, o as never)));
  const profile = program.command('profile').description('profiles');
  profile.command('clone').requiredOption('--from <profile>').requiredOption('--name <name>').option('--description <d>')
    .option('--permissions <json>').option('--org <id>').action(withRuntime((rt, o) => profileCloneCommand(rt, o as never)));
  profile.command('update').requiredOption('--profile <name or id>').option('--name <name>').option('--description <d>')
    .option('--permissions <json>').option('--org <id>').action(withRuntime((rt, o) => profileUpdateCommand(rt, o as never)));

  try {
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
