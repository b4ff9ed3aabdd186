import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { parseAuditLogQuery } from '../../domain/audit-query.ts';
import { isId } from '../../domain/ids.ts';
import { findModule } from '../../domain/modules.ts';
import { moduleScope } from '../../domain/scopes.ts';
import { formatDateTime } from '../../domain/time.ts';
import type { Principal } from '../../services/oauth-service.ts';
import { SESSION_COOKIE, type ConsoleSession } from '../../services/session-service.ts';
import { authenticate, guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { noContent, op, route } from '../route.ts';
import { DateTime, Id, PathId } from '../schemas.ts';
import { auditEntryView, recordView, referencedIds, userRef } from '../views.ts';

/** How often a live stream looks for new entries, and how often it proves it is alive. */
const POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;
/** Live streams one user may hold open on one node (each polls the database). */
const MAX_STREAMS_PER_USER = 5;

const SessionView = z.object({
  user: z.object({ id: Id, name: z.string(), email: z.string(), role: z.object({ id: Id, name: z.string() }).nullable(),
    profile: z.object({ id: Id, name: z.string() }).nullable() }),
  is_admin: z.boolean(), sees_all: z.boolean(), permissions: z.looseObject({}),
  pages: z.object({ audit_log: z.boolean(), recycle_bin: z.boolean(), exports: z.boolean(), users: z.boolean(), settings: z.boolean(),
    findings: z.boolean(), streams: z.boolean(), empty_recycle_bin: z.boolean(), alerts: z.boolean() }),
  org: z.object({ id: Id, name: z.string(), time_zone: z.string() }),
  csrf_token: z.string(), idle_timeout_seconds: z.number().int(),
});
const Settings = z.object({ audit_log_window_days: z.number().int(), retention_years: z.number().int(), legal_hold: z.boolean(),
  recycle_bin_days: z.number().int(), api_requests_per_minute: z.number().int(), audit_record_views: z.array(z.string()) });

/** `Secure` when the browser reached us over HTTPS (directly, through a trusted proxy, or as the configured public URL says). */
const isHttps = (request: FastifyRequest, deps: HttpDeps) => request.protocol === 'https' || (deps.publicUrl?.startsWith('https:') ?? false);

/**
 * The console's own API (docs/console.md): signing in and out, the live audit log, and what the
 * Settings page and the record page read that Zoho's API has no endpoint for. Everything else
 * the console does goes through `/crm/v8` with the session cookie, under the same rules.
 */
export function consoleRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const streams = new Map<string, number>();
  const open = new Set<() => void>();
  // A closing server ends its live streams (they would hold it open).
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  async function sessionView(principal: Principal, csrfToken: string) {
    const d = await services.sessions.describe(principal);
    return {
      user: { id: principal.user.id, name: d.name, email: principal.user.email, role: d.role,
        profile: { id: principal.profile.id, name: principal.profile.name } },
      is_admin: principal.isAdmin, sees_all: d.seesAll, permissions: principal.permissions, pages: d.pages,
      org: { id: principal.org.id, name: principal.org.name, time_zone: principal.org.time_zone },
      csrf_token: csrfToken, idle_timeout_seconds: services.sessions.idleSeconds,
    };
  }

  /** The session the request was authenticated with; AUTHENTICATION_FAILURE for an OAuth token. */
  async function currentSession(request: FastifyRequest): Promise<ConsoleSession> {
    await authenticate(services, request);
    const cookie = request.cookies[SESSION_COOKIE];
    if (!request.principal?.viaSession || !cookie) throw new AppError('AUTHENTICATION_FAILURE', 'this endpoint needs a console session', {});
    return services.sessions.authenticate(cookie);
  }

  const ctxOf = (request: FastifyRequest) => ({ ip: request.ip ?? null, userAgent: request.headers['user-agent'] ?? null });

  route(app, '/api/console/session', {
    POST: op({
      summary: 'Sign in to the console with an email and password; sets the session cookie (no token)',
      body: z.object({ email: z.string(), password: z.string() }),
      responses: { 200: SessionView },
      handler: async (request, reply, input) => {
        // Login CSRF: another site could post a form that signs the victim in as the attacker. A
        // form cannot send JSON's content type without a preflight this server never grants.
        if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '') || request.headers['sec-fetch-site'] === 'cross-site') {
          throw new AppError('CSRF_TOKEN_INVALID', 'sign in from the console: the request must be JSON from this site', {});
        }
        const s = await services.sessions.login(input.body, ctxOf(request));
        reply.setCookie(SESSION_COOKIE, s.cookie, { httpOnly: true, sameSite: 'strict', secure: isHttps(request, deps), path: '/' });
        return sessionView(s.principal, s.csrfToken);
      },
    }),
    GET: op({
      summary: 'The signed-in console session: who, what they may use, and the CSRF token',
      responses: { 200: SessionView },
      handler: async (request) => {
        const s = await currentSession(request);
        return sessionView(s.principal, s.csrfToken);
      },
    }),
    DELETE: op({
      summary: 'Sign out of the console (needs X-CSRF-Token)',
      responses: { 204: 'empty' },
      handler: async (request, reply) => {
        await currentSession(request);
        await services.sessions.logout(request.cookies[SESSION_COOKIE]!, ctxOf(request));
        reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure: isHttps(request, deps) });
        return noContent(reply);
      },
    }),
  // Public so that signing in needs no session; GET and DELETE authenticate in currentSession.
  }, { public: true });

  route(app, '/api/console/audit-log/stream', {
    GET: op({
      summary: 'New audit log entries as they are written (server-sent events), under the audit log\'s rule',
      responses: { 200: { file: ['text/event-stream'] } },
      handler: async (request, reply) => {
        const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        const q = parseAuditLogQuery(request.query as Record<string, unknown>);
        const key = `${principal.org.id}:${principal.user.id}`;
        if ((streams.get(key) ?? 0) >= MAX_STREAMS_PER_USER) {
          throw new AppError('TOO_MANY_REQUESTS', `at most ${MAX_STREAMS_PER_USER} live streams at once`, { retry_after: 5 });
        }
        const feed = await services.auditLog.follow(actor, q.filters);
        streams.set(key, (streams.get(key) ?? 0) + 1);
        return stream(request, reply, principal, feed, () => {
          const n = (streams.get(key) ?? 1) - 1;
          if (n > 0) streams.set(key, n); else streams.delete(key);
        });
      },
    }),
  });

  /** Writes entries as `entry` events until the client leaves, the server closes or the session ends. */
  function stream(request: FastifyRequest, reply: FastifyReply, principal: Principal,
    feed: Awaited<ReturnType<typeof services.auditLog.follow>>, done: () => void) {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive',
      'x-accel-buffering': 'no' });
    res.write(': live\n\n');
    let closed = false;
    let lastWrite = Date.now();
    const tz = principal.org.time_zone;
    const close = () => {
      if (closed) return;
      closed = true;
      open.delete(close);
      clearTimeout(timer);
      done();
      res.end();
    };
    open.add(close);
    const tick = async () => {
      try {
        // A signed-out or expired session, or a revoked token, ends the stream.
        request.principal = undefined;
        await authenticate(services, request);
        const { rows, parentNames } = await feed.next();
        for (const r of rows) res.write(`event: entry\nid: ${r.seq}\ndata: ${JSON.stringify(auditEntryView(r, tz, parentNames))}\n\n`);
        if (rows.length) lastWrite = Date.now();
        else if (Date.now() - lastWrite >= KEEPALIVE_MS) {
          res.write(': keep-alive\n\n');
          lastWrite = Date.now();
        }
      } catch (e) {
        const err = e instanceof AppError ? e : new AppError('INTERNAL_ERROR', 'Internal Server Error', {});
        if (!(e instanceof AppError)) deps.logger.error({ err: e }, 'live audit log stream failed');
        res.write(`event: error\ndata: ${JSON.stringify(err.toBody())}\n\n`);
        close();
        return;
      }
      if (!closed) timer = setTimeout(tick, POLL_MS);
    };
    let timer = setTimeout(tick, POLL_MS);
    request.raw.on('close', close);
  }

  route(app, '/api/console/integrity', {
    GET: op({
      summary: 'The integrity status: the last verify, the newest signed head, the public key (Administrators)',
      responses: { 200: z.object({
        last_verify: z.looseObject({ at: DateTime, ok: z.boolean(), entries: z.number().int(), breaks: z.number().int() }).nullable(),
        newest_head: z.looseObject({ seq: z.number().int(), hash: z.string(), signed_at: DateTime, key_id: z.string() }).nullable(),
        public_key: z.looseObject({ key_id: z.string(), public_key: z.string(), algorithm: z.string() }),
      }) },
      handler: async (request) => {
        const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        const s = await services.audit.integrityStatus(actor);
        const tz = principal.org.time_zone;
        return {
          last_verify: s.lastVerify ? { ...s.lastVerify, at: formatDateTime(s.lastVerify.at, tz) } : null,
          newest_head: s.newestHead ? { seq: s.newestHead.seq, hash: s.newestHead.hash, signed_at: formatDateTime(s.newestHead.signedAt, tz),
            key_id: s.newestHead.keyId, reason: s.newestHead.reason } : null,
          public_key: s.publicKey,
        };
      },
    }),
  });

  route(app, '/api/console/settings', {
    GET: op({
      summary: 'The organisation\'s audit log settings (Administrators)',
      responses: { 200: Settings },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.READ');
        return services.directory.readOrgSettings(actor);
      },
    }),
    PATCH: op({
      summary: 'Change the organisation\'s audit log settings (Administrators); audited as org_updated',
      body: z.looseObject({}).optional().describe('any of audit_log_window_days, retention_years, legal_hold, recycle_bin_days, api_requests_per_minute'),
      responses: { 200: Settings },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.UPDATE');
        return services.directory.updateOrgSettings(actor, input.body ?? {});
      },
    }),
  });

  route(app, '/api/console/records/:module/:id', {
    GET: op({
      summary: 'A record\'s fields, live or in the recycle bin, under the records API\'s rules',
      params: z.object({ module: z.string(), id: PathId }),
      responses: { 200: z.object({ record: z.looseObject({ id: Id }), in_recycle_bin: z.boolean(),
        bin: z.object({ deleted_by: z.looseObject({}).nullable(), deleted_time: DateTime }).nullable() }), 204: 'empty' },
      handler: async (request, reply, input) => {
        const { principal, actor } = await guard(services.oauth, request, moduleScope(input.params.module, 'READ'));
        const module = findModule(input.params.module);
        if (!module || !isId(input.params.id)) return noContent(reply);
        const tz = principal.org.time_zone;
        let row = await services.records.getRecord(actor, module.apiName, input.params.id);
        let inBin = false;
        if (!row) {
          const binned = await services.recycleBin.get(actor, input.params.id).catch((e: unknown) => {
            if (e instanceof AppError && e.status < 500) return undefined;
            throw e;
          });
          if (!binned || binned.module !== module.apiName) return noContent(reply);
          row = binned;
          inBin = true;
        }
        const { users, names } = await services.records.referenceData(actor, referencedIds([row], module));
        return {
          record: recordView(row, module, { tz, users, names, orgId: actor.orgId }),
          in_recycle_bin: inBin,
          bin: inBin ? { deleted_by: row.deleted_by ? userRef(users.get(row.deleted_by), row.deleted_by) : null,
            deleted_time: formatDateTime(Number(row.deleted_at), tz) } : null,
        };
      },
    }),
  });
}
