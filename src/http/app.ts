import { createRequire } from 'node:module';
import { STATUS_CODES } from 'node:http';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Logger } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import type { PageTokenCodec } from './page-token.ts';
import { recordRoutes } from './routes/record-routes.ts';
import { metadataRoutes } from './routes/metadata-routes.ts';
import { oauthRoutes } from './routes/oauth-routes.ts';
import { auditRoutes, integrityRoutes } from './routes/audit-routes.ts';
import { downloadRoutes, exportRoutes } from './routes/export-routes.ts';
import { recycleBinRoutes } from './routes/recycle-bin-routes.ts';
import { relatedRoutes } from './routes/related-routes.ts';
import { actionRoutes } from './routes/action-routes.ts';
import { consoleRoutes } from './routes/console-routes.ts';
import { settingsRoutes } from './routes/settings-routes.ts';
import { sharingRoutes } from './routes/sharing-routes.ts';
import { moduleExportRoutes } from './routes/module-export-routes.ts';
import { findingRoutes } from './routes/finding-routes.ts';
import { reportRoutes } from './routes/report-routes.ts';
import { alertRoutes } from './routes/alert-routes.ts';
import { streamRoutes } from './routes/stream-routes.ts';
import { isConsolePage, sendConsolePage, serveConsole } from './console-static.ts';
import multipart from '@fastify/multipart';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { op, route } from './route.ts';
import { openApiDocument, type DeclaredRoute } from './openapi.ts';
import { z } from 'zod';
import { findUnstorable, unstorableReason } from '../domain/text.ts';
import { authenticate } from './auth.ts';

export interface HttpDeps {
  services: Services;
  pageTokens: PageTokenCodec;
  logger: Logger;
  /** Largest request body accepted, bytes. */
  bodyLimit?: number;
  logLevel?: string;
  /** Base URL for links (download_links); default: derived from each request. */
  publicUrl?: string;
  /** Proxy hops whose X-Forwarded-For is trusted (0: none). */
  trustProxy?: number;
  /** The built console served at `/` (default: web/dist when built); false to serve the API alone. */
  console?: false | { dist: string };
}

const BODY_LIMIT = 8 * 1024 * 1024;
// The version the OpenAPI document states: package.json's, not a copy of it.
const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
/** Node's default limit on the request line and headers together. */
const HEADER_LIMIT = 16 * 1024;
/** Where the browsable API reference lives. */
const DOCS = '/docs';

/** The URL cannot be routed: percent-encoding that decodes to nothing, a path segment over 100 characters. */
const badUrl = () => new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});

/**
 * Errors Node's HTTP parser meets before Fastify sees a request (headers too large, a timeout,
 * bytes that are not HTTP): written straight to the socket, Zoho-shaped like everything else.
 */
function clientErrorResponse(err: NodeJS.ErrnoException): { status: number; text: string; body: string } {
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new AppError('REQUEST_HEADER_FIELDS_TOO_LARGE', `the request headers exceed ${HEADER_LIMIT} bytes`, { limit: HEADER_LIMIT })
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new AppError('REQUEST_TIMEOUT', 'the request was not received in time', {})
      : new AppError('INVALID_DATA', 'the request could not be read', {});
  return { status: e.status, text: STATUS_CODES[e.status] ?? 'Error', body: JSON.stringify(e.toBody()) };
}

/** A path and verb the app really serves (not an INVALID_REQUEST_METHOD answer), with its declaration. */
export type RouteEntry = DeclaredRoute;
const declaredRoutes = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route of an app built by buildApp, as declared: what the route-by-route authorization test walks. */
export const routesOf = (app: FastifyInstance): readonly RouteEntry[] => declaredRoutes.get(app) ?? [];

/**
 * PostgreSQL's refusals of text it cannot store (NUL, invalid encodings): a backstop behind the
 * checks at the door, so that a path nobody checked still answers INVALID_DATA, not 500.
 */
function isUnstorableTextError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '22021' || code === '22P05';
}

/**
 * Builds the Fastify app without listening (tests use `inject`). Every error leaves as a
 * Zoho-shaped JSON body; nothing else (no HTML, no stack, no driver message) reaches a client.
 */
