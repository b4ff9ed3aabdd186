import { describe, expect, it, vi } from 'vitest';
import { createOrg, withApp } from './helpers.ts';

// Spies on the constant-time comparison the token endpoint must use for client secrets.
const compare = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:crypto', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:crypto')>();
  return { ...real, timingSafeEqual: (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => { compare.calls += 1; return real.timingSafeEqual(a, b); } };
});

describe('client secrets', () => {
  const t = withApp({ org: false });

  it('are compared in constant time, right or wrong', async () => {
    const c = await t.env.rt.services.oauth.createClient((await createOrg(t.env)).org.id);
    const grant = (secret: string) => t.app.inject({ method: 'POST', url: '/oauth/v2/token', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ client_id: c.client_id, client_secret: secret, grant_type: 'refresh_token', refresh_token: c.refresh_token }).toString() });
    compare.calls = 0;
    expect((await grant(`x${c.client_secret}`)).json()).toEqual({ error: 'invalid_client_secret' });
    expect(compare.calls).toBe(1);
    expect((await grant(c.client_secret)).json().access_token).toBeTruthy();
    expect(compare.calls).toBe(2);
  });
});
