import { AppError, type ErrorDetails } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import {
  findModule, moduleFields, recordName, requireModule, type FieldDef, type ModuleDef,
} from '../domain/modules.ts';
import { validateFieldValue, sameValue } from '../domain/field-values.ts';
import { findUnstorable } from '../domain/text.ts';
import type { AuditSource, FieldChange } from '../domain/audit.ts';
import * as records from '../store/record-store.ts';
import type { RecordTable, UserTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { fullName } from '../domain/display.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { accessToRows, binVisibleUserIds, readFilterOf, requireModulePermission } from './authorization.ts';
import { ACCESS, followsParent } from '../domain/sharing.ts';
import { referencedIds } from './record-view.ts';
import { permissionName } from '../domain/permissions.ts';

export const MAX_WRITE = 100;

/** How a write is recorded: its audit source, the batch tying it to others, extra details. */
export interface WriteOptions {
  source?: AuditSource;
  batchId?: string | null;
  extra?: Record<string, unknown> | null;
  /** Records per call (mass actions allow more than the API's 100). */
  limit?: number;
  /** Write no audit entry (only for logged emails of users whose email tracking is off). */
  skipAudit?: boolean;
}

export interface ItemError { code: string; message: string; details: ErrorDetails }
export type ItemResult = { ok: true; row: RecordTable; action?: 'insert' | 'update' } | { ok: false; error: ItemError };

interface ParsedItem {
  index: number;
  values: Record<string, unknown>;
  ownerId?: string;
  parent?: { module: string; id: string } | null;
  lookups: { field: FieldDef; id: string }[];
}

const itemError = (code: string, message: string, details: ErrorDetails): { ok: false; error: ItemError } =>
  ({ ok: false, error: { code, message, details } });

function parseItem(module: ModuleDef, raw: unknown, index: number, mode: 'create' | 'update'): ParsedItem | { ok: false; error: ItemError } {
  const base = `$.data[${index}]`;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    return itemError('INVALID_DATA', 'invalid data', { json_path: base, expected_data_type: 'jsonobject' });
  }
  const item = raw as Record<string, unknown>;
  const unstorable = findUnstorable(item, base);
  if (unstorable) {
    const apiName = /^\$\.data\[\d+\]\.([^.[]+)/.exec(unstorable.jsonPath)?.[1];
    return itemError('INVALID_DATA', `invalid data: ${unstorable.reason}`,
      { ...(apiName ? { api_name: apiName } : {}), json_path: unstorable.jsonPath });
  }
  const fields = moduleFields(module);
  const parsed: ParsedItem = { index, values: {}, lookups: [] };
  const seModule = item.$se_module;
  for (const [key, value] of Object.entries(item)) {
    if (key === 'id' || key.startsWith('$')) continue;
    const field = fields.get(key);
    const path = `${base}.${key}`;
    if (!field) return itemError('INVALID_DATA', 'the field api name given seems to be invalid', { api_name: key, json_path: path });
    if (field.readOnly) continue;
    if (field.apiName === 'Parent_Id' || field.apiName === 'What_Id') {
      if (value === null) {
        if (field.mandatory) return itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: key, json_path: path });
        parsed.parent = null;
        continue;
      }
      let id: unknown = value;
      let parentModule: unknown = seModule;
      if (value && typeof value === 'object' && !Array.isArray(value)) {
        const v = value as Record<string, unknown>;
        id = v.id;
        const m = v.module as Record<string, unknown> | string | undefined;
        if (m !== undefined) parentModule = typeof m === 'string' ? m : m?.api_name;
      }
      if (!isId(id)) return itemError('INVALID_DATA', 'invalid data', { api_name: key, json_path: path, expected_data_type: 'lookup' });
      if (parentModule === undefined) {
        return itemError('DEPENDENT_FIELD_MISSING', 'the parent module is missing', { api_name: '$se_module', json_path: `${base}.$se_module`,
          dependee: { api_name: key, json_path: path } });
      }
      const pm = typeof parentModule === 'string' ? findModule(parentModule) : undefined;
      if (!pm || pm.dependent) return itemError('INVALID_DATA', 'invalid parent module', { api_name: '$se_module', json_path: `${base}.$se_module` });
      parsed.parent = { module: pm.apiName, id };
      continue;
    }
    const r = validateFieldValue(field, value, path);
    if (!r.ok) return { ok: false, error: r.error };
    if (field.type === 'ownerlookup') {
      if (r.value === null) return itemError('INVALID_DATA', 'owner cannot be empty', { api_name: key, json_path: path });
      parsed.ownerId = (r.value as { id: string }).id;
      continue;
    }
    if (field.type === 'lookup' && r.value !== null) parsed.lookups.push({ field, id: (r.value as { id: string }).id });
    parsed.values[key] = r.value;
  }
  if (mode === 'create') {
    for (const f of module.fields) {
      if (!f.mandatory) continue;
      if (f.apiName === 'Parent_Id' || f.apiName === 'What_Id') {
        if (!parsed.parent) return itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: f.apiName, json_path: `${base}.${f.apiName}` });
        continue;
      }
      const v = parsed.values[f.apiName];
      if (v === undefined || v === null || v === '') {
        return itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: f.apiName, json_path: `${base}.${f.apiName}` });
      }
    }
  } else {
    for (const [k, v] of Object.entries(parsed.values)) {
      const f = fields.get(k)!;
      if (f.mandatory && (v === null || v === '')) {
        return itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: k, json_path: `${base}.${k}` });
      }
    }
  }
  return parsed;
}

