import { sql } from 'kysely';
import type { ReadFilter } from '../domain/sharing.ts';
import type { Db } from './db.ts';
import { readableBy } from './record-store.ts';
import type { RecordTable } from './schema.ts';

/** The recycle bin: deleted rows of `records`, and tombstones of permanently deleted ones. */

export interface BinSelect {
  orgId: string;
  /** Only items owned or deleted by these users; null = all. */
  userIds: string[] | null;
  /** Data sharing: only items whose record the viewer may read; absent or null, all. */
  readable?: ReadFilter | null;
  ids?: string[];
  /** Only items of modules the viewer's profile may view; undefined = all. */
  readableModules?: string[];
  modules?: { op: 'equal' | 'not_equal'; value: string }[];
  names?: { op: string; value: string }[];
  deletedBy?: { op: string; value: string[] }[];
  deletedTime?: { op: string; value: number }[];
  olderThan?: number;
  sortBy: 'deleted_at' | 'name' | 'deleted_by';
  desc: boolean;
  limit: number;
  offset: number;
}

function like(op: string, v: string) {
  const esc = v.replace(/[\\%_]/g, (c) => `\\${c}`);
  switch (op) {
    case 'contains': case 'not_contains': return `%${esc}%`;
    case 'starts_with': return `${esc}%`;
    case 'ends_with': return `%${esc}`;
    default: return esc;
  }
}

export function binQuery(db: Db, q: Omit<BinSelect, 'sortBy' | 'desc' | 'limit' | 'offset'>) {
  let query = db.selectFrom('records').where('org_id', '=', q.orgId).where('deleted_at', 'is not', null);
  if (q.userIds) {
    const ids = q.userIds.length ? q.userIds : [''];
    query = query.where((eb) => eb.or([eb('owner_id', 'in', ids), eb('deleted_by', 'in', ids)]));
  }
  if (q.ids) query = query.where('id', 'in', q.ids.length ? q.ids : ['']);
  if (q.readable) query = query.where(readableBy(q.readable));
  if (q.readableModules) query = query.where('module', 'in', q.readableModules.length ? q.readableModules : ['']);
  for (const m of q.modules ?? []) query = query.where('module', m.op === 'equal' ? '=' : '<>', m.value);
  for (const n of q.names ?? []) {
    const negative = n.op.startsWith('not_');
    const pattern = like(n.op, n.value.toLowerCase());
    query = query.where(negative
      ? sql<boolean>`(name is null or lower(name) not like ${pattern} escape '\\')`
      : sql<boolean>`lower(name) like ${pattern} escape '\\'`);
  }
  for (const d of q.deletedBy ?? []) {
    query = query.where('deleted_by', d.op === 'not_equal' ? 'not in' : 'in', d.value.length ? d.value : ['']);
  }
  for (const t of q.deletedTime ?? []) {
    const op = { equal: '=', not_equal: '<>', greater_than: '>', less_than: '<' }[t.op] as '=' | '<>' | '>' | '<';
    query = query.where('deleted_at', op, t.value);
  }
  if (q.olderThan !== undefined) query = query.where('deleted_at', '<', q.olderThan);
  return query;
}

export async function listBin(db: Db, q: BinSelect): Promise<RecordTable[]> {
  const dir = q.desc ? 'desc' : 'asc';
  return binQuery(db, q).selectAll().orderBy(q.sortBy, dir).orderBy('id', dir).limit(q.limit).offset(q.offset).execute();
}

/** Ids (with parent and deletion batch) of the bin rows a select matches, oldest deletion first, `limit` at most. */
export function binItemIds(db: Db, q: Omit<BinSelect, 'sortBy' | 'desc' | 'limit' | 'offset'>, opts: { except?: readonly string[]; limit?: number } = {}) {
  let query = binQuery(db, q);
  if (opts.except?.length) query = query.where('id', 'not in', opts.except);
  let rows = query.select(['id', 'parent_id', 'delete_batch']).orderBy('deleted_at').orderBy('id');
  if (opts.limit !== undefined) rows = rows.limit(opts.limit);
  return rows.execute();
}

export async function countBin(db: Db, q: Omit<BinSelect, 'sortBy' | 'desc' | 'limit' | 'offset'>): Promise<number> {
  const r = await binQuery(db, q).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Ids per statement: well below the parameter limits of SQLite and PostgreSQL. */
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/*
 * Query shapes. SQLite keeps no statistics here, so it takes `org_id = ?` for a selective
 * condition: with `org_id = ? and id in (three or more ids)` it picks the (org_id, deleted_at)
 * index and reads every row of the organisation (of its bin, with `deleted_at is not null`)
 * instead of looking the ids up; with `org_id = ? and parent_id in (...) and deleted_at is not
 * null` likewise, instead of the (org_id, parent_id) index. So rows are read by primary key (or
 * by org_id and parent_id) and the organisation and state are checked on the rows read, and
 * writes name ids already checked to be the organisation's. Same rows, on both databases.
 */

/** Rows (any state) with these ids in the org. */
export async function rowsByIds(db: Db, orgId: string, ids: readonly string[]): Promise<RecordTable[]> {
  const out: RecordTable[] = [];
  for (const part of chunks([...new Set(ids)])) {
    for (const r of await db.selectFrom('records').selectAll().where('id', 'in', part).execute()) if (r.org_id === orgId) out.push(r);
  }
  return out;
}

/** Those of these ids that are rows of the org (any state). */
async function idsInOrg(db: Db, orgId: string, ids: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const part of chunks([...new Set(ids)])) {
    for (const r of await db.selectFrom('records').select(['id', 'org_id']).where('id', 'in', part).execute()) if (r.org_id === orgId) out.push(r.id);
  }
  return out;
}

