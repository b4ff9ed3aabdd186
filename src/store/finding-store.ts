import type { Db } from './db.ts';
import type { FindingTable } from './schema.ts';

/** Anomaly findings, the detectors' state and the thresholds, per organisation. */

export interface FindingSelect {
  orgId: string;
  from?: number;
  to?: number;
  kinds?: string[];
  /** Whose findings: null for everyone's (findings about no single user included). */
  userIds: string[] | null;
  limit: number;
}

/** Findings overlapping [from, to], newest first. */
export function listFindings(db: Db, q: FindingSelect) {
  let query = db.selectFrom('findings').selectAll().where('org_id', '=', q.orgId);
  if (q.from !== undefined) query = query.where('ended_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('started_at', '<=', q.to);
  if (q.kinds?.length) query = query.where('kind', 'in', q.kinds);
  if (q.userIds !== null) {
    if (q.userIds.length === 0) return Promise.resolve([] as FindingTable[]);
    query = query.where('user_id', 'in', q.userIds);
  }
  return query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(q.limit).execute();
}

export const getFinding = (db: Db, orgId: string, id: string) =>
  db.selectFrom('findings').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

/**
 * Inserts findings, or brings a finding a detector extended (same org and key) up to date: its
 * id, creation time and acknowledgement stay.
 */
/** Stores findings, a later scan's by the same key extending the earlier row; returns the rows that are new. */
export async function upsertFindings(db: Db, rows: FindingTable[]): Promise<FindingTable[]> {
  if (rows.length === 0) return [];
  const known = new Set((await db.selectFrom('findings').select('finding_key').where('org_id', '=', rows[0].org_id)
    .where('finding_key', 'in', rows.map((r) => r.finding_key)).execute()).map((r) => r.finding_key));
  for (const row of rows) {
    await db.insertInto('findings').values(row).onConflict((oc) => oc.columns(['org_id', 'finding_key']).doUpdateSet({
      severity: row.severity, user_id: row.user_id, user_name: row.user_name, started_at: row.started_at, ended_at: row.ended_at,
      explanation: row.explanation, entry_ids: row.entry_ids, updated_at: row.updated_at,
    })).execute();
  }
  return rows.filter((r) => !known.has(r.finding_key));
}

/** Marks a finding acknowledged unless it already is; whether this call did. */
export async function acknowledgeFinding(db: Db, orgId: string, id: string, by: { id: string | null; name: string }, at: number, note: string | null) {
  const r = await db.updateTable('findings').set({ acknowledged_at: at, acknowledged_by: by.id, acknowledged_by_name: by.name,
    acknowledgement_note: note }).where('org_id', '=', orgId).where('id', '=', id).where('acknowledged_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const getDetectorState = (db: Db, orgId: string) =>
  db.selectFrom('finding_detector_state').selectAll().where('org_id', '=', orgId).executeTakeFirst();

/**
 * Moves the organisation's scan from `fromCursor` to `toCursor` with the detectors' new state.
 * Compare-and-set: false when another scanner moved the cursor first (this scan's work is then
 * rolled back by the caller), so two workers never apply the same entries twice.
 */
export async function advanceDetectorState(db: Db, orgId: string, fromCursor: number, toCursor: number, state: string, at: number) {
  await db.insertInto('finding_detector_state').values({ org_id: orgId, state: '{}', finding_scan_cursor: 0, updated_at: at })
    .onConflict((oc) => oc.column('org_id').doNothing()).execute();
  const r = await db.updateTable('finding_detector_state').set({ state, finding_scan_cursor: toCursor, updated_at: at })
    .where('org_id', '=', orgId).where('finding_scan_cursor', '=', fromCursor).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const getFindingSettings = async (db: Db, orgId: string) =>
  (await db.selectFrom('finding_settings').select('settings').where('org_id', '=', orgId).executeTakeFirst())?.settings;

export const putFindingSettings = (db: Db, orgId: string, settings: string, at: number) =>
  db.insertInto('finding_settings').values({ org_id: orgId, settings, updated_at: at })
    .onConflict((oc) => oc.column('org_id').doUpdateSet({ settings, updated_at: at })).execute();

/** The organisation's entries after a sequence number, in chain order (what the detectors read next). */
export const entriesAfter = (db: Db, orgId: string, afterSeq: number, limit: number) =>
  db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