/** A lookup value `{id}` recorded in history with the record's name, so the log reads well. */
function withName(v: unknown, names: Map<string, string | null>): unknown {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { id?: unknown }).id === 'string' && names.has((v as { id: string }).id)) {
    return { id: (v as { id: string }).id, name: names.get((v as { id: string }).id) };
  }
  return v;
}

const isFailure = (p: ParsedItem | { ok: false; error: ItemError }): p is { ok: false; error: ItemError } => 'ok' in p;

/** Records CRUD through Zoho's rules, every write audited in the same transaction. */
export function createRecordService(deps: ServiceDeps) {
  const { store } = deps;

  /** Checks owners, lookups and parents of parsed items against the org's live data. */
  async function checkReferences(tx: Tx, actor: Actor, module: ModuleDef, items: ParsedItem[], users: Map<string, UserTable>,
    /** For an update, the ids each item's record names already: keeping them needs no access (a record read and written back). */
    kept: (p: ParsedItem) => ReadonlySet<string> = () => new Set()) {
    const ids = items.flatMap((p) => [...p.lookups.map((l) => l.id), ...(p.parent ? [p.parent.id] : [])]);
    const live = await tx.store.records.liveAnyModule(actor.orgId, ids);
    // A record the caller may not read is no record to them: a lookup or parent naming one answers as
    // an id that does not exist, and nothing is written (data sharing would otherwise let a note be
    // added to a hidden record, or a task show its name). A note, attachment or email becomes part of
    // its parent, so its parent needs edit access, as an attachment's upload does.
    const access = await accessToRows(tx.store, actor, live);
    const parentIds = new Set(items.flatMap((p) => (p.parent ? [p.parent.id] : [])));
    const need = (r: { id: string }) => (parentIds.has(r.id) && followsParent(module) ? ACCESS.edit : ACCESS.read);
    const allowed = new Map(live.filter((r) => access.get(r.id)! >= need(r)).map((r) => [r.id, r]));
    const any = new Map(live.map((r) => [r.id, r]));
    const failures = new Map<number, ItemError>();
    for (const p of items) {
      const base = `$.data[${p.index}]`;
      const keeps = kept(p);
      const found = { get: (id: string) => allowed.get(id) ?? (keeps.has(id) ? any.get(id) : undefined) };
      if (p.ownerId !== undefined) {
        const u = users.get(p.ownerId);
        if (!u || u.status !== 'active') {
          failures.set(p.index, { code: 'INVALID_DATA', message: 'invalid owner', details: { api_name: 'Owner', json_path: `${base}.Owner` } });
          continue;
        }
      }
      const badLookup = p.lookups.find((l) => found.get(l.id)?.module !== l.field.lookupModule);
      if (badLookup) {
        failures.set(p.index, { code: 'INVALID_DATA', message: 'the related id given seems to be invalid',
          details: { api_name: badLookup.field.apiName, json_path: `${base}.${badLookup.field.apiName}` } });
        continue;
      }
      if (p.parent) {
        const parentRow = found.get(p.parent.id);
        const key = module.dependent === 'parent_id' ? 'Parent_Id' : 'What_Id';
        if (!parentRow || parentRow.module !== p.parent.module) {
          failures.set(p.index, { code: 'INVALID_DATA', message: 'the related id given seems to be invalid',
            details: { api_name: key, json_path: `${base}.${key}` } });
        }
      }
    }
    return Object.assign(failures, { names: new Map([...any].map(([id, r]) => [id, r.name])) });
  }

  const orgUsers = async (tx: Tx, orgId: string) => new Map((await tx.store.directory.listUsers(orgId)).map((u) => [u.id, u]));

  function historyValue(field: string, value: unknown, users: Map<string, UserTable>) {
    if (field === 'Owner' && typeof value === 'string') {
      const u = users.get(value);
      return { id: value, name: u ? fullName(u) : null };
    }
    return value ?? null;
  }

  function labelOf(module: ModuleDef, apiName: string) {
    return moduleFields(module).get(apiName)?.label ?? apiName;
  }

  /**
   * Inserts up to 100 records; returns one result per input item, in order. Throws
   * INVALID_MODULE, NO_PERMISSION, MANDATORY_NOT_FOUND (no data) and LIMIT_EXCEEDED.
   */
  async function createRecords(actor: Actor, moduleName: string, items: unknown[], opts: WriteOptions = {}): Promise<ItemResult[]> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'create');
    checkBatch(items, opts.limit);
    if (module.creatable === false) {
      throw new AppError('NOT_SUPPORTED', `records of ${module.apiName} cannot be created through this API`, { resource_path_index: 0 });
    }
    return inTransaction(deps, actor, (tx) => createInTx(tx, actor, module, items, opts));
  }

  async function createInTx(tx: Tx, actor: Actor, module: ModuleDef, items: unknown[], opts: WriteOptions = {}): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array(items.length);
    const parsed: ParsedItem[] = [];
    items.forEach((raw, i) => {
      const p = parseItem(module, raw, i, 'create');
      if (isFailure(p)) results[i] = p; else parsed.push(p);
    });
    const users = await orgUsers(tx, actor.orgId);
    const failures = await checkReferences(tx, actor, module, parsed, users);
    const batchId = opts.batchId !== undefined ? opts.batchId : items.length > 1 ? newId(tx.now) : null;
    const rows: RecordTable[] = [];
    for (const p of parsed) {
      const failure = failures.get(p.index);
      if (failure) { results[p.index] = { ok: false, error: failure }; continue; }
      const ownerId = p.ownerId ?? actor.userId ?? [...users.values()][0].id;
      const by = actor.userId ?? ownerId;
      const row: RecordTable = {
        id: newId(tx.now), org_id: actor.orgId, module: module.apiName, name: recordName(module, p.values),
        owner_id: ownerId, data: JSON.stringify(p.values), parent_module: p.parent?.module ?? null,
        parent_id: p.parent?.id ?? null, created_by: by, created_at: tx.now, modified_by: by, modified_at: tx.now,
        deleted_at: null, deleted_by: null, delete_batch: null,
      };
      rows.push(row);
      results[p.index] = { ok: true, row };
      const history: FieldChange[] = Object.entries(p.values).filter(([, v]) => v !== null)
        .map(([k, v]) => ({ api_name: k, field_label: labelOf(module, k), old: null, new: withName(v, failures.names) }));
      history.push({ api_name: 'Owner', field_label: 'Owner', old: null, new: historyValue('Owner', ownerId, users) });
      if (!opts.skipAudit) {
        tx.audit({ action: 'added', module: module.apiName, recordId: row.id, recordName: row.name,
          parentModule: row.parent_module, parentId: row.parent_id, batchId, fieldHistory: history, extra: opts.extra ?? null, source: opts.source });
      }
    }
    // A batch whose items all failed writes nothing (and so needs no entry).
    if (rows.length) await tx.store.records.insert(rows);
    if (opts.skipAudit) tx.unaudited('records the caller keeps unaudited: logged emails of a user whose email tracking is off');
    return results;
  }

  function checkBatch(items: unknown[], limit = MAX_WRITE) {
    if (!Array.isArray(items) || items.length === 0) {
      throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'data', json_path: '$.data' });
    }
    if (items.length > limit) {
      throw new AppError('LIMIT_EXCEEDED', `a maximum of ${limit} records can be written at once`,
        { api_name: 'data', json_path: '$.data', limit });
    }
  }

  /**
   * Updates up to 100 records (each item carries `id`, or `pathId` names the one record).
   * Only changed fields are written and audited; an item that changes nothing writes nothing.
   */
  async function updateRecords(actor: Actor, moduleName: string, items: unknown[], pathId?: string, opts: WriteOptions = {}): Promise<ItemResult[]> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'edit');
    checkBatch(items, opts.limit);
    return inTransaction(deps, actor, (tx) => updateInTx(tx, actor, module, items, pathId, opts));
  }

  async function updateInTx(tx: Tx, actor: Actor, module: ModuleDef, items: unknown[], pathId?: string, opts: WriteOptions = {}): Promise<ItemResult[]> {
    const results: ItemResult[] = new Array(items.length);
    const parsed: (ParsedItem & { id: string })[] = [];
    items.forEach((raw, i) => {
      const p = parseItem(module, raw, i, 'update');
      if (isFailure(p)) { results[i] = p; return; }
      const id = pathId ?? (raw as Record<string, unknown>).id;
      if (id === undefined || id === null) {
        results[i] = itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'id', json_path: `$.data[${i}].id` });
      } else if (!isId(id)) {
        results[i] = itemError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `$.data[${i}].id` });
      } else parsed.push({ ...p, id });
    });
    const existing = new Map((await tx.store.records.byIds(actor.orgId, module.apiName, parsed.map((p) => p.id)))
      .map((r) => [r.id, r]));
    const users = await orgUsers(tx, actor.orgId);
    const failures = await checkReferences(tx, actor, module, parsed, users, (p) => {
      // The lookups and parent the record names already (record-view.referencedIds).
      const row = existing.get((p as ParsedItem & { id: string }).id);
      return new Set(row ? referencedIds([row], module) : []);
    });
    const access = await accessToRows(tx.store, actor, [...existing.values()]);
    const batchId = opts.batchId !== undefined ? opts.batchId : items.length > 1 ? newId(tx.now) : null;
    // Written together after the loop, which reads nothing back from the database.
    const patches: (records.RecordPatch & { id: string })[] = [];
    for (const p of parsed) {
      const current = existing.get(p.id);
      const idPath = pathId ? undefined : `$.data[${p.index}].id`;
      // A record the data sharing settings hide answers like a missing one; one that is only
      // shared read-only says so.
      if (!current || access.get(current.id)! < ACCESS.read) {
        results[p.index] = itemError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', ...(idPath ? { json_path: idPath } : { resource_path_index: 1 }) });
        continue;
      }
      if (access.get(current.id)! < ACCESS.edit) {
        results[p.index] = itemError('NO_PERMISSION', 'permission denied: the record is shared with you read-only',
          { id: current.id, permissions: [permissionName(module.apiName, 'edit')] });
        continue;
      }
      if (current.deleted_at !== null) {
        results[p.index] = itemError('INVALID_DATA', 'the record is in the recycle bin', { api_name: 'id', ...(idPath ? { json_path: idPath } : { resource_path_index: 1 }) });
        continue;
      }
      const failure = failures.get(p.index);
      if (failure) { results[p.index] = { ok: false, error: failure }; continue; }
      const oldValues = JSON.parse(current.data) as Record<string, unknown>;
      const newValues = { ...oldValues };
      const history: FieldChange[] = [];
      for (const [k, v] of Object.entries(p.values)) {
        if (!sameValue(oldValues[k], v)) {
          history.push({ api_name: k, field_label: labelOf(module, k), old: oldValues[k] ?? null, new: withName(v, failures.names) });
          newValues[k] = v;
        }
      }
      const ownerId = p.ownerId ?? current.owner_id;
      if (ownerId !== current.owner_id) {
        history.push({ api_name: 'Owner', field_label: 'Owner', old: historyValue('Owner', current.owner_id, users),
          new: historyValue('Owner', ownerId, users) });
      }
      let parentModule = current.parent_module;
      let parentId = current.parent_id;
      if (p.parent !== undefined && (p.parent?.id ?? null) !== current.parent_id) {
        const key = module.dependent === 'parent_id' ? 'Parent_Id' : 'What_Id';
        history.push({ api_name: key, field_label: labelOf(module, key),
          old: current.parent_id ? { module: current.parent_module, id: current.parent_id } : null,
          new: p.parent ? { module: p.parent.module, id: p.parent.id } : null });
        parentModule = p.parent?.module ?? null;
        parentId = p.parent?.id ?? null;
      }
      if (history.length === 0) { results[p.index] = { ok: true, row: current }; continue; }
      const by = actor.userId ?? current.modified_by;
      const updated: RecordTable = { ...current, name: recordName(module, newValues), owner_id: ownerId,
        data: JSON.stringify(newValues), modified_by: by, modified_at: tx.now, parent_module: parentModule, parent_id: parentId };
      patches.push({
        id: current.id, name: updated.name, owner_id: ownerId, data: updated.data, modified_by: by, modified_at: tx.now,
        parent_module: parentModule, parent_id: parentId,
      });
      existing.set(current.id, updated);
      results[p.index] = { ok: true, row: updated };
      tx.audit({ action: 'updated', module: module.apiName, recordId: current.id, recordName: updated.name,
        parentModule, parentId, batchId, fieldHistory: history, extra: opts.extra ?? null, source: opts.source });
    }
    // Identical values, or items that all failed: nothing to write (and no entry).
    if (patches.length) await tx.store.records.updateMany(actor.orgId, patches);
    return results;
  }

  /**
   * Moves up to 100 records, with their dependents, to the recycle bin; one result per id.
   * Throws REQUIRED_PARAM_MISSING without ids and LIMIT_EXCEEDED beyond 100.
   */
  async function deleteRecords(actor: Actor, moduleName: string, ids: string[], opts: WriteOptions = {}): Promise<ItemResult[]> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'delete');
    if (ids.length === 0) throw new AppError('REQUIRED_PARAM_MISSING', 'required param not found', { param_name: 'ids' });
    const max = opts.limit ?? MAX_WRITE;
    if (ids.length > max) throw new AppError('LIMIT_EXCEEDED', `a maximum of ${max} ids can be deleted at once`, { param_name: 'ids', limit: max });
    return inTransaction(deps, actor, (tx) => deleteInTx(tx, actor, module, ids, opts));
  }

  async function deleteInTx(tx: Tx, actor: Actor, module: ModuleDef, ids: string[], opts: WriteOptions = {}): Promise<ItemResult[]> {
    const valid = ids.filter(isId);
    const existing = new Map((await tx.store.records.byIds(actor.orgId, module.apiName, valid)).map((r) => [r.id, r]));
    const access = await accessToRows(tx.store, actor, [...existing.values()]);
    const batchId = opts.batchId ?? newId(tx.now);
    const results: ItemResult[] = [];
    const doomed: RecordTable[] = [];
    const seen = new Set<string>();
    for (const id of ids) {
      const row = existing.get(id);
      if (!row || row.deleted_at !== null || seen.has(id) || access.get(id)! < ACCESS.read) {
        results.push(itemError('INVALID_DATA', 'record not deleted', { id }));
        continue;
      }
      if (access.get(id)! < ACCESS.delete) {
        results.push(itemError('NO_PERMISSION', 'permission denied: the record is not shared with you for deletion',
          { id, permissions: [permissionName(module.apiName, 'delete')] }));
        continue;
      }
      seen.add(id);
      doomed.push(row);
      results.push({ ok: true, row });
    }
    // Dependents (and theirs) leave with their parent, under the same deletion batch.
    const all = [...doomed];
    for (let level = doomed.map((r) => r.id); level.length; ) {
      const children = (await tx.store.records.liveChildren(actor.orgId, level)).filter((c) => !seen.has(c.id));
      children.forEach((c) => seen.add(c.id));
      all.push(...children);
      level = children.map((c) => c.id);
    }
    const moved = all.length ? await tx.store.records.markDeleted(actor.orgId, all.map((r) => r.id), actor.userId, tx.now, batchId) : 0;
    if (moved !== all.length) throw new AppError('INVALID_DATA', 'the records changed while this request ran; nothing was deleted', {});
    for (const row of all) {
      tx.audit({ action: 'deleted', module: row.module, recordId: row.id, recordName: row.name,
        parentModule: row.parent_module, parentId: row.parent_id, batchId: opts.batchId ?? (all.length > 1 ? batchId : null),
        fieldHistory: null, extra: doomed.includes(row) ? opts.extra ?? null : { cascade_of: row.parent_id }, source: opts.source });
    }
    return results;
  }

  /** One live record, or undefined (missing, deleted and foreign ids look alike). */
  async function getRecord(actor: Actor, moduleName: string, id: string): Promise<RecordTable | undefined> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    if (!isId(id)) return undefined;
    const [row] = await store.repos.records.byIds(actor.orgId, module.apiName, [id]);
    const visible = row && row.deleted_at === null && (await accessToRows(store.repos, actor, [row])).get(row.id)! >= ACCESS.read;
    const live = visible ? row : undefined;
    if (live) await auditViews(actor, module.apiName, [live]);
    return live;
  }

  /**
   * Record reads are audited where the organisation asks for it (`audit_record_views`, per
   * module, off by default): one `viewed` entry per request, naming the records read.
   */
  async function auditViews(actor: Actor, module: string, rows: RecordTable[]) {
    if (rows.length === 0) return;
    const org = await store.repos.directory.getOrg(actor.orgId);
    if (!parseOrgSettings(org?.settings).audit_record_views.includes(module)) return;
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'viewed', module, recordId: rows.length === 1 ? rows[0].id : null, recordName: rows.length === 1 ? rows[0].name : null,
        parentModule: null, parentId: null, batchId: null, fieldHistory: null, extra: { count: rows.length, ids: rows.map((r) => r.id) } });
    });
  }

  /** A page of live records; the caller validates and encodes paging parameters. */
  async function listRecords(actor: Actor, moduleName: string, q: Omit<records.ListQuery, 'orgId' | 'module'>) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    const rows = await store.repos.records.list({ ...q, orgId: actor.orgId, module: module.apiName, limit: q.limit + 1,
      readable: await readFilterOf(store.repos, actor) });
    const more = rows.length > q.limit;
    const page = more ? rows.slice(0, q.limit) : rows;
    await auditViews(actor, module.apiName, page);
    return { module, rows: page, more };
  }

  /** What rendering a page of records needs: the org's users and the names of referenced records. */
  async function referenceData(actor: Actor, ids: string[]) {
    const [users, names] = await Promise.all([store.repos.directory.listUsers(actor.orgId), store.repos.records.names(actor.orgId, ids)]);
    return {
      users: new Map(users.map((u) => [u.id, u])),
      names: new Map(names.map((n) => [n.id, { name: n.name, module: n.module }])),
    };
  }

  /** `GET /{module}/deleted`: records in the bin and tombstones of permanently deleted ones, newest first. */
  async function deletedRecords(actor: Actor, moduleName: string, type: 'all' | 'recycle' | 'permanent', page: number, perPage: number) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    const want = page * perPage + 1;
    type Item = { id: string; type: 'recycle' | 'permanent'; name: string | null; deletedBy: string | null; createdBy: string | null; deletedAt: number };
    const items: Item[] = [];
    if (type !== 'permanent') {
      const rows = await store.repos.bin.list({ orgId: actor.orgId, userIds: await binVisibleUserIds(store.repos, actor),
        readable: await readFilterOf(store.repos, actor), modules: [{ op: 'equal', value: module.apiName }],
        sortBy: 'deleted_at', desc: true, limit: want, offset: 0 });
      items.push(...rows.map((r) => ({ id: r.id, type: 'recycle' as const, name: r.name, deletedBy: r.deleted_by, createdBy: r.created_by,
        deletedAt: Number(r.deleted_at) })));
    }
    if (type !== 'recycle') {
      // A tombstone keeps no owner: where the module is not open to the reader under the data
      // sharing settings, only those created or removed by someone whose records they may read.
      const readable = await readFilterOf(store.repos, actor);
      const followed = readable?.parentModules.includes(module.apiName);
      const owners = !readable ? null : followed ? [...new Set(Object.values(readable.owners).flat())]
        : readable.owners[module.apiName] ?? null;
      const rows = await store.repos.bin.tombstones(actor.orgId, module.apiName, want, 0, owners);
      items.push(...rows.map((r) => ({ id: r.id, type: 'permanent' as const, name: r.name, deletedBy: r.deleted_by, createdBy: r.created_by,
        deletedAt: Number(r.deleted_at) })));
    }
    items.sort((a, b) => b.deletedAt - a.deletedAt || (a.id < b.id ? 1 : -1));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    return { rows: slice, more: items.length > page * perPage };
  }

  return { createRecords, updateRecords, deleteRecords, getRecord, listRecords, referenceData, deletedRecords, createInTx, updateInTx, deleteInTx };
}

export type RecordService = ReturnType<typeof createRecordService>;
