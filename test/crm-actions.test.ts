import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withApp } from './helpers.ts';
import { importCommand } from '../src/cli/commands/import.ts';

describe('merge, conversion, mass actions and import', () => {
  const t = withApp();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auditrail-actions-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const create = async (module: string, values: Record<string, unknown>) => {
    const [r] = await t.env.rt.services.records.createRecords(t.admin, module, [values]);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.row.id;
  };
  const post = (url: string, body: unknown) => t.app.inject({ method: 'POST', url, headers: t.auth, payload: JSON.stringify(body) });
  const entries = (action: string) => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId).where('action', '=', action).orderBy('seq').execute();
  const row = (id: string) => t.env.store.db.selectFrom('records').selectAll().where('id', '=', id).executeTakeFirst();

  it('merges a duplicate contact into the master, moving its dependents and deleting it for good', async () => {
    const account = await create('Accounts', { Account_Name: 'Acme' });
    const master = await create('Contacts', { Last_Name: 'Doe', First_Name: 'Jane', Email: 'jane@old.example' });
    const dup = await create('Contacts', { Last_Name: 'Doe', First_Name: 'Jane', Email: 'jane@new.example', Phone: '555', Account_Name: { id: account } });
    const note = await create('Notes', { Note_Content: 'on the duplicate', Parent_Id: { module: { api_name: 'Contacts' }, id: dup } });
    const call = await create('Calls', { Subject: 'c', Call_Type: 'Inbound', Call_Start_Time: '2026-01-01T10:00:00Z', What_Id: { id: dup }, $se_module: 'Contacts' });
    const deal = await create('Deals', { Deal_Name: 'D', Stage: 'Qualification', Contact_Name: { id: dup } });
    const res = await post(`/crm/v8/Contacts/${master}/actions/merge`, { merge: [{ data: [{ id: dup, _fields: [{ api_name: 'Email' }, { api_name: 'Account_Name' }] }] }] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ merge: [{ code: 'SUCCESS', details: { id: master }, message: 'The records has been merged successfully', status: 'success' }] });
    const m = JSON.parse((await row(master))!.data);
    expect(m).toMatchObject({ Email: 'jane@new.example', Account_Name: { id: account } });
    expect(m.Phone).toBeUndefined();
    expect(await row(dup)).toBeUndefined();
    expect((await row(note))!.parent_id).toBe(master);
    expect((await row(call))!.parent_id).toBe(master);
    expect(JSON.parse((await row(deal))!.data).Contact_Name).toEqual({ id: master });
    const bin = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/recycle_bin', headers: t.auth });
    expect(bin.statusCode).toBe(204);
    const [merged] = await entries('merged');
    expect(merged).toMatchObject({ record_id: master, source: 'merge' });
    const extra = JSON.parse(merged.details).extra;
    expect(extra.duplicates[0]).toMatchObject({ id: dup, values: { Email: 'jane@new.example', Phone: '555' } });
    const tl = (await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${master}/__timeline`, headers: t.auth })).json().__timeline;
    expect(tl[0]).toMatchObject({ action: 'merged', source: 'findandmerge', record: { id: master } });
  });

  it('refuses to merge a record with itself, across modules, or more than two at once', async () => {
    const a = await create('Contacts', { Last_Name: 'A' });
    const lead = await create('Leads', { Last_Name: 'L' });
    const self = await post(`/crm/v8/Contacts/${a}/actions/merge`, { merge: [{ data: [{ id: a }] }] });
    expect(self.statusCode).toBe(400);
    expect(self.json().merge[0]).toMatchObject({ code: 'INVALID_DATA', message: 'a record cannot be merged with itself', status: 'error' });
    const cross = await post(`/crm/v8/Contacts/${a}/actions/merge`, { merge: [{ data: [{ id: lead }] }] });
    expect(cross.json().merge[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'id', json_path: '$.merge[0].data[0].id' } });
    const three = await post(`/crm/v8/Contacts/${a}/actions/merge`, { merge: [{ data: [{ id: lead }, { id: lead }, { id: lead }] }] });
    expect(three.json().merge[0]).toMatchObject({ code: 'INVALID_DATA', details: { maximum_length: 2 } });
    const noMaster = await post('/crm/v8/Contacts/1000000000000000001/actions/merge', { merge: [{ data: [{ id: a }] }] });
    expect(noMaster.json()).toMatchObject({ code: 'INVALID_DATA', message: 'Master record is not found', details: { resource_path_index: 1 } });
    expect((await row(a))!.deleted_at).toBeNull();
    expect((await row(lead))!.deleted_at).toBeNull();
  });

  it('converts a lead into account, contact and deal, once', async () => {
    const lead = await create('Leads', { First_Name: 'Sam', Last_Name: 'Lee', Company: 'Lee Logistics', Email: 'sam@lee.example', City: 'Austin' });
    const note = await create('Notes', { Note_Content: 'met at fair', Parent_Id: { module: { api_name: 'Leads' }, id: lead } });
    const res = await post(`/crm/v8/Leads/${lead}/actions/convert`, { data: [{ Deals: { Deal_Name: 'Lee rollout', Stage: 'Qualification', Amount: 5000 } }] });
    expect(res.statusCode).toBe(200);
    const details = res.json().data[0].details;
    expect(details).toMatchObject({ Contacts: { name: 'Sam Lee' }, Accounts: { name: 'Lee Logistics' }, Deals: { name: 'Lee rollout' } });
    const contact = JSON.parse((await row(details.Contacts.id))!.data);
    expect(contact).toMatchObject({ Email: 'sam@lee.example', Mailing_City: 'Austin', Account_Name: { id: details.Accounts.id } });
    expect(JSON.parse((await row(details.Deals.id))!.data)).toMatchObject({ Contact_Name: { id: details.Contacts.id }, Amount: 5000 });
    expect((await row(note))!.parent_id).toBe(details.Contacts.id);
    const [conv] = await entries('converted');
    expect(conv).toMatchObject({ record_id: lead, source: 'conversion' });
    const added = (await t.env.store.db.selectFrom('audit_entries').selectAll().where('batch_id', '=', conv.batch_id).execute()).map((e) => `${e.action}:${e.module}`);
    expect(added).toEqual(expect.arrayContaining(['added:Accounts', 'added:Contacts', 'added:Deals', 'updated:Notes', 'converted:Leads']));
    const sources = await t.env.store.db.selectFrom('audit_entries').select('source').distinct().where('batch_id', '=', conv.batch_id).execute();
    expect(sources.map((x) => x.source)).toEqual(['conversion']);
    const again = await post(`/crm/v8/Leads/${lead}/actions/convert`, { data: [{}] });
    expect(again.statusCode).toBe(400);
    expect(again.json()).toMatchObject({ code: 'ID_ALREADY_CONVERTED', details: { resource_path_index: 1 }, status: 'error' });
    const list = (await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', headers: t.auth })).json().data ?? [];
    expect(list.map((l: { id: string }) => l.id)).not.toContain(lead);
    const converted = (await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name&converted=true', headers: t.auth })).json().data;
    expect(converted.map((l: { id: string }) => l.id)).toContain(lead);
  });

  it('rolls a failed conversion back completely', async () => {
    const lead = await create('Leads', { Last_Name: 'Half', Company: 'Half Co' });
    const before = await t.env.store.db.selectFrom('records').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow();
    const res = await post(`/crm/v8/Leads/${lead}/actions/convert`, { data: [{ Deals: { Deal_Name: 'No stage' } }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().data[0]).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'Stage' } });
    const after = await t.env.store.db.selectFrom('records').select(({ fn }) => fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect((await row(lead))!.converted_at).toBeNull();
  });

  it('mass-updates and mass-deletes with one entry per record and one summary, tied by a batch id', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [r] = await t.env.rt.services.records.createRecords(t.admin, 'Leads', Array.from({ length: 100 }, (_, j) => ({ Last_Name: `Mass ${i}-${j}` })));
      expect(r.ok).toBe(true);
      ids.push(...(await t.env.store.db.selectFrom('records').select('id').where('name', 'like', `Mass ${i}-%`).execute()).map((x) => x.id));
    }
    const up = await post('/crm/v8/Leads/actions/mass_update', { data: [{ Lead_Status: 'Contacted' }], ids });
    expect(up.statusCode).toBe(200);
    const batch = up.json().data[0].details.batch_id;
    const perRecord = await t.env.store.db.selectFrom('audit_entries').selectAll().where('batch_id', '=', batch).execute();
    expect(perRecord.filter((e) => e.action === 'updated')).toHaveLength(300);
    expect(perRecord.every((e) => e.source === 'mass_action')).toBe(true);
    expect(perRecord.filter((e) => e.action === 'mass_updated')).toHaveLength(1);
    expect(JSON.parse(perRecord.find((e) => e.action === 'mass_updated')!.details).extra).toMatchObject({ count: 300, failed: 0 });
    const log = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log?action=mass_updated', headers: t.auth })).json().audit_log;
    expect(log[0]).toMatchObject({ action: 'mass_updated', batch_id: batch, details: { count: 300 } });
    // A bad value is the one set sent as data[0], whichever record it failed on.
    const bad = await post('/crm/v8/Leads/actions/mass_update', { data: [{ Annual_Revenue: 'lots' }], ids: ids.slice(5, 7) });
    const items = bad.json().data as { code: string; details: { json_path?: string } }[];
    expect(items.filter((i) => i.code !== 'SUCCESS').length).toBeGreaterThan(0);
    expect(items.filter((x) => x.code !== 'SUCCESS').map((x) => x.details.json_path)).toEqual(['$.data[0].Annual_Revenue', '$.data[0].Annual_Revenue']);
    const del = await post('/crm/v8/Leads/actions/mass_delete', { ids: ids.slice(0, 150) });
    expect(del.statusCode).toBe(200);
    const [summary] = await entries('mass_deleted');
    expect(JSON.parse(summary.details).extra.count).toBe(150);
    const deletedInBatch = await t.env.store.db.selectFrom('audit_entries').selectAll().where('batch_id', '=', summary.batch_id).where('action', '=', 'deleted').execute();
    expect(deletedInBatch).toHaveLength(150);
    expect(deletedInBatch.every((e) => e.source === 'mass_action')).toBe(true);
    const tooMany = await post('/crm/v8/Leads/actions/mass_delete', { ids: Array.from({ length: 1001 }, (_, i) => String(1000000000000000000n + BigInt(i))) });
    expect(tooMany.json()).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 1000 } });
  });

  it('imports a CSV file through the CLI as one batch with per-row errors', async () => {
    const file = path.join(tmp, 'leads.csv');
    writeFileSync(file, '\uFEFFFirst_Name,Last_Name,Company,Email,Email_Opt_Out\r\nAna,Ruiz,Zylker,ana@z.example,true\r\nNo,,Missing,bad@z.example,false\r\nBo,Chen,"Chen, Inc",bo@c.example,false\r\n');
    const code = await importCommand(t.env.rt, { module: 'Leads', file });
    expect(code).toBe(1);
    const [summary] = await entries('imported');
    expect(JSON.parse(summary.details).extra).toMatchObject({ count: 2, failed: 1, file: 'leads.csv' });
    const added = await t.env.store.db.selectFrom('audit_entries').selectAll().where('batch_id', '=', summary.batch_id).where('action', '=', 'added').execute();
    expect(added.map((a) => a.record_name).sort()).toEqual(['Ana Ruiz', 'Bo Chen']);
    expect(added.every((a) => a.source === 'import')).toBe(true);
  });
});
