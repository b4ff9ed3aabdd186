import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findModule } from '../../domain/modules.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { op, route } from '../route.ts';
import { Id, idParams, ModuleRef, NamedRef } from '../schemas.ts';
import { moduleRef } from '../views.ts';

const SharingType = z.enum(['private', 'public_read_only', 'public_read_write', 'public_read_write_delete']);
const DataSharing = z.object({ module: ModuleRef, type: SharingType, rule_computation_running: z.boolean(),
  public_in_portals: z.boolean(), share_to_territories: z.null() });
const Side = z.object({ resource: NamedRef, type: z.enum(['roles', 'roles_and_subordinates']) });
const Rule = z.object({ id: Id, name: z.string(), module: ModuleRef, type: z.literal('Record_Owner_Based'), shared_from: Side,
  shared_to: Side, permission_type: z.enum(['read_only', 'read_write', 'read_write_delete']), superiors_allowed: z.boolean() });
const RuleInput = z.looseObject({}).describe('{name, module: {api_name}, shared_from: {resource: {id: role id}, type: roles | '
  + 'roles_and_subordinates}, shared_to: {...}, permission_type: read_only | read_write | read_write_delete}');
const success = (key: string, item: z.ZodType) => z.object({ [key]: z.array(z.object({ code: z.literal('SUCCESS'), details: item,
  message: z.string(), status: z.literal('success') })) });

/**
 * Data sharing settings (Zoho's `/settings/data_sharing`) and owner-based sharing rules
 * (`/settings/sharing_rules`), for Administrators. Every change is audited as `sharing_updated`.
 */
export function sharingRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const withIds = <T extends { module: { api_name: string } }>(orgId: string, items: T[]) =>
    items.map((i) => ({ ...i, module: moduleRef(orgId, i.module.api_name)! }));

  route(app, '/settings/data_sharing', {
    GET: op({
      summary: 'Organisation-wide default access per module (Administrators)',
      responses: { 200: z.object({ data_sharing: z.array(DataSharing) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.data_sharing.READ');
        return { data_sharing: withIds(actor.orgId, await services.sharing.defaults(actor)) };
      },
    }),
    PUT: op({
      summary: 'Change modules\' default access (Administrators); audited as sharing_updated with old and new values',
      body: z.object({ data_sharing: z.array(z.looseObject({})).min(1).max(100) }),
      responses: { 200: success('data_sharing', DataSharing) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.data_sharing.UPDATE');
        const all = await services.sharing.updateDefaults(actor, input.body.data_sharing);
        const named = new Set(input.body.data_sharing.map((i) => {
          const m = i.module;
          return findModule(typeof m === 'string' ? m : String((m as { api_name?: unknown } | null)?.api_name))?.apiName;
        }));
        return { data_sharing: withIds(actor.orgId, all.filter((d) => named.has(d.module.api_name)))
          .map((details) => ({ code: 'SUCCESS' as const, details, message: 'data sharing updated successfully', status: 'success' as const })) };
      },
    }),
  });

  route(app, '/settings/sharing_rules', {
    GET: op({
      summary: 'Sharing rules, of one module with ?module= (Administrators)',
      query: z.object({ module: z.string().optional() }),
      responses: { 200: z.object({ sharing_rules: z.array(Rule) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.sharing_rules.READ');
        let module: string | undefined;
        if (input.query.module !== undefined) {
          module = findModule(input.query.module)?.apiName;
          if (!module) throw new AppError('INVALID_MODULE', 'the module name given seems to be invalid', { param_name: 'module' });
        }
        return { sharing_rules: withIds(actor.orgId, await services.sharing.rules(actor, module)) };
      },
    }),
    POST: op({
      summary: 'Share the records owned by one role (and its subordinates) with another role (Administrators); audited',
      body: z.object({ sharing_rules: z.array(RuleInput).min(1).max(1) }),
      responses: { 201: success('sharing_rules', Rule) },
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.sharing_rules.CREATE');
        const rule = await services.sharing.createRule(actor, input.body.sharing_rules[0]);
        reply.code(201);
        return { sharing_rules: [{ code: 'SUCCESS' as const, details: withIds(actor.orgId, [rule])[0], message: 'sharing rule created', status: 'success' as const }] };
      },
    }),
  });

  route(app, '/settings/sharing_rules/:id', {
    PUT: op({
      summary: 'Change a sharing rule (Administrators); audited',
      params: idParams,
      body: z.object({ sharing_rules: z.array(RuleInput).min(1).max(1) }),
      responses: { 200: success('sharing_rules', Rule) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.sharing_rules.UPDATE');
        const rule = await services.sharing.updateRule(actor, input.params.id, input.body.sharing_rules[0]);
        return { sharing_rules: [{ code: 'SUCCESS' as const, details: withIds(actor.orgId, [rule])[0], message: 'sharing rule updated', status: 'success' as const }] };
      },
    }),
    DELETE: op({
      summary: 'Remove a sharing rule (Administrators); audited',
      params: idParams,
      responses: { 200: success('sharing_rules', z.object({ id: Id })) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.sharing_rules.DELETE');
        const r = await services.sharing.deleteRule(actor, input.params.id);
        return { sharing_rules: [{ code: 'SUCCESS' as const, details: r, message: 'sharing rule deleted', status: 'success' as const }] };
      },
    }),
  });
}
