import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { parseBinFilters } from '../../domain/bin-filters.ts';
import { findModule, metadataId, moduleIndex } from '../../domain/modules.ts';
import { formatDateTime } from '../../domain/time.ts';
import { MAX_DELETE_IDS, MAX_RESTORE_IDS, type BinResult } from '../../services/recycle-bin-service.ts';
import type { RecordTable, UserTable } from '../../store/schema.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { intParam, listParam, noContent, op, queryParam, route, sendActions } from '../route.ts';
import { actions, DateTime, documented, Id, idParams, list, ModuleRef, moduleParams, page, q, UserRef } from '../schemas.ts';
import { userRef } from '../views.ts';

const READ = 'ZohoCRM.settings.recycle_bin.READ';
const UPDATE = 'ZohoCRM.settings.recycle_bin.UPDATE';
const DELETE = 'ZohoCRM.settings.recycle_bin.DELETE';

const Filters = z.string().optional().describe('a JSON array of {field, comparator, value} on module, deleted_by, deleted_time');
const BinQuery = z.object({
  sort_by: z.string().optional().describe('deleted_time (default), display_name or deleted_by'), sort_order: q.sortOrder,
  ids: q.ids, per_page: q.perPage, page: q.page, filters: Filters,
});
const BinItem = z.looseObject({ id: Id, display_name: z.string().nullable(), module: ModuleRef, owner: UserRef.nullable(),
  deleted_by: UserRef.nullable(), deleted_time: DateTime });
/** Per-item results, or 202 with the job when the work is scheduled. */
const binReplies = { 200: actions('recycle_bin'), 202: actions('recycle_bin'), 207: actions('recycle_bin'), 400: actions('recycle_bin') };
const Outcome = z.object({ code: z.string(), details: z.record(z.string(), z.unknown()), message: z.string(), status: z.literal('success') });

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
    GET: op({
      summary: 'Items in the recycle bin the caller may see',
      query: BinQuery,
      responses: { 200: page('recycle_bin', BinItem), 204: 'empty' },
      handler: async (request, reply) => {
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
    }),
    DELETE: op({
      summary: 'Delete items from the recycle bin permanently, by ids or filters',
      query: z.object({ ids: q.ids, filters: Filters }),
      responses: binReplies,
      handler: async (request, reply) => {
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
    }),
  });

  route(app, '/settings/recycle_bin/actions/count', {
    GET: op({
      summary: 'How many items the recycle bin holds',
      query: z.object({ filters: Filters }),
      responses: { 200: z.object({ count: z.number().int() }) },
      handler: async (request) => {
        const { actor } = await guard(deps.services.oauth, request, READ);
        return { count: await bin.count(actor, filtersParam(request)) };
      },
    }),
  });

  route(app, '/settings/recycle_bin/actions/restore', {
    POST: op({
      summary: 'Restore items: by ids, by filters, or all',
      body: z.looseObject({
        ids: documented(z.array(Id).min(1).max(MAX_RESTORE_IDS)).optional(), filters: documented(z.array(z.record(z.string(), z.unknown()))).optional(),
        restore_all_records: documented(z.literal(true)).optional(),
      }).describe('exactly one of ids, filters, restore_all_records'),
      responses: binReplies,
      handler: async (request, reply, input) => {
        const { actor } = await guard(deps.services.oauth, request, UPDATE);
        const body = input.body;
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
    }),
  });

  route(app, '/settings/recycle_bin/actions/empty', {
    POST: op({
      summary: 'Empty the recycle bin (scheduled when large)',
      responses: { 200: Outcome, 202: Outcome },
      handler: async (request, reply) => {
        const { actor } = await guard(deps.services.oauth, request, UPDATE);
        const r = await bin.empty(actor);
        if (r.scheduled) {
          return reply.code(202).send({ code: 'SCHEDULED', details: { job_id: r.jobId }, message: 'Empty bin action has been scheduled', status: 'success' });
        }
        return { code: 'SUCCESS', details: { removed: r.removed }, message: 'recyclebin is cleared', status: 'success' };
      },
    }),
  });

  route(app, '/settings/recycle_bin/jobs/:id', {
    GET: op({
      summary: 'Progress of a scheduled restore or deletion',
      params: idParams,
      responses: { 200: list('recycle_bin_jobs', z.looseObject({ id: Id, action: z.enum(['restore', 'delete']), status: z.string(),
        processed: z.number().int(), total: z.number().int().nullable(), created_time: DateTime })) },
      handler: async (request, _reply, input) => {
        const { principal, actor } = await guard(deps.services.oauth, request, READ);
        const job = await bin.jobStatus(actor, input.params.id);
        const status = { queued: 'SCHEDULED', running: 'RUNNING', done: 'COMPLETED', failed: 'FAILED' }[job.status] ?? job.status;
        return { recycle_bin_jobs: [{ id: job.id, action: job.kind === 'recycle_bin_restore' ? 'restore' : 'delete', status,
          processed: Number(job.progress_done), total: job.progress_total === null ? null : Number(job.progress_total),
          result: job.result ? JSON.parse(job.result) : null, error: job.error,
          created_time: formatDateTime(Number(job.created_at), principal.org.time_zone) }] };
      },
    }),
  });

  route(app, '/settings/recycle_bin/:id', {
    GET: op({
      summary: 'One item of the recycle bin',
      params: idParams,
      responses: { 200: list('recycle_bin', BinItem) },
      handler: async (request, _reply, input) => {
        const { principal, actor } = await guard(deps.services.oauth, request, READ);
        const row = await bin.get(actor, input.params.id);
        return { recycle_bin: [itemView(row, await bin.names(actor.orgId), principal.org.time_zone)] };
      },
    }),
    DELETE: op({
      summary: 'Delete one item from the recycle bin permanently',
      params: idParams,
      responses: binReplies,
      handler: async (request, reply, input) => {
        const { actor } = await guard(deps.services.oauth, request, DELETE);
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
        return sendBin(reply, await bin.remove(actor, { ids: [id] }), 'delet');
      },
    }),
  });

  route(app, '/settings/recycle_bin/:id/actions/restore', {
    POST: op({
      summary: 'Restore one item (with what its deletion removed)',
      params: idParams,
      responses: binReplies,
      handler: async (request, reply, input) => {
        const { actor } = await guard(deps.services.oauth, request, UPDATE);
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
        return sendBin(reply, await bin.restore(actor, { ids: [id] }), 'restor');
      },
    }),
  });

  route(app, '/:module/deleted', {
    GET: op({
      summary: 'Records of a module deleted lately (recycle bin and permanent)',
      params: moduleParams,
      query: z.object({ type: z.string().optional().describe('all (default), recycle or permanent'), per_page: q.perPage, page: q.page }),
      responses: { 200: page('data', z.looseObject({ id: Id, display_name: z.string().nullable(), type: z.enum(['recycle', 'permanent']),
        deleted_by: UserRef.nullable(), deleted_time: DateTime })), 204: 'empty' },
      handler: async (request, reply) => {
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
            : { id: r.id, display_name: r.name, type: 'permanent', deleted_by: r.deletedBy ? userRef(users.get(r.deletedBy), r.deletedBy) : null,
              created_by: r.createdBy ? userRef(users.get(r.createdBy), r.createdBy) : null, deleted_time: formatDateTime(r.deletedAt, tz) })),
          info: { per_page: perPage, count: rows.length, page, more_records: more },
        };
      },
    }),
  });
}
