import { sql } from 'kysely';
import type { Db, Store } from './db.ts';
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
  ip?: string;
  /** The record's name contains this text, case-insensitive (LIKE with its wildcards escaped). */
  recordName?: string;
  batchId?: string;
  /** Leaves out this actor's own `audit_log_viewed` entries (the reader's reads must not shift their pages). */
  withoutViewsOf?: string;
  /** Only entries after this sequence number, oldest first (following the log as it grows). */
  afterSeq?: number;
  /** Entries about this record or hanging off it (timeline). */
  aboutRecord?: string;
  /** With aboutRecord: only entries whose record is of these modules (the dependents). */
  dependentModules?: string[];
  desc: boolean;
  after?: { at: number; seq: number };
  limit: number;
  offset?: number;
}

/** Every column of an entry, in the order auditPageQuery selects them. */
const AUDIT_COLUMNS = ['id', 'org_id', 'seq', 'audited_at', 'actor_type', 'actor_id', 'actor_name', 'action', 'module', 'record_id',
  'record_name', 'parent_module', 'parent_id', 'source', 'ip', 'user_agent', 'batch_id', 'details', 'prev_hash', 'hash'] as const satisfies
  readonly (keyof AuditEntryTable)[];

// Fails to compile when a column of the table is missing above (the mapping below must name it too).
const _everyColumn: Exclude<keyof AuditEntryTable, (typeof AUDIT_COLUMNS)[number]> extends never ? true : never = true;
void _everyColumn;

/** The statement behind selectAuditEntries: the page's entries, every column, named in AUDIT_COLUMNS' order. */
export function auditPageQuery(db: Db, q: AuditSelect) {
  return buildAuditSelect(db, q).clearSelect().select(AUDIT_COLUMNS);
}

/**
 * A page of entries. Rows are read as arrays (store.selectRows) and made into objects here:
 * better-sqlite3 builds a row object property by property, a large share of the cost of a page;
 * an object literal of a fixed shape costs far less (bench/read.ts measures page reads).
 */
export async function selectAuditEntries(store: Store, q: AuditSelect): Promise<AuditEntryTable[]> {
  const rows = await store.selectRows(auditPageQuery(store.db, q));
  return rows.map((r) => ({
    id: r[0] as string, org_id: r[1] as string, seq: r[2] as number, audited_at: r[3] as number, actor_type: r[4] as string,
    actor_id: r[5] as string | null, actor_name: r[6] as string, action: r[7] as string, module: r[8] as string | null,
    record_id: r[9] as string | null, record_name: r[10] as string | null, parent_module: r[11] as string | null,
    parent_id: r[12] as string | null, source: r[13] as string, ip: r[14] as string | null, user_agent: r[15] as string | null,
    batch_id: r[16] as string | null, details: r[17] as string, prev_hash: r[18] as string, hash: r[19] as string,
  }));
}

/** The query behind selectAuditEntries, unexecuted (benchmarks compile it to run it raw). */
export function buildAuditSelect(db: Db, q: AuditSelect) {
  let query = db.selectFrom('audit_entries').selectAll().where('org_id', '=', q.orgId);
  if (q.from !== undefined) query = query.where('audited_at', '>=', q.from);
  if (q.to !== undefined) query = query.where('audited_at', '<=', q.to);
  // No users (a caller whose visibility names nobody): no entry matches, not even one whose
  // actor id happens to equal a placeholder.
  if (q.actorIds) query = q.actorIds.length ? query.where('actor_id', 'in', q.actorIds) : query.where(sql<boolean>`false`);
  if (q.actions) query = query.where('action', 'in', q.actions);
  if (q.modules) query = query.where('module', 'in', q.modules);
  if (q.sources) query = query.where('source', 'in', q.sources);
  if (q.recordId) query = query.where('record_id', '=', q.recordId);
  if (q.ip) query = query.where('ip', '=', q.ip);
  if (q.withoutViewsOf) {
    const id = q.withoutViewsOf;
    query = query.where((eb) => eb.or([eb('action', '!=', 'audit_log_viewed'), eb('actor_id', 'is', null), eb('actor_id', '!=', id)]));
  }
  if (q.batchId) query = query.where('batch_id', '=', q.batchId);
  if (q.recordName) {
    const pattern = `%${q.recordName.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where(sql<boolean>`lower(record_name) like ${pattern} escape '\\'`);
  }
  if (q.afterSeq !== undefined) {
    return query.where('seq', '>', q.afterSeq).orderBy('seq', 'asc').limit(q.limit);
  }
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
