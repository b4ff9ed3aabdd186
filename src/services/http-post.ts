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
 * Redirects are never followed (node:http does not), the answer's status is the outcome (its
 * body is read and thrown away, never buffered, so a body cut short does not undo a 2xx), and a
 * reused keep-alive connection that the receiver closed just as it was taken (ECONNRESET before
 * any answer) is tried once more on a fresh connection, within the same deadline, as Node's
 * documentation advises; receivers deduplicate on the idempotency key anyway. Ports that
 * browsers' fetch refuses (SMTP, SSH, IRC...) are refused here too, so a webhook cannot be
 * aimed at a mail or shell service on a reachable host.
 */

/**
 * Connections per receiver: more than the alert senders keep in flight (alert-service.ts), so a
 * request never queues behind a hung one for longer than its own timeout and the claim's lease
 * cannot lapse while deliveries wait for a connection.
 */
const MAX_SOCKETS = 1024;
/** An idle kept-alive connection is closed after this (Node's agent otherwise keeps it until the receiver does). */
const IDLE_MS = 4000;
const agentOptions = { keepAlive: true, maxSockets: MAX_SOCKETS, maxTotalSockets: 4 * MAX_SOCKETS, maxFreeSockets: 64, timeout: IDLE_MS,
  scheduling: 'lifo' as const };
const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

/** The ports the WHATWG Fetch standard blocks ("bad ports"): services that must not receive an HTTP request. */
export const BAD_PORTS = new Set([1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104,
  109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548,
  554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667,
  6668, 6669, 6679, 6697, 10080]);

/** Whether a URL names one of the BAD_PORTS. */
export const badPort = (url: URL) => url.port !== '' && BAD_PORTS.has(Number(url.port));

export interface PostResult { status: number }

export class PostError extends Error {
  constructor(message: string, readonly timedOut: boolean) {
    super(message);
    this.name = 'PostError';
  }
}

function postOnce(url: URL, headers: Record<string, string>, body: Buffer, deadline: number, timeoutMs: number,
  fresh: boolean): Promise<PostResult & { retry?: boolean }> {
  const secure = url.protocol === 'https:';
  const transport = secure ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = transport.request({
      protocol: url.protocol, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`, method: 'POST', agent: fresh ? false : agents[secure ? 'https:' : 'http:'],
      headers: { ...headers, 'content-length': String(body.length) },
    }, (res) => {
      // The status is the answer; the body is drained (the connection goes back to the pool once it ends).
      res.on('error', () => undefined);
      res.resume();
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ status: res.statusCode ?? 0 });
    });
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      req.destroy();
      reject(new PostError(`no answer within ${timeoutMs} ms`, true));
    }, Math.max(0, deadline - Date.now()));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!fresh && req.reusedSocket && err.code === 'ECONNRESET') resolve({ status: 0, retry: true });
      else reject(new PostError(`the receiver could not be reached (${err.message})`, false));
    });
    req.end(body);
  });
}

/**
 * POSTs `body` to `url` (http: or https:); resolves with the answer's status whatever it is
 * (a redirect included), rejects with a PostError in words when no answer came within
 * `timeoutMs` (the retry on a fresh connection included).
 */
export async function postBody(url: string | URL, headers: Record<string, string>, body: string | Buffer, timeoutMs: number): Promise<PostResult> {
  const target = typeof url === 'string' ? new URL(url) : url;
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new PostError(`cannot post to a ${target.protocol} URL`, false);
  if (badPort(target)) throw new PostError(`port ${target.port} is not one an HTTP receiver may use`, false);
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const deadline = Date.now() + timeoutMs;
  const first = await postOnce(target, headers, bytes, deadline, timeoutMs, false);
  if (!first.retry) return first;
  return postOnce(target, headers, bytes, deadline, timeoutMs, true);
}
