import { AppError } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import type { BinCondition } from '../domain/bin-filters.ts';
import * as bin from '../store/bin-store.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { PoolStore } from '../store/bound-store.ts';
import type { JobTable, RecordTable } from '../store/schema.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { fullName } from '../domain/display.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { enqueueJob, type JobContext } from './job-queue.ts';
import { accessToRows, binVisibleUserIds, hasModulePermission, hasSetting, readableModules, readFilterOf, seesJobOf } from './authorization.ts';
import { ACCESS } from '../domain/sharing.ts';

/** More records than this (roots plus dependents) and the work runs as a background job (Zoho's rule). */
export const SYNC_LIMIT = 1000;
export const MAX_RESTORE_IDS = 200;
export const MAX_DELETE_IDS = 100;
const DAY = 86_400_000;
const BATCH = 200;

export type BinOutcome =
  | { ok: true; id: string; count: number }
  | { ok: false; id: string; code: string; message: string };

export type BinResult = { scheduled: true; jobId: string; ids: string[] } | { scheduled: false; results: BinOutcome[] };

export interface BinQuery {
  filters: BinCondition[];
  ids?: string[];
  sortBy: 'deleted_time' | 'display_name' | 'deleted_by';
  desc: boolean;
  page: number;
  perPage: number;
}

interface BinJobPayload { userId: string | null; action: 'restore' | 'delete'; ids?: string[]; filters?: BinCondition[]; all?: boolean }

/** Attachment bytes live in the blob store under this key. */
export const attachmentKey = (orgId: string, id: string) => `attachments/${orgId}/${id}`;

/**
 * The recycle bin: deleted records with their dependents, restorable as their deletion took
 * them, permanently deletable, purged after the organisation's period (60 days by default).
 */