export async function buildApp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logLevel && deps.logLevel !== 'silent' ? { level: deps.logLevel } : false,
    bodyLimit: deps.bodyLimit ?? BODY_LIMIT,
    // Audit entries record the client's IP: behind proxies, trust exactly the configured hops.
    trustProxy: deps.trustProxy ? (_address: string, hop: number) => hop < deps.trustProxy! : false,
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const e = error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? badUrl() : new AppError('INTERNAL_ERROR', 'Internal Server Error', {});
      if (e.code === 'INTERNAL_ERROR') deps.logger.error({ err: error }, 'request failed in routing');
      return reply.code(e.status).send(e.toBody());
    },
    clientErrorHandler: (err, socket) => {
      // A reset connection has nobody left to answer (Node's own handler does the same).
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const { status, text, body } = clientErrorResponse(err);
      if (socket.writable) {
        socket.write(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\n`
          + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
      socket.destroy(err);
    },
  });

  // Bodies are JSON whatever the Content-Type says (the official SDK sends none on record writes).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).replace(/^\uFEFF/, '');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new AppError('INVALID_DATA', 'the request body is not valid JSON', { expected_data_type: 'jsonobject' }), undefined);
    }
  });

  // Text that cannot be stored exactly is refused before any handler runs (invariant 3). The
  // items of a `data` array are left to the records service, which answers per item, as Zoho
  // does, so that one bad record does not fail its 99 neighbours.
  app.addHook('preValidation', async (request) => {
    const ua = request.headers['user-agent'];
    const uaReason = typeof ua === 'string' ? unstorableReason(ua) : null;
    if (uaReason) throw new AppError('INVALID_DATA', `invalid User-Agent: ${uaReason}`, { header_name: 'User-Agent' });
    for (const [part, value] of [['query', request.query], ['params', request.params]] as const) {
      const bad = findUnstorable(value, '$');
      if (bad) {
        throw new AppError('INVALID_DATA', `invalid ${part === 'query' ? 'parameter' : 'path'}: ${bad.reason}`,
          { param_name: bad.jsonPath.replace(/^\$\.?/, '') });
      }
    }
    const body = request.body;
    if (body === null || typeof body !== 'object') return;
    const checked = !Array.isArray(body) && Array.isArray((body as Record<string, unknown>).data)
      ? { ...(body as Record<string, unknown>), data: undefined } : body;
    const bad = findUnstorable(checked, '$');
    if (bad) throw new AppError('INVALID_DATA', `invalid data: ${bad.reason}`, { json_path: bad.jsonPath });
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      if (error.code === 'TOO_MANY_REQUESTS' && error.details.retry_after !== undefined) reply.header('retry-after', String(error.details.retry_after));
      // Zoho answers an error about one item of the body inside the route's wrapper array.
      const wrapper = error.perItem ? request.routeOptions.config.operation?.errorWrapper : undefined;
      return reply.code(error.status).send(wrapper ? { [wrapper]: [error.toBody()] } : error.toBody());
    }
    const fe = error as FastifyError;
    if (isUnstorableTextError(error)) {
      return reply.code(400).send(new AppError('INVALID_DATA', 'the request holds text that cannot be stored exactly', {}).toBody());
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const e = new AppError('REQUEST_ENTITY_TOO_LARGE', `the request body exceeds ${deps.bodyLimit ?? BODY_LIMIT} bytes`,
        { limit: deps.bodyLimit ?? BODY_LIMIT });
      return reply.code(e.status).send(e.toBody());
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      const e = new AppError('INVALID_DATA', 'the request could not be read', {});
      return reply.code(400).send(e.toBody());
    }
    deps.logger.error({ err: error, url: request.url }, 'request failed');
    return reply.code(500).send(new AppError('INTERNAL_ERROR', 'Internal Server Error', {}).toBody());
  });

  await app.register(cookie);

  // Who calls is settled before anything the call names is looked up (an unknown module, a
  // foreign id): every route authenticates here, except those declared public.
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url === undefined || request.routeOptions.config.public) return;
    await authenticate(deps.services, request);
  });
  const routes: RouteEntry[] = [];
  app.addHook('onRoute', (r) => {
    // Fastify adds a HEAD twin to every GET; it runs the same handler, so the GET stands for both.
    if (r.config?.declared && r.method !== 'HEAD') routes.push({ method: String(r.method), url: r.url, public: r.config.public === true, operation: r.config.operation });
  });
  declaredRoutes.set(app, routes);
  // The console's built files are web pages anyone may load (@fastify/static marks its routes with
  // the file served), as is the API reference at /docs.
  app.addHook('onRoute', (r) => {
    if ((r.config as { file?: string } | undefined)?.file !== undefined || r.url === DOCS || r.url.startsWith(`${DOCS}/`)) {
      r.config = { ...r.config, public: true };
    }
  });
  const consoleServed = deps.console === false ? false : await serveConsole(app, deps.console?.dist);
  app.setNotFoundHandler((request, reply) => {
    if (consoleServed && isConsolePage(request)) return sendConsolePage(reply);
    const e = badUrl();
    return reply.code(e.status).send(e.toBody());
  });

  await app.register(async (scope) => oauthRoutes(scope, deps));
  for (const prefix of ['/crm/v8', '/crm/v7']) {
    await app.register(async (scope) => {
      await scope.register(multipart, { limits: { files: 1 } });
      metadataRoutes(scope, deps);
      auditRoutes(scope, deps);
      exportRoutes(scope, deps);
      recycleBinRoutes(scope, deps);
      settingsRoutes(scope, deps);
      sharingRoutes(scope, deps);
      recordRoutes(scope, deps);
      actionRoutes(scope, deps);
      relatedRoutes(scope, deps);
    }, { prefix });
  }
  integrityRoutes(app, deps);
  consoleRoutes(app, deps);
  moduleExportRoutes(app, deps);
  findingRoutes(app, deps);
  reportRoutes(app, deps);
  alertRoutes(app, deps);
  streamRoutes(app, deps);
  downloadRoutes(app, deps);
  route(app, '/health', {
    GET: op({ summary: 'Liveness (no token)', responses: { 200: z.object({ status: z.literal('ok') }) }, handler: async () => ({ status: 'ok' }) }),
  }, { public: true });
  let document: ReturnType<typeof openApiDocument> | undefined;
  route(app, '/api/openapi.json', {
    GET: op({
      summary: 'This document (no token)',
      responses: { 200: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.record(z.string(), z.unknown()) }) },
      // Built once, on first request, from the routes as declared.
      handler: async () => (document ??= openApiDocument(routes, VERSION)),
    }),
  }, { public: true });
  // A browsable reference of the same document, built from the routes' own schemas.
  await app.register(swagger, { mode: 'static', specification: { document: (document ??= openApiDocument(routes, VERSION)) as never } });
  await app.register(swaggerUi, { routePrefix: DOCS, staticCSP: true, uiConfig: { docExpansion: 'list', deepLinking: true } });
  return app;
}
