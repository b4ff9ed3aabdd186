import { sql, type RawBuilder } from 'kysely';
import type { ReadFilter } from '../domain/sharing.ts';
import type { Db } from './db.ts';
import type { RecordTable } from './schema.ts';

/** CRM records. Normal reads never see deleted rows (invariant 5); every query carries the org. */

const INSERT_CHUNK = 1000;
// Bound values per statement stay far below SQLite's 32,766 and PostgreSQL's 65,535.
const ID_CHUNK = 500;

export async function insertRecords(db: Db, rows: readonly RecordTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await db.insertInto('records').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
}

/** Rows with these ids in this org and module, deleted or not (callers tell the cases apart). */
export async function getRecordsByIds(db: Db, orgId: string, module: string, ids: readonly string[]): Promise<RecordTable[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('records').selectAll().where('org_id', '=', orgId).where('module', '=', module)
    .where('id', 'in', [...new Set(ids)]).execute();
}

/** Live rows with these ids in this org, any module (lookups, parents). */
export async function getLiveRecordsAnyModule(db: Db, orgId: string, ids: readonly string[]) {
  return (await byPrimaryKey(db, ids)).filter((r) => r.org_id === orgId && r.deleted_at === null);
}

/**
 * Rows by id through the primary key alone; the caller checks the organisation. With
 * `org_id = ? AND id IN (...)` SQLite (no statistics) may pick the (org_id, deleted_at) index
 * and read every row of the organisation instead.
 */
async function byPrimaryKey(db: Db, ids: readonly string[]) {
  const unique = [...new Set(ids)];
  const out: { id: string; org_id: string; module: string; name: string | null; owner_id: string; parent_id: string | null;
    deleted_at: number | null }[] = [];
  for (let i = 0; i < unique.length; i += ID_CHUNK) {
    out.push(...await db.selectFrom('records').select(['id', 'org_id', 'module', 'name', 'owner_id', 'parent_id', 'deleted_at'])
      .where('id', 'in', unique.slice(i, i + ID_CHUNK)).execute());
  }
  return out;
}

/** Names of records (deleted or not), for rendering lookups. */
export async function getRecordNames(db: Db, orgId: string, ids: readonly string[]) {
  return (await byPrimaryKey(db, ids)).filter((r) => r.org_id === orgId);
}

export type RecordPatch = Pick<RecordTable, 'name' | 'owner_id' | 'data' | 'modified_by' | 'modified_at' | 'parent_module' | 'parent_id'>;

export async function updateRecordRow(db: Db, orgId: string, id: string, patch: RecordPatch) {
  await db.updateTable('records').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();
}

const PATCH_COLUMNS = ['name', 'owner_id', 'data', 'modified_by', 'modified_at', 'parent_module', 'parent_id'] as const;
const UPDATE_CHUNK = 100;

/**
 * Applies many rows' patches, as if one after the other (of several patches to one id, the last
 * wins), with one `UPDATE ... FROM (VALUES ...)` per 100 rows instead of a statement a row: a
 * column all patches agree on is set to that value, the others come from the VALUES row whose
 * first column is the id (VALUES columns are named column1, column2, ... on both dialects).
 */
export async function updateRecordRows(db: Db, orgId: string, patches: readonly (RecordPatch & { id: string })[]) {
  const latest = new Map<string, RecordPatch & { id: string }>();
  for (const p of patches) latest.set(p.id, p);
  const rows = [...latest.values()];
  for (let i = 0; i < rows.length; i += UPDATE_CHUNK) {
    const chunk = rows.slice(i, i + UPDATE_CHUNK);
    const [first] = chunk;
    if (chunk.length === 1) {
      const { id, ...patch } = first;
      await updateRecordRow(db, orgId, id, patch);
      continue;
    }
    const varying = PATCH_COLUMNS.filter((c) => chunk.some((r) => r[c] !== first[c]));
    const assignments = PATCH_COLUMNS.map((c) => {
      const k = varying.indexOf(c);
      if (k < 0) return sql`${sql.ref(c)} = ${first[c]}`;
      const v = sql.ref(`v.column${k + 2}`);
      // VALUES parameters are text on PostgreSQL; the one integer column says what it holds.
      return sql`${sql.ref(c)} = ${c === 'modified_at' ? sql`cast(${v} as bigint)` : v}`;
    });
    const values = sql.join(chunk.map((r) => sql`(${sql.join([r.id, ...varying.map((c) => r[c])])})`));
    await sql`update records set ${sql.join(assignments)} from (values ${values}) as v
      where records.org_id = ${orgId} and records.id = v.column1`.execute(db);
  }
}

/** Live dependents (notes, attachments, activities) of the given parents. */

export async function getLiveChildren(db: Db, orgId: string, parentIds: readonly string[]): Promise<RecordTable[]> {
  const out: RecordTable[] = [];
  for (let i = 0; i < parentIds.length; i += ID_CHUNK) {
    out.push(...await db.selectFrom('records').selectAll().where('org_id', '=', orgId)
      .where('parent_id', 'in', parentIds.slice(i, i + ID_CHUNK)).where('deleted_at', 'is', null).execute());
  }
  return out;
}

