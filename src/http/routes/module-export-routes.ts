import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { moduleScope } from '../../domain/scopes.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { attachmentDisposition } from '../content-disposition.ts';
import { listParam, op, route } from '../route.ts';
import { ModuleName } from '../schemas.ts';

/**
 * `GET /api/v1/modules/{module}/export` (auditrail's own): a module's records as CSV, streamed,
 * audited as `exported` before the first byte leaves (services/module-export-service.ts, which
 * `auditrail records export` uses too).
 */
export function moduleExportRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  route(app, '/api/v1/modules/:module/export', {
    GET: op({
      summary: 'A module\'s records as CSV (the module data export): needs the profile permission export; audited as exported with the count and the criteria',
      params: z.object({ module: ModuleName }),
      query: z.object({
        fields: z.string().optional().describe('comma-separated field api names (default: every field)'),
        criteria: z.string().optional().describe('JSON criteria in the grammar of Zoho\'s Bulk Read API: {"field":{"api_name":"Lead_Source"},"comparator":"equal","value":"Web Download"}, or {"group_operator":"and"|"or","group":[...]}'),
      }),
      responses: { 200: { file: ['text/csv'] } },
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, moduleScope(input.params.module, 'READ'));
        const exp = await services.moduleExports.exportModule(actor, input.params.module,
          { fields: listParam(request, 'fields'), criteria: input.query.criteria });
        return reply.header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', attachmentDisposition(`${exp.module.apiName}.csv`))
          .header('x-record-count', String(exp.count)).send(Readable.from(exp.csv()));
      },
    }),
  });
}
