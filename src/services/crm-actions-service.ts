import { AppError, type ErrorCode } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import { moduleFields, recordName, type ModuleDef } from '../domain/modules.ts';
import type { FieldChange } from '../domain/audit.ts';
import { sameValue } from '../domain/field-values.ts';
import type { RecordTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { requireModule } from '../domain/modules.ts';
import { type ItemResult, type RecordService } from './record-service.ts';
import { accessToRow, requireModulePermission, requireSetting } from './authorization.ts';
import { ACCESS, type AccessLevel } from '../domain/sharing.ts';

export const MERGEABLE = ['Leads', 'Contacts', 'Accounts', 'Deals', 'Vendors', 'Cases', 'Campaigns', 'Products'];
export const MAX_MASS = 1000;
const DEAL_DERIVED = ['Stage', 'Closing_Date', 'Probability'];

/** An error Zoho reports inside the action's wrapper array rather than bare. */
const itemError = (code: ErrorCode, message: string, details: Record<string, unknown>) => AppError.perItem(code, message, details);

/** Merge, lead conversion, mass update, mass delete and import: each step audited, in one transaction. */
export function createCrmActionsService(deps: ServiceDeps, recordService: RecordService) {
  const { store } = deps;
  /** A live record the actor may act on at `level` under the data sharing settings; else undefined, as for a missing one. */
  const liveRow = async (tx: Tx, actor: Actor, module: string, id: string, level: AccessLevel) => {
    const [row] = isId(id) ? await tx.store.records.byIds(actor.orgId, module, [id]) : [];
    return row && row.deleted_at === null && await accessToRow(tx.store, actor, row) >= level ? row : undefined;
  };

  /** Points lookups that named `fromId` at `toId`; one audit entry per changed record. */
  async function repointLookups(tx: Tx, actor: Actor, fromId: string, toId: string, batchId: string) {
    for (const row of await tx.store.bin.liveRowsMentioning(actor.orgId, fromId)) {
      const data = JSON.parse(row.data) as Record<string, unknown>;
      const changes: FieldChange[] = [];
      for (const [k, v] of Object.entries(data)) {
        if (v && typeof v === 'object' && (v as { id?: string }).id === fromId) {
          data[k] = { id: toId };
          changes.push({ api_name: k, field_label: k, old: { id: fromId }, new: { id: toId } });
        }
      }
      if (!changes.length) continue;
      await tx.store.bin.updateData(actor.orgId, row.id, { data: JSON.stringify(data), modified_by: actor.userId ?? row.modified_by, modified_at: tx.now });
      tx.audit({ action: 'updated', module: row.module, recordId: row.id, recordName: row.name, parentModule: row.parent_module,
        parentId: row.parent_id, batchId, fieldHistory: changes, source: 'merge', extra: { merged_from: fromId } });
    }
  }

  async function moveDependents(tx: Tx, actor: Actor, fromIds: string[], to: RecordTable, batchId: string, source: 'merge' | 'conversion') {
    const moved = await tx.store.bin.reparentDependents(actor.orgId, fromIds, { module: to.module, id: to.id }, actor.userId ?? to.owner_id, tx.now);
    for (const m of moved) {
      tx.audit({ action: 'updated', module: m.module, recordId: m.id, recordName: m.name, parentModule: to.module, parentId: to.id, batchId,
        source, fieldHistory: [{ api_name: m.module === 'Notes' || m.module === 'Attachments' ? 'Parent_Id' : 'What_Id', field_label: 'Parent',
          old: { module: m.parent_module, id: m.parent_id }, new: { module: to.module, id: to.id } }], extra: null });
    }
    return moved;
  }

  /**
   * Merges up to two duplicates into the master: chosen field values move over, their notes,
   * attachments and activities move to the master, lookups to them are repointed, and the
   * duplicates are deleted for good (never in the bin). The master's `merged` entry holds each
   * duplicate's id and values.
   */
  async function merge(actor: Actor, moduleName: string, masterId: string, body: unknown) {
    const module = requireModule(moduleName);
    if (!MERGEABLE.includes(module.apiName)) throw new AppError('NOT_SUPPORTED', `${module.apiName} records cannot be merged`, { resource_path_index: 0 });
    requireModulePermission(actor, module, 'edit');
    requireModulePermission(actor, module, 'delete');
    const b = body as { merge?: unknown } | undefined;
    if (!b || typeof b !== 'object' || !Array.isArray(b.merge) || b.merge.length !== 1) {
      throw new AppError('INVALID_DATA', 'the body needs a merge array with exactly one object', { api_name: 'merge', json_path: '$.merge' });
    }
    const item = b.merge[0] as { data?: unknown; master_record_fields?: unknown };
    if (!item || typeof item !== 'object' || !Array.isArray(item.data)) {
      throw itemError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'data', json_path: '$.merge[0].data' });
    }
    if (item.data.length === 0) throw itemError('INVALID_DATA', 'give one or two records to merge', { api_name: 'data', json_path: '$.merge[0].data', minimum_length: 1 });
    if (item.data.length > 2) throw itemError('INVALID_DATA', 'at most two records merge into a master', { api_name: 'data', json_path: '$.merge[0].data', maximum_length: 2 });
    const fields = moduleFields(module);
    const claimed = new Set<string>();
    const children = item.data.map((c, i) => {
      const path = `$.merge[0].data[${i}]`;
      const child = c as { id?: unknown; _fields?: unknown };
      if (!child || typeof child !== 'object' || !isId(child.id)) throw itemError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `${path}.id` });
      if (child.id === masterId) throw itemError('INVALID_DATA', 'a record cannot be merged with itself', { api_name: 'id', json_path: `${path}.id` });
      const take: string[] = [];
      for (const [j, f] of (Array.isArray(child._fields) ? child._fields : []).entries()) {
        const api = (f as { api_name?: unknown })?.api_name;
        const def = typeof api === 'string' ? fields.get(api) : undefined;
        if (!def || (def.readOnly && api !== 'Owner')) throw itemError('INVALID_DATA', 'the field api name given seems to be invalid', { api_name: String(api), json_path: `${path}._fields[${j}]` });
        if (module.apiName === 'Deals' && DEAL_DERIVED.includes(api as string)) throw itemError('NOT_ALLOWED', `${String(api)} is derived for deals and cannot be merged`, { api_name: api, json_path: `${path}._fields[${j}]` });
        if (claimed.has(api as string)) throw itemError('DUPLICATE_DATA', `${String(api)} is chosen more than once`, { api_name: api, json_path: `${path}._fields[${j}]` });
        claimed.add(api as string);
        take.push(api as string);
      }
      return { id: child.id, take, path };
    });
    if (new Set(children.map((c) => c.id)).size !== children.length) {
      throw itemError('DUPLICATE_DATA', 'the same record is listed twice', { api_name: 'id', json_path: '$.merge[0].data' });
    }
    return inTransaction(deps, actor, async (tx) => {
      const master = await liveRow(tx, actor, module.apiName, masterId, ACCESS.edit);
      if (!master) throw new AppError('INVALID_DATA', 'Master record is not found', { resource_path_index: 1 });
      const dups: RecordTable[] = [];
      for (const c of children) {
        const row = await liveRow(tx, actor, module.apiName, c.id, ACCESS.delete);
        if (!row) throw itemError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `${c.path}.id` });
        dups.push(row);
      }
      if (module.apiName === 'Deals') {
        for (const r of [master, ...dups]) {
          const stage = (JSON.parse(r.data) as { Stage?: string }).Stage ?? '';
          if (stage.startsWith('Closed')) throw new AppError('NOT_ALLOWED', 'closed deals cannot be merged', { id: r.id });
        }
      }
      const batchId = newId(tx.now);
      const masterData = JSON.parse(master.data) as Record<string, unknown>;
      let ownerId = master.owner_id;
      const history: FieldChange[] = [];
      children.forEach((c, i) => {
        const dupData = JSON.parse(dups[i].data) as Record<string, unknown>;
        for (const api of c.take) {
          if (api === 'Owner') {
            if (dups[i].owner_id !== ownerId) history.push({ api_name: 'Owner', field_label: 'Owner', old: { id: ownerId }, new: { id: dups[i].owner_id } });
            ownerId = dups[i].owner_id;
            continue;
          }
          if (sameValue(masterData[api], dupData[api])) continue;
          history.push({ api_name: api, field_label: fields.get(api)!.label, old: masterData[api] ?? null, new: dupData[api] ?? null });
          masterData[api] = dupData[api] ?? null;
        }
      });
      const by = actor.userId ?? master.modified_by;
      const name = recordName(module, masterData);
      await tx.store.bin.updateData(actor.orgId, master.id, { data: JSON.stringify(masterData), name, owner_id: ownerId, modified_by: by, modified_at: tx.now });
      const moved = await moveDependents(tx, actor, dups.map((d) => d.id), master, batchId, 'merge');
      for (const d of dups) await repointLookups(tx, actor, d.id, master.id, batchId);
      const removed = await tx.store.bin.removeLive(actor.orgId, dups, tx.now, actor.userId);
      if (removed !== dups.length) throw new AppError('INVALID_DATA', 'a duplicate changed while merging; nothing was done', {});
      for (const d of dups) {
        tx.audit({ action: 'permanently_deleted', module: module.apiName, recordId: d.id, recordName: d.name, parentModule: null, parentId: null,
          batchId, fieldHistory: null, source: 'merge', extra: { merged_into: master.id, values: JSON.parse(d.data), owner_id: d.owner_id } });
      }
      tx.audit({ action: 'merged', module: module.apiName, recordId: master.id, recordName: name, parentModule: null, parentId: null, batchId,
        fieldHistory: history, source: 'merge',
        extra: { duplicates: dups.map((d) => ({ id: d.id, name: d.name, owner_id: d.owner_id, values: JSON.parse(d.data) })), moved: moved.length } });
      return { id: master.id, moved: moved.length };
    });
  }

  /**
   * Converts a lead: an account (from Company, or the given one), a contact, optionally a deal;
   * the lead's notes, attachments and activities move to the contact, the lead is marked
   * converted. Every step is audited (source conversion). ID_ALREADY_CONVERTED the second time.
   */
  async function convert(actor: Actor, leadId: string, body: unknown) {
    const leads = requireModule('Leads');
    requireModulePermission(actor, leads, 'edit');
    requireModulePermission(actor, requireModule('Contacts'), 'create');
    requireModulePermission(actor, requireModule('Accounts'), 'create');
    const raw = body && typeof body === 'object' && Array.isArray((body as { data?: unknown }).data) ? (body as { data: unknown[] }).data : [{}];
    if (raw.length !== 1) throw new AppError('LIMIT_EXCEEDED', 'convert one lead per call', { api_name: 'data', json_path: '$.data', limit: 1 });
    const opts = (raw[0] ?? {}) as { Accounts?: { id?: unknown }; Contacts?: { id?: unknown }; Deals?: Record<string, unknown>;
      assign_to?: { id?: unknown }; overwrite?: unknown };
    if (opts.Deals) requireModulePermission(actor, requireModule('Deals'), 'create');
    return inTransaction(deps, actor, async (tx) => {
      const [lead] = isId(leadId) ? await tx.store.records.byIds(actor.orgId, 'Leads', [leadId]) : [];
      if (!lead || lead.deleted_at !== null || await accessToRow(tx.store, actor, lead) < ACCESS.edit) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
      if (lead.converted_at) throw new AppError('ID_ALREADY_CONVERTED', 'id already converted', { resource_path_index: 1 });
      const v = JSON.parse(lead.data) as Record<string, unknown>;
      let owner = lead.owner_id;
      if (opts.assign_to !== undefined) {
        const u = isId(opts.assign_to?.id) ? await tx.store.directory.getUser(actor.orgId, opts.assign_to!.id as string) : undefined;
        if (!u || u.status !== 'active') throw itemError('INVALID_DATA', 'invalid user', { api_name: 'assign_to', json_path: '$.data[0].assign_to' });
        owner = u.id;
      }
      const batchId = newId(tx.now);
      const w = { source: 'conversion' as const, batchId, extra: { converted_from: lead.id } };
      const created = (results: ItemResult[], path: string): RecordTable => {
        const r = results[0];
        if (!r.ok) throw itemError(r.error.code as ErrorCode, r.error.message, { ...r.error.details, json_path: `${path}${String(r.error.details.json_path ?? '').replace(/^\$\.data\[0\]/, '')}` });
        return r.row;
      };
      let account: RecordTable | null = null;
      if (opts.Accounts !== undefined) {
        account = (isId(opts.Accounts?.id) ? await liveRow(tx, actor, 'Accounts', opts.Accounts!.id as string, ACCESS.read) : undefined) ?? null;
        if (!account) throw itemError('INVALID_DATA', 'the account given seems to be invalid', { api_name: 'Accounts', json_path: '$.data[0].Accounts' });
      } else if (typeof v.Company === 'string' && v.Company) {
        account = created(await recordService.createInTx(tx, actor, requireModule('Accounts'), [{ Account_Name: v.Company, Phone: v.Phone ?? null,
          Website: v.Website ?? null, Industry: v.Industry ?? null, Annual_Revenue: v.Annual_Revenue ?? null, Owner: { id: owner } }], w), '$.data[0].Accounts');
      }
      let contact: RecordTable;
      if (opts.Contacts !== undefined) {
        const existing = isId(opts.Contacts?.id) ? await liveRow(tx, actor, 'Contacts', opts.Contacts!.id as string, ACCESS.edit) : undefined;
        if (!existing) throw itemError('INVALID_DATA', 'the contact given seems to be invalid', { api_name: 'Contacts', json_path: '$.data[0].Contacts' });
        contact = existing;
        if (account && opts.overwrite === true) {
          await recordService.updateInTx(tx, actor, requireModule('Contacts'), [{ Account_Name: { id: account.id } }], contact.id, w);
        }
      } else {
        contact = created(await recordService.createInTx(tx, actor, requireModule('Contacts'), [{
          First_Name: v.First_Name ?? null, Last_Name: v.Last_Name, Email: v.Email ?? null, Phone: v.Phone ?? null, Mobile: v.Mobile ?? null,
          Designation: v.Designation ?? null, Lead_Source: v.Lead_Source ?? null, Email_Opt_Out: v.Email_Opt_Out ?? null,
          Description: v.Description ?? null, Mailing_Street: v.Street ?? null, Mailing_City: v.City ?? null, Mailing_State: v.State ?? null,
          Mailing_Country: v.Country ?? null, Account_Name: account ? { id: account.id } : null, Owner: { id: owner },
        }], w), '$.data[0].Contacts');
      }
      let deal: RecordTable | null = null;
      if (opts.Deals) {
        if (typeof opts.Deals !== 'object' || Array.isArray(opts.Deals)) throw itemError('INVALID_DATA', 'Deals must be an object', { api_name: 'Deals', json_path: '$.data[0].Deals' });
        deal = created(await recordService.createInTx(tx, actor, requireModule('Deals'), [{ Lead_Source: v.Lead_Source ?? null, ...opts.Deals,
          Account_Name: account ? { id: account.id } : null, Contact_Name: { id: contact.id }, Owner: { id: owner } }], w), '$.data[0].Deals');
      }
      await moveDependents(tx, actor, [lead.id], contact, batchId, 'conversion');
      await tx.store.bin.updateData(actor.orgId, lead.id, { converted_at: tx.now, converted_by: actor.userId, modified_at: tx.now,
        modified_by: actor.userId ?? lead.modified_by });
      const ref = (r: RecordTable | null) => (r ? { name: r.name, id: r.id } : null);
      tx.audit({ action: 'converted', module: 'Leads', recordId: lead.id, recordName: lead.name, parentModule: null, parentId: null, batchId,
        source: 'conversion', fieldHistory: null, extra: { Contacts: ref(contact), Accounts: ref(account), Deals: ref(deal) } });
      return { Contacts: ref(contact)!, Accounts: ref(account), Deals: ref(deal) };
    });
  }

  function massIds(ids: unknown): string[] {
    if (!Array.isArray(ids) || ids.length === 0) throw new AppError('MANDATORY_NOT_FOUND', 'ids are required', { api_name: 'ids', json_path: '$.ids' });
    if (ids.length > MAX_MASS) throw new AppError('LIMIT_EXCEEDED', `at most ${MAX_MASS} records per mass action`, { api_name: 'ids', json_path: '$.ids', limit: MAX_MASS });
    if (ids.some((i) => !isId(i))) throw new AppError('INVALID_DATA', 'ids must be record ids', { api_name: 'ids', json_path: '$.ids' });
    return [...new Set(ids as string[])];
  }

  /** Sets the same values on up to 1,000 records: one entry per record plus one summary, one batch id. */
  async function massUpdate(actor: Actor, moduleName: string, values: Record<string, unknown>, ids: unknown) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'edit');
    requireSetting(actor, 'mass_update');
    const list = massIds(ids);
    if (!values || typeof values !== 'object' || Object.keys(values).length === 0) {
      throw new AppError('MANDATORY_NOT_FOUND', 'the values to set are required', { api_name: 'data', json_path: '$.data' });
    }
    return inTransaction(deps, actor, async (tx) => {
      const batchId = newId(tx.now);
      const raw = await recordService.updateInTx(tx, actor, module, list.map((id) => ({ ...values, id })), undefined, { source: 'mass_action', batchId });
      // Every record got the one set of values the caller sent as data[0]: a value's error points there.
      const results = raw.map((r) => (r.ok || typeof r.error.details.json_path !== 'string' ? r
        : { ...r, error: { ...r.error, details: { ...r.error.details, json_path: r.error.details.json_path.replace(/^\$\.data\[\d+\]/, '$.data[0]') } } }));
      const updated = results.filter((r) => r.ok).length;
      tx.audit({ action: 'mass_updated', module: module.apiName, recordId: null, recordName: null, parentModule: null, parentId: null, batchId,
        source: 'mass_action', fieldHistory: null, extra: { count: updated, failed: results.length - updated, fields: Object.keys(values) } });
      return { batchId, results, ids: list };
    });
  }

  /** Moves up to 1,000 records (and their dependents) to the bin: one entry each plus a summary. */
  async function massDelete(actor: Actor, moduleName: string, ids: unknown) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'delete');
    requireSetting(actor, 'mass_delete');
    const list = massIds(ids);
    return inTransaction(deps, actor, async (tx) => {
      const batchId = newId(tx.now);
      const results = await recordService.deleteInTx(tx, actor, module, list, { source: 'mass_action', batchId });
      const deleted = results.filter((r) => r.ok).length;
      tx.audit({ action: 'mass_deleted', module: module.apiName, recordId: null, recordName: null, parentModule: null, parentId: null, batchId,
        source: 'mass_action', fieldHistory: null, extra: { count: deleted, failed: results.length - deleted } });
      return { batchId, results, ids: list };
    });
  }

  /**
   * Imports records (CSV rows as objects of api names) in transactions of 100, all under one
   * batch id, then one `imported` summary entry with the count. Returns per-row results.
   */
  async function importRecords(actor: Actor, moduleName: string, rows: Record<string, unknown>[], file: string) {
    const module: ModuleDef = requireModule(moduleName);
    requireModulePermission(actor, module, 'create');
    requireSetting(actor, 'import');
    const importActor = { ...actor, source: 'import' as const };
    const batchId = newId();
    const results: ItemResult[] = [];
    for (let i = 0; i < rows.length; i += 100) {
      const chunk = rows.slice(i, i + 100);
      results.push(...await inTransaction(deps, importActor, (tx) => recordService.createInTx(tx, importActor, module, chunk, { source: 'import', batchId })));
    }
    const imported = results.filter((r) => r.ok).length;
    await inTransaction(deps, importActor, async (tx) => {
      tx.audit({ action: 'imported', module: module.apiName, recordId: null, recordName: file, parentModule: null, parentId: null, batchId,
        source: 'import', fieldHistory: null, extra: { count: imported, failed: results.length - imported, file } });
    });
    return { batchId, results };
  }

  /**
   * Logs an email the actor sent about a record. Audited only when the sender's email
   * tracking setting is on (Zoho's SalesInbox rule); the email itself is always kept.
   */
  async function logEmail(actor: Actor, moduleName: string, parentId: string, item: unknown) {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'edit');
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      throw itemError('INVALID_DATA', 'invalid data', { json_path: '$.data[0]', expected_data_type: 'jsonobject' });
    }
    const user = actor.userId ? await store.repos.directory.getUser(actor.orgId, actor.userId) : undefined;
    const tracking = !!user && (JSON.parse(user.settings) as { email_tracking?: boolean }).email_tracking === true;
    return inTransaction(deps, actor, async (tx) => {
      const parent = await liveRow(tx, actor, module.apiName, parentId, ACCESS.read);
      if (!parent) throw new AppError('INVALID_DATA', 'the related id given seems to be invalid', { resource_path_index: 1 });
      const [r] = await recordService.createInTx(tx, actor, requireModule('Emails'), [{ From: user?.email ?? null, Sent_Time: new Date(tx.now).toISOString(),
        ...(item as Record<string, unknown>), Parent_Id: { module: { api_name: module.apiName }, id: parentId } }], { skipAudit: !tracking });
      return { result: r, audited: tracking };
    });
  }

  return { merge, convert, massUpdate, massDelete, importRecords, logEmail };
}

export type CrmActionsService = ReturnType<typeof createCrmActionsService>;
