import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { parseAuditLogQuery, parseTimelineQuery } from '../../domain/audit-query.ts';
import { moduleScope } from '../../domain/scopes.ts';
import { formatDateTime } from '../../domain/time.ts';
import { requireModule } from '../../services/record-service.ts';
import type { AuditEntryTable } from '../../store/schema.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { noContent, route } from '../route.ts';
import { auditEntryView, timelineEntryView } from '../views.ts';

const TOKEN_TTL = 24 * 3600 * 1000;

/** The audit log (`/settings/audit_log`) and record timelines (`/{module}/{id}/__timeline`). */
export function auditRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services, pageTokens } = deps;

  /** A page token bound to the viewer, the query and its filters. */
  function cursor(request: FastifyRequest, kind: string, binding: unknown, raw: string | undefined, principalUser: string, orgId: string) {
    const hash = createHash('sha256').update(JSON.stringify(binding)).digest('base64url').slice(0, 22);
    const bound = { o: orgId, u: principalUser, k: kind, h: hash };
    if (!raw) return { bound, after: undefined, page: undefined };
    const t = pageTokens.decode(raw, Date.now());
    if (t.o !== bound.o || t.u !== bound.u || t.k !== bound.k) {
      throw new AppError('INVALID_DATA', 'invalid page token', { param_name: 'page_token' });
    }
    if (t.h !== bound.h) throw new AppError('TOKEN_BOUND_DATA_MISMATCH', 'the parameters do not match the page token', { param_name: 'page_token' });
    return { bound, after: t.a as { at: number; seq: number }, page: Number(t.n) };
  }

  const nextToken = (bound: Record<string, unknown>, rows: AuditEntryTable[], page: number) => {
    const last = rows[rows.length - 1];
    return pageTokens.encode({ ...bound, a: { at: Number(last.audited_at), seq: Number(last.seq) }, n: page + 1 }, TOKEN_TTL);
  };

  route(app, '/settings/audit_log', {
    GET: async (request, reply) => {
      const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
      const query = { ...(request.query as Record<string, unknown>) };
      const q = parseAuditLogQuery(query);
      const { page_token: _t, page: _p, ...binding } = query;
      const c = cursor(request, 'audit_log', binding, q.pageToken, principal.user.id, principal.org.id);
      const pageNo = c.page ?? q.page;
      const result = await services.auditLog.listAuditLog(actor, { ...q, page: pageNo }, c.after);
      if (result.rows.length === 0) return noContent(reply);
      const tz = principal.org.time_zone;
      const next = result.more ? nextToken(c.bound, result.rows, pageNo) : null;
      return {
        audit_log: result.rows.map((r) => auditEntryView(r, tz, result.parentNames)),
        info: { per_page: q.perPage, count: result.rows.length, page: pageNo, more_records: result.more,
          next_page_token: next?.token ?? null, page_token_expiry: next ? formatDateTime(next.expiresAt, tz) : null,
          window_start: formatDateTime(result.windowStart, tz) },
      };
    },
  });

  route(app, '/:module/:id/__timeline', {
    GET: async (request, reply) => {
      const { module: name, id } = request.params as { module: string; id: string };
      const module = requireModule(name);
      const { principal, actor } = await guard(services.oauth, request, moduleScope(module.apiName, 'READ'));
      const query = { ...(request.query as Record<string, unknown>) };
      const q = parseTimelineQuery(query);
      const { page_token: _t, page: _p, ...binding } = query;
      const c = cursor(request, `timeline:${id}`, binding, q.pageToken, principal.user.id, principal.org.id);
      const pageNo = c.page ?? q.page;
      const result = await services.auditLog.timeline(actor, module.apiName, id, { ...q, page: pageNo }, c.after);
      if (result.rows.length === 0) return noContent(reply);
      const tz = principal.org.time_zone;
      const next = result.more ? nextToken(c.bound, result.rows, pageNo) : null;
      return {
        __timeline: result.rows.map((r) => timelineEntryView(r, tz, result.parentNames)),
        info: { per_page: q.perPage, count: result.rows.length, page: pageNo, more_records: result.more,
          next_page_token: next?.token ?? null, previous_page_token: null },
      };
    },
  });
}

/** The installation's public key, so anyone can verify checkpoints and signed exports offline. */
export function integrityRoutes(app: FastifyInstance, deps: HttpDeps) {
  route(app, '/api/integrity/public-key', {
    GET: async () => {
      const keys = await deps.services.integrity.listKeys();
      return { ...deps.services.integrity.publicKeyInfo(),
        keys: keys.map((k) => ({ key_id: k.key_id, public_key: k.public_key, algorithm: 'Ed25519' })) };
    },
  });
}
