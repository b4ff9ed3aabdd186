import type { Db } from './db.ts';
import type { AuditCheckpointTable, SignedHeadTable } from './schema.ts';

/** Signing keys' public halves and the signed checkpoints retention purges leave behind. */

export const registerPublicKey = (db: Db, keyId: string, publicKey: string, at: number) =>
  db.insertInto('integrity_keys').values({ key_id: keyId, public_key: publicKey, created_at: at })
    .onConflict((oc) => oc.column('key_id').doNothing()).execute();

export const listPublicKeys = (db: Db) => db.selectFrom('integrity_keys').selectAll().orderBy('created_at').execute();

export const latestCheckpoint = (db: Db, orgId: string) =>
  db.selectFrom('audit_checkpoints').selectAll().where('org_id', '=', orgId).orderBy('seq', 'desc').limit(1).executeTakeFirst();

export const insertCheckpoint = (db: Db, row: AuditCheckpointTable) => db.insertInto('audit_checkpoints').values(row).execute();

/** The oldest entries after a sequence number, in chain order (the purge candidates). */
export const chainPrefix = (db: Db, orgId: string, afterSeq: number, limit: number) =>
  db.selectFrom('audit_entries').select(['seq', 'hash', 'audited_at']).where('org_id', '=', orgId).where('seq', '>', afterSeq)
    .orderBy('seq').limit(limit).execute();

/**
 * Deletes a prefix of the chain. The append-only trigger lets it through only while the
 * permit row exists, and the permit lives and dies inside the caller's transaction.
 */
export async function purgeChainPrefix(db: Db, orgId: string, afterSeq: number, throughSeq: number, at: number) {
  await db.insertInto('audit_purge_permits').values({ org_id: orgId, granted_at: at }).execute();
  const r = await db.deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '>', afterSeq)
    .where('seq', '<=', throughSeq).executeTakeFirst();
  await db.deleteFrom('audit_purge_permits').where('org_id', '=', orgId).execute();
  return Number(r.numDeletedRows);
}

export const insertSignedHead = (db: Db, row: SignedHeadTable) => db.insertInto('signed_heads').values(row).execute();

/** Every signed head of an organisation, oldest first. */
export const listSignedHeads = (db: Db, orgId: string) =>
  db.selectFrom('signed_heads').selectAll().where('org_id', '=', orgId).orderBy('seq').orderBy('signed_at').execute();

export const latestSignedHead = (db: Db, orgId: string) =>
  db.selectFrom('signed_heads').selectAll().where('org_id', '=', orgId).orderBy('seq', 'desc').orderBy('signed_at', 'desc')
    .limit(1).executeTakeFirst();

export const entryAt = (db: Db, orgId: string, seq: number) =>
  db.selectFrom('audit_entries').select('hash').where('org_id', '=', orgId).where('seq', '=', seq).executeTakeFirst();

/** The last entry actually in the chain (not what the mutable audit_heads row says). */
export const lastChainEntry = (db: Db, orgId: string) =>
  db.selectFrom('audit_entries').select(['seq', 'hash', 'audited_at']).where('org_id', '=', orgId).orderBy('seq', 'desc').limit(1)
    .executeTakeFirst();
