import type { Db } from './db.ts';
import type { ConsoleSessionTable } from './schema.ts';

/** Console sessions. The cookie's value is stored as its SHA-256 hash only, like OAuth tokens. */

export const insertSession = (db: Db, row: ConsoleSessionTable) => db.insertInto('console_sessions').values(row).execute();

export const getSession = (db: Db, idHash: string) =>
  db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();

/** Ends a live session; returns whether it was live (a second sign-out ends nothing). */
export async function revokeSession(db: Db, idHash: string, at: number): Promise<boolean> {
  const r = await db.updateTable('console_sessions').set({ revoked_at: at }).where('id_hash', '=', idHash)
    .where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ends every live session of a user (their password changed, or they were deactivated). */
export const revokeUserSessions = (db: Db, orgId: string, userId: string, at: number) =>
  db.updateTable('console_sessions').set({ revoked_at: at }).where('org_id', '=', orgId).where('user_id', '=', userId)
    .where('revoked_at', 'is', null).execute();

/** Records activity on a session (what idle expiry counts from). Bookkeeping, not a change anyone audits. */
export const touchSession = (db: Db, idHash: string, at: number) =>
  db.updateTable('console_sessions').set({ last_seen_at: at }).where('id_hash', '=', idHash).where('last_seen_at', '<', at).execute();

/** Forgets sessions that ended (expired or signed out) before `before`. */
export const pruneSessions = (db: Db, before: number) =>
  db.deleteFrom('console_sessions').where((eb) => eb.or([eb('expires_at', '<', before), eb('revoked_at', '<', before)])).execute();
