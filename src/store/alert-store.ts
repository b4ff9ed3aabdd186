import { sql } from 'kysely';
import type { Db, StoreDialect } from './db.ts';
import type { AlertDelivery, AlertDeliveryTable, AlertNotificationTable, AlertRuleTable } from './schema.ts';

/** Alert rules, their deliveries (emails and webhooks to send) and in-console notifications. */

export const insertRule = (db: Db, row: AlertRuleTable) => db.insertInto('alert_rules').values(row).execute();

export const updateRule = (db: Db, orgId: string, id: string, patch: Partial<AlertRuleTable>) =>
  db.updateTable('alert_rules').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

/** Removes a rule and its quiet periods; its pending deliveries end as dead (nothing can sign them any more). */
export async function deleteRule(db: Db, orgId: string, id: string, now: number) {
  await db.updateTable('alert_deliveries').set({ status: 'dead', last_error: 'the rule was deleted', updated_at: now })
    .where('org_id', '=', orgId).where('rule_id', '=', id).where('status', '=', 'pending').execute();
  await db.deleteFrom('alert_quiet').where('org_id', '=', orgId).where('rule_id', '=', id).execute();
  await db.deleteFrom('alert_rules').where('org_id', '=', orgId).where('id', '=', id).execute();
}

export const getRule = (db: Db, orgId: string, id: string) =>
  db.selectFrom('alert_rules').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

export const ruleByName = (db: Db, orgId: string, name: string) =>
  db.selectFrom('alert_rules').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();

/** An organisation's rules, oldest first; only `ownerId`'s when given. */
export function listRules(db: Db, orgId: string, ownerId?: string | null) {
  let q = db.selectFrom('alert_rules').selectAll().where('org_id', '=', orgId);
  if (ownerId !== undefined) q = ownerId === null ? q.where('owner_id', 'is', null) : q.where('owner_id', '=', ownerId);
  return q.orderBy('created_at').orderBy('id').execute();
}

export const enabledRules = (db: Db, orgId: string) =>
  db.selectFrom('alert_rules').selectAll().where('org_id', '=', orgId).where('enabled', '=', 1).orderBy('id').execute();

export const countRules = async (db: Db, orgId: string) =>
  Number((await db.selectFrom('alert_rules').select(sql<number>`count(*)`.as('n')).where('org_id', '=', orgId)
    .executeTakeFirstOrThrow()).n);

// ---- deliveries --------------------------------------------------------------------------------

export async function insertDeliveries(db: Db, rows: AlertDelivery[]) {
  for (let i = 0; i < rows.length; i += 500) {
    const part = rows.slice(i, i + 500);
    await db.insertInto('alert_deliveries').values(part.map(({ payload: _, ...row }) => row)).execute();
    await db.insertInto('alert_delivery_payloads').values(part.map((d) => ({ delivery_id: d.id, payload: d.payload }))).execute();
  }
}

/** The claimed rows with their payloads. */
async function withPayloads(db: Db, rows: AlertDeliveryTable[]): Promise<AlertDelivery[]> {
  if (rows.length === 0) return [];
  const payloads = new Map((await db.selectFrom('alert_delivery_payloads').selectAll().where('delivery_id', 'in', rows.map((r) => r.id)).execute())
    .map((p) => [p.delivery_id, p.payload]));
  // A missing payload (never expected) comes back empty, and the sender fails that delivery.
  return rows.map((r) => ({ ...r, payload: payloads.get(r.id) ?? '' }));
}

/**
 * Claims up to `limit` pending deliveries that are due (all organisations, or the given ids): each
 * one's attempt is counted and its next attempt moved to `now + leaseMs`, which is the claim, so a
 * sender that dies leaves it due again after the lease (delivered at least once). PostgreSQL: FOR
 * UPDATE SKIP LOCKED, so concurrent senders never take the same row; SQLite: the write transaction.
 */
