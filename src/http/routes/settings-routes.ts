import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { op, route } from '../route.ts';

const Preferences = z.object({ audit_log_window_days: z.number().int(), retention_years: z.number().int(), legal_hold: z.boolean(),
  recycle_bin_days: z.number().int(), api_requests_per_minute: z.number().int(), audit_record_views: z.array(z.string()) });

/**
 * `/settings/audit_log_preferences` (auditrail's own, in Zoho's shape): the organisation's audit
 * log window, retention, legal hold, recycle bin period and API limit. A change is audited as
 * `org_updated` under the user who made it, with old and new values.
 */
export function settingsRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;
  route(app, '/settings/audit_log_preferences', {
    GET: op({
      summary: 'The organisation\'s audit log preferences (Administrators)',
      responses: { 200: z.object({ audit_log_preferences: z.array(Preferences) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.READ');
        return { audit_log_preferences: [await services.directory.readOrgSettings(actor)] };
      },
    }),
    PUT: op({
      summary: 'Change the audit log preferences (Administrators); audited as org_updated with old and new values',
      body: z.object({ audit_log_preferences: z.array(z.looseObject({})).min(1).max(1) }),
      responses: { 200: z.object({ audit_log_preferences: z.array(z.object({ code: z.literal('SUCCESS'), details: Preferences,
        message: z.string(), status: z.literal('success') })) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, 'ZohoCRM.settings.UPDATE');
        const next = await services.directory.updateOrgSettings(actor, input.body.audit_log_preferences[0]);
        return { audit_log_preferences: [{ code: 'SUCCESS' as const, details: next, message: 'audit log preferences updated', status: 'success' as const }] };
      },
    }),
  });
}
