import http from 'node:http';
import https from 'node:https';

/**
 * One POST to a receiver outside auditrail (alert webhooks, HTTPS streams), over node:http(s)
 * with keep-alive agents shared by every sender in the process.
 *
 * Why not `fetch`: measured on this project's 2-core machines, POSTing a 1.5 kB signed body to
 * a keep-alive receiver in another process, `fetch` (Node 20's bundled undici) sends about 900
 * requests/s from one thread and node:http with a keep-alive agent about 4,400 (50 in flight).
 * Alert delivery is one request per entry and must keep up with the write rate
 * (`npm run bench:alerts`), so the faster path is worth these few lines.
 *
 * Redirects are never followed (node:http does not), the answer's body is read and thrown away
 * (never buffered), and a reused keep-alive connection that the receiver closed just as it was
 * taken (ECONNRESET before any answer) is tried once more on a new connection, as Node's
 * documentation advises; receivers deduplicate on the idempotency key anyway.
 */

/**
 * Connections per receiver: more than the alert senders keep in flight (alert-service.ts), so a
 * request never queues behind a hung one for longer than its own timeout and the claim's lease
 * cannot lapse while deliveries wait for a connection.
 */
const MAX_SOCKETS = 1024;
const agents = {
  'http:': new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: 64, scheduling: 'lifo' }),
  'https:': new https.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: 64, scheduling: 'lifo' }),
};

export interface PostResult { status: number }

export class PostError extends Error {
  constructor(message: string, readonly timedOut: boolean) {
    super(message);
    this.name = 'PostError';
  }
}

function postOnce(url: URL, headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<PostResult & { retry?: boolean }> {
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = transport.request({
      protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`, method: 'POST', agent: agents[secure ? 'https:' : 'http:'],
      headers: { ...headers, 'content-length': String(body.length) },
    }, (res) => {
      res.on('error', () => undefined);
      res.resume();
      res.on('end', () => { settled = true; clearTimeout(timer); resolve({ status: res.statusCode ?? 0 }); });
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new PostError(`no answer within ${timeoutMs} ms`, true));
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (req.reusedSocket && err.code === 'ECONNRESET') resolve({ status: 0, retry: true });
      else reject(new PostError(`the receiver could not be reached (${err.message})`, false));
    });
    req.end(body);
  });
}

/**
 * POSTs `body` to `url` (http: or https:); resolves with the answer's status whatever it is
 * (a redirect included), rejects with a PostError in words when no answer came.
 */
export async function postBody(url: string | URL, headers: Record<string, string>, body: string | Buffer, timeoutMs: number): Promise<PostResult> {
  const target = typeof url === 'string' ? new URL(url) : url;
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new PostError(`cannot post to a ${target.protocol} URL`, false);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const first = await postOnce(target, headers, bytes, timeoutMs);
  if (!first.retry) return first;
  const again = await postOnce(target, headers, bytes, timeoutMs);
  if (again.retry) throw new PostError('the receiver could not be reached (the connection was reset)', false);
  return again;
}
