import { sql } from 'kysely';
import type { Db } from './db.ts';

/** Rate-limit counters and the tallies of failed logins past the limit; see schema.ts. */

/**
 * Counts `n` hits under `key` in the fixed window starting at `windowStart`, in one atomic
 * upsert, so concurrent nodes never lose a hit. A newer window restarts the count; a hit
 * stamped with an older window (a node whose clock lags) joins the current one.
 */
export async function hitCounter(db: Db, key: string, windowStart: number, n = 1): Promise<{ count: number; lockedUntil: number | null }> {
  const row = await db.insertInto('rate_limits').values({ key, window_start: windowStart, count: n, locked_until: null })
    .onConflict((oc) => oc.column('key').doUpdateSet({
      count: sql`CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.count + excluded.count ELSE excluded.count END`,
      window_start: sql`CASE WHEN rate_limits.window_start >= excluded.window_start THEN rate_limits.window_start ELSE excluded.window_start END`,
    }))
    .returning(['count', 'locked_until']).executeTakeFirstOrThrow();
  return { count: Number(row.count), lockedUntil: row.locked_until === null ? null : Number(row.locked_until) };
}

/** Refuses everything under `key` until `until` (never shortens a longer lock). */
export const lockCounter = (db: Db, key: string, until: number) =>
  db.updateTable('rate_limits')
    .set({ locked_until: sql`CASE WHEN locked_until IS NOT NULL AND locked_until > ${until} THEN locked_until ELSE ${until} END` })
    .where('key', '=', key).execute();

/** Forgets the counters and lockouts under these keys (rate-limits.unlockKeys names a key's failure buckets too). */
export const unlockCounters = (db: Db, keys: readonly string[]) =>
  db.deleteFrom('rate_limits').where('key', 'in', keys).execute();

/** The sum of the counts under these keys (a sliding window's buckets). */
export async function sumCounters(db: Db, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const row = await db.selectFrom('rate_limits').select((eb) => eb.fn.sum<number | string | null>('count').as('n'))
    .where('key', 'in', keys).executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Forgets counters whose window ended before `before` and whose lock, if any, is over. */
export const pruneCounters = (db: Db, before: number, now: number) =>
  db.deleteFrom('rate_limits').where('window_start', '<', before)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now)])).execute();

/** Counts one failed login past the limit for a client in the minute starting at `minuteStart`. */
export const tallyLoginFailure = (db: Db, row: { org_id: string; client_id: string; minute_start: number; last_ip: string | null }) =>
  db.insertInto('login_failure_tallies').values({ ...row, attempts: 1 })
    .onConflict((oc) => oc.columns(['org_id', 'client_id', 'minute_start']).doUpdateSet({
      attempts: sql`login_failure_tallies.attempts + 1`,
      last_ip: sql`excluded.last_ip`,
    })).execute();

/** The organisation's tallies of minutes that started before `before`, oldest first. */
export const finishedTallies = (db: Db, orgId: string, before: number) =>
  db.selectFrom('login_failure_tallies').select(['client_id', 'minute_start', 'last_ip']).where('org_id', '=', orgId)
    .where('minute_start', '<', before).orderBy('minute_start').orderBy('client_id').execute();

/** Removes one tally and returns it: whoever gets the row writes its summary, exactly once. */
export async function takeTally(db: Db, orgId: string, clientId: string, minuteStart: number) {
  const row = await db.deleteFrom('login_failure_tallies').where('org_id', '=', orgId).where('client_id', '=', clientId)
    .where('minute_start', '=', minuteStart).returning(['attempts', 'last_ip']).executeTakeFirst();
  return row ? { attempts: Number(row.attempts), lastIp: row.last_ip } : undefined;
}
