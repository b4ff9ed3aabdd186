import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkWebhookUrl, isLoopbackHost, sendWebhook } from './webhook-sender.ts';
import { webhookBody } from './alert-service.ts';

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
        if (req.url === '/hang') return;
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
    // A port nothing listens on: one the system just gave out and took back.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freePort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const closed = await sendWebhook({ ...d, url: `http://127.0.0.1:${freePort}/` });
    expect(closed.ok).toBe(false);
    expect(closed.error).toMatch(/could not be reached/);
  });

  it('gives up on a receiver that never answers, in words, and the next delivery still goes through', async () => {
    const d = { secret: 's', body: {}, idempotencyKey: 'k', event: 'alert' };
    const hung = await sendWebhook({ ...d, url: `${base}/hang` }, 200);
    expect(hung).toEqual({ ok: false, status: null, error: 'no answer within 200 ms' });
    expect(await sendWebhook({ ...d, url: `${base}/hook` })).toMatchObject({ ok: true, status: 204 });
  });

  it('sends the pre-serialised body as is and signs exactly those bytes', async () => {
    const raw = '{"b":1,  "a":"\u00e9"}';
    expect(await sendWebhook({ url: `${base}/hook`, secret: 'k', body: { ignored: true }, raw, idempotencyKey: 'x', event: 'alert' })).toMatchObject({ ok: true });
    const req = got.at(-1)!;
    expect(req.raw).toBe(raw);
    expect(req.headers['x-auditrail-signature']).toBe(`sha256=${createHmac('sha256', 'k').update(raw).digest('hex')}`);
  });

  it('tries once more on a fresh connection when the receiver drops a kept-alive one before answering', async () => {
    // A receiver that closes every connection on its second request, as one whose keep-alive
    // timeout ends just as the sender reuses the connection.
    const seen = new WeakMap<object, number>();
    let answered = 0;
    let requests = 0;
    let connections = 0;
    const flaky = createServer((req, res) => {
      requests++;
      const n = (seen.get(req.socket) ?? 0) + 1;
      seen.set(req.socket, n);
      req.resume();
      req.on('end', () => {
        if (n > 1) { req.socket.destroy(); return; }
        answered++;
        res.statusCode = 204;
        res.end();
      });
    });
    flaky.on('connection', () => { connections++; });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
    const d = { url, secret: 's', body: {}, idempotencyKey: 'k', event: 'alert' };
    // Two at once leave two kept-alive connections in the pool, both of which the receiver drops next time.
    expect(await Promise.all([sendWebhook(d), sendWebhook(d)])).toMatchObject([{ ok: true }, { ok: true }]);
    expect(await sendWebhook(d)).toMatchObject({ ok: true });
    // The third delivery went out on a kept-alive connection (dropped), then on a fresh one, not the other stale one.
    expect({ requests, connections, answered }).toEqual({ requests: 4, connections: 3, answered: 3 });
    flaky.closeAllConnections();
    await new Promise<void>((resolve) => flaky.close(() => resolve()));
  });

  it('takes a 2xx whose body is cut short as delivered, at once', async () => {
    const cut = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 20);
      });
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(cut.address() as AddressInfo).port}/`;
    // Waiting for the body's end would run into the 2 s limit and report "no answer".
    expect(await sendWebhook({ url, secret: 's', body: {}, idempotencyKey: 'k', event: 'alert' }, 2000)).toEqual({ ok: true, status: 200, error: null });
    cut.closeAllConnections();
    await new Promise<void>((resolve) => cut.close(() => resolve()));
  });

  it('refuses the ports fetch refuses (mail, shell, IRC...), when the rule is made and when it is sent', async () => {
    expect(() => checkWebhookUrl('http://127.0.0.1:25/hook', false)).toThrow(/port 25 is reserved/);
    expect(() => checkWebhookUrl('https://mail.example.com:587/', false)).toThrow(/port 587/);
    expect(checkWebhookUrl('https://hooks.example.com:8443/', false).port).toBe('8443');
    const r = await sendWebhook({ url: 'http://127.0.0.1:22/', secret: 's', body: {}, idempotencyKey: 'k', event: 'alert' });
    expect(r).toEqual({ ok: false, status: null, error: 'port 22 is not one an HTTP receiver may use' });
  });

  it('splices a stored alert payload into the body exactly as JSON.stringify would write the whole', () => {
    const payload = { rule: { id: 'r1', name: 'Deals "deleted"' }, org: { id: 'o', name: 'Zylker', time_zone: 'Asia/Kolkata' },
      entry: { id: 'e1', action: 'deleted', field_history: [{ api_name: 'Amount', _value: { old: 'x\ny', new: null } }] }, link: 'http://h/audit-log?entry=e1' };
    const d = { id: 'd1', idempotency_key: 'e1-r1', attempts: 3, payload: JSON.stringify(payload) };
    const now = Date.UTC(2026, 11, 6, 10, 0, 0);
    expect(webhookBody(d, 'alert.triggered', now)).toBe(JSON.stringify({ event: 'alert.triggered', delivery_id: 'd1', idempotency_key: 'e1-r1',
      delivered_at: '2026-12-06T10:00:00.000Z', attempt: 3, ...payload }));
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
