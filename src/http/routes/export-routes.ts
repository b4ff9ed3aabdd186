import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { formatDateTime } from '../../domain/time.ts';
import { fullName } from '../../domain/display.ts';
import type { AuditExportTable, UserTable } from '../../store/schema.ts';
import { guard } from '../auth.ts';
import { attachmentDisposition } from '../content-disposition.ts';
import type { HttpDeps } from '../app.ts';
import { baseUrl, noContent, op, route } from '../route.ts';
import { actions, DateTime, documented, Id, idParams, list, PathId } from '../schemas.ts';

const ExportJob = z.looseObject({
  id: Id, status: z.string().describe('Scheduled, In Progress, Finished, Failed'), criteria: z.record(z.string(), z.unknown()).nullable(),
  created_by: z.looseObject({ id: Id, name: z.string().nullable() }), job_start_time: DateTime, job_end_time: DateTime.nullable(),
  expiry_date: DateTime.nullable(), download_links: z.array(z.string()).nullable(),
});

/** The Export Audit Log API (spec §2) and the download of its files. */
export function exportRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;

  function jobView(e: AuditExportTable, users: Map<string, UserTable>, tz: string, zgid: string, baseUrl: string) {
    const u = users.get(e.created_by);
    const files = e.files ? (JSON.parse(e.files) as { name: string }[]) : [];
    const start = e.started_at ?? e.created_at;
    return {
      id: e.id, status: e.status, criteria: e.criteria ? JSON.parse(e.criteria) : null,
      created_by: { id: e.created_by, name: u ? fullName(u) : null },
      job_start_time: formatDateTime(start, tz),
      job_end_time: e.finished_at ? formatDateTime(e.finished_at, tz) : null,
      expiry_date: e.expires_at ? formatDateTime(e.expires_at, tz) : null,
      download_links: e.status === 'Finished' && files.length
        ? files.map((f) => `${baseUrl}/v2/crm/${zgid}/auditlog/${e.id}/${f.name}`) : null,
      entry_count: e.entry_count === null ? null : Number(e.entry_count),
      truncated: e.truncated === 1,
    };
  }

  const render = async (request: FastifyRequest, orgId: string, zgid: string, tz: string, rows: AuditExportTable[]) => {
    const users = new Map((await services.exports.users(orgId)).map((u) => [u.id, u]));
    return rows.map((r) => jobView(r, users, tz, zgid, baseUrl(request, deps.publicUrl)));
  };

  route(app, '/settings/audit_log_export', {
    POST: op({
      summary: 'Schedule an export of the audit log, optionally narrowed by criteria',
      body: documented(z.object({ audit_log_export: z.array(z.object({ criteria: z.record(z.string(), z.unknown()) })).length(1) }).optional(),
        'optional; criteria on action, module, done_by, audited_time (at most 180 days)'),
      responses: { 201: actions('audit_log_export') },
      errorWrapper: 'audit_log_export',
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.CREATE');
        const job = await services.exports.create(actor, input.body);
        return reply.code(201).send({ audit_log_export: [{ code: 'SCHEDULED', details: { id: job.id },
          message: 'ExportAuditlog scheduled successfully.', status: 'success' }] });
      },
    }),
    GET: op({
      summary: 'The caller\'s export jobs',
      responses: { 200: list('audit_log_export', ExportJob), 204: 'empty' },
      handler: async (request, reply) => {
        const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        const rows = await services.exports.list(actor);
        if (rows.length === 0) return noContent(reply);
        return { audit_log_export: await render(request, actor.orgId, principal.org.zgid, principal.org.time_zone, rows) };
      },
    }),
  });

  route(app, '/settings/audit_log_export/:id', {
    GET: op({
      summary: 'One export job, with its download links when finished',
      params: idParams,
      responses: { 200: list('audit_log_export', ExportJob) },
      handler: async (request, _reply, input) => {
        const { principal, actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        const row = await services.exports.get(actor, input.params.id);
        return { audit_log_export: await render(request, actor.orgId, principal.org.zgid, principal.org.time_zone, [row]) };
      },
    }),
  });

  route(app, '/settings/audit_log_export/:id/manifest', {
    GET: op({
      summary: 'The signed manifest of a finished export, CSV or ZIP (auditrail\'s extension): file names, SHA-256, entry counts, Ed25519 signature',
      params: idParams,
      responses: { 200: z.looseObject({ format: z.string(), job_id: z.string(), files: z.array(z.looseObject({ name: z.string(), sha256: z.string() })),
        entry_count: z.number().int(), key_id: z.string(), signature: z.string() }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.audit_logs.READ');
        return services.exports.manifest(actor, input.params.id);
      },
    }),
  });
}

/** Download links as Zoho writes them: `/v2/crm/{org}/auditlog/{job}/{file}`. */
export function downloadRoutes(app: FastifyInstance, deps: HttpDeps) {
  route(app, '/v2/crm/:zgid/auditlog/:id/:file', {
    GET: op({
      summary: 'Download a file of a finished export (the links of download_links)',
      params: z.object({ zgid: z.string(), id: PathId, file: z.string().describe('AuditLog.csv or AuditLog.zip') }),
      responses: { 200: { file: ['text/csv', 'application/zip'] } },
      handler: async (request, reply, input) => {
        const { actor } = await guard(deps.services.oauth, request, 'ZohoFiles.files.READ');
        const { zgid, id, file } = input.params;
        if (!/^AuditLog\.(csv|zip)$/.test(file)) throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
        const d = await deps.services.exports.download(actor, zgid, id, file);
        return reply.header('content-type', d.contentType).header('content-length', String(d.size))
          .header('content-disposition', attachmentDisposition(d.name)).send(d.stream);
      },
    }),
  });
}
