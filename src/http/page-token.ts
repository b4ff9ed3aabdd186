import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../domain/errors.ts';

/**
 * Opaque, signed keyset cursors. The payload binds the query the token was issued for, so a
 * tampered, foreign or mismatched token is refused instead of leaking another query's rows.
 */
export interface PageTokenCodec {
  encode(payload: Record<string, unknown>, ttlMs: number): { token: string; expiresAt: number };
  decode(token: string, now: number): Record<string, unknown>;
}

export function createPageTokenCodec(secret: string): PageTokenCodec {
  const sign = (body: string) => createHmac('sha256', secret).update(body).digest().subarray(0, 16);
  return {
    encode(payload, ttlMs) {
      const expiresAt = Date.now() + ttlMs;
      const body = Buffer.from(JSON.stringify({ ...payload, exp: expiresAt })).toString('base64url');
      return { token: `${body}.${sign(body).toString('base64url')}`, expiresAt };
    },
    decode(token, now) {
      const [body, sig] = token.split('.');
      const bad = () => new AppError('INVALID_DATA', 'invalid page token', { param_name: 'page_token' });
      if (!body || !sig) throw bad();
      const given = Buffer.from(sig, 'base64url');
      const expected = sign(body);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw bad();
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
      } catch {
        throw bad();
      }
      if (typeof payload.exp !== 'number' || payload.exp < now) {
        throw new AppError('EXPIRED_VALUE', 'the page token has expired', { param_name: 'page_token' });
      }
      return payload;
    },
  };
}
