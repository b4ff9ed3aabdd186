import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `vite build web` writes the console. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

/**
 * What the console's pages may load: only this origin's scripts, no framing, no inline script.
 * Mantine sets styles inline, hence 'unsafe-inline' for styles alone.
 */
const CSP = ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "font-src 'self' data:",
  "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"].join('; ');

function pageHeaders(reply: FastifyReply | { setHeader(k: string, v: string): void }) {
  const set = 'header' in reply ? (k: string, v: string) => reply.header(k, v) : (k: string, v: string) => reply.setHeader(k, v);
  set('content-security-policy', CSP);
  set('x-content-type-options', 'nosniff');
  set('x-frame-options', 'DENY');
  set('referrer-policy', 'same-origin');
}

/** Paths the API owns: a miss there is the API's 404, never the console's page. */
const API_PATH = /^\/(crm\/v\d+|api|oauth|v2|health|docs)(\/|$)/;

/** Whether an unrouted request is a console page (its client-side router decides what it shows). */
export function isConsolePage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0];
  return !API_PATH.test(path);
}

/**
 * Serves the built console at `/`: its hashed assets for a year, and its page for every path that
 * is not the API's (so `/audit-log?...` and Zoho's `/crm/tab/{Module}/{id}` deep links work on
 * reload). Returns false when the console is not built (`npm run build:web`).
 */
export async function serveConsole(app: FastifyInstance, dist = CONSOLE_DIST): Promise<boolean> {
  if (!existsSync(`${dist}index.html`)) return false;
  await app.register(fastifyStatic, {
    root: dist,
    prefix: '/',
    wildcard: false,
    index: false,
    // Our own Cache-Control below: hashed assets for a year, the rest revalidated.
    cacheControl: false,
    // Routes for the built files only: they are public, like any web page's scripts.
    globIgnore: ['**/index.html'],
    setHeaders(res, filePath) {
      pageHeaders(res);
      res.setHeader('cache-control', /\/assets\//.test(filePath) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return true;
}

/** Answers a console page: the app's index.html, never cached, with its security headers. */
export function sendConsolePage(reply: FastifyReply) {
  pageHeaders(reply);
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').sendFile('index.html');
}
