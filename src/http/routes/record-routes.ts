import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { isId } from '../../domain/ids.ts';
import { moduleScope } from '../../domain/scopes.ts';
import { formatDateTime } from '../../domain/time.ts';
import { moduleFields, type ModuleDef } from '../../domain/modules.ts';
import { requireModule } from '../../domain/modules.ts';
import { type ItemResult } from '../../services/record-service.ts';
import type { SortColumn } from '../../store/record-store.ts';
import type { RecordTable } from '../../store/schema.ts';
import type { Actor } from '../../services/context.ts';
import { fullName } from '../../domain/display.ts';
import { guard, guardModule } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { intParam, listParam, noContent, op, queryParam, route, sendActions, type ActionResult } from '../route.ts';
import { actionReplies, itemsBody, list, moduleParams, q, RecordInput, RecordItem, recordParams } from '../schemas.ts';
import { recordView, referencedIds } from '../views.ts';

const SORTS: Record<string, SortColumn> = { id: 'id', Created_Time: 'created_at', Modified_Time: 'modified_at' };
const MAX_FIELDS = 50;
const DISCRETE_LIMIT = 2000;
const TOKEN_TTL = 24 * 3600 * 1000;

/** Checked by the handler, in this order, with Zoho's exact errors. */
const RecordsQuery = z.object({
  fields: z.string().optional().describe(`comma-separated field api_names (required, at most ${MAX_FIELDS})`),
  per_page: q.perPage, page: q.page, sort_by: z.string().optional().describe(Object.keys(SORTS).join(', ')),
  sort_order: q.sortOrder, ids: q.ids, converted: z.string().optional().describe('true, false (default) or both (Leads)'),
  page_token: q.pageToken,
});
const Token = z.string().nullable();
const RecordsInfo = z.looseObject({ per_page: z.number().int(), count: z.number().int(), page: z.number().int(), sort_by: z.string(),
  sort_order: z.string(), more_records: z.boolean(), next_page_token: Token, previous_page_token: Token, page_token_expiry: z.string().nullable() });

