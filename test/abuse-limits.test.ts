import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, createApp, createEnv, createOrg, tokenFor, withApp, type TestEnv } from './helpers.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { TOKEN_LIMITS } from '../src/services/oauth-service.ts';
import { hitCounter, lockCounter, pruneCounters } from '../src/store/limit-store.ts';

const MINUTE = 60_000;
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** Sends raw bytes to a listening app and resolves to the raw response (the connection is closed by either side). */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    socket.on('data', (c) => chunks.push(c));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(e)));
  });
}

describe('errors raised by the framework itself', () => {
  const t = withApp();

  it('answers a path with bad percent-encoding or an overlong segment as Zoho does, not with Fastify\'s body', async () => {
    for (const url of ['/crm/v8/Leads/%zz', '/crm/v8/%E0%A4%A', `/crm/v8/Leads/${'9'.repeat(200)}`, '/oauth/v2/%ff%fe']) {
      const res = await t.app.inject({ method: 'GET', url, headers: t.auth });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toMatch(/^application\/json/);
      expect(res.json(), url).toEqual({ code: 'INVALID_URL_PATTERN', details: {}, message: 'Please check if the URL trying to access is a correct one',
        status: 'error' });
    }
  });

  it('answers headers over 16 KB with a Zoho-shaped 431, and a request it cannot parse with a Zoho-shaped 400', async () => {
    const server = await createApp(t.env);
    await server.listen({ port: 0, host: '127.0.0.1' });
    const { port } = server.server.address() as AddressInfo;
    try {
      const big = await rawRequest(port, `GET /crm/v8/org HTTP/1.1\r\nHost: x\r\nX-Filler: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
      expect(big).toMatch(/^HTTP\/1\.1 431 /);
      expect(big).toMatch(/\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
      expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toEqual({ code: 'REQUEST_HEADER_FIELDS_TOO_LARGE',
        details: { limit: 16384 }, message: 'the request headers exceed 16384 bytes', status: 'error' });
      const garbled = await rawRequest(port, 'GET /crm/v8/org HTTP/1.1\r\nHost x\r\n\r\n');
      expect(garbled).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(garbled.slice(garbled.indexOf('\r\n\r\n') + 4))).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
    } finally {
      await server.close();
    }
  });
});

describe.each(BACKENDS)('rate limit counters on %s', (backend) => {
  it('count every concurrent hit once, restart with a new window, keep a lock across windows, and are pruned', async () => {
    const env = await createEnv(backend);
    const other = backend === 'postgres' ? await env.second() : null;
    const dbs = [env.store.db, ...(other ? [other.rt.store.db] : [])];
    const db = env.store.db;
    const hits = await Promise.all(Array.from({ length: 40 }, (_, i) => hitCounter(dbs[i % dbs.length], 'k', 1000)));
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(await hitCounter(db, 'k', 500)).toEqual({ count: 41, lockedUntil: null });
    await lockCounter(db, 'k', 5000);
    await lockCounter(db, 'k', 3000);
    expect(await hitCounter(db, 'k', 2000)).toEqual({ count: 1, lockedUntil: 5000 });
    await pruneCounters(db, 3000, 4000);
    expect((await hitCounter(db, 'k', 2000)).count).toBe(2);
    await pruneCounters(db, 3000, 6000);
    expect(await hitCounter(db, 'k', 2000)).toEqual({ count: 1, lockedUntil: null });
    await other?.close();
    await env.close();
  });
});

describe.each(BACKENDS)('token endpoint limits on %s', (backend) => {
  let env: TestEnv;
  let apps: FastifyInstance[];
  let orgId: string;
  let closeSecond: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    env = await createEnv(backend);
    // On PostgreSQL, two API nodes over one database share their counters.
    const second = backend === 'postgres' ? await env.second() : null;
    closeSecond = second?.close;
    apps = [await createApp(env), ...(second ? [await createHttpApp(second.rt)] : [])];
    orgId = (await createOrg(env)).org.id;
  });
  afterAll(async () => {
    for (const app of apps ?? []) await app.close();
    await closeSecond?.();
    await env?.close();
  });

  const post = (i: number, fields: Record<string, string>, remoteAddress = '198.51.100.1', headers: Record<string, string> = {}) =>
    apps[i % apps.length].inject({ method: 'POST', url: '/oauth/v2/token', payload: new URLSearchParams(fields).toString(),
      headers: { ...FORM, ...headers }, remoteAddress });
  const failures = () => env.store.db.selectFrom('audit_entries').select(['details', 'ip']).where('org_id', '=', orgId)
    .where('action', '=', 'login_failed').orderBy('seq').execute();

  it('2,000 wrong secrets: ten audited one by one, then a lockout, the rest one summary entry per minute', async () => {
    const c = await env.rt.services.oauth.createClient(orgId);
    const wrong = { client_id: c.client_id, client_secret: 'guess', grant_type: 'refresh_token', refresh_token: c.refresh_token };
    const answers = [];
    for (let batch = 0; batch < 20; batch++) answers.push(...await Promise.all(Array.from({ length: 100 }, (_, i) => post(i, wrong))));
    const refused = answers.filter((a) => a.statusCode === 429);
    expect(answers.filter((a) => a.statusCode === 200).every((a) => a.json().error === 'invalid_client_secret')).toBe(true);
    expect(refused.length).toBeGreaterThanOrEqual(2000 - TOKEN_LIMITS.requestsPerClientPerMinute);
    expect(refused[0].json()).toMatchObject({ code: 'TOO_MANY_REQUESTS', details: { retry_after: expect.any(Number) }, status: 'error',
      error: 'Access Denied', message: expect.stringMatching(/too many requests/) });
    expect(Number(refused[0].headers['retry-after'])).toBeGreaterThan(0);
    const individual = await failures();
    expect(individual).toHaveLength(TOKEN_LIMITS.failuresPerClient);
    expect(individual.filter((f) => JSON.parse(f.details).extra.locked_until)).toHaveLength(1);

    // Locked out: even the right secret is refused, from anywhere, until the lockout ends.
    const right = { ...wrong, client_secret: c.client_secret };
    env.advance(MINUTE);
    for (let i = 0; i < 7; i++) expect((await post(i, right, '192.0.2.1')).statusCode).toBe(429);
    env.advance(MINUTE + 10_000);
    const written = await Promise.all(apps.map(() => env.rt.services.oauth.summariseRefusedLogins()));
    expect(written.reduce((a, b) => a + b, 0)).toBe(2);
    const summaries = (await failures()).slice(TOKEN_LIMITS.failuresPerClient).map((f) => ({ ip: f.ip, extra: JSON.parse(f.details).extra }));
    expect(summaries.map((s) => s.extra)).toEqual([
      expect.objectContaining({ reason: 'too_many_requests', client_id: c.client_id, attempts: 2000 - TOKEN_LIMITS.failuresPerClient }),
      expect.objectContaining({ reason: 'too_many_requests', client_id: c.client_id, attempts: 7 }),
    ]);
    expect(summaries[1].ip).toBe('192.0.2.1');
    expect(await env.rt.services.oauth.summariseRefusedLogins()).toBe(0);
    expect((await env.rt.services.audit.verifyChain(orgId)).ok).toBe(true);

    env.advance(TOKEN_LIMITS.lockoutMs);
    expect((await post(0, right)).json().access_token).toBeTruthy();
  });

  it('lifts a client\'s lockout only through the audited unlock, and only within its organisation', async () => {
    const c = await env.rt.services.oauth.createClient(orgId);
    const wrong = { client_id: c.client_id, client_secret: 'guess', grant_type: 'refresh_token', refresh_token: c.refresh_token };
    for (let i = 0; i < TOKEN_LIMITS.failuresPerClient; i++) await post(i, wrong, `198.51.100.${i}`);
    const right = { ...wrong, client_secret: c.client_secret };
    expect((await post(0, right, '198.51.100.200')).statusCode).toBe(429);
    const other = await env.rt.services.directory.createOrganisation({ name: 'Elsewhere', adminEmail: 'a@elsewhere.example' });
    await expect(env.rt.services.oauth.unlockClient(other.org.id, c.client_id)).rejects.toMatchObject({ code: 'INVALID_DATA' });
    expect((await post(0, right, '198.51.100.201')).statusCode).toBe(429);
    await env.rt.services.oauth.unlockClient(orgId, c.client_id);
    expect((await post(0, right, '198.51.100.202')).json().access_token).toBeTruthy();
    const unlocked = await env.store.db.selectFrom('audit_entries').select(['record_id', 'actor_name']).where('org_id', '=', orgId)
      .where('action', '=', 'oauth_client_unlocked').execute();
    expect(unlocked).toEqual([{ record_id: c.client_id, actor_name: 'auditrail CLI' }]);
  });

  it('locks out an IP that fails on many client ids, and trusts X-Forwarded-For only when configured', async () => {
    env.advance(TOKEN_LIMITS.failureWindowMs);
    const c = await env.rt.services.oauth.createClient(orgId);
    const right = { client_id: c.client_id, client_secret: c.client_secret, grant_type: 'refresh_token', refresh_token: c.refresh_token };
    for (let i = 0; i < TOKEN_LIMITS.failuresPerIp; i++) {
      const res = await post(i, { ...right, client_id: `1000.UNKNOWN${i}` }, '203.0.113.9', { 'x-forwarded-for': `10.0.0.${i}` });
      expect(res.json()).toEqual({ error: 'invalid_client' });
    }
    expect((await post(0, right, '203.0.113.9', { 'x-forwarded-for': '10.9.9.9' })).statusCode).toBe(429);
    expect((await post(0, right, '203.0.113.10')).json().access_token).toBeTruthy();

    const trusting = await createHttpApp(env.rt, { trustProxy: 1 });
    try {
      for (let i = 0; i < TOKEN_LIMITS.failuresPerIp; i++) {
        await trusting.inject({ method: 'POST', url: '/oauth/v2/token', headers: { ...FORM, 'x-forwarded-for': '10.1.1.1' }, remoteAddress: '203.0.113.20',
          payload: new URLSearchParams({ ...right, client_id: `1000.OTHER${i}` }).toString() });
      }
      const from = (forwarded: string) => trusting.inject({ method: 'POST', url: '/oauth/v2/token', remoteAddress: '203.0.113.20',
        headers: { ...FORM, 'x-forwarded-for': forwarded }, payload: new URLSearchParams(right).toString() });
      expect((await from('10.1.1.1')).statusCode).toBe(429);
      expect((await from('10.2.2.2')).json().access_token).toBeTruthy();
    } finally {
      await trusting.close();
    }
  });
});

describe.each(BACKENDS)('API rate limit per access token on %s', (backend) => {
  it('answers 429 past the organisation\'s api_requests_per_minute, per token, until the next minute', async () => {
    const env = await createEnv(backend);
    const second = backend === 'postgres' ? await env.second() : null;
    const apps = [await createApp(env), ...(second ? [await createHttpApp(second.rt)] : [])];
    const org = await createOrg(env);
    const admin = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    await env.rt.services.directory.updateOrgSettings(admin, { api_requests_per_minute: 5 });
    const { auth } = await tokenFor(apps[0], env, org.org.id);
    const { auth: other } = await tokenFor(apps[0], env, org.org.id);
    const get = (i: number, headers = auth) => apps[i % apps.length].inject({ method: 'GET', url: '/crm/v8/org', headers });
    for (let i = 0; i < 5; i++) expect((await get(i)).statusCode).toBe(200);
    const over = await get(5);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({ code: 'TOO_MANY_REQUESTS', details: { retry_after: expect.any(Number) },
      message: 'too many requests: this organisation allows 5 a minute per access token', status: 'error' });
    expect(over.headers['retry-after']).toBe(String(over.json().details.retry_after));
    expect((await get(6, other)).statusCode).toBe(200);
    env.advance(MINUTE);
    expect((await get(7)).statusCode).toBe(200);
    for (const app of apps) await app.close();
    await second?.close();
    await env.close();
  });

  it('counts in blocks taken from the database, and several nodes together never serve more than the limit', async () => {
    const env = await createEnv(backend);
    const second = backend === 'postgres' ? await env.second() : null;
    const apps = [await createApp(env), ...(second ? [await createHttpApp(second.rt)] : [])];
    const org = await createOrg(env);
    const admin = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    await env.rt.services.directory.updateOrgSettings(admin, { api_requests_per_minute: 300 });
    const { auth } = await tokenFor(apps[0], env, org.org.id);
    const codes: number[] = [];
    for (let i = 0; i < 320; i++) codes.push((await apps[i % apps.length].inject({ method: 'GET', url: '/crm/v8/org', headers: auth })).statusCode);
    const served = codes.filter((c) => c === 200).length;
    // Each node may leave at most one block (3) of its reservation unspent: never more than 300.
    expect(served).toBeLessThanOrEqual(300);
    expect(served).toBeGreaterThanOrEqual(300 - 3 * apps.length);
    expect(codes.slice(-10)).toEqual(Array(10).fill(429));
    const counted = await env.store.db.selectFrom('rate_limits').select('count').where('key', 'like', 'api:%').executeTakeFirstOrThrow();
    expect(Number(counted.count)).toBeGreaterThanOrEqual(300);
    for (const app of apps) await app.close();
    await second?.close();
    await env.close();
  });
});