export function createRecycleBinService(deps: ServiceDeps, blobs: BlobStore) {
  const { store } = deps;

  /** Whose items the actor sees: everyone's for bin administrators, else theirs and their subordinates'. */
  const visibleUsers = (actor: Actor) => binVisibleUserIds(store.repos, actor);

  async function toSelect(actor: Actor, filters: BinCondition[], ids?: string[]) {
    const userIds = await visibleUsers(actor);
    const users = await store.repos.directory.listUsers(actor.orgId);
    const select: Omit<bin.BinSelect, 'sortBy' | 'desc' | 'limit' | 'offset'> = { orgId: actor.orgId, userIds, ids,
      readableModules: readable(actor), readable: await readFilterOf(store.repos, actor) };
    for (const c of filters) {
      if (c.field === 'module') (select.modules ??= []).push({ op: c.comparator as 'equal' | 'not_equal', value: String(c.value) });
      else if (c.field === 'display_name') (select.names ??= []).push({ op: c.comparator, value: String(c.value) });
      else if (c.field === 'deleted_time') (select.deletedTime ??= []).push({ op: c.comparator, value: Number(c.value) });
      else {
        // deleted_by matches a user id, or the user's name with the comparator.
        const v = String(c.value);
        const negative = c.comparator.startsWith('not_');
        const test = (name: string) => {
          const n = name.toLowerCase();
          const x = v.toLowerCase();
          switch (c.comparator.replace(/^not_/, '')) {
            case 'contains': return n.includes(x);
            case 'starts_with': return n.startsWith(x);
            case 'ends_with': return n.endsWith(x);
            default: return n === x;
          }
        };
        const matched = users.filter((u) => u.id === v || test(fullName(u)) || test(u.email)).map((u) => u.id);
        (select.deletedBy ??= []).push({ op: negative ? 'not_equal' : 'equal', value: matched });
      }
    }
    return select;
  }

  /** One page of bin items. */
  async function list(actor: Actor, q: BinQuery) {
    const select = await toSelect(actor, q.filters, q.ids);
    const sortBy = ({ deleted_time: 'deleted_at', display_name: 'name', deleted_by: 'deleted_by' } as const)[q.sortBy];
    const rows = await store.repos.bin.list({ ...select, sortBy, desc: q.desc, limit: q.perPage + 1, offset: (q.page - 1) * q.perPage });
    return { rows: rows.slice(0, q.perPage), more: rows.length > q.perPage };
  }

  const count = async (actor: Actor, filters: BinCondition[] = []) => store.repos.bin.count(await toSelect(actor, filters));

  /** One item; INVALID_DATA (resource_path_index 2) when not in the bin or not the actor's to see. */
  async function get(actor: Actor, id: string): Promise<RecordTable> {
    const [row] = isId(id) ? await store.repos.bin.list({ ...(await toSelect(actor, [], [id])), sortBy: 'deleted_at', desc: true, limit: 1, offset: 0 }) : [];
    if (!row) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
    return row;
  }

  const names = async (orgId: string) => new Map((await store.repos.directory.listUsers(orgId)).map((u) => [u.id, u]));

  /**
   * The records acting on each root touches, by root id: the root and, level by level, what hangs
   * off it in the bin. A restore brings back what the root's deletion took with it (its
   * dependents, theirs, and so on, deleted in the same batch; nothing more for a root deleted
   * without one); a permanent deletion removes every dependent in the bin. One query per level
   * (and 500 parents) for all the roots together. With `limit`, null as soon as the records found
   * exceed it (the sets add up to more).
   */
  async function binSets(s: PoolStore, orgId: string, roots: RecordTable[], action: 'restore' | 'delete',
    limit = Infinity): Promise<Map<string, RecordTable[]> | null> {
    const children = new Map<string, RecordTable[]>();
    const seen = new Set<string>();
    let level: RecordTable[] = [];
    for (const r of roots) {
      if ((action === 'delete' || r.delete_batch) && !seen.has(r.id)) { seen.add(r.id); level.push(r); }
    }
    while (level.length) {
      const next: RecordTable[] = [];
      for (let i = 0; i < level.length; i += 500) {
        const parents = new Map(level.slice(i, i + 500).map((r) => [r.id, r]));
        for (const c of await s.bin.allChildren(orgId, [...parents.keys()])) {
          const parentId = c.parent_id!;
          // A restore follows its batch only (every record of a restore set is in the root's batch).
          if (action === 'restore' && c.delete_batch !== parents.get(parentId)!.delete_batch) continue;
          const list = children.get(parentId);
          if (list) list.push(c); else children.set(parentId, [c]);
          if (!seen.has(c.id)) { seen.add(c.id); next.push(c); }
        }
        if (seen.size > limit) return null;
      }
      level = next;
    }
    const sets = new Map<string, RecordTable[]>();
    for (const root of roots) {
      if (sets.has(root.id)) continue;
      const set = [root];
      const inSet = new Set([root.id]);
      for (let i = 0; i < set.length; i++) {
        for (const c of children.get(set[i].id) ?? []) if (!inSet.has(c.id)) { inSet.add(c.id); set.push(c); }
      }
      sets.set(root.id, set);
    }
    return sets;
  }

  /** Modules whose deleted records the actor may see: those their profile can view (spec §4.1). */
  const readable = readableModules;

  /** Restoring or purging a record needs the right to delete records of its module. */
  const mayChange = (actor: Actor, module: string) => hasModulePermission(actor, module, 'delete');

  async function classify(tx: Tx, actor: Actor, ids: string[], visible: string[] | null) {
    const modules = readable(actor);
    const rows = new Map((await tx.store.bin.rowsByIds(actor.orgId, ids.filter(isId))).map((r) => [r.id, r]));
    const gone = new Set((await tx.store.bin.tombstonesByIds(actor.orgId, ids.filter(isId))).map((t) => t.id));
    // The data sharing settings decide too: an item whose record the actor may no longer read is not theirs.
    const access = await accessToRows(tx.store, actor, [...rows.values()]);
    return (id: string): RecordTable | BinOutcome => {
      const row = rows.get(id);
      const mine = row && (!visible || visible.includes(row.owner_id) || (row.deleted_by !== null && visible.includes(row.deleted_by)))
        && (!modules || modules.includes(row.module)) && access.get(row.id)! >= ACCESS.read;
      if (!row || !mine) {
        return { ok: false, id, code: 'INVALID_DATA', message: gone.has(id) ? 'the record was permanently deleted' : 'the id given seems to be invalid' };
      }
      if (!mayChange(actor, row.module)) return { ok: false, id, code: 'NO_PERMISSION', message: `permission denied: delete on ${row.module}` };
      if (row.deleted_at === null) return { ok: false, id, code: 'INVALID_DATA', message: 'the record is not in the recycle bin' };
      return row;
    };
  }

  const conflict = () => new AppError('INVALID_DATA', 'the records changed while this request ran (restored or deleted by another request); nothing was done', {});

  /**
   * Restores in one transaction; every item either fully restored or reported. What it needs is
   * read up front for all the items (rows, parents, restore sets) and the rows are brought back
   * together at the end: the same outcome as item by item, as only this call changes them meanwhile.
   */
  async function restoreNow(actor: Actor, ids: string[]): Promise<BinOutcome[]> {
    const visible = await visibleUsers(actor);
    return inTransaction(deps, actor, async (tx) => {
      const check = await classify(tx, actor, ids, visible);
      const candidates = new Map<string, RecordTable>();
      for (const id of ids) {
        const row = check(id);
        if (!('ok' in row)) candidates.set(row.id, row);
      }
      const parentIds = [...candidates.values()].flatMap((r) => (r.parent_id ? [r.parent_id] : []));
      const parents = new Map((await tx.store.bin.rowsByIds(actor.orgId, parentIds)).map((r) => [r.id, r]));
      const sets = (await binSets(tx.store, actor.orgId, [...candidates.values()], 'restore'))!;
      const out: BinOutcome[] = [];
      const batchId = newId(tx.now);
      const done = new Set<string>();
      /** Ids to bring back, by who restores them. */
      const restoring = new Map<string, string[]>();
      let total = 0;
      for (const id of ids) {
        const row = check(id);
        if ('ok' in row) { out.push(row); continue; }
        if (done.has(id)) { out.push({ ok: false, id, code: 'INVALID_DATA', message: 'the record is not in the recycle bin' }); continue; }
        if (row.parent_id) {
          // In the bin when read, and not restored by this call since.
          const parent = parents.get(row.parent_id);
          if (parent && parent.deleted_at !== null && !done.has(parent.id)) {
            out.push({ ok: false, id, code: 'CANNOT_RESTORE_WITHOUT_PARENT', message: `the parent record ${parent.id} is in the recycle bin: restore it first` });
            continue;
          }
        }
        const set = sets.get(row.id)!.filter((r) => !done.has(r.id));
        const by = actor.userId ?? row.deleted_by ?? row.owner_id;
        const list = restoring.get(by);
        if (list) list.push(...set.map((r) => r.id)); else restoring.set(by, set.map((r) => r.id));
        total += set.length;
        for (const r of set) {
          done.add(r.id);
          tx.audit({ action: 'restored', module: r.module, recordId: r.id, recordName: r.name, parentModule: r.parent_module,
            parentId: r.parent_id, batchId, fieldHistory: null,
            extra: { deletion_batch: r.delete_batch, deleted_at: new Date(Number(r.deleted_at)).toISOString(), with: r.id === row.id ? undefined : row.id } });
        }
        out.push({ ok: true, id, count: set.length });
      }
      let n = 0;
      for (const [by, list] of restoring) n += await tx.store.bin.markRestored(actor.orgId, list, by, tx.now);
      if (n !== total) throw conflict();
      return out;
    });
  }

  /**
   * Deletes permanently in one transaction; attachment bytes are freed after commit. As restoreNow,
   * what it needs is read up front and the rows are removed together at the end.
   */
  async function deleteNow(actor: Actor, ids: string[], source?: 'retention', opts: { emptied?: boolean } = {}): Promise<BinOutcome[]> {
    const visible = source ? null : await visibleUsers(actor);
    const freed: string[] = [];
    const result = await inTransaction(deps, actor, async (tx) => {
      const check = await classify(tx, actor, ids, visible);
      const candidates = new Map<string, RecordTable>();
      for (const id of ids) {
        const row = check(id);
        if (!('ok' in row)) candidates.set(row.id, row);
      }
      const sets = (await binSets(tx.store, actor.orgId, [...candidates.values()], 'delete'))!;
      const out: BinOutcome[] = [];
      const batchId = newId(tx.now);
      const done = new Set<string>();
      const removing: RecordTable[] = [];
      for (const id of ids) {
        const row = check(id);
        if ('ok' in row) { out.push(row); continue; }
        if (done.has(id)) { out.push({ ok: true, id, count: 0 }); continue; }
        const set = sets.get(row.id)!.filter((r) => !done.has(r.id));
        removing.push(...set);
        for (const r of set) {
          done.add(r.id);
          if (r.module === 'Attachments') freed.push(attachmentKey(actor.orgId, r.id));
          tx.audit({ action: 'permanently_deleted', module: r.module, recordId: r.id, recordName: r.name, parentModule: r.parent_module,
            parentId: r.parent_id, batchId, fieldHistory: null, source,
            extra: { deleted_at: new Date(Number(r.deleted_at)).toISOString(), deleted_by: r.deleted_by, values: JSON.parse(r.data) } });
        }
        out.push({ ok: true, id, count: set.length });
      }
      const n = removing.length ? await tx.store.bin.removePermanently(actor.orgId, removing, tx.now, actor.userId) : 0;
      if (n !== removing.length) throw conflict();
      // Emptying the bin is one act as well as many deletions: its summary commits with them.
      if (opts.emptied) {
        tx.audit({ action: 'recycle_bin_emptied', module: null, recordId: null, recordName: null, parentModule: null, parentId: null,
          batchId, fieldHistory: null, extra: { removed: removing.length } });
      }
      return out;
    });
    for (const key of freed) await blobs.remove(key);
    return result;
  }

  /** How many records acting on these items touches (roots and dependents). */
  async function weight(actor: Actor, ids: string[], action: 'restore' | 'delete') {
    const found = new Map((await store.repos.bin.rowsByIds(actor.orgId, ids.filter(isId))).map((r) => [r.id, r]));
    const roots = ids.filter(isId).map((id) => found.get(id)).filter((r): r is RecordTable => !!r && r.deleted_at !== null);
    const sets = await binSets(store.repos, actor.orgId, roots, action, SYNC_LIMIT);
    return sets ? roots.reduce((n, r) => n + sets.get(r.id)!.length, 0) : SYNC_LIMIT + 1;
  }

  async function schedule(actor: Actor, payload: BinJobPayload) {
    return inTransaction(deps, actor, async (tx) => {
      tx.unaudited('a queued bin job: each restore or deletion it runs is audited when it runs');
      const jobId = await enqueueJob(tx, actor.orgId, payload.action === 'restore' ? 'recycle_bin_restore' : 'recycle_bin_delete',
        payload as unknown as Record<string, unknown>);
      return jobId;
    });
  }

  /**
   * Restores by ids (at most 200); more than 1,000 records in all, or `filters`, or
   * `restore_all_records`, run as a job.
   */
  async function restore(actor: Actor, input: { ids?: string[]; filters?: BinCondition[]; all?: boolean }): Promise<BinResult> {
    if (input.filters || input.all) {
      return { scheduled: true, jobId: await schedule(actor, { userId: actor.userId, action: 'restore', filters: input.filters, all: input.all }), ids: [] };
    }
    const ids = input.ids ?? [];
    if ((await weight(actor, ids, 'restore')) > SYNC_LIMIT) {
      return { scheduled: true, jobId: await schedule(actor, { userId: actor.userId, action: 'restore', ids }), ids };
    }
    return { scheduled: false, results: await restoreNow(actor, ids) };
  }

  /** Deletes permanently by ids (at most 100); filters, or more than 1,000 records, run as a job. */
  async function remove(actor: Actor, input: { ids?: string[]; filters?: BinCondition[] }): Promise<BinResult> {
    if (input.filters) {
      return { scheduled: true, jobId: await schedule(actor, { userId: actor.userId, action: 'delete', filters: input.filters }), ids: [] };
    }
    const ids = input.ids ?? [];
    if ((await weight(actor, ids, 'delete')) > SYNC_LIMIT) {
      return { scheduled: true, jobId: await schedule(actor, { userId: actor.userId, action: 'delete', ids }), ids };
    }
    return { scheduled: false, results: await deleteNow(actor, ids) };
  }

  /** Empties the bin (Administrators only: AUTHORIZATION_FAILED otherwise). */
  async function empty(actor: Actor): Promise<{ scheduled: boolean; jobId?: string; removed?: number }> {
    if (!hasSetting(actor, 'recycle_bin_admin')) throw new AppError('AUTHORIZATION_FAILED', "non admin user can't empty the recycle bin", {});
    const total = await store.repos.bin.count({ orgId: actor.orgId, userIds: null });
    if (total > SYNC_LIMIT) return { scheduled: true, jobId: await schedule(actor, { userId: actor.userId, action: 'delete', all: true }) };
    const rows = await store.repos.bin.list({ orgId: actor.orgId, userIds: null, sortBy: 'deleted_at', desc: false, limit: SYNC_LIMIT, offset: 0 });
    const res = await deleteNow(actor, rows.map((r) => r.id), undefined, { emptied: true });
    return { scheduled: false, removed: res.reduce((n, r) => n + (r.ok ? r.count : 0), 0) };
  }

  /** The job handler for scheduled restores and deletions: small transactions, progress reported. */
  async function runJob(job: JobTable, ctx: JobContext) {
    const p = JSON.parse(job.payload) as BinJobPayload;
    const org = await store.repos.directory.getOrg(job.org_id);
    const actor = p.userId ? await (async () => {
      const u = await store.repos.directory.getUser(job.org_id, p.userId!);
      const profile = u ? await store.repos.directory.getProfile(job.org_id, u.profile_id) : undefined;
      return { ...systemActor(job.org_id, u ? fullName(u) : 'System', org?.time_zone), type: 'user' as const, userId: p.userId,
        source: 'api' as const, isAdmin: profile?.is_admin === 1, permissions: profile ? JSON.parse(profile.permissions) : null,
        roleId: u?.role_id ?? null };
    })() : systemActor(job.org_id, 'System', org?.time_zone);
    let targets: string[];
    if (p.ids) targets = p.ids;
    else {
      const select = await toSelect(actor, p.filters ?? []);
      const rows = await store.repos.bin.itemIds(select);
      // Roots first: an item whose parent is also targeted in the same deletion comes back with it.
      const inSet = new Set(rows.map((r) => r.id));
      targets = rows.filter((r) => !(r.parent_id && inSet.has(r.parent_id))).map((r) => r.id);
    }
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < targets.length; i += BATCH) {
      const slice = targets.slice(i, i + BATCH);
      const results = p.action === 'restore' ? await restoreNow(actor, slice) : await deleteNow(actor, slice);
      for (const r of results) if (r.ok) ok += r.count; else failed += 1;
      await ctx.progress(Math.min(i + BATCH, targets.length), targets.length);
    }
    if (p.all && p.action === 'delete') {
      await inTransaction(deps, actor, async (tx) => {
        tx.audit({ action: 'recycle_bin_emptied', module: null, recordId: null, recordName: null, parentModule: null, parentId: null,
          batchId: null, fieldHistory: null, extra: { removed: ok } });
      });
    }
    return { processed: ok, failed, targets: targets.length };
  }

  /**
   * Purges items together, or one at a time when that fails, so that an item that cannot be
   * purged (it is recorded in `failed`, and logged) does not hold the others back.
   */
  async function purgeItems(actor: Actor, ids: string[], failed: Set<string>): Promise<number> {
    let res: BinOutcome[];
    try {
      res = await deleteNow(actor, ids, 'retention');
    } catch (e) {
      if (ids.length > 1) {
        let n = 0;
        for (const id of ids) n += await purgeItems(actor, [id], failed);
        return n;
      }
      deps.logger.error({ err: e, org: actor.orgId, id: ids[0] }, 'could not purge a recycle bin item');
      res = [{ ok: false, id: ids[0], code: 'INTERNAL_ERROR', message: 'see the log' }];
    }
    for (const r of res) if (!r.ok) failed.add(r.id);
    return res.reduce((n, r) => n + (r.ok ? r.count : 0), 0);
  }

  /** Purges items older than each organisation's bin period, in small batches (worker, daily). */
  async function purgeExpired(opts: { batchSize?: number } = {}) {
    let purged = 0;
    for (const org of await store.repos.directory.listOrgs()) {
      const settings = parseOrgSettings(org.settings);
      const actor = { ...systemActor(org.id, 'Recycle bin purge', org.time_zone), source: 'retention' as const };
      const failed = new Set<string>();
      for (;;) {
        const cutoff = deps.clock() - settings.recycle_bin_days * DAY;
        const rows = await store.repos.bin.itemIds({ orgId: org.id, userIds: null, olderThan: cutoff },
          { except: [...failed], limit: opts.batchSize ?? 500 });
        if (rows.length === 0) break;
        const ids = new Set(rows.map((r) => r.id));
        const roots = rows.filter((r) => !(r.parent_id && ids.has(r.parent_id))).map((r) => r.id);
        purged += await purgeItems(actor, roots, failed);
        if (rows.length < (opts.batchSize ?? 500)) break;
      }
    }
    return purged;
  }

  /** Progress of a scheduled bin job: the actor's own, or any of the organisation's for bin administrators. */
  async function jobStatus(actor: Actor, id: string) {
    const job = isId(id) ? await store.repos.jobs.orgJob(actor.orgId, id, ['recycle_bin_restore', 'recycle_bin_delete']) : undefined;
    const startedBy = job ? (JSON.parse(job.payload) as BinJobPayload).userId : null;
    // Another user's job looks exactly like a missing one, unless the actor oversees the bin.
    if (!job || !seesJobOf(actor, startedBy, 'recycle_bin_admin')) {
      throw new AppError('INVALID_DATA', 'the job id given seems to be invalid', { resource_path_index: 3 });
    }
    return job;
  }

  return { list, count, get, restore, remove, empty, runJob, purgeExpired, jobStatus, names };
}

export type RecycleBinService = ReturnType<typeof createRecycleBinService>;
