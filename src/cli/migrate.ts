import { migrateStore, type Store } from '../store/db.ts';
import { say } from './output.ts';

/** `auditrail migrate`: brings the database to the current schema. */
export async function migrateCommand(store: Store) {
  const applied = await migrateStore(store);
  say(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  return 0;
}
