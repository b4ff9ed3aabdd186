import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, withApp } from './helpers.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { LOGIN_LIMITS } from '../src/services/session-service.ts';
import { checkPassword, decoyHash, hashPassword } from '../src/services/passwords.ts';

// Counts the password hashes the server computes: a sign-in that skips one answers sooner, and
// the difference tells who exists (asserted as a count, not a time).
const hashing = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const crypto = await importOriginal<typeof import('node:crypto')>();
  const scrypt = ((...args: Parameters<typeof crypto.scrypt>) => {
    hashing.calls++;
    return (crypto.scrypt as (...a: unknown[]) => void)(...args);
  }) as typeof crypto.scrypt;
  return { ...crypto, default: { ...crypto, scrypt }, scrypt };
});
async function scryptCalls(run: () => Promise<void>): Promise<number> {
  await decoyHash();
  const before = hashing.calls;
  await run();
  return hashing.calls - before;
}

/** Signing in to the console, the session cookie on the v8 API, CSRF, and the console's own API. */

const PASSWORD = 'correct horse battery staple';

interface Signed { cookie: string; csrf: string; body: Record<string, unknown> }

for (const backend of BACKENDS) {
  describe(`console sessions (${backend})`, () => {
    const t = withApp({ backend });
    let traineeId: string;

    async function signIn(email: string, password: string, headers: Record<string, string> = {}) {
      return t.app.inject({ method: 'POST', url: '/api/console/session', payload: { email, password },
        headers: { 'user-agent': 'Mozilla/5.0 test', ...headers } });
    }
    async function signed(email: string, password = PASSWORD): Promise<Signed> {
      const res = await signIn(email, password);
      expect(res.statusCode, res.body).toBe(200);
      const c = res.cookies.find((x) => x.name === 'auditrail_session')!;
      return { cookie: `auditrail_session=${c.value}`, csrf: res.json().csrf_token, body: res.json() };
    }
    const entries = async (action: string) => (await t.env.store.db.selectFrom('audit_entries').selectAll()
      .where('org_id', '=', t.orgId).where('action', '=', action).orderBy('seq').execute());

    beforeAll(async () => {
      const dir = t.env.rt.services.directory;
      await t.env.rt.services.sessions.setPassword(t.orgId, t.org.admin.email, PASSWORD, 'test');
      const team = (await dir.createRole(t.admin, { name: 'Team', reporting_to: { id: t.org.roles.manager.id } })).id;
      traineeId = (await dir.createUser(t.admin, { last_name: 'Trainee', email: 'trainee@acme.example', role: { id: team },
        profile: { id: t.org.profiles.standard.id } })).id;
      await t.env.rt.services.sessions.setPassword(t.orgId, 'trainee@acme.example', PASSWORD, 'test');
    });

    it('signs in with a cookie that scripts cannot read and other sites cannot send; audited as crm_ui', async () => {
      const res = await signIn(t.org.admin.email, PASSWORD);
      expect(res.statusCode).toBe(200);
      const raw = String(res.headers['set-cookie']);
      expect(raw).toMatch(/^auditrail_session=[\w-]{40,}; Path=\/; HttpOnly; SameSite=Strict$/);
      expect(res.json()).toMatchObject({ is_admin: true, sees_all: true, pages: { users: true, settings: true, audit_log: true },
        org: { time_zone: 'Asia/Kolkata' }, user: { email: t.org.admin.email } });
      const login = (await entries('login')).at(-1)!;
      expect(login).toMatchObject({ source: 'crm_ui', actor_id: t.org.admin.id, user_agent: 'Mozilla/5.0 test' });
      // The password is stored memory-hard (scrypt, N = 2^15) and never in the chain.
      const user = await t.env.store.db.selectFrom('users').select('password_hash').where('id', '=', t.org.admin.id).executeTakeFirstOrThrow();
      expect(user.password_hash).toMatch(/^scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
      const all = await t.env.store.db.selectFrom('audit_entries').select('details').where('org_id', '=', t.orgId).execute();
      expect(all.some((e) => e.details.includes(PASSWORD) || e.details.includes(user.password_hash!))).toBe(false);
    });

    it('is Secure when the browser came over HTTPS', async () => {
      const https = await createHttpApp(t.env.rt, { console: false, publicUrl: 'https://audit.acme.example' });
      const res = await https.inject({ method: 'POST', url: '/api/console/session', payload: { email: t.org.admin.email, password: PASSWORD } });
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure; SameSite=Strict$/);
      await https.close();
    });

    it('refuses a wrong password and an unknown email with the same words; only the known user\'s failure is audited', async () => {
      const before = (await entries('login_failed')).length;
      const wrong = await signIn(t.org.admin.email, 'not the password');
      const unknown = await signIn('nobody@acme.example', 'not the password');
      for (const r of [wrong, unknown]) {
        expect(r.statusCode).toBe(401);
        expect(r.json()).toMatchObject({ code: 'AUTHENTICATION_FAILURE', message: 'The email or password is incorrect' });
        expect(r.headers['set-cookie']).toBeUndefined();
      }
      const failed = (await entries('login_failed')).slice(before);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ source: 'crm_ui', actor_id: t.org.admin.id });
      expect(JSON.parse(failed[0].details).extra).toMatchObject({ method: 'password', reason: 'wrong_password' });
      const bad = await signIn(t.org.admin.email, { toString: () => PASSWORD } as unknown as string);
      expect(bad.statusCode).toBe(400);
      // Another site's form (text/plain, or a fetch the browser marks cross-site) signs nobody in.
      const form = await t.app.inject({ method: 'POST', url: '/api/console/session', headers: { 'content-type': 'text/plain' },
        payload: JSON.stringify({ email: t.org.admin.email, password: PASSWORD }) });
      const crossSite = await signIn(t.org.admin.email, PASSWORD, { 'sec-fetch-site': 'cross-site' });
      for (const r of [form, crossSite]) {
        expect(r.statusCode).toBe(403);
        expect(r.json().code).toBe('CSRF_TOKEN_INVALID');
        expect(r.headers['set-cookie']).toBeUndefined();
      }
    });

    it('locks an email out after repeated failures, even for the right password, without flooding the chain', async () => {
      const email = 'trainee@acme.example';
      const before = (await entries('login_failed')).length;
      for (let i = 0; i < LOGIN_LIMITS.failuresPerEmail + 5; i++) await signIn(email, `guess ${i}`);
      const locked = await signIn(email, PASSWORD);
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('TOO_MANY_REQUESTS');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
      expect((await entries('login_failed')).length - before).toBe(LOGIN_LIMITS.failuresPerEmail);
      t.env.advance(LOGIN_LIMITS.lockoutMs + 60_000);
      expect((await signIn(email, PASSWORD)).statusCode).toBe(200);
    });

    it('locks out a burst that straddles a quarter hour: failures are counted over the last 15 minutes, not per fixed quarter', async () => {
      const email = 'burst@acme.example';
      await t.env.rt.services.directory.createUser(t.admin, { last_name: 'Burst', email, role: { id: t.org.roles.manager.id },
        profile: { id: t.org.profiles.standard.id } });
      await t.env.rt.services.sessions.setPassword(t.orgId, email, PASSWORD, 'test');
      // 10 s before a quarter hour: 9 failures, then 12 s later (a new quarter) 9 more.
      const quarter = 15 * 60_000;
      t.env.advance(quarter - (t.env.now() % quarter) - 10_000);
      for (let i = 0; i < 9; i++) expect((await signIn(email, `guess ${i}`)).statusCode).toBe(401);
      t.env.advance(12_000);
      const answers = [];
      for (let i = 0; i < 9; i++) answers.push((await signIn(email, `guess again ${i}`)).statusCode);
      expect(answers.slice(0, 1)).toEqual([401]);
      expect(answers.at(-1)).toBe(429);
      expect((await signIn(email, PASSWORD)).statusCode).toBe(429);
      // The lockout ends; a right password then signs in and forgets the failures.
      t.env.advance(LOGIN_LIMITS.lockoutMs + 60_000);
      expect((await signIn(email, PASSWORD)).statusCode).toBe(200);
      expect((await signIn(email, 'one more guess')).statusCode).toBe(401);
      expect((await signIn(email, PASSWORD)).statusCode).toBe(200);
    });

    it('a user without a password is checked against a hash like anyone else (no faster "wrong password" to tell them apart)', async () => {
      const email = 'nopassword@acme.example';
      await t.env.rt.services.directory.createUser(t.admin, { last_name: 'Nopass', email, role: { id: t.org.roles.manager.id },
        profile: { id: t.org.profiles.standard.id } });
      const hashes = await scryptCalls(async () => {
        expect((await signIn(email, 'anything at all')).statusCode).toBe(401);
      });
      const unknown = await scryptCalls(async () => {
        expect((await signIn('nobody-here@acme.example', 'anything at all')).statusCode).toBe(401);
      });
      expect(hashes).toBe(1);
      expect(unknown).toBe(1);
    });

    it('disabling a user ends their sessions and API tokens; enabling them again does not bring the old ones back', async () => {
      const email = 'leaver@acme.example';
      const user = await t.env.rt.services.directory.createUser(t.admin, { last_name: 'Leaver', email, role: { id: t.org.roles.manager.id },
        profile: { id: t.org.profiles.standard.id } });
      await t.env.rt.services.sessions.setPassword(t.orgId, email, PASSWORD, 'test');
      const s = await signed(email);
      const session = () => t.app.inject({ method: 'GET', url: '/api/console/session', headers: { cookie: s.cookie } });
      expect((await session()).statusCode).toBe(200);
      const token = await t.authFor({ userEmail: email });
      const api = () => t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', headers: token });
      expect([200, 204]).toContain((await api()).statusCode);
      await t.env.rt.services.directory.updateUser(t.admin, user.id, { status: 'disabled' });
      await t.env.rt.services.directory.updateUser(t.admin, user.id, { status: 'active' });
      t.env.advance(10_000);
      expect((await session()).statusCode).toBe(401);
      // Their API tokens ended with it.
      expect((await api()).statusCode).toBe(401);
      expect((await signIn(email, PASSWORD)).statusCode).toBe(200);
    });

    it('the cookie works on the v8 API under the same rules; changes need the CSRF token and are audited as crm_ui', async () => {
      const s = await signed(t.org.admin.email);
      const read = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log?per_page=5', headers: { cookie: s.cookie } });
      expect(read.statusCode).toBe(200);
      const count = async () => (await t.env.store.db.selectFrom('records').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n;
      const n = await count();
      for (const headers of [{ cookie: s.cookie }, { cookie: s.cookie, 'x-csrf-token': 'forged' }, { cookie: s.cookie, 'x-csrf-token': '' }]) {
        const forged = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers, payload: { data: [{ Last_Name: 'Forged' }] } });
        expect(forged.statusCode).toBe(403);
        expect(forged.json().code).toBe('CSRF_TOKEN_INVALID');
      }
      expect(await count()).toBe(n);
      const ok = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
        payload: { data: [{ Last_Name: 'Console Lead' }] } });
      expect(ok.statusCode).toBe(201);
      const added = (await entries('added')).at(-1)!;
      expect(added).toMatchObject({ record_name: 'Console Lead', source: 'crm_ui', actor_id: t.org.admin.id });
      // Another session's token is not this one's.
      const other = await signed(t.org.admin.email);
      const swapped = await t.app.inject({ method: 'DELETE', url: '/api/console/session', headers: { cookie: s.cookie, 'x-csrf-token': other.csrf } });
      expect(swapped.statusCode).toBe(403);
    });

    it('judges a request with an Authorization header by the header alone', async () => {
      const s = await signed(t.org.admin.email);
      const res = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log', headers: { cookie: s.cookie, authorization: 'Zoho-oauthtoken 1000.bad.bad' } });
      expect(res.json().code).toBe('INVALID_TOKEN');
    });

    it('a trainee\'s session sees what their token would: their own entries, no administrator pages', async () => {
      const s = await signed('trainee@acme.example');
      expect(s.body).toMatchObject({ is_admin: false, sees_all: false, pages: { audit_log: true, users: false, settings: false, empty_recycle_bin: false } });
      const log = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log?per_page=200', headers: { cookie: s.cookie } });
      const ids = new Set(log.json().audit_log.map((e: { done_by: { id: string } }) => e.done_by.id));
      expect([...ids]).toEqual([traineeId]);
      for (const url of ['/api/console/settings', '/api/console/integrity']) {
        const r = await t.app.inject({ method: 'GET', url, headers: { cookie: s.cookie } });
        expect(r.statusCode, url).toBe(403);
        expect(r.json().code).toBe('NO_PERMISSION');
      }
      const patch = await t.app.inject({ method: 'PATCH', url: '/api/console/settings', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
        payload: { legal_hold: true } });
      expect(patch.statusCode).toBe(403);
    });

    it('ends a session when idle, and on sign-out (audited); the cookie is then worth nothing', async () => {
      const s = await signed(t.org.admin.email);
      t.env.advance(29 * 60_000);
      expect((await t.app.inject({ method: 'GET', url: '/api/console/session', headers: { cookie: s.cookie } })).statusCode).toBe(200);
      t.env.advance(29 * 60_000);
      expect((await t.app.inject({ method: 'GET', url: '/api/console/session', headers: { cookie: s.cookie } })).statusCode).toBe(200);
      t.env.advance(31 * 60_000);
      const idle = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log', headers: { cookie: s.cookie } });
      expect(idle.statusCode).toBe(401);
      expect(idle.json().code).toBe('AUTHENTICATION_FAILURE');

      const s2 = await signed(t.org.admin.email);
      const noCsrf = await t.app.inject({ method: 'DELETE', url: '/api/console/session', headers: { cookie: s2.cookie } });
      expect(noCsrf.statusCode).toBe(403);
      const before = (await entries('logout')).length;
      const out = await t.app.inject({ method: 'DELETE', url: '/api/console/session', headers: { cookie: s2.cookie, 'x-csrf-token': s2.csrf } });
      expect(out.statusCode).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/auditrail_session=;.*Expires=Thu, 01 Jan 1970/);
      const logout = (await entries('logout')).slice(before);
      expect(logout).toHaveLength(1);
      expect(logout[0]).toMatchObject({ source: 'crm_ui', actor_id: t.org.admin.id });
      expect((await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name', headers: { cookie: s2.cookie } })).statusCode).toBe(401);
    });

    it('setting a password ends the user\'s sessions and is audited without the password', async () => {
      const s = await signed('trainee@acme.example');
      await t.env.rt.services.sessions.setPassword(t.orgId, 'trainee@acme.example', 'another long password', 'auditrail CLI (ops@host)');
      expect((await t.app.inject({ method: 'GET', url: '/api/console/session', headers: { cookie: s.cookie } })).statusCode).toBe(401);
      const e = (await entries('user_updated')).at(-1)!;
      expect(e).toMatchObject({ actor_name: 'auditrail CLI (ops@host)', record_id: traineeId });
      expect(e.details).not.toContain('another long password');
      await expect(t.env.rt.services.sessions.setPassword(t.orgId, 'trainee@acme.example', 'short', 'x')).rejects.toMatchObject({ code: 'INVALID_DATA' });
      await expect(t.env.rt.services.sessions.setPassword(t.orgId, 'trainee@acme.example', 'a'.repeat(20) + '\u0000', 'x')).rejects.toMatchObject({ code: 'INVALID_DATA' });
      await t.env.rt.services.sessions.setPassword(t.orgId, 'trainee@acme.example', PASSWORD, 'test');
    });

    it('shows and changes the organisation\'s settings, audited under the administrator', async () => {
      const s = await signed(t.org.admin.email);
      const get = await t.app.inject({ method: 'GET', url: '/api/console/settings', headers: { cookie: s.cookie } });
      expect(get.json()).toMatchObject({ audit_log_window_days: 60, legal_hold: false });
      const bad = await t.app.inject({ method: 'PATCH', url: '/api/console/settings', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
        payload: { retention_years: 99 } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'retention_years' } });
      const ok = await t.app.inject({ method: 'PATCH', url: '/api/console/settings', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf },
        payload: { retention_years: 6 } });
      expect(ok.json().retention_years).toBe(6);
      const e = (await entries('org_updated')).at(-1)!;
      expect(e).toMatchObject({ actor_id: t.org.admin.id, source: 'crm_ui' });
      expect(JSON.parse(e.details).field_history).toEqual([{ api_name: 'retention_years', field_label: 'retention_years', old: 3, new: 6 }]);
      // The same through the API, in Zoho's shape, audited under the token's user.
      const auth = await t.authFor();
      const read = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log_preferences', headers: auth });
      expect(read.json().audit_log_preferences[0]).toMatchObject({ retention_years: 6, legal_hold: false });
      const put = await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: auth,
        payload: { audit_log_preferences: [{ legal_hold: true }] } });
      expect(put.json().audit_log_preferences[0]).toMatchObject({ code: 'SUCCESS', details: { legal_hold: true, retention_years: 6 } });
      const viaApi = (await entries('org_updated')).at(-1)!;
      expect(viaApi).toMatchObject({ actor_id: t.org.admin.id, source: 'api' });
      expect(JSON.parse(viaApi.details).field_history).toEqual([{ api_name: 'legal_hold', field_label: 'legal_hold', old: false, new: true }]);
      const wrong = await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: auth,
        payload: { audit_log_preferences: [{ recycle_bin_days: 'forever' }] } });
      expect(wrong.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'recycle_bin_days' } });
      await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: auth, payload: { audit_log_preferences: [{ legal_hold: false }] } });
    });

    it('reports the integrity status: the last verify, the newest signed head, the public key', async () => {
      const s = await signed(t.org.admin.email);
      await t.env.rt.services.audit.verifyChain(t.orgId);
      const res = await t.app.inject({ method: 'GET', url: '/api/console/integrity', headers: { cookie: s.cookie } });
      const body = res.json();
      expect(body.last_verify).toMatchObject({ ok: true, breaks: 0 });
      expect(body.newest_head.seq).toBe(body.last_verify.last_seq);
      expect(body.public_key).toMatchObject({ algorithm: 'Ed25519', key_id: t.env.rt.services.integrity.keyId });
    });

    it('reads a record live and in the recycle bin, under the records API\'s rules', async () => {
      const s = await signed(t.org.admin.email);
      const [r] = await t.env.rt.services.records.createRecords(t.admin, 'Leads', [{ Last_Name: 'Binned Lead', Company: 'Acme' }]);
      if (!r.ok) throw new Error('create');
      const live = await t.app.inject({ method: 'GET', url: `/api/console/records/Leads/${r.row.id}`, headers: { cookie: s.cookie } });
      expect(live.json()).toMatchObject({ in_recycle_bin: false, record: { id: r.row.id, Last_Name: 'Binned Lead' }, bin: null });
      await t.env.rt.services.records.deleteRecords(t.admin, 'Leads', [r.row.id]);
      const binned = await t.app.inject({ method: 'GET', url: `/api/console/records/Leads/${r.row.id}`, headers: { cookie: s.cookie } });
      expect(binned.json()).toMatchObject({ in_recycle_bin: true, record: { Company: 'Acme' }, bin: { deleted_by: { id: t.org.admin.id } } });
      // Under another module's name, or as someone who may not see it: nothing, alike.
      expect((await t.app.inject({ method: 'GET', url: `/api/console/records/Contacts/${r.row.id}`, headers: { cookie: s.cookie } })).statusCode).toBe(204);
      const trainee = await signed('trainee@acme.example');
      expect((await t.app.inject({ method: 'GET', url: `/api/console/records/Leads/${r.row.id}`, headers: { cookie: trainee.cookie } })).statusCode).toBe(204);
    });

    it('filters the audit log by IP, record name and batch, beyond Zoho\'s filters', async () => {
      const auth = await t.authFor();
      const q = async (qs: string) => (await t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log?${qs}`, headers: auth }));
      const byName = await q('record_name=CONSOLE%20lea');
      expect(byName.json().audit_log.every((e: { record: { name: string } }) => /console lead/i.test(e.record.name))).toBe(true);
      expect(byName.json().audit_log.length).toBeGreaterThan(0);
      // LIKE wildcards are text, not patterns.
      expect((await q('record_name=%25')).statusCode).toBe(204);
      expect((await q('ip=127.0.0.1')).statusCode).toBe(200);
      expect((await q('ip=10.0.0.300')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'ip' } });
      expect((await q('batch_id=abc')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'batch_id' } });
    });

    it('streams new entries live, each viewer only what the audit log shows them, until sign-out', async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      const admin = await signed(t.org.admin.email);
      const trainee = await signed('trainee@acme.example');
      const open = async (cookie: string) => {
        const res = await fetch(`${base}/api/console/audit-log/stream?module=Leads`, { headers: { cookie } });
        expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
        const reader = res.body!.getReader();
        let text = '';
        let ended = false;
        // One read in flight at a time, collected as it lands.
        void (async () => {
          for (;;) {
            const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
            if (value) text += Buffer.from(value).toString();
            if (done) { ended = true; return; }
          }
        })();
        return {
          async until(re: RegExp, ms = 10_000) {
            const end = Date.now() + ms;
            while (!re.test(text) && !ended && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
            return text;
          },
          cancel: () => reader.cancel(),
        };
      };
      const a = await open(admin.cookie);
      const b = await open(trainee.cookie);
      await t.env.rt.services.records.createRecords(t.admin, 'Leads', [{ Last_Name: 'Streamed by admin' }]);
      const trainer = await t.env.rt.services.directory.actorForUser(t.orgId, traineeId);
      await t.env.rt.services.records.createRecords(trainer, 'Leads', [{ Last_Name: 'Streamed by trainee' }]);
      const seenByAdmin = await a.until(/Streamed by trainee/);
      expect(seenByAdmin).toMatch(/event: entry\nid: \d+\ndata: \{.*"Streamed by admin"/);
      const seenByTrainee = await b.until(/Streamed by trainee/);
      expect(seenByTrainee).not.toContain('Streamed by admin');
      // Signing out ends the stream with an error event.
      await fetch(`${base}/api/console/session`, { method: 'DELETE', headers: { cookie: trainee.cookie, 'x-csrf-token': trainee.csrf } });
      t.env.advance(10_000);
      expect(await b.until(/event: error/)).toMatch(/AUTHENTICATION_FAILURE/);
      await a.cancel();
    });
  });
}

describe('the console served at /', () => {
  const t = withApp({ token: false });

  it('serves its page for console paths (Zoho\'s deep links too), its files publicly, and leaves the API\'s paths to the API', async () => {
    const dist = mkdtempSync(path.join(tmpdir(), 'console-dist-'));
    writeFileSync(path.join(dist, 'index.html'), '<!doctype html><title>auditrail</title><script type="module" src="/assets/app.js"></script>');
    mkdirSync(path.join(dist, 'assets'));
    writeFileSync(path.join(dist, 'assets', 'app.js'), 'console.log(1)');
    const app = await createHttpApp(t.env.rt, { console: { dist: `${dist}/` } });
    for (const url of ['/', '/audit-log?action=deleted&module=Leads', '/crm/tab/Leads/1097000942359019834', '/recycle-bin']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).toContain('<title>auditrail</title>');
    }
    const js = await app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toContain('immutable');
    for (const url of ['/crm/v8/settings/nowhere/at/all', '/api/nothing', '/oauth/v2/nothing']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
    }
    expect((await app.inject({ method: 'POST', url: '/audit-log' })).headers['content-type']).toMatch(/^application\/json/);
    await app.close();
  });

  it('hashes passwords with scrypt and still reads the older hashes', async () => {
    const h = await hashPassword('pässword');
    expect(await checkPassword('pa\u0308ssword', h)).toBe(true);
    expect(await checkPassword('password', h)).toBe(false);
    expect(await checkPassword('x', 'scrypt$zz$zz')).toBe(false);
    expect(await checkPassword('x', null)).toBe(false);
  });
});
