import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { parseBinFilters } from '../../domain/bin-filters.ts';
import { findModule, metadataId, moduleIndex } from '../../domain/modules.ts';
import { formatDateTime } from '../../domain/time.ts';
import { MAX_DELETE_IDS, MAX_RESTORE_IDS, type BinResult } from '../../services/recycle-bin-service.ts';
import type { RecordTable, UserTable } from '../../store/schema.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { bodyObject, intParam, listParam, noContent, queryParam, route, sendActions } from '../route.ts';
import { userRef } from '../views.ts';

const READ = 'ZohoCRM.settings.recycle_bin.READ';
const UPDATE = 'ZohoCRM.settings.recycle_bin.UPDATE';
const DELETE = 'ZohoCRM.settings.recycle_bin.DELETE';

/** The recycle bin API (spec §4) and `GET /{module}/deleted` (spec §6.4). */
export function recycleBinRoutes(app: FastifyInstance, deps: HttpDeps) {
  const bin = deps.services.recycleBin;

  function itemView(r: RecordTable, users: Map<string, UserTable>, tz: string) {
    const m = findModule(r.module);
    return {
      id: r.id, display_name: r.name, module: { api_name: r.module, id: m ? metadataId(r.org_id, moduleIndex(m)) : null },
      owner: userRef(users.get(r.owner_id), r.owner_id), deleted_by: r.deleted_by ? userRef(users.get(r.deleted_by), r.deleted_by) : null,
      deleted_time: formatDateTime(Number(r.deleted_at), tz),
      parent_record: r.parent_id ? { id: r.parent_id, module: { api_name: r.parent_module } } : null,
    };
  }

  const filtersParam = (request: FastifyRequest) => {
    const raw = queryParam(request, 'filters');
    return raw === undefined ? [] : parseBinFilters(raw);
  };

  function sendBin(reply: FastifyReply, r: BinResult, verb: 'restor' | 'delet') {
    if (r.scheduled) {
      const items = r.ids.length ? r.ids.map((id) => ({ code: 'SCHEDULED', details: { id, job_id: r.jobId },
        message: `record has been scheduled for ${verb}ation`.replace('deletation', 'deletion'), status: 'success' }))
        : [{ code: 'SCHEDULED', details: { job_id: r.jobId }, message: `Bulk ${verb === 'restor' ? 'restoration' : 'deletion'} of records has been scheduled`, status: 'success' }];
      return reply.code(202).send({ recycle_bin: items });
    }
    return sendActions(reply, 'recycle_bin', r.results.map((o) => (o.ok
      ? { ok: true, code: 'SUCCESS', message: verb === 'restor' ? 'record restored' : 'record deleted', details: { id: o.id } }
      : { ok: false, code: o.code, message: o.message, details: { id: o.id } })), 200);
  }

  route(app, '/settings/recycle_bin', {
    GET: async (request, reply) => {
      const { principal, actor } = await guard(deps.services.oauth, request, READ);
      const sortBy = (queryParam(request, 'sort_by') ?? 'deleted_time') as 'deleted_time' | 'display_name' | 'deleted_by';
      if (!['deleted_time', 'display_name', 'deleted_by'].includes(sortBy)) {
        throw new AppError('INVALID_DATA', 'invalid sort_by', { param_name: 'sort_by', supported_values: ['deleted_time', 'display_name', 'deleted_by'] });
      }
      const order = queryParam(request, 'sort_order') ?? 'desc';
      if (order !== 'asc' && order !== 'desc') throw new AppError('INVALID_DATA', 'invalid sort_order', { param_name: 'sort_order', supported_values: ['asc', 'desc'] });
      const ids = listParam(request, 'ids');
      if (ids && (ids.length > MAX_RESTORE_IDS || ids.some((i) => !isId(i)))) throw new AppError('INVALID_DATA', 'invalid ids', { param_name: 'ids' });
      const perPage = intParam(request, 'per_page', 1, 200, 200);
      const page = intParam(request, 'page', 1, 100_000, 1);
      const { rows, more } = await bin.list(actor, { filters: filtersParam(request), ids, sortBy, desc: order === 'desc', page, perPage });
      if (rows.length === 0) return noContent(reply);
      const users = await bin.names(actor.orgId);
      return { recycle_bin: rows.map((r) => itemView(r, users, principal.org.time_zone)),
        info: { per_page: perPage, count: rows.length, page, more_records: more } };
    },
    DELETE: async (request, reply) => {
      const { actor } = await guard(deps.services.oauth, request, DELETE);
      const ids = listParam(request, 'ids');
      const filters = queryParam(request, 'filters');
      if (ids && filters !== undefined) {
        throw new AppError('AMBIGUITY_DURING_PROCESSING', 'give either ids or filters', { ambiguity_due_to: [{ param_name: 'ids' }, { param_name: 'filters' }] });
      }
      if (!ids && filters === undefined) throw new AppError('REQUIRED_PARAM_MISSING', 'ids or filters is required', { param_name: 'ids' });
      if (ids && ids.length > MAX_DELETE_IDS) throw new AppError('LIMIT_EXCEEDED', `at most ${MAX_DELETE_IDS} ids`, { param_name: 'ids', limit: MAX_DELETE_IDS });
      const r = await bin.remove(actor, ids ? { ids } : { filters: parseBinFilters(filters) });
      return sendBin(reply, r, 'delet');
    },
  });

  route(app, '/settings/recycle_bin/actions/count', {
    GET: async (request) => {
      const { actor } = await guard(deps.services.oauth, request, READ);
      return { count: await bin.count(actor, filtersParam(request)) };
    },
  });

  route(app, '/settings/recycle_bin/actions/restore', {
    POST: async (request, reply) => {
      const { actor } = await guard(deps.services.oauth, request, UPDATE);
      const body = bodyObject(request);
      const given = (['ids', 'filters', 'restore_all_records'] as const).filter((k) => body[k] !== undefined);
      if (given.length === 0) {
        throw new AppError('EXPECTED_PARAM_MISSING', 'one of ids, filters or restore_all_records is required', { param_names: ['filters', 'ids', 'restore_all_records'] });
      }
      if (given.length > 1) {
        throw new AppError('AMBIGUITY_DURING_PROCESSING', `give only one of ${given.join(', ')}`, { ambiguity_due_to: given.map((k) => ({ api_name: k, json_path: `$.${k}` })) });
      }
      if (body.ids !== undefined) {
        const ids = body.ids;
        if (!Array.isArray(ids) || ids.length === 0 || ids.some((i) => typeof i !== 'string')) {
          throw new AppError('INVALID_DATA', 'ids must be an array of ids', { api_name: 'ids', json_path: '$.ids', expected_data_type: 'jsonarray' });
        }
        if (ids.length > MAX_RESTORE_IDS) throw new AppError('LIMIT_EXCEEDED', `at most ${MAX_RESTORE_IDS} ids`, { api_name: 'ids', json_path: '$.ids', limit: MAX_RESTORE_IDS });
        return sendBin(reply, await bin.restore(actor, { ids: ids as string[] }), 'restor');
      }
      if (body.filters !== undefined) return sendBin(reply, await bin.restore(actor, { filters: parseBinFilters(body.filters) }), 'restor');
      if (body.restore_all_records !== true) {
        throw new AppError('INVALID_DATA', 'restore_all_records must be true', { api_name: 'restore_all_records', json_path: '$.restore_all_records' });
      }
      return sendBin(reply, await bin.restore(actor, { all: true }), 'restor');
    },
  });

  route(app, '/settings/recycle_bin/actions/empty', {
    POST: async (request, reply) => {
      const { actor } = await guard(deps.services.oauth, request, UPDATE);
      const r = await bin.empty(actor);
      if (r.scheduled) {
        return reply.code(202).send({ code: 'SCHEDULED', details: { job_id: r.jobId }, message: 'Empty bin action has been scheduled', status: 'success' });
      }
      return { code: 'SUCCESS', details: { removed: r.removed }, message: 'recyclebin is cleared', status: 'success' };
    },
  });

  route(app, '/settings/recycle_bin/jobs/:id', {
    GET: async (request) => {
      const { principal, actor } = await guard(deps.services.oauth, request, READ);
      const job = await bin.jobStatus(actor, (request.params as { id: string }).id);
      const status = { queued: 'SCHEDULED', running: 'RUNNING', done: 'COMPLETED', failed: 'FAILED' }[job.status] ?? job.status;
      return { recycle_bin_jobs: [{ id: job.id, action: job.kind === 'recycle_bin_restore' ? 'restore' : 'delete', status,
        processed: Number(job.progress_done), total: job.progress_total === null ? null : Number(job.progress_total),
        result: job.result ? JSON.parse(job.result) : null, error: job.error,
        created_time: formatDateTime(Number(job.created_at), principal.org.time_zone) }] };
    },
  });

  route(app, '/settings/recycle_bin/:id', {
    GET: async (request) => {
      const { principal, actor } = await guard(deps.services.oauth, request, READ);
      const row = await bin.get(actor, (request.params as { id: string }).id);
      return { recycle_bin: [itemView(row, await bin.names(actor.orgId), principal.org.time_zone)] };
    },
    DELETE: async (request, reply) => {
      const { actor } = await guard(deps.services.oauth, request, DELETE);
      const { id } = request.params as { id: string };
      if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      return sendBin(reply, await bin.remove(actor, { ids: [id] }), 'delet');
    },
  });

  route(app, '/settings/recycle_bin/:id/actions/restore', {
    POST: async (request, reply) => {
      const { actor } = await guard(deps.services.oauth, request, UPDATE);
      const { id } = request.params as { id: string };
      if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      return sendBin(reply, await bin.restore(actor, { ids: [id] }), 'restor');
    },
  });

  route(app, '/:module/deleted', {
    GET: async (request, reply) => {
      const { principal, actor, module } = await guardModule(deps.services.oauth, request, 'READ');
      const type = queryParam(request, 'type') ?? 'all';
      if (!['all', 'recycle', 'permanent'].includes(type)) throw new AppError('PATTERN_NOT_MATCHED', 'type must be all, recycle or permanent', { param_name: 'type' });
      const perPage = intParam(request, 'per_page', 1, 200, 200);
      const page = intParam(request, 'page', 1, 100_000, 1);
      if (page * perPage > 2000) {
        throw new AppError('DISCRETE_PAGINATION_LIMIT_EXCEEDED', 'only the 2,000 most recent deletions can be paged', { limit: 2000 });
      }
      const { rows, more } = await deps.services.records.deletedRecords(actor, module.apiName, type as 'all' | 'recycle' | 'permanent', page, perPage);
      if (rows.length === 0) return noContent(reply);
      const users = await bin.names(actor.orgId);
      const tz = principal.org.time_zone;
      return {
        data: rows.map((r) => (r.type === 'recycle'
          ? { id: r.id, display_name: r.name, type: 'recycle', deleted_by: r.deletedBy ? userRef(users.get(r.deletedBy), r.deletedBy) : null,
            created_by: r.createdBy ? userRef(users.get(r.createdBy), r.createdBy) : null, deleted_time: formatDateTime(r.deletedAt, tz) }
          : { id: r.id, display_name: null, type: 'permanent', deleted_by: null, created_by: null, deleted_time: formatDateTime(r.deletedAt, tz) })),
        info: { per_page: perPage, count: rows.length, page, more_records: more },
      };
    },
  });
}
