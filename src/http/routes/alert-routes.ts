import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { CONDITION_TYPES, FINDING_KINDS, MAX_ACTIONS, MAX_WEBHOOK_BATCH } from '../../domain/alert-rules.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { intParam, op, route } from '../route.ts';
import { DateTime, documented, Id, idParams } from '../schemas.ts';

/*
 * Alert rules, their deliveries and the console's notifications (auditrail's own API, issue #15).
 * Scopes: reading needs ZohoCRM.settings.audit_logs.READ; every change (create, update, delete,
 * test, retry) needs ZohoCRM.settings.audit_logs.CREATE (or .ALL), the scope that schedules an
 * audit-log export: a rule copies entries out of auditrail as an export does. On top, the
 * profile must grant the audit log (and, to change rules, exporting it); see alert-service.ts.
 */
const READ = 'ZohoCRM.settings.audit_logs.READ';
const WRITE = 'ZohoCRM.settings.audit_logs.CREATE';

const Ref = z.object({ id: Id, name: z.string().nullable() });
const Condition = z.object({ type: z.enum(CONDITION_TYPES), operator: z.enum(['is', 'is_not']), values: z.array(z.string()) });
const Action = z.union([
  z.object({ type: z.literal('email'), to: z.array(z.string()) }),
  z.object({ type: z.literal('webhook'), url: z.string(),
    batch_size: z.number().int().min(1).max(MAX_WEBHOOK_BATCH).optional().describe('up to this many entries a POST ("event": "alert.batch"); default 1') }),
  z.object({ type: z.literal('notification') }),
]);
const Rule = z.object({
  id: Id, name: z.string(), enabled: z.boolean(), conditions: z.array(Condition), actions: z.array(Action).max(MAX_ACTIONS),
  quiet_minutes: z.number().int().nullable(), has_webhook_secret: z.boolean(), owner: Ref.nullable(), created_time: DateTime,
  modified_time: DateTime, created_by: Ref.nullable(), modified_by: Ref.nullable(),
});
const RuleInput = z.object({
  name: z.string().describe('unique in the organisation, 1 to 100 characters'),
  enabled: z.boolean().optional().describe('default true'),
  conditions: z.array(Condition).describe(`all must hold; types: ${CONDITION_TYPES.join(', ')}; user, profile and role by id; `
    + `finding kinds: ${FINDING_KINDS.join(', ')}`),
  actions: z.array(Action).max(MAX_ACTIONS).describe(`at most ${MAX_ACTIONS} (a sixth: LIMIT_EXCEEDED)`),
  quiet_minutes: z.number().int().nullable().optional().describe('do not fire again for the same user within this many minutes'),
  webhook_secret: z.string().optional().describe('signs the webhooks; generated (and answered once) when not given'),
});
const Delivery = z.object({
  id: Id, rule: z.object({ id: Id, name: z.string() }), channel: z.enum(['email', 'webhook']), target: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']), attempts: z.number().int(), last_error: z.string().nullable(), entry_id: Id.nullable(),
  test: z.boolean(), created_time: DateTime, next_attempt_time: DateTime.nullable(), delivered_time: DateTime.nullable(),
  idempotency_key: z.string(),
});
const Notification = z.looseObject({ id: Id, rule: z.object({ id: Id, name: z.string() }), title: z.string(),
  entry: z.looseObject({ id: Id }).nullable(), link: z.string().nullable(), created_time: DateTime, read: z.boolean() });
const RuleWithSecret = z.object({ alert_rule: Rule, webhook_secret: z.string().optional()
  .describe('the generated signing secret: answered this once, never again') });

