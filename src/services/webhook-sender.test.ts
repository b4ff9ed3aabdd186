import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkWebhookUrl, isLoopbackHost, sendWebhook } from './webhook-sender.ts';

describe('webhook sender', () => {
  const got: { headers: Record<string, string | string[] | undefined>; raw: string }[] = [];
  let server: Server;
  let base = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => { raw += c.toString('utf8'); });
      req.on('end', () => {
        got.push({ headers: req.headers, raw });
        if (req.url === '/fail') { res.statusCode = 503; res.end('down'); return; }
        if (req.url === '/redirect') { res.statusCode = 302; res.setHeader('location', 'http://169.254.169.254/'); res.end(); return; }
        res.statusCode = 204; res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('signs the raw body with HMAC-SHA256 under the secret, as GitHub does, and sends the idempotency key', async () => {
    const body = { delivered_at: '2026-12-06T10:00:00Z', rule: { id: '1' }, entry: { id: '2', action: 'deleted' } };
    const result = await sendWebhook({ url: `${base}/hook`, secret: 's3cret', body, idempotencyKey: '2:1', event: 'alert' });
    expect(result).toEqual({ ok: true, status: 204, error: null });
    const req = got.at(-1)!;
    const expected = `sha256=${createHmac('sha256', 's3cret').update(req.raw).digest('hex')}`;
    expect(req.headers['x-auditrail-signature']).toBe(expected);
    expect(req.headers['idempotency-key']).toBe('2:1');
    expect(JSON.parse(req.raw)).toEqual(body);
  });

  it('reports a refusal, a redirect and an unreachable receiver as failures with the reason', async () => {
    const d = { secret: 's', body: {}, idempotencyKey: 'k', event: 'alert' };
    expect(await sendWebhook({ ...d, url: `${base}/fail` })).toMatchObject({ ok: false, status: 503 });
    expect(await sendWebhook({ ...d, url: `${base}/redirect` })).toMatchObject({ ok: false, status: 302 });
    const closed = await sendWebhook({ ...d, url: 'http://127.0.0.1:1/' });
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/could not be reached/);
  });

  it('accepts https anywhere and plain http only to loopback unless the operator allows it', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', false).host).toBe('hooks.example.com');
    expect(checkWebhookUrl('http://127.0.0.1:9000/x', false).port).toBe('9000');
    expect(checkWebhookUrl('http://[::1]:9000/x', false).hostname).toBe('[::1]');
    expect(() => checkWebhookUrl('http://hooks.example.com/x', false)).toThrow(/https/);
    expect(checkWebhookUrl('http://hooks.internal/x', true).hostname).toBe('hooks.internal');
    expect(() => checkWebhookUrl('ftp://x/y', true)).toThrow(/https/);
    expect(() => checkWebhookUrl('https://u:p@x.com/', false)).toThrow(/credentials/);
    expect(() => checkWebhookUrl('not a url', false)).toThrow(/valid URL/);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('127.example.com')).toBe(false);
  });
});
