import type { Db } from './db.ts';
import type { StreamTable } from './schema.ts';

/** SIEM streams: their settings and their own durable cursors over the organisation's chain. */

export const insertStream = (db: Db, row: StreamTable) => db.insertInto('streams').values(row).execute();

export const getStream = (db: Db, orgId: string, id: string) =>
  db.selectFrom('streams').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

/** An organisation's streams, oldest first; only `ownerId`'s when given. */
export function listStreams(db: Db, orgId: string, ownerId?: string) {
  let q = db.selectFrom('streams').selectAll().where('org_id', '=', orgId);
  if (ownerId !== undefined) q = q.where('owner_id', '=', ownerId);
  return q.orderBy('created_at').orderBy('id').execute();
}

/** An organisation's active streams (the safety net that keeps their delivery jobs going). */
export const activeStreamIds = (db: Db, orgId: string) =>
  db.selectFrom('streams').select('id').where('org_id', '=', orgId).where('status', '=', 'active').execute();

export type StreamChange = Partial<Pick<StreamTable, 'name' | 'config' | 'secrets' | 'status' | 'cursor_seq' | 'last_sent_seq'
  | 'failures' | 'last_error' | 'last_error_at' | 'next_attempt_at' | 'gap_from' | 'gap_to' | 'gap_at'>>;

/** A person's change (settings, pause, rewind): bumps the version, so a delivery round under way moves nothing after it. */
export async function changeStream(db: Db, orgId: string, id: string, change: StreamChange, by: string, at: number) {
  const r = await db.updateTable('streams').set((eb) => ({ ...change, version: eb('version', '+', 1), modified_at: at, modified_by: by }))
    .where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export const deleteStream = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('streams').where('org_id', '=', orgId).where('id', '=', id).execute();

export interface CursorMove {
  cursor_seq: number;
  last_sent_seq?: number | null;
  delivered?: number;
  last_delivered_at?: number;
  gap?: { from: number; to: number; at: number };
}

/**
 * Moves a delivery round's cursor forward, only from where the round found it and while nobody
 * changed the stream since (its version): false otherwise, and the round stops. Clears the
 * failure count: the destination took the batch.
 */
export async function advanceCursor(db: Db, orgId: string, id: string, version: number, fromSeq: number, move: CursorMove) {
  const r = await db.updateTable('streams').set((eb) => ({
    cursor_seq: move.cursor_seq,
    ...(move.last_sent_seq !== undefined ? { last_sent_seq: move.last_sent_seq } : {}),
    ...(move.delivered ? { delivered_count: eb('delivered_count', '+', move.delivered), last_delivered_at: move.last_delivered_at ?? null,
      failures: 0, last_error: null, next_attempt_at: null } : {}),
    ...(move.gap ? { gap_from: move.gap.from, gap_to: move.gap.to, gap_at: move.gap.at } : {}),
  })).where('org_id', '=', orgId).where('id', '=', id).where('version', '=', version).where('cursor_seq', '=', fromSeq)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records a failed attempt (the error shown, the next attempt's time), unless the stream changed since the round read it. */
export async function recordFailure(db: Db, orgId: string, id: string, version: number, error: string, at: number, nextAt: number | null) {
  const r = await db.updateTable('streams').set((eb) => ({ failures: eb('failures', '+', 1), last_error: error, last_error_at: at,
    next_attempt_at: nextAt })).where('org_id', '=', orgId).where('id', '=', id).where('version', '=', version).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The lowest chain sequence among the organisation's entries at or after a time (rewinding to a time); null when none. */
export async function firstSeqFrom(db: Db, orgId: string, at: number): Promise<number | null> {
  const r = await db.selectFrom('audit_entries').select((eb) => eb.fn.min('seq').as('seq')).where('org_id', '=', orgId)
    .where('audited_at', '>=', at).executeTakeFirst();
  return r?.seq === null || r?.seq === undefined ? null : Number(r.seq);
}

/** The first entry after a sequence number (the oldest undelivered one: its time is the lag's). */
export const entryAfter = (db: Db, orgId: string, seq: number) =>
  db.selectFrom('audit_entries').select(['seq', 'audited_at']).where('org_id', '=', orgId).where('seq', '>', seq)
    .orderBy('seq').limit(1).executeTakeFirst();
