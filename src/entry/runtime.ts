import path from 'node:path';
import pino from 'pino';
import type { Config } from '../config/config.ts';
import { openStore } from '../store/db.ts';
import { createRuntime, type Runtime } from '../services/runtime.ts';

/** Opens the store (migrating it) and wires every service over it. */
export async function openRuntime(config: Config, opts: { migrate?: boolean } = {}): Promise<Runtime> {
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: opts.migrate });
  const logger = pino({ level: config.logLevel }, pino.destination(2));
  const rt = createRuntime(store, logger, { publicUrl: config.publicUrl, keyDir: path.join(config.dataDir, 'integrity'),
    blobDir: path.join(config.dataDir, 'exports'), headsUrl: config.headsUrl });
  await rt.services.integrity.ensureRegistered();
  return rt;
}
