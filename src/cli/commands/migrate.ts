import { migrateStore, openStore, type Store } from '../../store/db.ts';
import type { CliCommand } from '../command.ts';
import { say } from '../output.ts';

/** `auditrail migrate`: brings the database to the current schema. */
export async function migrateCommand(store: Store) {
  const applied = await migrateStore(store);
  say(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    // The store alone, unmigrated: the services are not needed, and migrating is this command's output.
    cmd.action(ctx.action(async () => {
      const config = ctx.config();
      const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, migrate: false });
      try { return await migrateCommand(store); } finally { await store.close(); }
    }));
  },
};
