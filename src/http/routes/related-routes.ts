import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { findModule } from '../../domain/modules.ts';
import { moduleScope } from '../../domain/scopes.ts';
import { formatDateTime } from '../../domain/time.ts';
import { MAX_ATTACHMENT_BYTES } from '../../services/attachment-service.ts';
import { fullName } from '../../domain/display.ts';
import { requireModule } from '../../domain/modules.ts';
import { guard, guardModule } from '../auth.ts';
import { attachmentDisposition } from '../content-disposition.ts';
import type { HttpDeps } from '../app.ts';
import { checked, intParam, noContent, op, route, sendActions } from '../route.ts';
import { actionReplies, documented, itemsBody, ModuleName, page, PathId, q, RecordInput, RecordItem } from '../schemas.ts';
import { recordView, referencedIds } from '../views.ts';

const RELATED: Record<string, string[]> = {
  notes: ['Notes'], attachments: ['Attachments'], tasks: ['Tasks'], events: ['Events'], calls: ['Calls'],
  activities: ['Tasks', 'Events', 'Calls'], emails: ['Emails'],
};

const relatedParams = z.object({ module: ModuleName, id: PathId, related: z.string().describe(Object.keys(RELATED).join(', ')) });
/** Notes and emails come as JSON; attachments as multipart, which this does not check. */
const JsonItems = itemsBody('data', RecordInput);
const attachmentParams = z.object({ module: ModuleName, id: PathId, att: PathId });

