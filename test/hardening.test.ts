import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, tokenFor, withApp, createEnvWithOrg, type Auth } from './helpers.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { systemActor } from '../src/services/context.ts';

describe.each(BACKENDS)('concurrent use cases on one record on %s', (backend) => {
  it('lose no update and convert a lead once', async () => {
    const { env, org, admin } = await createEnvWithOrg(backend);
    const second = backend === 'postgres' ? await env.second() : null;
    const other = second?.rt ?? env.rt;
    const [lead] = await env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: 'Busy', Company: 'Busy Co' }]);
    if (!lead.ok) throw new Error('create failed');
    const fields: [string, unknown][] = [['First_Name', 'Bo'], ['Email', 'bo@busy.example'], ['Phone', '555'], ['Mobile', '556'],
      ['Designation', 'CTO'], ['City', 'Oslo'], ['State', 'Oslo'], ['Country', 'Norway'], ['Street', 'Main 1'], ['Zip_Code', '0150']];
    await Promise.all(fields.map(([k, v], i) => (i % 2 ? other : env.rt).services.records.updateRecords(admin, 'Leads', [{ [k]: v }], lead.row.id)));
    const row = await env.rt.services.records.getRecord(admin, 'Leads', lead.row.id);
    const data = JSON.parse(row!.data);
    for (const [k, v] of fields) expect(data[k], k).toBe(v);
    const updates = await env.store.db.selectFrom('audit_entries').select('id').where('record_id', '=', lead.row.id).where('action', '=', 'updated').execute();
    expect(updates).toHaveLength(10);
    const conversions = await Promise.allSettled([0, 1, 2].map((i) => (i % 2 ? other : env.rt).services.actions.convert(admin, lead.row.id, undefined)));
    expect(conversions.filter((c) => c.status === 'fulfilled')).toHaveLength(1);
    for (const c of conversions) if (c.status === 'rejected') expect(c.reason).toMatchObject({ code: 'ID_ALREADY_CONVERTED' });
    const contacts = await env.store.db.selectFrom('records').select('id').where('org_id', '=', org.org.id).where('module', '=', 'Contacts').execute();
    expect(contacts).toHaveLength(1);
    expect((await env.rt.services.audit.verifyChain(org.org.id)).ok).toBe(true);
    await second?.close();
    await env.close();
  });
});

