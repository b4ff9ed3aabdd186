import { describe, expect, it } from 'vitest';
import { tokenFor, withApp } from './helpers.ts';
import { systemActor } from '../src/services/context.ts';

/** Every route this server has so far, with a scope that does NOT cover it. */
const ROUTES: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; wrongScope: string; body?: unknown }[] = [
  { method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', wrongScope: 'ZohoCRM.modules.contacts.ALL' },
  { method: 'POST', url: '/crm/v8/Leads', wrongScope: 'ZohoCRM.modules.leads.READ', body: { data: [{ Last_Name: 'x' }] } },
  { method: 'PUT', url: '/crm/v8/Leads', wrongScope: 'ZohoCRM.modules.READ', body: { data: [{ id: '1111111111111111111' }] } },
  { method: 'DELETE', url: '/crm/v8/Leads?ids=1111111111111111111', wrongScope: 'ZohoCRM.modules.leads.UPDATE' },
  { method: 'GET', url: '/crm/v8/Leads/1111111111111111111', wrongScope: 'ZohoCRM.settings.ALL' },
  { method: 'PUT', url: '/crm/v8/Leads/1111111111111111111', wrongScope: 'ZohoCRM.modules.leads.CREATE', body: { data: [{}] } },
  { method: 'DELETE', url: '/crm/v8/Leads/1111111111111111111', wrongScope: 'ZohoCRM.modules.leads.READ' },
  { method: 'GET', url: '/crm/v8/users', wrongScope: 'ZohoCRM.modules.ALL' },
  { method: 'POST', url: '/crm/v8/users', wrongScope: 'ZohoCRM.users.READ', body: { users: [{}] } },
  { method: 'PUT', url: '/crm/v8/users', wrongScope: 'ZohoCRM.users.READ', body: { users: [{}] } },
  { method: 'GET', url: '/crm/v8/users/1111111111111111111', wrongScope: 'ZohoCRM.org.READ' },
  { method: 'PUT', url: '/crm/v8/users/1111111111111111111', wrongScope: 'ZohoCRM.users.READ', body: { users: [{}] } },
  { method: 'DELETE', url: '/crm/v8/users/1111111111111111111', wrongScope: 'ZohoCRM.users.UPDATE' },
  { method: 'GET', url: '/crm/v8/settings/roles', wrongScope: 'ZohoCRM.settings.profiles.ALL' },
  { method: 'POST', url: '/crm/v8/settings/roles', wrongScope: 'ZohoCRM.settings.roles.READ', body: { roles: [{}] } },
  { method: 'GET', url: '/crm/v8/settings/roles/1111111111111111111', wrongScope: 'ZohoCRM.users.ALL' },
  { method: 'PUT', url: '/crm/v8/settings/roles/1111111111111111111', wrongScope: 'ZohoCRM.settings.roles.READ', body: { roles: [{}] } },
  { method: 'DELETE', url: '/crm/v8/settings/roles/1111111111111111111', wrongScope: 'ZohoCRM.settings.roles.UPDATE' },
  { method: 'GET', url: '/crm/v8/settings/profiles', wrongScope: 'ZohoCRM.settings.roles.ALL' },
  { method: 'GET', url: '/crm/v8/settings/profiles/1111111111111111111', wrongScope: 'ZohoCRM.settings.roles.ALL' },
  { method: 'PUT', url: '/crm/v8/settings/profiles/1111111111111111111', wrongScope: 'ZohoCRM.settings.profiles.READ', body: { profiles: [{}] } },
  { method: 'DELETE', url: '/crm/v8/settings/profiles/1111111111111111111', wrongScope: 'ZohoCRM.settings.profiles.READ' },
  { method: 'POST', url: '/crm/v8/settings/profiles/1111111111111111111/actions/clone', wrongScope: 'ZohoCRM.settings.profiles.READ', body: { profiles: [{}] } },
  { method: 'GET', url: '/crm/v8/settings/modules', wrongScope: 'ZohoCRM.modules.ALL' },
  { method: 'GET', url: '/crm/v8/settings/modules/Leads', wrongScope: 'ZohoCRM.modules.ALL' },
  { method: 'GET', url: '/crm/v8/settings/fields?module=Leads', wrongScope: 'ZohoCRM.modules.ALL' },
  { method: 'GET', url: '/crm/v8/org', wrongScope: 'ZohoCRM.users.ALL' },
];

describe('authentication and authorisation on every route', () => {
  const t = withApp({ token: false });

  const call = (r: (typeof ROUTES)[number], headers: Record<string, string>) =>
    t.app.inject({ method: r.method, url: r.url, headers, payload: r.body ? JSON.stringify(r.body) : undefined });

  it.each(ROUTES)('$method $url: no token, a bad token, a missing scope', async (r) => {
    const none = await call(r, {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ code: 'AUTHENTICATION_FAILURE', details: {}, message: 'Authentication failed', status: 'error' });
    const basic = await call(r, { authorization: 'Basic whatever' });
    expect(basic.json().code).toBe('AUTHENTICATION_FAILURE');
    // Bearer is accepted as a scheme (the token endpoint announces token_type Bearer): a bad one is a bad token.
    const bearer = await call(r, { authorization: 'Bearer whatever' });
    expect(bearer.json().code).toBe('INVALID_TOKEN');
    const bad = await call(r, { authorization: 'Zoho-oauthtoken 1000.nope' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json()).toMatchObject({ code: 'INVALID_TOKEN', status: 'error' });
    const { auth } = await tokenFor(t.app, t.env, t.orgId, { scopes: [r.wrongScope] });
    const scoped = await call(r, auth);
    expect(scoped.statusCode).toBe(401);
    expect(scoped.json()).toEqual({ code: 'OAUTH_SCOPE_MISMATCH', details: {}, message: 'Unauthorized', status: 'error' });
  });

  it('an expired access token is refused; the refresh token keeps working', async () => {
    const { auth, client } = await tokenFor(t.app, t.env, t.orgId);
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: auth })).statusCode).toBe(200);
    t.env.advance(3601 * 1000);
    const expired = await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: auth });
    expect(expired.json()).toMatchObject({ code: 'INVALID_TOKEN' });
    const again = await t.app.inject({ method: 'POST', url: '/oauth/v2/token', payload: new URLSearchParams({
      client_id: client.client_id, client_secret: client.client_secret, grant_type: 'refresh_token', refresh_token: client.refresh_token,
    }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(again.json().access_token).toBeTruthy();
  });

  it('profile permissions apply on top of scopes (NO_PERMISSION, 403)', async () => {
    const dir = t.env.rt.services.directory;
    const admin = (await dir.listUsers(systemActor(t.orgId), 'AdminUsers'))[0];
    const actor = await dir.actorForUser(t.orgId, admin.id);
    const profiles = await dir.listProfiles(actor);
    const standard = profiles.find((p) => p.name === 'Standard')!;
    const readOnly = await dir.cloneProfile(actor, standard.id, { name: 'Read only',
      permissions: { modules: { '*': { view: true, create: false, edit: false, delete: false } }, settings: {} } });
    const roles = await dir.listRoles(actor);
    // The token is issued while the user is an Administrator; the profile that follows must still apply.
    const reader = await dir.createUser(actor, { last_name: 'Reader', email: 'reader@acme.example', role: { id: roles[1].id }, profile: { id: standard.id } });
    await dir.updateUser(actor, reader.id, { profile: { id: profiles.find((p) => p.is_admin)!.id } });
    const { auth } = await tokenFor(t.app, t.env, t.orgId, { userEmail: 'reader@acme.example', scopes: ['ZohoCRM.modules.ALL', 'ZohoCRM.users.ALL'] });
    await dir.updateUser(actor, reader.id, { profile: { id: readOnly.id } });
    t.env.rt.services.oauth.clearCache();
    const write = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: auth, payload: JSON.stringify({ data: [{ Last_Name: 'x' }] }) });
    expect(write.statusCode).toBe(403);
    expect(write.json()).toEqual({ code: 'NO_PERMISSION', details: { permissions: ['Crm_Implied_Create_Leads'] }, message: 'permission denied', status: 'error' });
    const read = await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', headers: auth });
    expect([200, 204]).toContain(read.statusCode);
    const addUser = await t.app.inject({ method: 'POST', url: '/crm/v8/users', headers: auth,
      payload: JSON.stringify({ users: [{ last_name: 'Nope', email: 'nope@acme.example', role: roles[1].id, profile: readOnly.id }] }) });
    expect(addUser.statusCode).toBe(403);
    expect(addUser.json()).toMatchObject({ code: 'NO_PERMISSION', details: { permissions: ['manage_users'] } });
  });

  it('unknown paths, wrong verbs and unknown modules answer Zoho-shaped errors', async () => {
    const { auth } = await tokenFor(t.app, t.env, t.orgId);
    const unknown = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/nothing/here/at/all', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'INVALID_URL_PATTERN', status: 'error' });
    expect((await t.app.inject({ method: 'GET', url: '/nowhere' })).json().code).toBe('INVALID_URL_PATTERN');
    const verb = await t.app.inject({ method: 'PATCH', url: '/crm/v8/org', headers: auth });
    expect(verb.statusCode).toBe(400);
    expect(verb.json()).toMatchObject({ code: 'INVALID_REQUEST_METHOD', status: 'error' });
    expect((await t.app.inject({ method: 'DELETE', url: '/oauth/v2/token' })).json().code).toBe('INVALID_REQUEST_METHOD');
    const mod = await t.app.inject({ method: 'GET', url: '/crm/v8/Spaceships?fields=Name', headers: auth });
    expect(mod.json()).toEqual({ code: 'INVALID_MODULE', details: { resource_path_index: 0 }, message: 'the module name given seems to be invalid', status: 'error' });
  });
});
