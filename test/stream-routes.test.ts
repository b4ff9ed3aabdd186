import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { routesOf } from '../src/http/app.ts';
import { BACKENDS, withApp } from './helpers.ts';
import { drain, ndjsonReceiver } from './stream-helpers.ts';
import { createAppWorker } from '../src/jobs/index.ts';

const PASSWORD = 'correct horse battery staple';

for (const backend of BACKENDS) {
  describe(`/api/v1/streams (${backend})`, () => {
    const t = withApp({ backend });
    let receiver: Awaited<ReturnType<typeof ndjsonReceiver>>;
    beforeAll(async () => { receiver = await ndjsonReceiver(); });
    afterAll(async () => { await receiver.close(); });

    /** The reply's body, checked against the schema the route declares for its status. */
    function declared(method: string, url: string, status: number, body: unknown) {
      const operation = routesOf(t.app).find((r) => r.method === method && r.url === url)!.operation!;
      const r = (operation.responses[status] as z.ZodType).safeParse(body);
      expect(r.success, `${method} ${url} ${status}: ${r.error?.message}`).toBe(true);
    }
    const entries = async (action: string) => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
      .where('action', '=', action).orderBy('seq').execute();

    it('creates with a token, shows the generated secret once, then progress and lag; every change is audited', async () => {
      const created = await t.app.inject({ method: 'POST', url: '/api/v1/streams', headers: t.auth,
        payload: { name: 'SIEM', type: 'https', destination: { url: receiver.url }, from_seq: 1 } });
      expect(created.statusCode, created.body).toBe(201);
      declared('POST', '/api/v1/streams', 201, created.json());
      const { stream, secret } = created.json();
      expect(secret).toEqual(expect.any(String));
      const got = await t.app.inject({ method: 'GET', url: `/api/v1/streams/${stream.id}`, headers: t.auth });
      declared('GET', '/api/v1/streams/:id', 200, got.json());
      expect(got.body).not.toContain(secret);
      expect(got.json().stream.progress).toMatchObject({ cursor_seq: 0, lag_entries: expect.any(Number) });
      expect(got.json().stream.progress.lag_entries).toBeGreaterThan(0);

      await drain(t.env, createAppWorker(t.env.rt, { maintenance: false }), 3);
      const list = await t.app.inject({ method: 'GET', url: '/api/v1/streams', headers: t.auth });
      declared('GET', '/api/v1/streams', 200, list.json());
      const [s] = list.json().streams;
      expect(s.progress.lag_entries).toBe(0);
      expect(s.progress.delivered).toBe(s.progress.head_seq);

      const paused = await t.app.inject({ method: 'PATCH', url: `/api/v1/streams/${stream.id}`, headers: t.auth, payload: { status: 'paused' } });
      expect(paused.json().stream.status).toBe('paused');
      const rewound = await t.app.inject({ method: 'POST', url: `/api/v1/streams/${stream.id}/rewind`, headers: t.auth,
        payload: { time: '2000-01-01T00:00:00Z' } });
      expect(rewound.statusCode, rewound.body).toBe(200);
      expect(rewound.json().stream.progress.cursor_seq).toBe(0);
      const bad = await t.app.inject({ method: 'POST', url: `/api/v1/streams/${stream.id}/rewind`, headers: t.auth, payload: { seq: 10 ** 9 } });
      expect(bad.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'seq' }, status: 'error' });
      const gone = await t.app.inject({ method: 'DELETE', url: `/api/v1/streams/${stream.id}`, headers: t.auth });
      expect(gone.statusCode).toBe(204);
      expect((await t.app.inject({ method: 'GET', url: `/api/v1/streams/${stream.id}`, headers: t.auth })).json().code).toBe('INVALID_DATA');
      for (const action of ['stream_created', 'stream_updated', 'stream_rewound', 'stream_deleted']) {
        const [e] = await entries(action);
        expect(e, action).toMatchObject({ module: 'streams', record_id: stream.id, record_name: 'SIEM' });
        expect(e.details, action).not.toContain(secret);
      }
    });

    it('works from a console session, whose changes need the CSRF token', async () => {
      await t.env.rt.services.sessions.setPassword(t.orgId, t.org.admin.email, PASSWORD, 'test');
      const login = await t.app.inject({ method: 'POST', url: '/api/console/session', payload: { email: t.org.admin.email, password: PASSWORD } });
      const cookie = `auditrail_session=${login.cookies.find((c) => c.name === 'auditrail_session')!.value}`;
      const body = { name: 'Console', type: 'syslog', destination: { host: '127.0.0.1', port: 6514, tls: true } };
      const forged = await t.app.inject({ method: 'POST', url: '/api/v1/streams', headers: { cookie }, payload: body });
      expect(forged.json().code).toBe('CSRF_TOKEN_INVALID');
      const ok = await t.app.inject({ method: 'POST', url: '/api/v1/streams', headers: { cookie, 'x-csrf-token': login.json().csrf_token }, payload: body });
      expect(ok.statusCode, ok.body).toBe(201);
      expect(ok.json().stream.destination).toMatchObject({ host: '127.0.0.1', port: 6514, tls: true, facility: 13 });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/streams', headers: { cookie } })).json().streams.map((s: { name: string }) => s.name))
        .toContain('Console');
    });

    it('a token with only the audit log\'s read scope reads streams but may not create them', async () => {
      const auth = await t.authFor({ scopes: ['ZohoCRM.settings.audit_logs.READ'] });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/streams', headers: auth })).statusCode).toBe(200);
      const refused = await t.app.inject({ method: 'POST', url: '/api/v1/streams', headers: auth,
        payload: { name: 'x', type: 'nats', destination: {} } });
      expect(refused.json().code).toBe('OAUTH_SCOPE_MISMATCH');
      const narrow = await t.authFor({ scopes: ['ZohoCRM.settings.audit_log_streams.CREATE'] });
      const made = await t.app.inject({ method: 'POST', url: '/api/v1/streams', headers: narrow,
        payload: { name: 'nats', type: 'nats', destination: { user: 'svc', pass: 'hunter2-hunter2' }, status: 'paused' } });
      expect(made.statusCode, made.body).toBe(201);
      expect(made.json().stream.secrets).toEqual(['nats_pass', 'nats_user']);
      expect(made.body).not.toContain('hunter2');
    });
  });
}