/** Moves live rows to the bin; returns how many were still live (a concurrent delete makes it fall short). */
export async function markDeleted(db: Db, orgId: string, ids: readonly string[], by: string | null, at: number, batch: string) {
  // Organisation checked on rows read by key, then updated by key (see byPrimaryKey).
  const mine = (await byPrimaryKey(db, ids)).filter((r) => r.org_id === orgId).map((r) => r.id);
  let n = 0;
  for (let i = 0; i < mine.length; i += ID_CHUNK) {
    const r = await db.updateTable('records').set({ deleted_at: at, deleted_by: by, delete_batch: batch })
      .where('id', 'in', mine.slice(i, i + ID_CHUNK)).where('deleted_at', 'is', null).executeTakeFirst();
    n += Number(r.numUpdatedRows);
  }
  return n;
}

/** A page of a live record's live dependents in these modules, newest first (`limit` rows from `offset`). */
export const liveDependents = (db: Db, orgId: string, parentId: string, modules: readonly string[], limit: number, offset: number,
  readable?: ReadFilter | null) => {
  let query = db.selectFrom('records').selectAll().where('org_id', '=', orgId).where('parent_id', '=', parentId)
    .where('module', 'in', modules.length ? modules : ['']).where('deleted_at', 'is', null);
  if (readable) query = query.where(readableBy(readable));
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
};

const list = (values: readonly string[]) => sql.join((values.length ? values : ['']).map((v) => sql`${v}`));

/** The owner-based part of a read filter, for rows of `records` under the alias `t`. */
function ownedReadable(f: ReadFilter, t: string): RawBuilder<boolean> {
  const restricted = Object.keys(f.owners);
  const col = (c: string) => sql.ref(`${t}.${c}`);
  return sql<boolean>`(${col('module')} not in (${list([...restricted, ...f.parentModules])})${sql.join(restricted.map((m) =>
    sql` or (${col('module')} = ${m} and ${col('owner_id')} in (${list(f.owners[m])}))`), sql``)})`;
}

/**
 * Rows of `records` a data sharing read filter lets the reader see (domain/sharing.ts): their
 * own module's rule by owner, or, for notes, attachments and emails, their parent's.
 */
export function readableBy(f: ReadFilter): RawBuilder<boolean> {
  return sql<boolean>`(${ownedReadable(f, 'records')} or (records.module in (${list(f.parentModules)}) and exists (
    select 1 from records p where p.id = records.parent_id and p.org_id = records.org_id and ${ownedReadable(f, 'p')})))`;
}

export type SortColumn = 'id' | 'created_at' | 'modified_at';

export interface ListQuery {
  orgId: string;
  module: string;
  sort: SortColumn;
  desc: boolean;
  limit: number;
  offset?: number;
  /** Keyset: rows strictly after (sortValue, id) in the listing order. */
  after?: { value: string | number; id: string };
  ids?: string[];
  /** Converted leads: hidden unless asked for (`true` only them, `both` all). */
  converted?: 'true' | 'false' | 'both';
  /** Data sharing: only the rows the reader may see; absent or null, all. */
  readable?: ReadFilter | null;
}

/** One page of live records, in keyset order. */
export async function listRecords(db: Db, q: ListQuery): Promise<RecordTable[]> {
  let query = db.selectFrom('records').selectAll().where('org_id', '=', q.orgId).where('module', '=', q.module)
    .where('deleted_at', 'is', null);
  if (q.ids) query = query.where('id', 'in', q.ids);
  if (q.readable) query = query.where(readableBy(q.readable));
  if (q.converted === 'true') query = query.where('converted_at', 'is not', null);
  else if (q.converted !== 'both') query = query.where('converted_at', 'is', null);
  if (q.after) {
    const { value, id } = q.after;
    const col = sql.ref(q.sort);
    query = q.sort === 'id'
      ? query.where('id', q.desc ? '<' : '>', id)
      : query.where(q.desc ? sql<boolean>`(${col}, id) < (${value}, ${id})` : sql<boolean>`(${col}, id) > (${value}, ${id})`);
  }
  const dir = q.desc ? 'desc' : 'asc';
  query = query.orderBy(q.sort, dir);
  if (q.sort !== 'id') query = query.orderBy('id', dir);
  query = query.limit(q.limit);
  if (q.offset) query = query.offset(q.offset);
  return query.execute();
}

/** How many live records a module holds (converted leads included): what an export is about to send. */
export async function countLiveRecords(db: Db, orgId: string, module: string, readable?: ReadFilter | null): Promise<number> {
  let query = db.selectFrom('records').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', orgId)
    .where('module', '=', module).where('deleted_at', 'is', null);
  if (readable) query = query.where(readableBy(readable));
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.n);
}
