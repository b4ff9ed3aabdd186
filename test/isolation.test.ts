import { beforeAll, describe, expect, it } from 'vitest';
import { withApp, type Auth } from './helpers.ts';

const MISSING = '1000000000000000001';

/**
 * A token of one organisation never reaches another's data, and a foreign id answers exactly
 * like an id that does not exist: same status, same body (but for the id itself).
 */
describe('organisation isolation on every route', () => {
  const t = withApp();
  const ids: Record<string, string> = {};
  let mine: Auth;

  beforeAll(async () => {
    const a = t.org;
    const b = await t.otherOrg();
    mine = b.auth;
    const lead = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: t.auth, payload: JSON.stringify({ data: [{ Last_Name: 'Secret' }] }) });
    ids.record = lead.json().data[0].details.id;
    ids.user = a.admin.id;
    ids.role = a.roles.manager.id;
    ids.profile = a.profiles.standard.id;
    ids.bRole = b.org.roles.manager.id;
    ids.bProfile = b.org.profiles.standard.id;
  });

  const cases: { name: string; method: 'GET' | 'PUT' | 'DELETE' | 'POST'; url: (id: string) => string; kind: string; body?: unknown }[] = [
    { name: 'read a record', method: 'GET', url: (id) => `/crm/v8/Leads/${id}`, kind: 'record' },
    { name: 'update a record', method: 'PUT', url: (id) => `/crm/v8/Leads/${id}`, kind: 'record', body: { data: [{ Company: 'x' }] } },
    { name: 'bulk-update a record', method: 'PUT', url: () => '/crm/v8/Leads', kind: 'record', body: (id: string) => ({ data: [{ id, Company: 'x' }] }) },
    { name: 'delete a record', method: 'DELETE', url: (id) => `/crm/v8/Leads/${id}`, kind: 'record' },
    { name: 'bulk-delete a record', method: 'DELETE', url: (id) => `/crm/v8/Leads?ids=${id}`, kind: 'record' },
    { name: 'list records by ids', method: 'GET', url: (id) => `/crm/v8/Leads?fields=Last_Name&ids=${id}`, kind: 'record' },
    { name: 'read a user', method: 'GET', url: (id) => `/crm/v8/users/${id}`, kind: 'user' },
    { name: 'list users by ids', method: 'GET', url: (id) => `/crm/v8/users?ids=${id}`, kind: 'user' },
    { name: 'update a user', method: 'PUT', url: (id) => `/crm/v8/users/${id}`, kind: 'user', body: { users: [{ last_name: 'x' }] } },
    { name: 'bulk-update a user', method: 'PUT', url: () => '/crm/v8/users', kind: 'user', body: (id: string) => ({ users: [{ id, last_name: 'x' }] }) },
    { name: 'delete a user', method: 'DELETE', url: (id) => `/crm/v8/users/${id}`, kind: 'user' },
    { name: 'read a role', method: 'GET', url: (id) => `/crm/v8/settings/roles/${id}`, kind: 'role' },
    { name: 'update a role', method: 'PUT', url: (id) => `/crm/v8/settings/roles/${id}`, kind: 'role', body: { roles: [{ name: 'x' }] } },
    { name: 'delete a role', method: 'DELETE', url: (id) => `/crm/v8/settings/roles/${id}?transfer_to_id=${ids.bRole}`, kind: 'role' },
    { name: 'read a profile', method: 'GET', url: (id) => `/crm/v8/settings/profiles/${id}`, kind: 'profile' },
    { name: 'update a profile', method: 'PUT', url: (id) => `/crm/v8/settings/profiles/${id}`, kind: 'profile', body: { profiles: [{ description: 'x' }] } },
    { name: 'clone a profile', method: 'POST', url: (id) => `/crm/v8/settings/profiles/${id}/actions/clone`, kind: 'profile', body: { profiles: [{ name: 'Copy' }] } },
    { name: 'delete a profile', method: 'DELETE', url: (id) => `/crm/v8/settings/profiles/${id}?transfer_to=${ids.bProfile}`, kind: 'profile' },
    { name: 'create a user in a foreign role', method: 'POST', url: () => '/crm/v8/users', kind: 'role',
      body: (id: string) => ({ users: [{ last_name: 'x', email: `x${id.slice(-4)}@globex.example`, role: { id }, profile: { id: ids.bProfile } }] }) },
    { name: 'create a role under a foreign role', method: 'POST', url: () => '/crm/v8/settings/roles', kind: 'role',
      body: (id: string) => ({ roles: [{ name: 'Spy', reporting_to: { id } }] }) },
    { name: 'create a lead owned by a foreign user', method: 'POST', url: () => '/crm/v8/Leads', kind: 'user',
      body: (id: string) => ({ data: [{ Last_Name: 'x', Owner: { id } }] }) },
    { name: 'attach a note to a foreign record', method: 'POST', url: () => '/crm/v8/Notes', kind: 'record',
      body: (id: string) => ({ data: [{ Note_Content: 'x', Parent_Id: { module: { api_name: 'Leads' }, id } }] }) },
  ];

  it.each(cases)('$name: a foreign id answers like a missing one', async (c) => {
    const send = (id: string) => {
      const body = typeof c.body === 'function' ? (c.body as (id: string) => unknown)(id) : c.body;
      return t.app.inject({ method: c.method, url: c.url(id), headers: mine, payload: body === undefined ? undefined : JSON.stringify(body) });
    };
    const foreign = await send(ids[c.kind]);
    const missing = await send(MISSING);
    expect(foreign.statusCode).toBe(missing.statusCode);
    expect(foreign.statusCode).not.toBe(200);
    const norm = (body: string, id: string) => body.split(id).join('<id>').replace(/x\d{4}@/, 'x@');
    expect(norm(foreign.body, ids[c.kind])).toBe(norm(missing.body, MISSING));
  });

  it('lists show only the caller\'s organisation', async () => {
    const users = (await t.app.inject({ method: 'GET', url: '/crm/v8/users', headers: mine })).json().users;
    expect(users.map((u: { email: string }) => u.email)).toEqual(['admin@globex.example']);
    const roles = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/roles', headers: mine })).json().roles;
    expect(roles.map((r: { id: string }) => r.id)).not.toContain(ids.role);
    const profiles = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/profiles', headers: mine })).json().profiles;
    expect(profiles.map((p: { id: string }) => p.id)).not.toContain(ids.profile);
    const leads = await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', headers: mine });
    expect(leads.statusCode).toBe(204);
    const stillThere = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${ids.record}`, headers: t.auth });
    expect(stillThere.json().data[0]).toMatchObject({ Last_Name: 'Secret', Company: null });
  });
});