describe('privilege and scope boundaries', () => {
  const t = withApp({ token: false });
  let delegate: Auth;
  let adminAuth: Auth;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const org = t.org;
    ids.admin = org.profiles.admin.id;
    ids.standard = org.profiles.standard.id;
    ids.manager = org.roles.manager.id;
    const hr = await t.env.rt.services.directory.cloneProfile(t.admin, org.profiles.standard.id, { name: 'HR',
      permissions: { modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: { manage_users: true, manage_profiles: true } } });
    ids.hr = hr.id;
    const u = await t.env.rt.services.directory.createUser(t.admin, { last_name: 'Delegate', email: 'hr@acme.example', role: { id: ids.manager }, profile: { id: hr.id } });
    ids.delegate = u.id;
    delegate = await t.authFor({ userEmail: 'hr@acme.example', scopes: ['ZohoCRM.settings.profiles.ALL', 'ZohoCRM.users.ALL', 'ZohoCRM.modules.ALL'] });
    adminAuth = await t.authFor();
  });

  const req = (method: 'POST' | 'PUT', url: string, body: unknown, headers = delegate) =>
    t.app.inject({ method, url, headers, payload: JSON.stringify(body) });

  it('a delegate with user and profile management cannot make anyone an Administrator', async () => {
    const clone = await req('POST', `/crm/v8/settings/profiles/${ids.admin}/actions/clone`, { profiles: [{ name: 'Shadow admin' }] });
    expect(clone.statusCode).toBe(403);
    expect(clone.json()).toMatchObject({ code: 'NO_PERMISSION', status: 'error' });
    const assign = await req('PUT', `/crm/v8/users/${ids.delegate}`, { users: [{ profile: { id: ids.admin } }] });
    expect(assign.json()).toMatchObject({ code: 'NO_PERMISSION' });
    const own = await req('PUT', `/crm/v8/settings/profiles/${ids.hr}`, { profiles: [{ permissions: { settings: { audit_log: true } } }] });
    expect(own.json().profiles[0]).toMatchObject({ code: 'NOT_ALLOWED' });
    const grant = await req('PUT', `/crm/v8/settings/profiles/${ids.standard}`, { profiles: [{ permissions: { settings: { recycle_bin_admin: true } } }] });
    expect(grant.json()).toMatchObject({ code: 'NO_PERMISSION', details: { permissions: ['recycle_bin_admin'] } });
    const me = (await t.app.inject({ method: 'GET', url: '/crm/v8/users?type=CurrentUser', headers: delegate })).json().users[0];
    expect(me.profile.id).toBe(ids.hr);
  });

  it('an attachment is reachable only through its own parent\'s module, with that module\'s scope', async () => {
    const contact = (await req('POST', '/crm/v8/Contacts', { data: [{ Last_Name: 'Private' }] }, adminAuth)).json().data[0].details.id;
    const boundary = '----x';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="secret.txt"\r\nContent-Type: text/plain\r\n\r\nsecret\r\n--${boundary}--\r\n`;
    const att = (await t.app.inject({ method: 'POST', url: `/crm/v8/Contacts/${contact}/Attachments`, headers: { ...adminAuth, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload })).json().data[0].details.id;
    const { auth: leadsOnly } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.modules.leads.ALL'] });
    const viaLeads = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${contact}/Attachments/${att}`, headers: leadsOnly });
    expect(viaLeads.statusCode).toBe(400);
    expect(viaLeads.json()).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 3 } });
    const del = await t.app.inject({ method: 'DELETE', url: `/crm/v8/Leads/${contact}/Attachments/${att}`, headers: leadsOnly });
    expect(del.json().code).toBe('INVALID_DATA');
    const ok = await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${contact}/Attachments/${att}`, headers: adminAuth });
    expect(ok.body).toBe('secret');
  });

  it('the recycle bin follows profile permissions: no view, no item; no delete, no restore', async () => {
    const dir = t.env.rt.services.directory;
    const admin = await dir.actorForUser(t.orgId, (await dir.listUsers(systemActor(t.orgId), 'AdminUsers'))[0].id);
    const blind = await dir.cloneProfile(admin, ids.standard, { name: 'No leads',
      permissions: { modules: { '*': { view: true, create: true, edit: true, delete: true }, Leads: { view: false, create: false, edit: false, delete: false } }, settings: {} } });
    const keep = await dir.cloneProfile(admin, ids.standard, { name: 'No deleting',
      permissions: { modules: { '*': { view: true, create: true, edit: true, delete: false } }, settings: {} } });
    const a = await dir.createUser(admin, { last_name: 'Blind', email: 'blind@acme.example', role: { id: ids.manager }, profile: { id: blind.id } });
    const b = await dir.createUser(admin, { last_name: 'Keeper', email: 'keeper@acme.example', role: { id: ids.manager }, profile: { id: keep.id } });
    const [lead] = await t.env.rt.services.records.createRecords(await dir.actorForUser(t.orgId, a.id), 'Contacts', [{ Last_Name: 'Own contact' }]);
    const [hidden] = await t.env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: 'Hidden Lead', Owner: { id: a.id } }]);
    if (!lead.ok || !hidden.ok) throw new Error('create failed');
    await t.env.rt.services.records.deleteRecords(admin, 'Leads', [hidden.row.id]);
    await t.env.rt.services.records.deleteRecords(admin, 'Contacts', [lead.row.id]);
    const blindActor = await dir.actorForUser(t.orgId, a.id);
    const listed = await t.env.rt.services.recycleBin.list(blindActor, { filters: [], sortBy: 'deleted_time', desc: true, page: 1, perPage: 200 });
    expect(listed.rows.map((r) => r.module)).toEqual(['Contacts']);
    const r1 = await t.env.rt.services.recycleBin.restore(blindActor, { ids: [hidden.row.id] });
    expect(r1).toMatchObject({ scheduled: false, results: [{ ok: false, code: 'INVALID_DATA' }] });
    const [own] = await t.env.rt.services.records.createRecords(await dir.actorForUser(t.orgId, b.id), 'Contacts', [{ Last_Name: 'Kept' }]);
    if (!own.ok) throw new Error('create failed');
    await t.env.rt.services.records.deleteRecords(admin, 'Contacts', [own.row.id]);
    const r2 = await t.env.rt.services.recycleBin.restore(await dir.actorForUser(t.orgId, b.id), { ids: [own.row.id] });
    expect(r2).toMatchObject({ scheduled: false, results: [{ ok: false, code: 'NO_PERMISSION' }] });
  });

  it('records the client address from X-Forwarded-For only when proxies are trusted', async () => {
    const trusting = await createHttpApp(t.env.rt, { trustProxy: 1 });
    const { auth } = await tokenFor(trusting, t.env, t.orgId);
    const headers = { ...auth, 'x-forwarded-for': '203.0.113.7' };
    const a = (await trusting.inject({ method: 'POST', url: '/crm/v8/Leads', headers, payload: JSON.stringify({ data: [{ Last_Name: 'Proxied' }] }) })).json().data[0].details.id;
    const b = (await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: { ...adminAuth, 'x-forwarded-for': '203.0.113.7' }, payload: JSON.stringify({ data: [{ Last_Name: 'Direct' }] }) })).json().data[0].details.id;
    const ip = async (id: string) => (await t.env.store.db.selectFrom('audit_entries').select('ip').where('record_id', '=', id).executeTakeFirstOrThrow()).ip;
    expect(await ip(a)).toBe('203.0.113.7');
    expect(await ip(b)).toBe('127.0.0.1');
    await trusting.close();
  });
});
