import { randomBytes } from 'node:crypto';
import type { Db } from './db.ts';

/**
 * A secret shared by every node on the same database (page-token signing), created on first
 * use. Insert-or-ignore then read, so concurrent first starts agree on one value.
 */
export async function sharedSecret(db: Db, key: string): Promise<string> {
  await db.insertInto('kv').values({ key, value: randomBytes(32).toString('hex') })
    .onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('kv').select('value').where('key', '=', key).executeTakeFirstOrThrow();
  return row.value;
}

/** Sets a value (an operational status such as the last verify's result: it vouches for nothing). */
export const putValue = (db: Db, key: string, value: string) =>
  db.insertInto('kv').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();

export const getValue = async (db: Db, key: string) =>
  (await db.selectFrom('kv').select('value').where('key', '=', key).executeTakeFirst())?.value;
