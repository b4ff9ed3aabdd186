import { createHmac } from 'node:crypto';
import { isIP } from 'node:net';
import { AppError } from '../domain/errors.ts';
import { badPort, postBody } from './http-post.ts';

/** Whether a host name is this machine: plain HTTP is acceptable only there. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host.startsWith('::ffff:127.');
  return false;
}

/**
 * Checks a webhook URL before it is stored: HTTPS, or plain HTTP to a loopback address (or
 * anywhere when the operator set `AUDITRAIL_WEBHOOK_ALLOW_HTTP`), no credentials in the URL.
 * Throws INVALID_DATA naming `field` otherwise.
 */
export function checkWebhookUrl(raw: string, allowHttp: boolean, field = 'url'): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('INVALID_DATA', 'The webhook URL is not a valid URL.', { api_name: field });
  }
  if (url.username || url.password) {
    throw new AppError('INVALID_DATA', 'The webhook URL must not carry credentials; use the signing secret.', { api_name: field });
  }
  if (badPort(url)) {
    throw new AppError('INVALID_DATA', `The webhook URL's port ${url.port} is reserved for another service (mail, shell...); use another.`, { api_name: field });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && (allowHttp || isLoopbackHost(url.hostname))) return url;
  throw new AppError('INVALID_DATA',
    'The webhook URL must use https (plain http only to a loopback address, unless AUDITRAIL_WEBHOOK_ALLOW_HTTP is set).',
    { api_name: field });
}

/** GitHub's form: `sha256=` and the hex HMAC-SHA256 of the raw body under the secret. */
export function webhookSignature(secret: string, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

export interface WebhookDelivery {
  url: string;
  secret: string;
  /** Serialised once: the signature covers exactly these bytes. Carry the delivery time in it. */
  body: unknown;
  /** The body already serialised (JSON text), sent as is instead of `body`'s serialisation. */
  raw?: string;
  /** Receivers deduplicate on it: a delivery may be repeated (at least once). */
  idempotencyKey: string;
  event: string;
}

export interface WebhookResult { ok: boolean; status: number | null; error: string | null }

/**
 * Posts one signed JSON delivery. Never throws for the receiver's sake: an unreachable host, a
 * timeout or a non-2xx answer comes back as `ok: false` with the reason, for the caller's retry
 * schedule. Redirects are not followed, so a receiver cannot bounce the delivery elsewhere.
 */
export async function sendWebhook(delivery: WebhookDelivery, timeoutMs = 10_000): Promise<WebhookResult> {
  const raw = delivery.raw ?? JSON.stringify(delivery.body);
  try {
    const res = await postBody(delivery.url, {
      'content-type': 'application/json',
      'user-agent': 'auditrail-webhook',
      'x-auditrail-event': delivery.event,
      'x-auditrail-signature': webhookSignature(delivery.secret, raw),
      'idempotency-key': delivery.idempotencyKey,
    }, raw, timeoutMs);
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, error: null };
    return { ok: false, status: res.status, error: `the receiver answered HTTP ${res.status}` };
  } catch (err) {
    return { ok: false, status: null, error: err instanceof Error ? err.message : String(err) };
  }
}
