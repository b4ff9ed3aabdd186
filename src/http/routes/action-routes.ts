import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { ItemLevelError } from '../../services/crm-actions-service.ts';
import { requireModule } from '../../domain/modules.ts';
import { type ItemResult } from '../../services/record-service.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { bodyObject, route, sendActions } from '../route.ts';

/** Merge, lead conversion, mass update and mass delete. */
export function actionRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const wrap = async <T>(reply: import('fastify').FastifyReply, wrapper: string, work: () => Promise<T>) => {
    try {
      return await work();
    } catch (e) {
      if (e instanceof ItemLevelError) return reply.code(e.status).send({ [wrapper]: [e.toBody()] }) as never;
      throw e;
    }
  };
  const summary = (results: ItemResult[], ids: string[], batchId: string, message: string) => results.map((r, i) => (r.ok
    ? { ok: true, code: 'SUCCESS', message, details: { id: ids[i], batch_id: batchId } }
    : { ok: false, code: r.error.code, message: r.error.message, details: { id: ids[i], ...r.error.details } }));

  route(app, '/:module/:id/actions/merge', {
    POST: async (request, reply) => {
      const { id } = request.params as { id: string };
      const { actor, module } = await guardModule(services.oauth, request, 'CREATE');
      if (!isId(id)) throw new AppError('INVALID_DATA', 'Master record is not found', { resource_path_index: 1 });
      const body = bodyObject(request);
      return wrap(reply, 'merge', async () => {
        const r = await services.actions.merge(actor, module.apiName, id, body);
        return reply.code(201).send({ merge: [{ code: 'SUCCESS', details: { id: r.id }, message: 'The records has been merged successfully', status: 'success' }] });
      });
    },
  });

  route(app, '/:module/:id/actions/convert', {
    POST: async (request, reply) => {
      const { module: name, id } = request.params as { module: string; id: string };
      const { actor } = await guard(services.oauth, request, 'ZohoCRM.modules.leads.CREATE', 'ZohoCRM.modules.CREATE', 'ZohoCRM.modules.leads.ALL');
      if (requireModule(name).apiName !== 'Leads') throw new AppError('NOT_SUPPORTED', 'only leads can be converted', { resource_path_index: 0 });
      if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
      return wrap(reply, 'data', async () => {
        const r = await services.actions.convert(actor, id, request.body);
        return reply.code(200).send({ data: [{ code: 'SUCCESS', details: r, message: 'The record has been converted successfully', status: 'success' }] });
      });
    },
  });

  route(app, '/:module/actions/mass_update', {
    POST: async (request, reply) => {
      const { actor, module } = await guardModule(services.oauth, request, 'UPDATE');
      const body = bodyObject(request);
      const data = Array.isArray(body.data) ? body.data[0] : undefined;
      if (Array.isArray(body.data) && body.data.length > 1) throw new AppError('LIMIT_EXCEEDED', 'one set of values per mass update', { api_name: 'data', json_path: '$.data', limit: 1 });
      const r = await services.actions.massUpdate(actor, module.apiName, data as Record<string, unknown>, body.ids);
      return sendActions(reply, 'data', summary(r.results, r.ids, r.batchId, 'record updated'), 200);
    },
  });

  route(app, '/:module/actions/mass_delete', {
    POST: async (request, reply) => {
      const { actor, module } = await guardModule(services.oauth, request, 'DELETE');
      const body = bodyObject(request);
      const r = await services.actions.massDelete(actor, module.apiName, body.ids);
      return sendActions(reply, 'data', summary(r.results, r.ids, r.batchId, 'record deleted'), 200);
    },
  });
}