/** Every deleted row hanging off the given ids, whatever its deletion batch (children leave with parents). */
export async function allBinChildren(db: Db, orgId: string, parentIds: readonly string[]): Promise<RecordTable[]> {
  const out: RecordTable[] = [];
  for (const part of chunks([...new Set(parentIds)])) {
    const rows = await db.selectFrom('records').selectAll().where('org_id', '=', orgId).where('parent_id', 'in', part).execute();
    for (const r of rows) if (r.deleted_at !== null) out.push(r);
  }
  return out;
}

/** Brings rows back; returns how many were still in the bin (the rest lost a race). */
export async function markRestored(db: Db, orgId: string, ids: readonly string[], by: string, at: number): Promise<number> {
  if (ids.length === 0) return 0;
  let restored = 0;
  for (const part of chunks(await idsInOrg(db, orgId, ids))) {
    // Only rows still in the bin: a concurrent permanent deletion that committed first makes the count fall short.
    const r = await db.updateTable('records').set({ deleted_at: null, deleted_by: null, delete_batch: null, modified_by: by, modified_at: at })
      .where('id', 'in', part).where('deleted_at', 'is not', null).executeTakeFirst();
    restored += Number(r.numUpdatedRows);
  }
  return restored;
}

/** What is kept of a record removed for good: enough for `GET /{module}/deleted` to name it. */
const tombstone = (orgId: string, r: RecordTable, at: number, by: string | null) =>
  ({ id: r.id, org_id: orgId, module: r.module, deleted_at: at, name: r.name, deleted_by: by, created_by: r.created_by });

/** Removes rows for good and leaves tombstones; returns how many rows it removed. */
export async function removePermanently(db: Db, orgId: string, rows: readonly RecordTable[], at: number, by: string | null): Promise<number> {
  if (rows.length === 0) return 0;
  let removed = 0;
  for (const part of chunks(await idsInOrg(db, orgId, rows.map((r) => r.id)))) {
    // Only rows still in the bin: a concurrent restore that committed first makes the count fall short.
    const r = await db.deleteFrom('records').where('id', 'in', part).where('deleted_at', 'is not', null).executeTakeFirst();
    removed += Number(r.numDeletedRows);
  }
  for (const part of chunks(rows)) {
    await db.insertInto('tombstones').values(part.map((r) => tombstone(orgId, r, at, by))).onConflict((oc) => oc.column('id').doNothing()).execute();
  }
  return removed;
}

export const tombstonesByIds = (db: Db, orgId: string, ids: readonly string[]) =>
  ids.length === 0 ? Promise.resolve([]) : db.selectFrom('tombstones').selectAll().where('org_id', '=', orgId).where('id', 'in', [...ids]).execute();

/** Tombstones of a module, newest first; with `byUsers`, only those those users created or removed. */
export const listTombstones = (db: Db, orgId: string, module: string, limit: number, offset: number, byUsers?: readonly string[] | null) => {
  let query = db.selectFrom('tombstones').selectAll().where('org_id', '=', orgId).where('module', '=', module);
  if (byUsers) {
    const ids = byUsers.length ? [...byUsers] : [''];
    query = query.where((eb) => eb.or([eb('created_by', 'in', ids), eb('deleted_by', 'in', ids)]));
  }
  return query.orderBy('deleted_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
};

/** Removes live rows for good (merged-away duplicates never enter the bin) and leaves tombstones. */
export async function removeLive(db: Db, orgId: string, rows: readonly RecordTable[], at: number, by: string | null): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db.deleteFrom('records').where('org_id', '=', orgId).where('id', 'in', rows.map((x) => x.id))
    .where('deleted_at', 'is', null).executeTakeFirst();
  await db.insertInto('tombstones').values(rows.map((x) => tombstone(orgId, x, at, by))).onConflict((oc) => oc.column('id').doNothing()).execute();
  return Number(r.numDeletedRows);
}

/** Live records whose field values mention an id (lookups to repoint after a merge). */
export const liveRowsMentioning = (db: Db, orgId: string, id: string) =>
  db.selectFrom('records').selectAll().where('org_id', '=', orgId).where('deleted_at', 'is', null)
    .where('data', 'like', `%"id":"${id}"%`).execute();

/**
 * Moves dependents from one parent to another: live ones, and those in the bin too, so that
 * restoring them later attaches them to a parent that still exists.
 */
export async function reparentDependents(db: Db, orgId: string, fromIds: readonly string[], to: { module: string; id: string }, by: string, at: number) {
  if (fromIds.length === 0) return [];
  const rows = await db.selectFrom('records').selectAll().where('org_id', '=', orgId).where('parent_id', 'in', [...fromIds]).execute();
  if (rows.length) {
    await db.updateTable('records').set({ parent_id: to.id, parent_module: to.module, modified_by: by, modified_at: at })
      .where('org_id', '=', orgId).where('id', 'in', rows.map((r) => r.id)).execute();
  }
  return rows;
}

export async function updateData(db: Db, orgId: string, id: string, patch: Partial<Pick<RecordTable, 'data' | 'name' | 'owner_id' | 'modified_by' | 'modified_at' | 'converted_at' | 'converted_by'>>) {
  await db.updateTable('records').set(patch).where('org_id', '=', orgId).where('id', 'in', [id]).execute();
}