/** Records API: /{module} and /{module}/{id}. */
export function recordRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services, pageTokens } = deps;

  const moduleOf = (name: string) => {
    if (name === 'settings') throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
    return requireModule(name);
  };

  /** Per-item results of a write, with the creator's and modifier's names as Zoho shows them. */
  async function writeResults(actor: Actor, results: ItemResult[], message: string): Promise<ActionResult[]> {
    const { users } = await services.records.referenceData(actor, []);
    const ref = (id: string) => ({ name: users.get(id) ? fullName(users.get(id)!) : null, id });
    return results.map((r) => (r.ok
      ? { ok: true, code: 'SUCCESS', message, details: {
        id: r.row.id, Created_Time: formatDateTime(r.row.created_at, actor.timeZone),
        Modified_Time: formatDateTime(r.row.modified_at, actor.timeZone), Created_By: ref(r.row.created_by),
        Modified_By: ref(r.row.modified_by), $approval_state: 'approved' } }
      : { ok: false, code: r.error.code, message: r.error.message, details: r.error.details }));
  }

  async function renderRows(request: FastifyRequest, module: ModuleDef, rows: RecordTable[], tz: string, fields?: string[]) {
    const { actor } = await guard(services.oauth, request, moduleScope(module.apiName, 'READ'));
    const { users, names } = await services.records.referenceData(actor, referencedIds(rows, module));
    return rows.map((row) => recordView(row, module, { tz, users, names, orgId: actor.orgId }, fields));
  }

  function parseFields(request: FastifyRequest, module: ModuleDef, required: boolean): string[] | undefined {
    const fields = listParam(request, 'fields');
    if (fields === undefined || fields.length === 0) {
      if (required) throw new AppError('REQUIRED_PARAM_MISSING', 'One of the expected parameter is missing', { param_name: 'fields' });
      return undefined;
    }
    const unique = [...new Set(fields)];
    if (unique.length > MAX_FIELDS) throw new AppError('LIMIT_EXCEEDED', `a maximum of ${MAX_FIELDS} fields can be requested`, { limit: MAX_FIELDS, param_name: 'fields' });
    const known = moduleFields(module);
    const bad = unique.find((f) => f !== 'id' && !known.has(f));
    if (bad) throw new AppError('INVALID_DATA', `the field ${bad} is not a field of ${module.apiName}`, { param_name: 'fields', api_name: bad });
    return unique;
  }

  /** POST and PUT on a module: the same `{data: [...]}` body and per-item envelope. */
  const bulkWrite = (summary: string, operation: 'CREATE' | 'UPDATE', status: 200 | 201, message: string,
    write: (actor: Actor, module: string, items: unknown[]) => Promise<ItemResult[]>) => op({
    summary, params: moduleParams, body: itemsBody('data', RecordInput), responses: actionReplies('data', status),
    handler: async (request, reply, input) => {
      const { actor, module } = await guardModule(services.oauth, request, operation, moduleOf);
      const results = await write(actor, module.apiName, input.body.data);
      return sendActions(reply, 'data', await writeResults(actor, results, message), status);
    },
  });

  route(app, '/:module', {
    GET: op({
      summary: 'A page of records of a module',
      params: moduleParams,
      query: RecordsQuery,
      responses: { 200: z.object({ data: z.array(RecordItem), info: RecordsInfo }), 204: 'empty' },
      handler: async (request, reply) => {
        const { principal, actor, module } = await guardModule(services.oauth, request, 'READ', moduleOf);
        const fields = parseFields(request, module, true)!;
        const perPage = intParam(request, 'per_page', 1, 200, 200);
        const page = intParam(request, 'page', 1, 1_000_000, 1);
        const sortBy = queryParam(request, 'sort_by') ?? 'id';
        if (!SORTS[sortBy]) throw new AppError('INVALID_DATA', 'invalid sort_by', { param_name: 'sort_by', supported_values: Object.keys(SORTS) });
        const sortOrder = queryParam(request, 'sort_order') ?? 'desc';
        if (sortOrder !== 'asc' && sortOrder !== 'desc') throw new AppError('INVALID_DATA', 'invalid sort_order', { param_name: 'sort_order', supported_values: ['asc', 'desc'] });
        const ids = listParam(request, 'ids');
        if (ids && (ids.length > 100 || ids.some((i) => !isId(i)))) throw new AppError('INVALID_DATA', 'invalid ids', { param_name: 'ids' });
        const converted = (queryParam(request, 'converted') ?? 'false') as 'true' | 'false' | 'both';
        if (!['true', 'false', 'both'].includes(converted)) {
          throw new AppError('INVALID_DATA', 'converted takes true, false or both', { param_name: 'converted', supported_values: ['true', 'false', 'both'] });
        }
        const bound = { o: principal.org.id, m: module.apiName, s: sortBy, d: sortOrder, p: perPage, i: ids ?? null, c: converted };
        const rawToken = queryParam(request, 'page_token');
        let after: { value: string | number; id: string } | undefined;
        let pageNo = page;
        if (rawToken) {
          const t = deps.pageTokens.decode(rawToken, Date.now());
          if (t.o !== bound.o || t.m !== bound.m) throw new AppError('INVALID_DATA', 'invalid page token', { param_name: 'page_token' });
          if (t.s !== bound.s || t.d !== bound.d || t.p !== bound.p || t.c !== bound.c || JSON.stringify(t.i) !== JSON.stringify(bound.i)) {
            throw new AppError('TOKEN_BOUND_DATA_MISMATCH', 'the parameters do not match the page token', { param_name: 'page_token' });
          }
          after = t.a as { value: string | number; id: string };
          pageNo = Number(t.n);
        } else if (page * perPage > DISCRETE_LIMIT) {
          throw new AppError('DISCRETE_PAGINATION_LIMIT_EXCEEDED', 'use page_token to read beyond the first 2000 records', { limit: DISCRETE_LIMIT });
        }
        const sort = SORTS[sortBy];
        const { rows, more } = await services.records.listRecords(actor, module.apiName, {
          sort, desc: sortOrder === 'desc', limit: perPage, after, offset: after ? undefined : (page - 1) * perPage, ids, converted,
        });
        if (rows.length === 0) return noContent(reply);
        const tz = principal.org.time_zone;
        const data = await renderRows(request, module, rows, tz, fields);
        let next: { token: string; expiresAt: number } | null = null;
        if (more) {
          const last = rows[rows.length - 1];
          next = pageTokens.encode({ ...bound, a: { value: last[sort], id: last.id }, n: pageNo + 1 }, TOKEN_TTL);
        }
        return {
          data,
          info: {
            per_page: perPage, count: data.length, page: pageNo, sort_by: sortBy, sort_order: sortOrder, more_records: more,
            next_page_token: next?.token ?? null, previous_page_token: null,
            page_token_expiry: next ? formatDateTime(next.expiresAt, tz) : null, call: false, email: false,
          },
        };
      },
    }),
    POST: bulkWrite('Add records (at most 100)', 'CREATE', 201, 'record added',
      (actor, module, items) => services.records.createRecords(actor, module, items)),
    PUT: bulkWrite('Update records (at most 100), each with its id', 'UPDATE', 200, 'record updated',
      (actor, module, items) => services.records.updateRecords(actor, module, items)),
    DELETE: op({
      summary: 'Delete records (to the recycle bin)',
      params: moduleParams,
      query: z.object({ ids: q.ids }),
      responses: actionReplies('data', 200),
      handler: async (request, reply) => {
        const { actor, module } = await guardModule(services.oauth, request, 'DELETE', moduleOf);
        const ids = listParam(request, 'ids') ?? [];
        const results = await services.records.deleteRecords(actor, module.apiName, ids);
        return sendActions(reply, 'data', results.map((r, i) => (r.ok
          ? { ok: true, code: 'SUCCESS', message: 'record deleted', details: { id: r.row.id } }
          : { ok: false, code: r.error.code, message: r.error.message, details: { id: ids[i] } })), 200);
      },
    }),
  });

  route(app, '/:module/:id', {
    GET: op({
      summary: 'One record',
      params: recordParams,
      query: z.object({ fields: q.fields }),
      responses: { 200: list('data', RecordItem), 204: 'empty' },
      handler: async (request, reply, input) => {
        const { principal, actor, module } = await guardModule(services.oauth, request, 'READ', moduleOf);
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
        const fields = parseFields(request, module, false);
        const row = await services.records.getRecord(actor, module.apiName, id);
        if (!row) return noContent(reply);
        return { data: await renderRows(request, module, [row], principal.org.time_zone, fields) };
      },
    }),
    PUT: op({
      summary: 'Update one record',
      params: recordParams,
      body: itemsBody('data', RecordInput),
      responses: actionReplies('data', 200),
      handler: async (request, reply, input) => {
        const { actor, module } = await guardModule(services.oauth, request, 'UPDATE', moduleOf);
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
        const items = input.body.data;
        if (items.length > 1) throw new AppError('LIMIT_EXCEEDED', 'only one record can be updated through this URL', { api_name: 'data', json_path: '$.data', limit: 1 });
        const results = await services.records.updateRecords(actor, module.apiName, items, id);
        return sendActions(reply, 'data', await writeResults(actor, results, 'record updated'), 200);
      },
    }),
    DELETE: op({
      summary: 'Delete one record (to the recycle bin)',
      params: recordParams,
      responses: actionReplies('data', 200),
      handler: async (request, reply, input) => {
        const { actor, module } = await guardModule(services.oauth, request, 'DELETE', moduleOf);
        const { id } = input.params;
        if (!isId(id)) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 1 });
        const [r] = await services.records.deleteRecords(actor, module.apiName, [id]);
        return sendActions(reply, 'data', [r.ok
          ? { ok: true, code: 'SUCCESS', message: 'record deleted', details: { id } }
          : { ok: false, code: r.error.code, message: r.error.message, details: { id } }], 200);
      },
    }),
  });
}
