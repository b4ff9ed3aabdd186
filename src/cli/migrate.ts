import type { Store } from '../store/db.ts';
import { migrateToLatest } from '../store/migrations.ts';
import type { Kysely } from 'kysely';
import { say } from './output.ts';

/** `auditrail migrate`: brings the database to the current schema. */
export async function migrateCommand(store: Store) {
  const applied = await migrateToLatest(store.db as Kysely<unknown>, store.dialect);
  say(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  return 0;
}