export function alertRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  const withSecret = (r: { rule: unknown; secret: string | null }) => ({ alert_rule: r.rule, ...(r.secret ? { webhook_secret: r.secret } : {}) });

  route(app, '/api/v1/alert-rules', {
    GET: op({
      summary: 'The alert rules the caller sees (Administrators: every rule; others: their own)',
      responses: { 200: z.object({ alert_rules: z.array(Rule) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { alert_rules: await services.alerts.listRules(actor) };
      },
    }),
    POST: op({
      summary: 'Create an alert rule (audited as alert_rule_created); answers the generated webhook secret once',
      body: documented(RuleInput),
      responses: { 201: RuleWithSecret },
      handler: async (request, reply, input) => {
        const { actor } = await guard(services.oauth, request, WRITE);
        return reply.code(201).send(withSecret(await services.alerts.createRule(actor, input.body)));
      },
    }),
  });

  route(app, '/api/v1/alert-rules/:id', {
    GET: op({
      summary: 'One alert rule',
      params: idParams,
      responses: { 200: z.object({ alert_rule: Rule }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { alert_rule: await services.alerts.getRule(actor, input.params.id) };
      },
    }),
    PATCH: op({
      summary: 'Change an alert rule: any of its fields (audited as alert_rule_updated with old and new values)',
      params: idParams,
      body: documented(RuleInput.partial()),
      responses: { 200: RuleWithSecret },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, WRITE);
        return withSecret(await services.alerts.updateRule(actor, input.params.id, input.body));
      },
    }),
    DELETE: op({
      summary: 'Delete an alert rule (audited as alert_rule_deleted); its pending deliveries end as dead',
      params: idParams,
      responses: { 200: z.object({ alert_rule: z.object({ id: Id }), status: z.literal('deleted') }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, WRITE);
        await services.alerts.deleteRule(actor, input.params.id);
        return { alert_rule: { id: input.params.id }, status: 'deleted' };
      },
    }),
  });

  route(app, '/api/v1/alert-rules/:id/test', {
    POST: op({
      summary: 'Send the rule\'s actions now, marked as a test, with the newest entry it matches (audited as alert_rule_tested)',
      params: idParams,
      responses: { 200: z.object({ sample_entry_id: Id.nullable(), alert_deliveries: z.array(Delivery) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, WRITE);
        const r = await services.alerts.testRule(actor, input.params.id);
        return { sample_entry_id: r.sampleEntryId, alert_deliveries: r.deliveries };
      },
    }),
  });

  route(app, '/api/v1/alert-deliveries', {
    GET: op({
      summary: 'Deliveries (emails and webhooks) of the rules the caller sees, newest first; status=dead is the dead-letter list',
      query: z.object({
        status: z.string().optional().describe('pending, delivered or dead'), rule_id: z.string().optional(),
        per_page: z.string().optional().describe('1 to 200 (default 100)'), before: z.string().optional().describe('the last id of the previous page'),
      }),
      responses: { 200: z.object({ alert_deliveries: z.array(Delivery), info: z.object({ more_records: z.boolean() }) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        const perPage = intParam(request, 'per_page', 1, 200, 100);
        const { status, rule_id: ruleId, before } = input.query;
        if (before !== undefined && !/^\d{1,19}$/.test(before)) throw new AppError('INVALID_DATA', 'before must be a delivery id', { param_name: 'before' });
        const r = await services.alerts.listDeliveries(actor, { status, ruleId, limit: perPage, beforeId: before });
        return { alert_deliveries: r.deliveries, info: { more_records: r.more } };
      },
    }),
  });

  route(app, '/api/v1/alert-deliveries/:id/retry', {
    POST: op({
      summary: 'Send a dead delivery again, now (audited as alert_delivery_retried)',
      params: idParams,
      responses: { 200: z.object({ alert_delivery: Delivery }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, WRITE);
        return { alert_delivery: await services.alerts.retryDelivery(actor, input.params.id) };
      },
    }),
  });

  route(app, '/api/v1/alert-notifications', {
    GET: op({
      summary: 'In-console notifications of the rules the caller sees, newest first, with the unread count',
      query: z.object({ unread: z.enum(['true', 'false']).optional(), per_page: z.string().optional().describe('1 to 200 (default 50)') }),
      responses: { 200: z.object({ unread: z.number().int(), notifications: z.array(Notification) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        return services.alerts.listNotifications(actor, { unread: input.query.unread === 'true', limit: intParam(request, 'per_page', 1, 200, 50) });
      },
    }),
  });

  route(app, '/api/v1/alert-notifications/read', {
    POST: op({
      summary: 'Mark notifications read: the ids given, or every one the caller sees with {"all": true}',
      body: documented(z.union([z.object({ ids: z.array(Id).min(1).max(200) }), z.object({ all: z.literal(true) })])),
      responses: { 200: z.object({ marked: z.number().int() }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { marked: await services.alerts.markNotificationsRead(actor, input.body) };
      },
    }),
  });
}
