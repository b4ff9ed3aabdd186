import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp, createEnv, createOrg, tokenFor, type TestEnv } from './helpers.ts';
import type { Actor } from '../src/services/context.ts';
import { createHttpApp } from '../src/main.ts';
import { createAppWorker } from '../src/jobs/index.ts';

/**
 * Regression tests for the authorization defects of the hardening issue, part 2. The org:
 * CEO > Manager > Team; Ada (Administrator, CEO), Hugo (HR delegate with manage_users and
 * manage_profiles, Manager), Tess (Standard, Team, a trainee).
 */
describe('authorization: deny by default, checked before lookup', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  let orgId: string;
  let admin: Actor;
  const ids: Record<string, string> = {};
  const auth: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    env = await createEnv();
    app = await createApp(env);
    const org = await createOrg(env);
    orgId = org.org.id;
    const dir = env.rt.services.directory;
    admin = await dir.actorForUser(orgId, org.admin.id);
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
    auth.admin = (await tokenFor(app, env, orgId)).auth;
    auth.hugo = (await tokenFor(app, env, orgId, { userEmail: 'hugo@acme.example' })).auth;
    auth.tess = (await tokenFor(app, env, orgId, { userEmail: 'tess@acme.example' })).auth;
  });
  afterAll(async () => { await app?.close(); await env?.close(); });

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, headers: Record<string, string>, body?: unknown) =>
    app.inject({ method, url, headers, payload: body === undefined ? undefined : JSON.stringify(body) });

  it('an unknown module is not looked up before the token and its scope are checked', async () => {
    for (const url of ['/crm/v8/NoSuchModule?fields=Last_Name', '/crm/v8/NoSuchModule/deleted', '/crm/v8/NoSuchModule/1111111111111111111/__timeline',
      '/crm/v8/NoSuchModule/actions/mass_delete']) {
      const res = await call(url.endsWith('mass_delete') ? 'POST' : 'GET', url, {}, url.endsWith('mass_delete') ? { ids: [] } : undefined);
      expect(res.statusCode, url).toBe(401);
      expect(res.json(), url).toMatchObject({ code: 'AUTHENTICATION_FAILURE' });
    }
    const { auth: usersOnly } = await tokenFor(app, env, orgId, { scopes: ['ZohoCRM.users.READ'] });
    const res = await call('GET', '/crm/v8/NoSuchModule?fields=Last_Name', usersOnly);
    expect(res.json()).toMatchObject({ code: 'OAUTH_SCOPE_MISMATCH' });
  });

  it('api_domain and download links never come from the Host header', async () => {
    const c = await env.rt.services.oauth.createClient(orgId);
    const res = await app.inject({ method: 'POST', url: '/oauth/v2/token', headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token',
        refresh_token: c.refresh_token }).toString() });
    expect(res.json().api_domain).toBe('http://127.0.0.1:4000');
    const configured = await createHttpApp(env.rt, { publicUrl: 'https://audit.acme.example' });
    const again = await configured.inject({ method: 'POST', url: '/oauth/v2/token', headers: { host: 'evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token',
        refresh_token: c.refresh_token }).toString() });
    expect(again.json().api_domain).toBe('https://audit.acme.example');
    await configured.close();
    const job = await call('POST', '/crm/v8/settings/audit_log_export', auth.admin, {});
    const id = job.json().audit_log_export[0].details.id as string;
    const worker = createAppWorker(env.rt, { maintenance: false });
    while (await worker.runOnce()) { /* drain */ }
    const listed = await app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log_export/${id}`, headers: { ...auth.admin, host: 'evil.example' } });
    const links = listed.json().audit_log_export[0].download_links as string[];
    expect(links.length).toBe(1);
    expect(links[0].startsWith('http://127.0.0.1:4000/v2/crm/')).toBe(true);
  });
});
