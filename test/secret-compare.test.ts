import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp, createEnv, createOrg, type TestEnv } from './helpers.ts';

// Spies on the constant-time comparison the token endpoint must use for client secrets.
const compare = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { compare.calls += 1; return real.timingSafeEqual(a, b); } };
});

describe('client secrets', () => {
  let env: TestEnv;
  let app: FastifyInstance;

  beforeAll(async () => {
    env = await createEnv();
    app = await createApp(env);
  });
  afterAll(async () => { await app?.close(); await env?.close(); });

  it('are compared in constant time, right or wrong', async () => {
    const c = await env.rt.services.oauth.createClient((await createOrg(env)).org.id);
    const grant = (secret: string) => app.inject({ method: 'POST', url: '/oauth/v2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: secret, grant_type: 'refresh_token', refresh_token: c.refresh_token }).toString() });
    compare.calls = 0;
    expect((await grant(`x${c.client_secret}`)).json()).toEqual({ error: 'invalid_client_secret' });
    expect(compare.calls).toBe(1);
    expect((await grant(c.client_secret)).json().access_token).toBeTruthy();
    expect(compare.calls).toBe(2);
  });
});
