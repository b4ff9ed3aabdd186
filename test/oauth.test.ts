import { describe, expect, it } from 'vitest';
import { withApp } from './helpers.ts';

function multipart(fields: Record<string, string>) {
  const boundary = '----auditrailtest';
  const body = Object.entries(fields).map(([k, v]) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`).join('') + `--${boundary}--\r\n`;
  return { payload: body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('OAuth accounts endpoint', () => {
  const t = withApp({ token: false });

  const token = (fields: Record<string, string>) => t.app.inject({ method: 'POST', url: '/oauth/v2/token', ...multipart(fields) });
  const audit = (action: string) => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
    .where('action', '=', action).orderBy('seq').execute();

  it('refresh_token grant over multipart (as the SDK sends it), reusable, with Zoho keys and seconds', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId);
    const fields = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token };
    const a = (await token(fields)).json();
    const b = (await token(fields)).json();
    expect(a).toMatchObject({ token_type: 'Bearer', expires_in: 3600, api_domain: 'http://127.0.0.1:4000' });
    expect(a).not.toHaveProperty('expires_in_sec');
    expect(a).not.toHaveProperty('refresh_token');
    expect(a.access_token).not.toBe(b.access_token);
    expect(a.scope.split(' ')).toContain('ZohoCRM.modules.ALL');
    const stored = await t.env.store.db.selectFrom('oauth_tokens').select('token_hash').execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(a.access_token);
    expect(stored.map((s) => s.token_hash)).not.toContain(c.refresh_token);
    const logins = await audit('login');
    expect(logins.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(logins[0].details).extra).toMatchObject({ grant_type: 'refresh_token', client_id: c.client_id });
  });

  it('accepts urlencoded bodies and query strings too', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId);
    const qs = new URLSearchParams({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token });
    const form = await t.app.inject({ method: 'POST', url: '/oauth/v2/token', payload: qs.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.json().access_token).toBeTruthy();
    const query = await t.app.inject({ method: 'POST', url: `/oauth/v2/token?${qs}` });
    expect(query.json().access_token).toBeTruthy();
  });

  it('authorization_code grant issues a refresh token once; the code cannot be reused', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId, { scopes: ['ZohoCRM.modules.leads.READ'] });
    const code = await t.env.rt.services.oauth.createGrantCode(c.client_id);
    const fields = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'authorization_code', code };
    const first = (await token(fields)).json();
    expect(first).toMatchObject({ scope: 'ZohoCRM.modules.leads.READ', expires_in: 3600 });
    expect(first.refresh_token).toMatch(/^1000\./);
    expect((await token(fields)).json()).toEqual({ error: 'invalid_code' });
    const refreshed = (await token({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token',
      refresh_token: first.refresh_token })).json();
    expect(refreshed.access_token).toBeTruthy();
  });

  it('client_credentials grant needs soid and scopes within the client', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId, { scopes: ['ZohoCRM.modules.ALL', 'ZohoCRM.org.READ'] });
    const base = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'client_credentials' };
    expect((await token({ ...base, scope: 'ZohoCRM.org.READ' })).json()).toEqual({ error: 'missing_org_info' });
    expect((await token({ ...base, scope: 'ZohoCRM.users.ALL', soid: `ZohoCRM.${t.org.org.zgid}` })).json()).toEqual({ error: 'invalid_scope' });
    const ok = (await token({ ...base, scope: 'ZohoCRM.org.READ', soid: `ZohoCRM.${t.org.org.zgid}` })).json();
    expect(ok.scope).toBe('ZohoCRM.org.READ');
    const org = await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: { authorization: `Zoho-oauthtoken ${ok.access_token}` } });
    expect(org.json().org[0].zgid).toBe(t.org.org.zgid);
  });

  it('answers errors as {error} and audits failed logins', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId);
    const before = (await audit('login_failed')).length;
    expect((await token({ client_id: 'nope', client_secret: 'x', grant_type: 'refresh_token', refresh_token: 'y' })).json()).toEqual({ error: 'invalid_client' });
    expect((await token({ client_id: c.client_id, client_secret: 'wrong', grant_type: 'refresh_token', refresh_token: c.refresh_token })).json())
      .toEqual({ error: 'invalid_client_secret' });
    expect((await token({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: 'forged' })).json())
      .toEqual({ error: 'invalid_code' });
    expect((await token({ client_id: c.client_id, client_secret: c.client_secret, grant_type: 'password' })).json())
      .toEqual({ error: 'unsupported_grant_type' });
    const failed = await audit('login_failed');
    expect(failed.length).toBe(before + 2);
    expect(JSON.parse(failed[failed.length - 1].details).extra.reason).toBe('invalid_code');
  });

  it('revoking a refresh token kills it and the access tokens issued from it', async () => {
    const c = await t.env.rt.services.oauth.createClient(t.orgId);
    const fields = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token };
    const access = (await token(fields)).json().access_token;
    const auth = { authorization: `Zoho-oauthtoken ${access}` };
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: auth })).statusCode).toBe(200);
    // The token_type the endpoint announces works as a scheme too.
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: { authorization: `Bearer ${access}` } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: { authorization: `Basic ${access}` } })).json().code).toBe('AUTHENTICATION_FAILURE');
    const revoke = await t.app.inject({ method: 'POST', url: '/oauth/v2/token/revoke', ...multipart({ token: c.refresh_token }) });
    expect(revoke.json()).toEqual({ status: 'success' });
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: auth })).json().code).toBe('INVALID_TOKEN');
    expect((await token(fields)).json()).toEqual({ error: 'invalid_code' });
    expect((await audit('token_revoked')).length).toBe(1);
    // Revoking one's own token is signing out, as Zoho's log names it.
    const out = await audit('logout');
    expect(out.length).toBe(1);
    expect(out[0]).toMatchObject({ actor_id: c.user.id, record_id: c.user.id });
  });

  it('a disabled user can no longer sign in, and their tokens stop working', async () => {
    const dir = t.env.rt.services.directory;
    const admin = (await dir.listUsers({ orgId: t.orgId } as never, 'AdminUsers'))[0];
    const actor = await dir.actorForUser(t.orgId, admin.id);
    const roles = await dir.listRoles(actor);
    const profiles = await dir.listProfiles(actor);
    const u = await dir.createUser(actor, { last_name: 'Leaver', email: 'leaver@acme.example', role: { id: roles[1].id },
      profile: { id: profiles.find((p) => p.name === 'Standard')!.id } });
    const c = await t.env.rt.services.oauth.createClient(t.orgId, { userEmail: 'leaver@acme.example' });
    const fields = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token };
    const access = (await token(fields)).json().access_token;
    await dir.updateUser(actor, u.id, { status: 'disabled' });
    t.env.rt.services.oauth.clearCache();
    expect((await token(fields)).json()).toEqual({ error: 'access_denied' });
    const res = await t.app.inject({ method: 'GET', url: '/crm/v8/org', headers: { authorization: `Zoho-oauthtoken ${access}` } });
    expect(res.json().code).toBe('INVALID_TOKEN');
  });
});