/** Related lists of a record (notes, attachments, activities), notes and attachments added to it. */
export function relatedRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const params = (request: FastifyRequest) => {
    const p = request.params as { module: string; id: string; related?: string; att?: string };
    if (!isId(p.id)) throw new AppError('INVALID_DATA', 'the related id given seems to be invalid', { resource_path_index: 1 });
    return { id: p.id, related: p.related, att: p.att };
  };
  const relatedModules = (name: string | undefined) => {
    const modules = name ? RELATED[name.toLowerCase()] : undefined;
    if (!modules) throw new AppError('INVALID_DATA', 'the relation name given seems to be invalid', { resource_path_index: 2 });
    return modules;
  };

  route(app, '/:module/:id/:related', {
    GET: op({
      summary: 'A related list of a record: notes, attachments, tasks, events, calls, activities, emails',
      params: relatedParams,
      query: z.object({ per_page: q.perPage, page: q.page }),
      responses: { 200: page('data', RecordItem), 204: 'empty' },
      handler: async (request, reply) => {
        const { principal, actor, module } = await guardModule(services.oauth, request, 'READ');
        const { id, related } = params(request);
        const modules = relatedModules(related);
        const perPage = intParam(request, 'per_page', 1, 200, 200);
        const page = intParam(request, 'page', 1, 10_000, 1);
        const { rows, more } = await services.attachments.related(actor, module.apiName, id, modules, page, perPage);
        if (rows.length === 0) return noContent(reply);
        const { users, names } = await services.records.referenceData(actor, rows.flatMap((r) => referencedIds([r], findModule(r.module)!)));
        const tz = principal.org.time_zone;
        return {
          data: rows.map((r) => {
            const view = recordView(r, findModule(r.module)!, { tz, users, names, orgId: actor.orgId });
            if (r.module === 'Attachments') {
              const d = JSON.parse(r.data) as { Content_Type?: string };
              return { ...view, $file_id: r.id, $type: d.Content_Type ?? null, $se_module: r.parent_module,
                Created_By: { name: users.get(r.created_by) ? fullName(users.get(r.created_by)!) : null, id: r.created_by },
                Created_Time: formatDateTime(r.created_at, tz) };
            }
            return modules.length > 1 ? { ...view, $module: r.module } : view;
          }),
          info: { per_page: perPage, count: rows.length, page, more_records: more },
        };
      },
    }),
    POST: op({
      summary: 'Add to a related list: notes (JSON), an attachment (multipart field file), an email',
      params: relatedParams,
      body: documented(JsonItems, 'notes and emails: {data: [...]}; attachments: multipart/form-data with the file in field file'),
      bodyTypes: ['multipart/form-data'],
      responses: actionReplies('data', 201),
      handler: async (request, reply, input) => {
        const { id, related } = params(request);
        const modules = relatedModules(related);
        if (modules[0] === 'Attachments' && modules.length === 1) {
          const { actor, module } = await guardModule(services.oauth, request, 'CREATE');
          if (!request.isMultipart()) {
            throw new AppError('INVALID_DATA', 'upload the file as multipart/form-data in the field "file"', { param_name: 'file' });
          }
          const file = await request.file({ limits: { fileSize: MAX_ATTACHMENT_BYTES, files: 1 } });
          if (!file) throw new AppError('REQUIRED_PARAM_MISSING', 'the file is missing', { param_name: 'file' });
          const row = await services.attachments.upload(actor, module.apiName, id, { name: file.filename || 'attachment', contentType: file.mimetype, stream: file.file });
          const tz = actor.timeZone;
          return reply.code(200).send({ data: [{ code: 'SUCCESS', details: { id: row.id, Created_Time: formatDateTime(row.created_at, tz),
            Modified_Time: formatDateTime(row.modified_at, tz), Created_By: { id: row.created_by, name: actor.name },
            Modified_By: { id: row.modified_by, name: actor.name } }, message: 'attachment uploaded successfully', status: 'success' }] });
        }
        if (modules[0] === 'Emails') {
          const { actor, module } = await guardModule(services.oauth, request, 'UPDATE');
          const items = checked('body', JsonItems, input.body).data;
          if (items.length !== 1) throw new AppError('LIMIT_EXCEEDED', 'log one email per call', { api_name: 'data', json_path: '$.data', limit: 1 });
          const { result } = await services.actions.logEmail(actor, module.apiName, id, items[0]);
          return sendActions(reply, 'data', [result.ok
            ? { ok: true, code: 'SUCCESS', message: 'email logged', details: { id: result.row.id } }
            : { ok: false, code: result.error.code, message: result.error.message, details: result.error.details }], 201);
        }
        if (modules.length !== 1 || modules[0] !== 'Notes') {
          throw new AppError('NOT_SUPPORTED', 'add records to this related list through their own module', { resource_path_index: 2 });
        }
        const { actor } = await guard(services.oauth, request, moduleScope('Notes', 'CREATE'));
        const module = requireModule(input.params.module);
        const items = checked('body', JsonItems, input.body).data.map((item) => (item && typeof item === 'object' && !Array.isArray(item)
          ? { ...(item as Record<string, unknown>), Parent_Id: { module: { api_name: module.apiName }, id } } : item));
        const results = await services.records.createRecords(actor, 'Notes', items);
        return sendActions(reply, 'data', results.map((r) => (r.ok
          ? { ok: true, code: 'SUCCESS', message: 'record added', details: { id: r.row.id, Created_Time: formatDateTime(r.row.created_at, actor.timeZone),
            Created_By: { id: r.row.created_by, name: actor.name } } }
          : { ok: false, code: r.error.code, message: r.error.message, details: r.error.details })), 201);
      },
    }),
  });

  route(app, '/:module/:id/Attachments/:att', {
    GET: op({
      summary: 'Download an attachment',
      params: attachmentParams,
      responses: { 200: { file: ['application/octet-stream'] } },
      handler: async (request, reply) => {
        const { actor, module } = await guardModule(services.oauth, request, 'READ');
        const { id, att } = params(request);
        const file = await services.attachments.download(actor, module.apiName, id, att!);
        // The uploader's content type is kept (as Zoho does), so the browser must never sniff or run
        // it: a text/html attachment opened by a link would otherwise be a page on this origin.
        return reply.header('content-type', file.contentType).header('content-length', String(file.size))
          .header('content-disposition', attachmentDisposition(file.name))
          .header('x-content-type-options', 'nosniff').header('content-security-policy', "sandbox; default-src 'none'")
          .send(file.stream);
      },
    }),
    DELETE: op({
      summary: 'Delete an attachment (to the recycle bin)',
      params: attachmentParams,
      responses: actionReplies('data', 200),
      handler: async (request, reply) => {
        const { actor, module } = await guardModule(services.oauth, request, 'DELETE');
        const { id, att } = params(request);
        await services.attachments.find(actor, module.apiName, id, att!, 'delete');
        const [r] = await services.records.deleteRecords(actor, 'Attachments', [att!]);
        return sendActions(reply, 'data', [r.ok ? { ok: true, code: 'SUCCESS', message: 'record deleted', details: { id: att } }
          : { ok: false, code: r.error.code, message: r.error.message, details: { id: att } }], 200);
      },
    }),
  });
}