export async function claimDeliveries(db: Db, dialect: StoreDialect, now: number, leaseMs: number, limit: number,
  ids?: readonly string[]): Promise<AlertDelivery[]> {
  if (ids && ids.length === 0) return [];
  const until = now + leaseMs;
  if (dialect === 'postgres') {
    const r = await sql<AlertDeliveryTable>`
      UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_at = ${until}, updated_at = ${now}
      WHERE id IN (
        SELECT id FROM alert_deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}
          ${ids ? sql`AND id IN (${sql.join(ids)})` : sql``}
        ORDER BY next_attempt_at, id LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(db);
    return withPayloads(db, r.rows);
  }
  return db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('alert_deliveries').selectAll().where('status', '=', 'pending').where('next_attempt_at', '<=', now);
    if (ids) q = q.where('id', 'in', ids);
    const rows = await q.orderBy('next_attempt_at').orderBy('id').limit(limit).execute();
    if (rows.length === 0) return [];
    await trx.updateTable('alert_deliveries').set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: until, updated_at: now }))
      .where('id', 'in', rows.map((r) => r.id)).execute();
    return withPayloads(trx, rows.map((r) => ({ ...r, attempts: r.attempts + 1, next_attempt_at: until, updated_at: now })));
  });
}

/** Whether any delivery is due now (the worker's cheap poll). */
export const anyDeliveryDue = async (db: Db, now: number) =>
  (await db.selectFrom('alert_deliveries').select('id').where('status', '=', 'pending').where('next_attempt_at', '<=', now)
    .limit(1).execute()).length > 0;

/**
 * Records an attempt's outcome while the claim holds (`claimedUntil` is what the claim set); false
 * when the claim lapsed and another sender took the delivery over, which then records its own.
 */
export async function settleDelivery(db: Db, d: { id: string; claimedUntil: number }, patch: Pick<AlertDeliveryTable,
  'status' | 'next_attempt_at' | 'last_error' | 'delivered_at' | 'updated_at'>) {
  const r = await db.updateTable('alert_deliveries').set(patch).where('id', '=', d.id).where('status', '=', 'pending')
    .where('next_attempt_at', '=', d.claimedUntil).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Marks delivered, in one statement, the deliveries of one claim (they share `claimedUntil`) that it still holds. */
export async function settleDelivered(db: Db, ids: readonly string[], claimedUntil: number, now: number) {
  if (ids.length === 0) return 0;
  const r = await db.updateTable('alert_deliveries').set({ status: 'delivered', delivered_at: now, last_error: null, updated_at: now })
    .where('id', 'in', ids).where('status', '=', 'pending').where('next_attempt_at', '=', claimedUntil).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** A dead delivery back to pending, due now, its attempts counted afresh; false unless it was dead. */
export async function reviveDelivery(db: Db, orgId: string, id: string, now: number) {
  const r = await db.updateTable('alert_deliveries').set({ status: 'pending', attempts: 0, next_attempt_at: now, updated_at: now })
    .where('org_id', '=', orgId).where('id', '=', id).where('status', '=', 'dead').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const getDelivery = (db: Db, orgId: string, id: string) =>
  db.selectFrom('alert_deliveries').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

export const deliveriesByIds = (db: Db, orgId: string, ids: readonly string[]) =>
  ids.length === 0 ? Promise.resolve([])
    : db.selectFrom('alert_deliveries').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute();

/** Newest first, at most `limit`, before the delivery `beforeId` when paging; narrowed to rules and a status when given. */
export function listDeliveries(db: Db, orgId: string, opts: { status?: string; ruleIds?: readonly string[]; limit: number; beforeId?: string }) {
  let q = db.selectFrom('alert_deliveries').selectAll().where('org_id', '=', orgId);
  if (opts.status) q = q.where('status', '=', opts.status);
  if (opts.ruleIds) q = opts.ruleIds.length ? q.where('rule_id', 'in', opts.ruleIds) : q.where(sql<boolean>`1 = 0`);
  if (opts.beforeId) q = q.where('id', '<', opts.beforeId);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

/** Removes delivered deliveries older than `before` (the dead ones stay until retried). */
export async function pruneDelivered(db: Db, before: number) {
  const old = (eb: Db) => eb.selectFrom('alert_deliveries').select('id').where('status', '=', 'delivered').where('updated_at', '<', before);
  await db.deleteFrom('alert_delivery_payloads').where('delivery_id', 'in', old(db)).execute();
  return db.deleteFrom('alert_deliveries').where('status', '=', 'delivered').where('updated_at', '<', before).execute();
}

// ---- notifications and quiet periods -----------------------------------------------------------

export async function insertNotifications(db: Db, rows: AlertNotificationTable[]) {
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('alert_notifications').values(rows.slice(i, i + 500)).execute();
}

/** Newest first; only those of rules owned by `ownerId` when given (null: the CLI's rules). */
export function listNotifications(db: Db, orgId: string, opts: { ownerId?: string; unread?: boolean; limit: number }) {
  let q = db.selectFrom('alert_notifications').selectAll().where('org_id', '=', orgId);
  if (opts.ownerId !== undefined) q = q.where('owner_id', '=', opts.ownerId);
  if (opts.unread) q = q.where('read_at', 'is', null);
  return q.orderBy('id', 'desc').limit(opts.limit).execute();
}

export async function countUnread(db: Db, orgId: string, ownerId?: string) {
  let q = db.selectFrom('alert_notifications').select(sql<number>`count(*)`.as('n')).where('org_id', '=', orgId).where('read_at', 'is', null);
  if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

/** Marks notifications read (the given ids, or all); only `ownerId`'s when given. Returns how many changed. */
export async function markNotificationsRead(db: Db, orgId: string, ids: readonly string[] | 'all', ownerId: string | undefined, now: number) {
  if (ids !== 'all' && ids.length === 0) return 0;
  let q = db.updateTable('alert_notifications').set({ read_at: now }).where('org_id', '=', orgId).where('read_at', 'is', null);
  if (ids !== 'all') q = q.where('id', 'in', ids);
  if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

export const getQuiet = (db: Db, orgId: string, ruleId: string, userKey: string) =>
  db.selectFrom('alert_quiet').select('fired_at').where('org_id', '=', orgId).where('rule_id', '=', ruleId).where('user_key', '=', userKey).executeTakeFirst();

export const putQuiet = (db: Db, orgId: string, ruleId: string, userKey: string, firedAt: number) =>
  db.insertInto('alert_quiet').values({ org_id: orgId, rule_id: ruleId, user_key: userKey, fired_at: firedAt })
    .onConflict((oc) => oc.columns(['rule_id', 'user_key']).doUpdateSet({ fired_at: firedAt })).execute();
