import type { Db } from './db.ts';
import type { OAuthClientTable, OAuthTokenTable } from './schema.ts';

/** OAuth clients and tokens. Secrets and tokens are stored as SHA-256 hashes only. */

export const insertClient = (db: Db, row: OAuthClientTable) => db.insertInto('oauth_clients').values(row).execute();

export const getClient = (db: Db, clientId: string) =>
  db.selectFrom('oauth_clients').selectAll().where('client_id', '=', clientId).executeTakeFirst();

export const listClients = (db: Db, orgId: string) =>
  db.selectFrom('oauth_clients').selectAll().where('org_id', '=', orgId).orderBy('created_at').execute();

export const revokeClientRow = (db: Db, orgId: string, clientId: string, at: number) =>
  db.updateTable('oauth_clients').set({ revoked_at: at }).where('org_id', '=', orgId).where('client_id', '=', clientId).execute();

export const insertToken = (db: Db, row: OAuthTokenTable) => db.insertInto('oauth_tokens').values(row).execute();

export const getToken = (db: Db, hash: string) =>
  db.selectFrom('oauth_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();

/** Revokes a token and, for a refresh token, every access token issued from it. */
export async function revokeTokenTree(db: Db, hash: string, at: number) {
  await db.updateTable('oauth_tokens').set({ revoked_at: at }).where('token_hash', '=', hash).where('revoked_at', 'is', null).execute();
  await db.updateTable('oauth_tokens').set({ revoked_at: at }).where('refresh_hash', '=', hash).where('revoked_at', 'is', null).execute();
}

export const revokeClientTokens = (db: Db, clientId: string, at: number) =>
  db.updateTable('oauth_tokens').set({ revoked_at: at }).where('client_id', '=', clientId).where('revoked_at', 'is', null).execute();

/** Revokes every token a user holds in the organisation (the user was disabled or deleted). */
export const revokeUserTokens = (db: Db, orgId: string, userId: string, at: number) =>
  db.updateTable('oauth_tokens').set({ revoked_at: at }).where('org_id', '=', orgId).where('user_id', '=', userId)
    .where('revoked_at', 'is', null).execute();

export const markTokenUsed = (db: Db, hash: string, at: number) =>
  db.updateTable('oauth_tokens').set({ revoked_at: at }).where('token_hash', '=', hash).where('revoked_at', 'is', null)
    .executeTakeFirst();
