import { beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { tokenFor, withApp, type Auth } from './helpers.ts';
import { systemActor, type Actor } from '../src/services/context.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { createAppWorker } from '../src/jobs/index.ts';

/** The error code of a response, whether top-level or in the first item of a wrapper array. */
function codeOf(res: LightMyRequestResponse): string | undefined {
  const body = res.json() as Record<string, unknown>;
  if (typeof body.code === 'string') return body.code;
  const list = Object.values(body).find(Array.isArray) as { code?: string }[] | undefined;
  return list?.[0]?.code;
}

/**
 * Regression tests for the authorization defects of the hardening issue, part 2. The org:
 * CEO > Manager > Team; Ada (Administrator, CEO), Hugo (HR delegate with manage_users and
 * manage_profiles, Manager), Tess (Standard, Team, a trainee).
 */
describe('authorization: deny by default, checked before lookup', () => {
  const t = withApp({ token: false });
  const ids: Record<string, string> = {};
  const auth: Record<string, Auth> = {};

  beforeAll(async () => {
    const org = t.org;
    const admin = t.admin;
    const dir = t.env.rt.services.directory;
    ids.admin = org.admin.id;
    ids.ceo = org.roles.ceo.id;
    ids.manager = org.roles.manager.id;
    ids.standard = org.profiles.standard.id;
    ids.team = (await dir.createRole(admin, { name: 'Team', reporting_to: { id: ids.manager } })).id;
    const hr = await dir.cloneProfile(admin, ids.standard, { name: 'HR', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: { manage_users: true, manage_profiles: true } } });
    ids.auditor = (await dir.cloneProfile(admin, ids.standard, { name: 'Auditor', permissions: {
      modules: { '*': { view: true, create: false, edit: false, delete: false } }, settings: { audit_log: true } } })).id;
    ids.hugo = (await dir.createUser(admin, { last_name: 'Hugo', email: 'hugo@acme.example', role: { id: ids.manager }, profile: { id: hr.id } })).id;
    ids.tess = (await dir.createUser(admin, { last_name: 'Tess', email: 'tess@acme.example', role: { id: ids.team }, profile: { id: ids.standard } })).id;
    auth.admin = await t.authFor();
    auth.hugo = await t.authFor({ userEmail: 'hugo@acme.example' });
    auth.tess = await t.authFor({ userEmail: 'tess@acme.example' });
  });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: Record<string, string>, body?: unknown) =>
    t.app.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });

  it('a user actor whose profile grants nothing is refused; only the system actor passes', async () => {
    const profileless: Actor = { ...t.admin, isAdmin: false, permissions: null };
    await expect(t.env.rt.services.records.listRecords(profileless, 'Leads', { sort: 'id', desc: true, limit: 10 }))
      .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    await expect(t.env.rt.services.actions.massDelete(profileless, 'Leads', ['1111111111111111111']))
      .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    const workflow: Actor = { ...systemActor(t.orgId), type: 'workflow', isAdmin: false };
    await expect(t.env.rt.services.records.createRecords(workflow, 'Leads', [{ Last_Name: 'x' }]))
      .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    const [made] = await t.env.rt.services.records.createRecords(systemActor(t.orgId), 'Leads', [{ Last_Name: 'By the system', Owner: { id: ids.admin } }]);
    expect(made.ok).toBe(true);
  });

  it('an unknown module is not looked up before the token and its scope are checked', async () => {
    for (const url of ['/crm/v8/NoSuchModule?fields=Last_Name', '/crm/v8/NoSuchModule/deleted', '/crm/v8/NoSuchModule/1111111111111111111/__timeline',
      '/crm/v8/NoSuchModule/actions/mass_delete']) {
      const res = await call(url.endsWith('mass_delete') ? 'POST' : 'GET', url, {}, url.endsWith('mass_delete') ? { ids: [] } : undefined);
      expect(res.statusCode, url).toBe(401);
      expect(res.json(), url).toMatchObject({ code: 'AUTHENTICATION_FAILURE' });
    }
    const { auth: usersOnly } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.users.READ'] });
    const res = await call('GET', '/crm/v8/NoSuchModule?fields=Last_Name', usersOnly);
    expect(res.json()).toMatchObject({ code: 'OAUTH_SCOPE_MISMATCH' });
  });

  it('role escalation: nobody grants a role or profile that sees more than they do, nor changes their own', async () => {
    const toCeo = await call('PUT', `/crm/v8/users/${ids.hugo}`, auth.hugo, { users: [{ role: { id: ids.ceo } }] });
    expect(toCeo.statusCode).toBeGreaterThanOrEqual(400);
    expect(codeOf(toCeo)).toBe('NOT_ALLOWED');
    const ownProfile = await call('PUT', `/crm/v8/users/${ids.hugo}`, auth.hugo, { users: [{ profile: { id: ids.auditor } }] });
    expect(codeOf(ownProfile)).toBe('NOT_ALLOWED');
    const tessUp = await call('PUT', `/crm/v8/users/${ids.tess}`, auth.hugo, { users: [{ role: { id: ids.ceo } }] });
    expect(tessUp.statusCode).toBe(403);
    expect(codeOf(tessUp)).toBe('NO_PERMISSION');
    const peer = await call('PUT', `/crm/v8/users/${ids.tess}`, auth.hugo, { users: [{ role: { id: ids.manager } }] });
    expect(codeOf(peer)).toBe('NO_PERMISSION');
    const auditor = await call('PUT', `/crm/v8/users/${ids.tess}`, auth.hugo, { users: [{ profile: { id: ids.auditor } }] });
    expect(codeOf(auditor)).toBe('NO_PERMISSION');
    const created = await call('POST', '/crm/v8/users', auth.hugo, { users: [{ last_name: 'Boss', email: 'boss@acme.example',
      role: { id: ids.ceo }, profile: { id: ids.standard } }] });
    expect(codeOf(created)).toBe('NO_PERMISSION');
    const mara = await t.env.rt.services.directory.createUser(t.admin, { last_name: 'Mara', email: 'mara@acme.example', role: { id: ids.manager }, profile: { id: ids.standard } });
    const pulled = await call('PUT', `/crm/v8/users/${mara.id}`, auth.hugo, { users: [{ role: { id: ids.team } }] });
    expect(codeOf(pulled)).toBe('NO_PERMISSION');
    const below = await call('PUT', `/crm/v8/users/${ids.tess}`, auth.hugo, { users: [{ role: { id: ids.team }, last_name: 'Tess Two' }] });
    expect(below.statusCode).toBe(200);
    const user = await t.env.rt.services.directory.getUser(t.admin, ids.hugo);
    expect(user?.role_id).toBe(ids.manager);
    const adminSelf = await call('PUT', `/crm/v8/users/${ids.admin}`, auth.admin, { users: [{ role: { id: ids.manager } }] });
    expect(codeOf(adminSelf)).toBe('NOT_ALLOWED');
  });

  it('GET /{module}/deleted follows the recycle bin visibility rule', async () => {
    const recs = t.env.rt.services.records;
    const tess = await t.env.rt.services.directory.actorForUser(t.orgId, ids.tess);
    const [boss] = await recs.createRecords(t.admin, 'Leads', [{ Last_Name: 'Boss lead' }]);
    const [own] = await recs.createRecords(tess, 'Leads', [{ Last_Name: 'Own lead' }]);
    if (!boss.ok || !own.ok) throw new Error('create failed');
    await recs.deleteRecords(t.admin, 'Leads', [boss.row.id]);
    await recs.deleteRecords(t.admin, 'Leads', [own.row.id]);
    const res = await call('GET', '/crm/v8/Leads/deleted?type=recycle', auth.tess);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((d: { id: string }) => d.id)).toEqual([own.row.id]);
    const all = await call('GET', '/crm/v8/Leads/deleted?type=recycle', auth.admin);
    expect(all.json().data.map((d: { id: string }) => d.id)).toContain(boss.row.id);
  });

  it('GET /settings/recycle_bin/jobs/{id} shows a trainee only their own jobs', async () => {
    const bin = t.env.rt.services.recycleBin;
    const theirs = await bin.restore(t.admin, { filters: [{ field: 'module', comparator: 'equal', value: 'Leads' }] });
    const mine = await bin.restore(await t.env.rt.services.directory.actorForUser(t.orgId, ids.tess),
      { filters: [{ field: 'module', comparator: 'equal', value: 'Leads' }] });
    if (!theirs.scheduled || !mine.scheduled) throw new Error('not scheduled');
    const other = await call('GET', `/crm/v8/settings/recycle_bin/jobs/${theirs.jobId}`, auth.tess);
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 3 } });
    expect((await call('GET', `/crm/v8/settings/recycle_bin/jobs/${mine.jobId}`, auth.tess)).statusCode).toBe(200);
    expect((await call('GET', `/crm/v8/settings/recycle_bin/jobs/${mine.jobId}`, auth.admin)).statusCode).toBe(200);
  });

  it('PUT on a profile merges the permissions given into those it has', async () => {
    const res = await call('PUT', `/crm/v8/settings/profiles/${ids.auditor}`, auth.admin, { profiles: [{ permissions: {
      modules: { Leads: { create: true } }, settings: { export_audit_log: true } } }] });
    expect(res.statusCode).toBe(200);
    const p = (await call('GET', `/crm/v8/settings/profiles/${ids.auditor}`, auth.admin)).json().profiles[0];
    expect(p.permissions.settings).toEqual({ audit_log: true, export_audit_log: true });
    expect(p.permissions.modules['*']).toEqual({ view: true, create: false, edit: false, delete: false });
    expect(p.permissions.modules.Leads).toEqual({ view: true, create: true, edit: false, delete: false });
  });

  it('client code issues its grant inside an audited transaction', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId, { userEmail: 'tess@acme.example', scopes: ['ZohoCRM.modules.leads.READ'] });
    const before = await t.env.store.db.selectFrom('audit_entries').select('action').where('org_id', '=', t.orgId).execute();
    await t.env.rt.services.oauth.createGrantCode(c.client_id);
    const after = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId).execute();
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({ action: 'oauth_grant_code_issued', record_id: c.client_id, actor_type: 'system' });
  });

  it('client create and client code refuse scopes wider than the user\'s profile allows', async () => {
    const oauth = t.env.rt.services.oauth;
    await expect(oauth.createClient(t.orgId, { userEmail: 'tess@acme.example', scopes: ['ZohoCRM.settings.ALL'] }))
      .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    await expect(oauth.createClient(t.orgId, { userEmail: 'tess@acme.example', scopes: ['ZohoCRM.settings.recycle_bin.DELETE'] }))
      .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    const c = await oauth.createClient(t.orgId, { userEmail: 'tess@acme.example', scopes: ['ZohoCRM.modules.leads.READ'] });
    await expect(oauth.createGrantCode(c.client_id, ['ZohoCRM.users.ALL'])).rejects.toMatchObject({ code: 'NO_PERMISSION' });
    await expect(oauth.createGrantCode(c.client_id, ['ZohoCRM.modules.contacts.READ'])).rejects.toMatchObject({ code: 'NO_PERMISSION' });
    expect(await oauth.createGrantCode(c.client_id, ['ZohoCRM.modules.leads.READ'])).toMatch(/^1000\./);
  });

  it('api_domain and download links never come from the Host header', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId);
    const res = await t.app.inject({ method: 'POST', url: '/oauth/v2/token', headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token',
        refresh_token: c.refresh_token }).toString() });
    expect(res.json().api_domain).toBe('http://127.0.0.1:4000');
    const configured = await createHttpApp(t.env.rt, { publicUrl: 'https://audit.acme.example' });
    const again = await configured.inject({ method: 'POST', url: '/oauth/v2/token', headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token',
        refresh_token: c.refresh_token }).toString() });
    expect(again.json().api_domain).toBe('https://audit.acme.example');
    await configured.close();
    const job = await call('POST', '/crm/v8/settings/audit_log_export', auth.admin, {});
    const id = job.json().audit_log_export[0].details.id as string;
    const worker = createAppWorker(t.env.rt, { maintenance: false });
    while (await worker.runOnce()) { /* drain */ }
    const listed = await t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log_export/${id}`, headers: { ...auth.admin, host: 'evil.example' } });
    const links = listed.json().audit_log_export[0].download_links as string[];
    expect(links.length).toBe(1);
    expect(links[0].startsWith('http://127.0.0.1:4000/v2/crm/')).toBe(true);
  });
});
