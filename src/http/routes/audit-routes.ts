import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Principal } from '../../services/oauth-service.ts';
import { AppError } from '../../domain/errors.ts';
import { parseAuditLogQuery, parseTimelineQuery } from '../../domain/audit-query.ts';
import { formatDateTime } from '../../domain/time.ts';
import type { AuditEntryTable } from '../../store/schema.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { noContent, op, route } from '../route.ts';
import { DateTime, Id, ModuleRef, NamedRef, PageInfo, q, recordParams } from '../schemas.ts';
import { auditEntryView, timelineEntryView } from '../views.ts';

const TOKEN_TTL = 24 * 3600 * 1000;

const csv = (what: string) => z.string().optional().describe(`comma-separated ${what}`);
/** Checked by parseAuditLogQuery (unknown parameters included), with Zoho's exact errors. */
const AuditLogQuery = z.object({
  from: DateTime.optional(), to: DateTime.optional(), done_by: csv('user ids'), action: csv('actions (added, updated, deleted, ...)'),
  module: csv('module api_names'), record_id: Id.optional(), source: csv('sources (api, crm_ui, import, workflow, ...)'),
  page: q.page, per_page: q.perPage, page_token: q.pageToken,
});
const TimelineQuery = z.object({
  per_page: q.perPage, page: q.page, page_token: q.pageToken, sort_by: z.string().optional().describe('audited_time'),
  sort_order: q.sortOrder, filters: z.string().optional().describe('a JSON criteria on action, done_by, module'),
  include_inner_details: z.string().optional(), include_timeline_type: z.string().optional(), include_timeline_types: z.string().optional(),
  include: z.string().optional(),
});
const FieldHistory = z.array(z.looseObject({ api_name: z.string(), _value: z.looseObject({ old: z.unknown(), new: z.unknown() }) })).nullable();
const AuditEntry = z.looseObject({
  id: Id, audited_time: DateTime, action: z.string(), done_by: z.looseObject({ id: Id.nullable(), name: z.string().nullable() }),
  module: ModuleRef.nullable(), record: NamedRef.nullable(), source: z.string(), ip_address: z.string().nullable(),
  user_agent: z.string().nullable(), batch_id: z.string().nullable(), sequence: z.number().int(), field_history: FieldHistory,
});
const TimelineEntry = z.looseObject({
  id: Id, audited_time: DateTime, action: z.string(), source: z.string(), done_by: NamedRef.nullable(),
  record: z.looseObject({ id: z.string().nullable(), name: z.string().nullable() }), field_history: FieldHistory,
});
const Token = z.string().nullable();

/** The audit log (`/settings/audit_log`) and record timelines (`/{module}/{id}/__timeline`). */
export function auditRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services, pageTokens } = deps;

  /** A page token bound to the viewer, the query and its filters. */
  function cursor(kind: string, binding: unknown, raw: string | undefined, principalUser: string, orgId: string) {
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

  /**
   * The part the audit log and the timeline share: a page token bound to the viewer, the query
   * and its filters; the page from `load`; 204 when empty; the next token in `info`.
   */
  async function pagedRead<T extends { rows: AuditEntryTable[]; more: boolean }>(request: FastifyRequest, reply: FastifyReply,
    kind: string, principal: Principal, q: { page: number; pageToken?: string },
    load: (page: number, after?: { at: number; seq: number }) => Promise<T>) {
    const { page_token: _t, page: _p, ...binding } = { ...(request.query as Record<string, unknown>) };
    const c = cursor(kind, binding, q.pageToken, principal.user.id, principal.org.id);
    const pageNo = c.page ?? q.page;
    const result = await load(pageNo, c.after);
    if (result.rows.length === 0) return { empty: noContent(reply) } as const;
    const next = result.more ? nextToken(c.bound, result.rows, pageNo) : null;
    return { result, pageNo, next } as const;
  }

  route(app, '/settings/audit_log', {
    GET: op({
      summary: 'The organisation\'s audit log, newest first, as far as the caller may see it',
      query: AuditLogQuery,
      responses: {
        200: z.object({ audit_log: z.array(AuditEntry), info: PageInfo.extend({ next_page_token: Token, page_token_expiry: DateTime.nullable(),
          window_start: DateTime }) }),
        204: 'empty',
      },
      handler: async (request, reply) => {
        const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        const q = parseAuditLogQuery(request.query as Record<string, unknown>);
        const p = await pagedRead(request, reply, 'audit_log', principal, q,
          (page, after) => services.auditLog.listAuditLog(actor, { ...q, page }, after));
        if ('empty' in p) return p.empty;
        const { result, pageNo, next } = p;
        const tz = principal.org.time_zone;
        return {
          audit_log: result.rows.map((r) => auditEntryView(r, tz, result.parentNames)),
          info: { per_page: q.perPage, count: result.rows.length, page: pageNo, more_records: result.more,
            next_page_token: next?.token ?? null, page_token_expiry: next ? formatDateTime(next.expiresAt, tz) : null,
            window_start: formatDateTime(result.windowStart, tz) },
        };
      },
    }),
  });

  route(app, '/:module/:id/__timeline', {
    GET: op({
      summary: 'The history of one record, whoever changed it',
      params: recordParams,
      query: TimelineQuery,
      responses: {
        200: z.object({ __timeline: z.array(TimelineEntry), info: PageInfo.extend({ next_page_token: Token, previous_page_token: Token }) }),
        204: 'empty',
      },
      handler: async (request, reply, input) => {
        const { id } = input.params;
        const { principal, actor, module } = await guardModule(services.oauth, request, 'READ');
        const q = parseTimelineQuery(request.query as Record<string, unknown>);
        const p = await pagedRead(request, reply, `timeline:${id}`, principal, q,
          (page, after) => services.auditLog.timeline(actor, module.apiName, id, { ...q, page }, after));
        if ('empty' in p) return p.empty;
        const { result, pageNo, next } = p;
        const tz = principal.org.time_zone;
        return {
          __timeline: result.rows.map((r) => timelineEntryView(r, tz, result.parentNames)),
          info: { per_page: q.perPage, count: result.rows.length, page: pageNo, more_records: result.more,
            next_page_token: next?.token ?? null, previous_page_token: null },
        };
      },
    }),
  });
}

/** The installation's public key, so anyone can verify checkpoints and signed exports offline. */
export function integrityRoutes(app: FastifyInstance, deps: HttpDeps) {
  const Key = z.looseObject({ key_id: z.string(), public_key: z.string(), algorithm: z.literal('Ed25519') });
  route(app, '/api/integrity/public-key', {
    GET: op({
      summary: 'The installation\'s Ed25519 public keys, to verify signed heads and export manifests offline (no token)',
      responses: { 200: Key.extend({ keys: z.array(Key) }) },
      handler: async () => {
        const keys = await deps.services.integrity.listKeys();
        return { ...deps.services.integrity.publicKeyInfo(),
          keys: keys.map((k) => ({ key_id: k.key_id, public_key: k.public_key, algorithm: 'Ed25519' })) };
      },
    }),
  }, { public: true });
}
