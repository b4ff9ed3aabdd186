import { sql } from 'kysely';
import type { Db } from './db.ts';
import type { AuditEntryTable } from './schema.ts';

/** Reads of the audit log: newest first by (audited_at, seq), keyset-paged. */
export interface AuditSelect {
  orgId: string;
  from?: number;
  to?: number;
  /** Only these actors; `null` means every actor (whole-organisation visibility). */
  actorIds: string[] | null;
  actions?: string[];
  modules?: string[];
  sources?: string[];
  recordId?: string;
  /** Entries about this record or hanging off it (timeline). */
  aboutRecord?: string;
  /** With aboutRecord: only entries whose record is of these modules (the dependents). */
  dependentModules?: string[];
  desc: boolean;
  after?: { at: number; seq: number };
  limit: number;
  offset?: number;
}

export async function selectAuditEntries(db: Db, q: AuditSelect): Promise<AuditEntryTable[]> {
  if (q.actorIds && q.actorIds.length === 0) return [];
  return buildAuditSelect(db, q).execute();
}

/** The query behind selectAuditEntries, unexecuted (benchmarks compile it to run it raw). */
export function buildAuditSelect(db: Db, q: AuditSelect) {
  let query = db.selectFrom('audit_entries').selectAll().where('org_id', '=', q.orgId);
  if (q.from !== undefined) query = query.where('audited_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('audited_at', '<=', q.to);
  if (q.actorIds) query = query.where('actor_id', 'in', q.actorIds.length ? q.actorIds : ['']);
  if (q.actions) query = query.where('action', 'in', q.actions);
  if (q.modules) query = query.where('module', 'in', q.modules);
  if (q.sources) query = query.where('source', 'in', q.sources);
  if (q.recordId) query = query.where('record_id', '=', q.recordId);
  if (q.aboutRecord) {
    const id = q.aboutRecord;
    query = query.where((eb) => eb.or([eb('record_id', '=', id), eb('parent_id', '=', id)]));
    if (q.dependentModules) query = query.where('module', 'in', q.dependentModules).where('parent_id', '=', id);
  }
  if (q.after) {
    const { at, seq } = q.after;
    // A row-value comparison is a bound the index can seek to (SQLite and PostgreSQL alike), so
    // page 1,000 costs what page 1 does; the equivalent OR form made SQLite scan every row before.
    query = query.where(q.desc
      ? sql<boolean>`(audited_at, seq) < (${at}, ${seq})`
      : sql<boolean>`(audited_at, seq) > (${at}, ${seq})`);
  }
  const dir = q.desc ? 'desc' : 'asc';
  query = query.orderBy('audited_at', dir).orderBy('seq', dir).limit(q.limit);
  if (q.offset) query = query.offset(q.offset);
  return query;
}
