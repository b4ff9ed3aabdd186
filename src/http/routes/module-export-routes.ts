import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { requireModule } from '../../domain/modules.ts';
import { z } from 'zod';
import { moduleScope } from '../../domain/scopes.ts';
import { BOM, csvRow } from '../../services/csv.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { attachmentDisposition } from '../content-disposition.ts';
import { listParam, op, route } from '../route.ts';
import { ModuleName } from '../schemas.ts';
import { allFields, recordView, referencedIds } from '../views.ts';

/** A rendered value as a spreadsheet cell: a lookup's name, a list joined with `;`. */
function cell(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return v.map((x) => cell(x) ?? '').join(';');
  if (typeof v === 'object' && 'name' in v) return String((v as { name: unknown }).name ?? '');
  return JSON.stringify(v);
}

/**
 * `GET /api/v1/modules/{module}/export` (auditrail's own): a module's records as CSV, streamed,
 * audited as `exported` before the first byte leaves (records-service exportModule).
 */
export function moduleExportRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  route(app, '/api/v1/modules/:module/export', {
    GET: op({
      summary: 'A module\'s records as CSV (the module data export): needs the profile permission export; audited as exported with the count',
      params: z.object({ module: ModuleName }),
      query: z.object({ fields: z.string().optional().describe('comma-separated field api names (default: every field)') }),
      responses: { 200: { file: ['text/csv'] } },
      handler: async (request, reply, input) => {
        const { principal, actor } = await guard(services.oauth, request, moduleScope(input.params.module, 'READ'));
        const defs = allFields(requireModule(input.params.module));
        const wanted = listParam(request, 'fields');
        const unknown = wanted?.find((f) => !defs.some((d) => d.apiName === f));
        if (unknown) throw new AppError('INVALID_DATA', `the field ${unknown} is not in ${input.params.module}`, { param_name: 'fields' });
        const fields = wanted?.length ? defs.filter((f) => wanted.includes(f.apiName)).map((f) => f.apiName) : undefined;
        const exp = await services.records.exportModule(actor, input.params.module, { fields });
        const columns = ['id', ...(fields ?? defs.map((f) => f.apiName))];
        const tz = principal.org.time_zone;
        async function* body() {
          yield BOM + csvRow(columns);
          for await (const rows of exp.pages()) {
            const { users, names } = await services.records.referenceData(actor, referencedIds(rows, exp.module));
            let chunk = '';
            for (const row of rows) {
              const view = recordView(row, exp.module, { tz, users, names, orgId: actor.orgId }, fields);
              chunk += csvRow(columns.map((c) => cell(view[c])));
            }
            yield chunk;
          }
        }
        return reply.header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', attachmentDisposition(`${exp.module.apiName}.csv`))
          .header('x-record-count', String(exp.count)).send(Readable.from(body()));
      },
    }),
  });
}
