import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/**
 * The real peers alerts are delivered to in tests and bench:alerts: an SMTP server (smtp-server)
 * that keeps what it receives, and a webhook receiver that checks the signature as a receiver
 * should (HMAC-SHA256 of the raw body under the rule's secret, compared in constant time).
 */

export interface ReceivedMail { to: string[]; data: string; at: number }

export async function startSmtp() {
  const mails: ReceivedMail[] = [];
  /** Sessions open now, and the most open at once. */
  const sessions = { open: 0, most: 0 };
  const server = new SMTPServer({
    authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
    onConnect(_session, done) {
      sessions.open++;
      sessions.most = Math.max(sessions.most, sessions.open);
      done();
    },
    onClose() { sessions.open--; },
    onData(stream, session, done) {
      let data = '';
      stream.on('data', (c: Buffer) => { data += c.toString('utf8'); });
      stream.on('end', () => { mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data, at: Date.now() }); done(); });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, sessions, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface ReceivedHook {
  headers: IncomingMessage['headers'];
  raw: string;
  body: Record<string, unknown>;
  /** Whether X-Auditrail-Signature is the HMAC of the raw body under the secret. */
  signed: boolean;
  at: number;
}

/** What the receiver does with a request: answer a status, or never answer (the sender times out or is killed). */
export type HookBehaviour = (hook: ReceivedHook) => number | 'hang';

export function verifySignature(secret: string, raw: string, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`);
  const got = Buffer.from(header);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

export async function startWebhookReceiver(opts: { secret?: string; behaviour?: HookBehaviour } = {}) {
  const hooks: ReceivedHook[] = [];
  const hanging = new Set<ServerResponse>();
  const state = { secret: opts.secret ?? '', behaviour: opts.behaviour ?? (() => 200) as HookBehaviour };
  const waiters: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { raw += c; });
    req.on('end', () => {
      const hook: ReceivedHook = { headers: req.headers, raw, body: JSON.parse(raw) as Record<string, unknown>,
        signed: verifySignature(state.secret, raw, req.headers['x-auditrail-signature'] as string | undefined), at: Date.now() };
      hooks.push(hook);
      for (const w of waiters.splice(0)) w();
      const b = state.behaviour(hook);
      if (b === 'hang') { hanging.add(res); return; }
      res.writeHead(b, { 'content-type': 'text/plain' }).end(b < 300 ? 'ok' : 'no');
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    hooks, url: `http://127.0.0.1:${port}/hook`,
    setSecret: (s: string) => { state.secret = s; },
    setBehaviour: (b: HookBehaviour) => { state.behaviour = b; },
    /** Resolves once `n` requests have arrived (checked whenever one arrives). */
    waitFor: (n: number) => new Promise<void>((resolve) => {
      const check = () => (hooks.length >= n ? resolve() : waiters.push(check));
      check();
    }),
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
