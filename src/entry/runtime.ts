import path from 'node:path';
import pino from 'pino';
import type { Config } from '../config/config.ts';
import { openStore, storeSchemaStatus, type Store } from '../store/db.ts';
import { createRuntime, type Runtime } from '../services/runtime.ts';
import { createMailer } from '../services/mailer.ts';
import { CliError } from '../cli/output.ts';

/**
 * Opens the store and wires every service over it. By default the database is first brought to
 * the current schema; with `migrate: false` (commands that only read) it is left as it is, and a
 * schema other than this version's is refused with a CliError (exit code 2) saying what to do.
 */
export async function openRuntime(config: Config, opts: { migrate?: boolean } = {}): Promise<Runtime> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: opts.migrate });
  try {
    if (opts.migrate === false) await requireCurrentSchema(store);
  } catch (e) {
    await store.close();
    throw e;
  }
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const rt = createRuntime(store, logger, { publicUrl: config.publicUrl, keyDir: path.join(config.dataDir, 'integrity'),
    blobDir: path.join(config.dataDir, 'exports'), headsUrl: config.headsUrl,
    sessions: { idleMs: config.sessionIdleMinutes * 60_000, maxAgeMs: 12 * 3600_000 },
    mailer: createMailer(config.smtpUrl, config.smtpFrom), webhookAllowHttp: config.webhookAllowHttp,
    alerts: { smtpUrl: config.smtpUrl, smtpFrom: config.smtpFrom, webhookAllowHttp: config.webhookAllowHttp, claimMs: config.workerLeaseMs,
      consoleUrl: config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}` },
    streams: { allowHttp: config.webhookAllowHttp } });
  await rt.services.integrity.ensureRegistered();
  return rt;
}

async function requireCurrentSchema(store: Store) {
  const { pending, unknown } = await storeSchemaStatus(store);
  if (unknown.length) {
    throw new CliError(`the database schema is newer than this version of auditrail (it has ${unknown.join(', ')}): upgrade auditrail`, 2);
  }
  if (pending.length) {
    throw new CliError(`the database schema is older than this version (${pending.length} migration${pending.length === 1 ? '' : 's'} `
      + `to apply, from ${pending[0]}): run \`auditrail migrate\``, 2);
  }
}
