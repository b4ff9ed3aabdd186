import type { Db, StoreDialect } from './db.ts';

/**
 * Durable cursors of the chain's consumers (alerts; later findings and SIEM streams): for each
 * consumer and organisation, the last sequence number processed. A consumer reads the entries
 * after it in chain order and moves it in the transaction that records what it produced, so a
 * process that dies loses nothing and repeats nothing it committed.
 */

export const getCursor = (db: Db, consumer: string, orgId: string) =>
  db.selectFrom('consumer_cursors').selectAll().where('consumer', '=', consumer).where('org_id', '=', orgId).executeTakeFirst();

/**
 * The cursor, locked for the rest of the transaction on PostgreSQL (SQLite's write transaction
 * already serialises), so two workers stepping the same consumer queue instead of both producing.
 */
export async function lockCursor(db: Db, dialect: StoreDialect, consumer: string, orgId: string) {
  let q = db.selectFrom('consumer_cursors').selectAll().where('consumer', '=', consumer).where('org_id', '=', orgId);
  if (dialect === 'postgres') q = q.forUpdate();
  return q.executeTakeFirst();
}

/** Starts a consumer's cursor at `seq` unless it has one. */
export const ensureCursor = (db: Db, consumer: string, orgId: string, seq: number, now: number) =>
  db.insertInto('consumer_cursors').values({ consumer, org_id: orgId, last_seq: seq, updated_at: now })
    .onConflict((oc) => oc.columns(['consumer', 'org_id']).doNothing()).execute();

/** Moves the cursor from `fromSeq` to `toSeq`; false when someone else moved it first. */
export async function advanceCursor(db: Db, consumer: string, orgId: string, fromSeq: number, toSeq: number, now: number) {
  const r = await db.updateTable('consumer_cursors').set({ last_seq: toSeq, updated_at: now })
    .where('consumer', '=', consumer).where('org_id', '=', orgId).where('last_seq', '=', fromSeq).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Sets the cursor wherever it is (a stream rewound to replay history). */
export const setCursor = (db: Db, consumer: string, orgId: string, seq: number, now: number) =>
  db.updateTable('consumer_cursors').set({ last_seq: seq, updated_at: now })
    .where('consumer', '=', consumer).where('org_id', '=', orgId).execute();

/** An organisation's entries after `afterSeq`, in chain order (purged entries are simply not there). */
export const entriesAfter = (db: Db, orgId: string, afterSeq: number, limit: number) =>
  db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).where('seq', '>', afterSeq)
    .orderBy('seq').limit(limit).execute();

/**
 * The organisations where the consumer is behind the chain head, over every organisation: what
 * the worker polls (one small join) to wake a consumer promptly. Organisations where the consumer
 * has no cursor have nothing for it.
 */
export async function laggingCursors(db: Db, consumer: string) {
  const rows = await db.selectFrom('consumer_cursors as c').innerJoin('audit_heads as h', 'h.org_id', 'c.org_id')
    .select(['c.org_id', 'c.last_seq', 'h.last_seq as head_seq']).where('c.consumer', '=', consumer)
    .whereRef('h.last_seq', '>', 'c.last_seq').execute();
  return rows.map((r) => ({ orgId: r.org_id, cursor: Number(r.last_seq), head: Number(r.head_seq) }));
}

/** Every cursor of an organisation, with the chain head: how far behind each consumer is. */
export async function orgCursors(db: Db, orgId: string) {
  const rows = await db.selectFrom('consumer_cursors as c').leftJoin('audit_heads as h', 'h.org_id', 'c.org_id')
    .select(['c.consumer', 'c.last_seq', 'c.updated_at', 'h.last_seq as head_seq']).where('c.org_id', '=', orgId).execute();
  return rows.map((r) => ({ consumer: r.consumer, cursor: Number(r.last_seq), head: Number(r.head_seq ?? 0),
    updatedAt: Number(r.updated_at) }));
}
