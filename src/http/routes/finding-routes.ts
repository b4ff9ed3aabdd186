import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../domain/errors.ts';
import { findingView, FINDING_KINDS, SEVERITIES, type FindingKind, type Severity } from '../../domain/findings.ts';
import { formatDateTime, parseDateTime } from '../../domain/time.ts';
import type { FindingTable } from '../../store/schema.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { op, route } from '../route.ts';
import { DateTime, Id, PathId } from '../schemas.ts';

const READ = 'ZohoCRM.settings.audit_logs.READ';
const UPDATE = 'ZohoCRM.settings.audit_logs.UPDATE';

const Finding = z.object({
  id: Id, kind: z.enum(FINDING_KINDS), severity: z.enum(SEVERITIES),
  user: z.object({ id: Id.nullable(), name: z.string() }).describe('whom the finding is about; id null for a burst over several users'),
  started_at: DateTime, ended_at: DateTime, explanation: z.string().describe('one sentence, with the numbers behind it'),
  entry_ids: z.array(Id).describe('the audit entries behind it (at most 1,000)'),
  acknowledgement: z.object({ by: z.object({ id: Id.nullable(), name: z.string() }), at: DateTime, note: z.string().nullable() }).nullable(),
});

const kindSettings = (shape: Record<string, z.ZodType>) => z.object({ enabled: z.boolean(), ...shape });
const int = z.number().int();
const Settings = z.object({
  failed_login_burst: kindSettings({ window_minutes: int, min_failures: int, high_failures: int }),
  mass_deletion: kindSettings({ gap_minutes: int, min_records: int, baseline_multiplier: int, baseline_days: int, min_baseline_days: int,
    high_multiplier: int }),
  data_leaving: kindSettings({ gap_minutes: int, min_records: int, min_exports: int, baseline_multiplier: int, baseline_days: int,
    min_baseline_days: int, high_multiplier: int }),
  permission_change: kindSettings({ gap_minutes: int }),
  off_hours: kindSettings({ baseline_days: int, min_history_days: int, rare_percent: int, min_actions: int, medium_actions: int,
    sensitive_actions: int, gap_minutes: int }),
  activity_burst: kindSettings({ gap_minutes: int, min_per_minute: int, baseline_multiplier: int, baseline_days: int, min_baseline_days: int,
    high_multiplier: int }),
}).describe('thresholds by finding kind (docs/findings.md)');

function view(f: FindingTable, tz: string) {
  return {
    ...findingView({ id: f.id, kind: f.kind as FindingKind, severity: f.severity as Severity, userId: f.user_id, userName: f.user_name,
      startedAt: Number(f.started_at), endedAt: Number(f.ended_at), explanation: f.explanation, entryIds: JSON.parse(f.entry_ids) as string[] }, tz),
    acknowledgement: f.acknowledged_at === null ? null : { by: { id: f.acknowledged_by, name: f.acknowledged_by_name ?? '' },
      at: formatDateTime(Number(f.acknowledged_at), tz), note: f.acknowledgement_note },
  };
}

const time = (value: string | undefined, name: string) => {
  if (value === undefined) return undefined;
  const ms = parseDateTime(value);
  if (ms === null) throw new AppError('INVALID_DATA', `${name} must be ISO 8601 with seconds and an offset`, { param_name: name });
  return ms;
};

/** `/api/v1/findings`: anomaly findings (docs/findings.md), their acknowledgement and their thresholds. */
export function findingRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;

  route(app, '/api/v1/findings', {
    GET: op({
      summary: 'Anomaly findings the caller may see (the audit log\'s rule), newest first, at most 1,000; audited as audit_log_viewed',
      query: z.object({
        from: z.string().optional().describe('findings that end at or after this time (ISO 8601)'),
        to: z.string().optional().describe('findings that start at or before this time (ISO 8601)'),
        kind: z.string().optional().describe(`comma-separated kinds: ${FINDING_KINDS.join(', ')}`),
        user: z.string().optional().describe('a user id: findings about this user'),
      }),
      responses: { 200: z.object({ findings: z.array(Finding) }) },
      handler: async (request, _reply, input) => {
        const { principal, actor } = await guard(services.oauth, request, READ);
        const q = input.query;
        const rows = await services.findings.list(actor, { from: time(q.from, 'from'), to: time(q.to, 'to'),
          kinds: q.kind?.split(',').map((k) => k.trim()).filter(Boolean), userId: q.user });
        return { findings: rows.map((f) => view(f, principal.org.time_zone)) };
      },
    }),
  });

  route(app, '/api/v1/findings/:id/acknowledge', {
    POST: op({
      summary: 'Acknowledge a finding (not one about yourself, unless an Administrator); audited as finding_acknowledged',
      params: z.object({ id: PathId }),
      body: z.object({ note: z.string().optional().describe('at most 1,000 characters') }).optional(),
      responses: { 200: z.object({ finding: Finding }) },
      handler: async (request, _reply, input) => {
        const { principal, actor } = await guard(services.oauth, request, UPDATE);
        const f = await services.findings.acknowledge(actor, input.params.id, input.body?.note);
        return { finding: view(f, principal.org.time_zone) };
      },
    }),
  });

  route(app, '/api/v1/findings/settings', {
    GET: op({
      summary: 'The detectors\' thresholds (Administrators)',
      responses: { 200: z.object({ settings: Settings }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { settings: await services.findings.readSettings(actor) };
      },
    }),
    PUT: op({
      summary: 'Change thresholds, `{"settings": {kind: {setting: value}}}` (Administrators); audited as org_updated',
      body: z.object({ settings: z.looseObject({}).describe('kinds to settings to values; the ones left out stay') }),
      responses: { 200: z.object({ settings: Settings }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, UPDATE);
        return { settings: await services.findings.updateSettings(actor, input.body.settings) };
      },
    }),
  });
}
