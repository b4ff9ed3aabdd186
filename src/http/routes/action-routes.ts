import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { requireModule } from '../../domain/modules.ts';
import type { ItemResult } from '../../services/record-service.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { op, route, sendActions } from '../route.ts';
import { actions, documented, Id, moduleParams, RecordInput, recordParams } from '../schemas.ts';

const idList = documented(z.array(Id).max(1000), 'the ids of the records, at most 1000');
const massBody = (extra: Record<string, z.ZodType>) => z.looseObject({ ...extra, ids: idList.optional() });

/** Merge, lead conversion, mass update and mass delete. */
export function actionRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const summary = (results: ItemResult[], ids: string[], batchId: string, message: string) => results.map((r, i) => (r.ok
    ? { ok: true, code: 'SUCCESS', message, details: { id: ids[i], batch_id: batchId } }
    : { ok: false, code: r.error.code, message: r.error.message, details: { id: ids[i], ...r.error.details } }));

  route(app, '/:module/:id/actions/merge', {
    POST: op({
      summary: 'Merge up to two duplicates into the master record (the duplicates are deleted permanently)',
      params: recordParams,
      body: z.looseObject({ merge: documented(z.array(z.object({
        data: z.array(z.object({ id: Id, _fields: z.array(z.object({ api_name: z.string() })).optional() })).min(1).max(2),
      })).length(1), 'required: one merge object; checked by the service after the permission check').optional() }),
      responses: { 201: actions('merge') },
      errorWrapper: 'merge',
      handler: async (request, reply, input) => {
        const { actor, module } = await guardModule(services.oauth, request, 'CREATE');
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'Master record is not found', { resource_path_index: 1 });
        const r = await services.actions.merge(actor, module.apiName, id, input.body);
        return reply.code(201).send({ merge: [{ code: 'SUCCESS', details: { id: r.id }, message: 'The records has been merged successfully', status: 'success' }] });
      },
    }),
  });

  route(app, '/:module/:id/actions/convert', {
    POST: op({
      summary: 'Convert a lead into a contact, and an account and a deal when asked',
      params: recordParams,
      body: documented(z.object({ data: z.array(z.object({
        overwrite: z.boolean().optional(), assign_to: z.object({ id: Id }).optional(), Accounts: z.object({ id: Id }).optional(),
        Contacts: z.object({ id: Id }).optional(), Deals: RecordInput.optional(),
      })).max(1) }).optional(), 'optional; without it the lead converts with defaults'),
      responses: { 200: actions('data') },
      errorWrapper: 'data',
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.modules.leads.CREATE', 'ZohoCRM.modules.CREATE', 'ZohoCRM.modules.leads.ALL');
        const { module: name, id } = input.params;
        if (requireModule(name).apiName !== 'Leads') throw new AppError('NOT_SUPPORTED', 'only leads can be converted', { resource_path_index: 0 });
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
        const r = await services.actions.convert(actor, id, input.body);
        return reply.code(200).send({ data: [{ code: 'SUCCESS', details: r, message: 'The record has been converted successfully', status: 'success' }] });
      },
    }),
  });

  route(app, '/:module/actions/mass_update', {
    POST: op({
      summary: 'Set the same field values on up to 1000 records',
      params: moduleParams,
      body: massBody({ data: documented(z.array(RecordInput).length(1), 'one set of values').optional() }),
      responses: { 200: actions('data'), 207: actions('data'), 400: actions('data') },
      handler: async (request, reply, input) => {
        const { actor, module } = await guardModule(services.oauth, request, 'UPDATE');
        const body = input.body as Record<string, unknown>;
        const data = Array.isArray(body.data) ? body.data[0] : undefined;
        if (Array.isArray(body.data) && body.data.length > 1) throw new AppError('LIMIT_EXCEEDED', 'one set of values per mass update', { api_name: 'data', json_path: '$.data', limit: 1 });
        const r = await services.actions.massUpdate(actor, module.apiName, data as Record<string, unknown>, body.ids);
        return sendActions(reply, 'data', summary(r.results, r.ids, r.batchId, 'record updated'), 200);
      },
    }),
  });

  route(app, '/:module/actions/mass_delete', {
    POST: op({
      summary: 'Delete up to 1000 records (to the recycle bin)',
      params: moduleParams,
      body: massBody({}),
      responses: { 200: actions('data'), 207: actions('data'), 400: actions('data') },
      handler: async (request, reply, input) => {
        const { actor, module } = await guardModule(services.oauth, request, 'DELETE');
        const r = await services.actions.massDelete(actor, module.apiName, input.body.ids);
        return sendActions(reply, 'data', summary(r.results, r.ids, r.batchId, 'record deleted'), 200);
      },
    }),
  });
}
