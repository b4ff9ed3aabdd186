import { beforeAll, describe, expect, it } from 'vitest';
import { withApp, type Auth } from './helpers.ts';

describe('users, roles, profiles, modules, fields and org', () => {
  const t = withApp();
  let otherAuth: Auth;
  beforeAll(async () => { otherAuth = (await t.otherOrg()).auth; });

  const req = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, headers = t.auth) =>
    t.app.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });
  const audit = (action: string) => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
    .where('action', '=', action).orderBy('seq').execute();

  it('adds a user, audited, and lists users by type', async () => {
    const res = await req('POST', '/crm/v8/users', { users: [{ first_name: 'Rae', last_name: 'Rep', email: 'Rae@Acme.example',
      role: { id: t.org.roles.manager.id }, profile: { id: t.org.profiles.standard.id } }] });
    expect(res.statusCode).toBe(201);
    const id = res.json().users[0].details.id;
    expect(res.json().users[0]).toMatchObject({ code: 'SUCCESS', status: 'success' });
    const [entry] = (await audit('user_added')).filter((e) => e.record_id === id);
    expect(entry).toMatchObject({ actor_name: 'Ada Admin', record_name: 'Rae Rep', source: 'api' });
    const all = (await req('GET', '/crm/v8/users?type=AllUsers')).json();
    expect(all.users.map((u: { email: string }) => u.email)).toEqual(['admin@acme.example', 'rae@acme.example']);
    expect(all.info).toEqual({ per_page: 200, count: 2, page: 1, more_records: false });
    const admins = (await req('GET', '/crm/v8/users?type=AdminUsers')).json();
    expect(admins.users).toHaveLength(1);
    const me = (await req('GET', '/crm/v8/users?type=CurrentUser')).json();
    expect(me.users[0]).toMatchObject({ email: 'admin@acme.example', role: { name: 'CEO', id: t.org.roles.ceo.id }, profile: { name: 'Administrator' } });
    const rae = (await req('GET', `/crm/v8/users/${id}`)).json().users[0];
    expect(rae).toMatchObject({ full_name: 'Rae Rep', status: 'active', Reporting_To: { name: 'Ada Admin' } });
    expect((await req('GET', '/crm/v8/users?type=Everyone')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'type' } });
    const dup = await req('POST', '/crm/v8/users', { users: [{ last_name: 'Again', email: 'rae@acme.example', role: t.org.roles.manager.id, profile: t.org.profiles.standard.id }] });
    expect(dup.json().users[0]).toMatchObject({ code: 'DUPLICATE_DATA', details: { api_name: 'email' } });
    const missing = await req('POST', '/crm/v8/users', { users: [{ email: 'x@acme.example' }] });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().users[0]).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'last_name' } });
  });

  it('changes a user and audits exactly the fields that changed; foreign ids look missing', async () => {
    const rae = (await req('GET', '/crm/v8/users?type=AllUsers')).json().users.find((u: { email: string }) => u.email === 'rae@acme.example');
    const res = await req('PUT', `/crm/v8/users/${rae.id}`, { users: [{ last_name: 'Rep', role: { id: t.org.roles.ceo.id }, status: 'disabled' }] });
    expect(res.statusCode).toBe(200);
    const updates = (await audit('user_updated')).filter((e) => e.record_id === rae.id);
    expect(JSON.parse(updates[0].details).field_history.map((f: { api_name: string }) => f.api_name).sort()).toEqual(['role', 'status']);
    expect((await req('GET', '/crm/v8/users?type=DeactiveUsers')).json().users).toHaveLength(1);
    expect((await req('GET', `/crm/v8/users/${rae.id}`, undefined, otherAuth)).statusCode).toBe(204);
    const foreign = await req('PUT', `/crm/v8/users/${rae.id}`, { users: [{ last_name: 'Hijack' }] }, otherAuth);
    expect(foreign.json().users[0]).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
    const deleted = await req('DELETE', `/crm/v8/users/${rae.id}`);
    expect(deleted.json().users[0]).toMatchObject({ code: 'SUCCESS' });
    expect((await req('GET', '/crm/v8/users?type=DeletedUsers')).json().users[0].id).toBe(rae.id);
  });

  it('keeps at least one active Administrator', async () => {
    const me = (await req('GET', '/crm/v8/users?type=CurrentUser')).json().users[0];
    const res = await req('PUT', `/crm/v8/users/${me.id}`, { users: [{ profile: { id: t.org.profiles.standard.id } }] });
    expect(res.json().users[0]).toMatchObject({ code: 'NOT_ALLOWED' });
    expect((await req('DELETE', `/crm/v8/users/${me.id}`)).json().users[0]).toMatchObject({ code: 'NOT_ALLOWED', status: 'error' });
  });

  it('grows, moves and prunes the role tree, refusing cycles', async () => {
    const add = await req('POST', '/crm/v8/settings/roles', { roles: [{ name: 'Team Lead', reporting_to: { id: t.org.roles.manager.id } }] });
    expect(add.statusCode).toBe(201);
    const lead = add.json().roles[0].details.id;
    const trainee = (await req('POST', '/crm/v8/settings/roles', { roles: [{ name: 'Trainee', reporting_to: { id: lead } }] })).json().roles[0].details.id;
    const cycle = await req('PUT', `/crm/v8/settings/roles/${t.org.roles.manager.id}`, { roles: [{ reporting_to: { id: trainee } }] });
    expect(cycle.json().roles[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'reporting_to' } });
    const roles = (await req('GET', '/crm/v8/settings/roles')).json().roles;
    expect(roles.find((r: { id: string }) => r.id === trainee)).toMatchObject({ reporting_to: { id: lead, name: 'Team Lead' } });
    expect(roles.find((r: { id: string }) => r.id === t.org.roles.ceo.id).reporting_to).toBeNull();
    const noTransfer = await req('DELETE', `/crm/v8/settings/roles/${lead}`);
    expect(noTransfer.json()).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'transfer_to_id' } });
    const del = await req('DELETE', `/crm/v8/settings/roles/${lead}?transfer_to_id=${t.org.roles.manager.id}`);
    expect(del.statusCode).toBe(200);
    const after = (await req('GET', `/crm/v8/settings/roles/${trainee}`)).json().roles[0];
    expect(after.reporting_to.id).toBe(t.org.roles.manager.id);
    expect((await req('DELETE', `/crm/v8/settings/roles/${t.org.roles.ceo.id}?transfer_to_id=${t.org.roles.manager.id}`)).json().code).toBe('NOT_ALLOWED');
    expect((await audit('role_deleted')).length).toBe(1);
    expect((await req('GET', `/crm/v8/settings/roles/${trainee}`, undefined, otherAuth)).json().code).toBe('INVALID_DATA');
  });

  it('clones and edits profiles; the Administrator profile is fixed', async () => {
    const clone = await req('POST', `/crm/v8/settings/profiles/${t.org.profiles.standard.id}/actions/clone`, { profiles: [{ name: 'Auditor',
      permissions: { modules: { '*': { view: true, create: false, edit: false, delete: false } }, settings: { audit_log: true } } }] });
    expect(clone.statusCode).toBe(201);
    const id = clone.json().profiles[0].details.id;
    const one = (await req('GET', `/crm/v8/settings/profiles/${id}`)).json().profiles[0];
    expect(one.permissions_details.find((p: { name: string }) => p.name === 'Crm_Implied_View_Leads').enabled).toBe(true);
    expect(one.permissions_details.find((p: { name: string }) => p.name === 'Crm_Implied_Delete_Leads').enabled).toBe(false);
    const edit = await req('PUT', `/crm/v8/settings/profiles/${id}`, { profiles: [{ description: 'Reads everything' }] });
    expect(edit.statusCode).toBe(200);
    const [entry] = (await audit('profile_updated')).filter((e) => e.record_id === id);
    expect(JSON.parse(entry.details).field_history).toEqual([{ api_name: 'description', field_label: 'Description', old: null, new: 'Reads everything' }]);
    const fixed = await req('PUT', `/crm/v8/settings/profiles/${t.org.profiles.admin.id}`, { profiles: [{ permissions: { modules: {}, settings: {} } }] });
    expect(fixed.json().profiles[0].code).toBe('NOT_ALLOWED');
    const bad = await req('PUT', `/crm/v8/settings/profiles/${id}`, { profiles: [{ permissions: { settings: { fly: true } } }] });
    expect(bad.json().profiles[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'permissions' } });
    const list = (await req('GET', '/crm/v8/settings/profiles')).json().profiles.map((p: { name: string }) => p.name);
    expect(list).toEqual(['Administrator', 'Standard', 'Auditor']);
  });

  it('describes modules and fields the way the SDK needs', async () => {
    const modules = (await req('GET', '/crm/v8/settings/modules')).json().modules;
    expect(modules.map((m: { api_name: string }) => m.api_name)).toEqual(expect.arrayContaining(['Leads', 'Contacts', 'Accounts', 'Deals',
      'Tasks', 'Events', 'Calls', 'Notes', 'Attachments', 'Campaigns', 'Products', 'Quotes', 'Sales_Orders', 'Purchase_Orders',
      'Invoices', 'Vendors', 'Cases', 'Solutions']));
    for (const m of modules) {
      expect(m).toMatchObject({ api_supported: true, generated_type: 'default' });
      expect(m.id).toMatch(/^\d{19}$/);
    }
    const fields = (await req('GET', '/crm/v8/settings/fields?module=Leads')).json().fields;
    expect(fields.find((f: { api_name: string }) => f.api_name === 'Last_Name')).toMatchObject({ data_type: 'text', system_mandatory: true });
    for (const f of fields) expect(typeof f.data_type).toBe('string');
    expect((await req('GET', '/crm/v8/settings/fields')).json()).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'module' } });
    expect((await req('GET', '/crm/v8/settings/fields?module=Nope')).json().code).toBe('INVALID_MODULE');
    const deals = (await req('GET', '/crm/v8/settings/fields?module=Deals')).json().fields;
    expect(deals.find((f: { api_name: string }) => f.api_name === 'Account_Name').lookup.module.api_name).toBe('Accounts');
  });

  it('describes the org, and only the caller\'s org', async () => {
    const org = (await req('GET', '/crm/v8/org')).json().org[0];
    expect(org).toMatchObject({ id: t.orgId, company_name: 'Acme', time_zone: 'Asia/Kolkata', primary_email: 'admin@acme.example' });
    expect(org.zgid).toMatch(/^\d+$/);
    const other = (await req('GET', '/crm/v8/org', undefined, otherAuth)).json().org[0];
    expect(other.company_name).toBe('Globex');
  });
});
