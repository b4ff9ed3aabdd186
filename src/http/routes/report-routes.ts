import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { GROUP_KEYS, RELATIVE_RANGES, REPORT_TEMPLATES } from '../../domain/report.ts';
import { formatDateTime } from '../../domain/time.ts';
import type { ActivityResult, SavedReportView } from '../../services/report-service.ts';
import type { ReportRunTable } from '../../store/schema.ts';
import { guard } from '../auth.ts';
import type { HttpDeps } from '../app.ts';
import { op, route } from '../route.ts';
import { DateTime, Id, idParams } from '../schemas.ts';

const READ = 'ZohoCRM.settings.audit_logs.READ';
/** Saving, changing and deleting reports; a console session has it with the audit log permission. */
const MANAGE = 'ZohoCRM.settings.audit_logs.UPDATE';

const csv = (what: string) => z.string().optional().describe(`comma-separated ${what}`);
/** Checked by parseActivityQuery (which reuses the audit log's parser), with Zoho-shaped errors. */
const ActivityQuery = z.looseObject({
  group_by: z.string().describe(`comma-separated, 1 to 3 of: ${GROUP_KEYS.join(', ')}`),
  range: z.string().optional().describe(`instead of from/to, in the organisation's time zone: ${RELATIVE_RANGES.join(', ')}`),
  from: DateTime.optional(), to: DateTime.optional(), limit: z.string().optional().describe('at most this many groups (1 to 10000, default 1000)'),
  done_by: csv('user ids'), action: csv('actions'), module: csv('module api_names'), source: csv('sources'), record_id: Id.optional(),
  ip: z.string().optional(), record_name: z.string().optional(), batch_id: Id.optional(),
});
const ActivityRow = z.looseObject({
  done_by: z.looseObject({ id: z.string().nullable(), name: z.string(), type: z.string() }).optional(),
  module: z.string().nullable().optional(), action: z.string().optional(), source: z.string().optional(),
  day: z.string().optional().describe('YYYY-MM-DD, in the organisation\'s time zone'),
  week: z.string().optional().describe('the Monday starting the week, YYYY-MM-DD'),
  hour: z.number().int().optional().describe('0 to 23, local'), weekday: z.number().int().optional().describe('1 (Monday) to 7 (Sunday)'),
  count: z.number().int(),
});
const ActivityInfo = z.looseObject({ from: DateTime, to: DateTime, time_zone: z.string(), window_start: DateTime,
  group_by: z.array(z.string()), more_rows: z.boolean() });
const Schedule = z.looseObject({ frequency: z.enum(['daily', 'weekly', 'monthly']), time: z.string().describe('HH:MM in the organisation\'s time zone'),
  weekday: z.number().int().optional(), day_of_month: z.number().int().optional() });
const Run = z.looseObject({ id: Id, period_start: DateTime, from: DateTime, to: DateTime,
  status: z.enum(['running', 'retrying', 'delivered', 'failed', 'skipped']), row_count: z.number().int().nullable(),
  delivery: z.record(z.string(), z.unknown()), error: z.string().nullable(), started_time: DateTime, finished_time: DateTime.nullable() });
const SavedReport = z.looseObject({
  id: Id, name: z.string(), owner: z.looseObject({ id: Id, name: z.string() }), query: z.record(z.string(), z.string()),
  schedule: Schedule.nullable(), next_run_time: DateTime.nullable(),
  delivery: z.looseObject({ emails: z.array(z.string()), webhook_url: z.string().nullable(), webhook_secret_set: z.boolean() }),
  webhook_secret: z.string().optional().describe('only in the answer that generated it: keep it, it is not shown again'),
  created_time: DateTime, modified_time: DateTime, runs: z.array(Run).optional(),
});
const ReportBody = z.looseObject({
  name: z.string().optional(), query: z.record(z.string(), z.unknown()).optional().describe('the activity report\'s parameters, with range (not from/to)'),
  schedule: Schedule.nullable().optional(),
  delivery: z.looseObject({ emails: z.array(z.string()).optional(), webhook_url: z.string().nullable().optional(), webhook_secret: z.string().optional() }).optional(),
  template: z.string().optional().describe(`instead of the rest: ${Object.keys(REPORT_TEMPLATES).join(', ')}`),
});

export const activityView = (r: ActivityResult) => ({
  rows: r.rows,
  info: { from: formatDateTime(r.from, r.timeZone), to: formatDateTime(r.to, r.timeZone), time_zone: r.timeZone,
    window_start: formatDateTime(r.windowStart, r.timeZone), group_by: r.groupBy, more_rows: r.more },
});

const runView = (r: ReportRunTable, tz: string) => ({
  id: r.id, period_start: formatDateTime(Number(r.period_start), tz), from: formatDateTime(Number(r.range_from), tz),
  to: formatDateTime(Number(r.range_to), tz), status: r.status, row_count: r.row_count === null ? null : Number(r.row_count),
  delivery: JSON.parse(r.delivery) as Record<string, unknown>, error: r.error, started_time: formatDateTime(Number(r.started_at), tz),
  finished_time: r.finished_at === null ? null : formatDateTime(Number(r.finished_at), tz),
});

const reportView = (v: SavedReportView, tz: string) => ({
  id: v.row.id, name: v.row.name, owner: { id: v.row.owner_id, name: v.ownerName }, query: v.query, schedule: v.schedule,
  next_run_time: v.nextRunAt === null ? null : formatDateTime(v.nextRunAt, tz),
  delivery: { emails: v.delivery.emails, webhook_url: v.delivery.webhook_url, webhook_secret_set: v.row.webhook_secret !== null },
  ...(v.webhookSecret ? { webhook_secret: v.webhookSecret } : {}),
  created_time: formatDateTime(Number(v.row.created_at), tz), modified_time: formatDateTime(Number(v.row.updated_at), tz),
  ...(v.runs ? { runs: v.runs.map((r) => runView(r, tz)) } : {}),
});

/**
 * Reports (auditrail's own, under /api/v1): the activity report, built-in templates, saved
 * reports with schedules, and their runs. Reading needs the audit log scope and permission;
 * saving needs `ZohoCRM.settings.audit_logs.UPDATE` (or a wider scope) and the same permission.
 */
export function reportRoutes(app: FastifyInstance, deps: HttpDeps) {
  const { services } = deps;

  route(app, '/api/v1/reports/activity', {
    GET: op({
      summary: 'Counts of audit entries grouped by user, module, action, source, day, week, hour or weekday (organisation time zone), '
        + 'under the audit log\'s filters and visibility; audited as audit_log_viewed',
      query: ActivityQuery,
      responses: { 200: z.object({ rows: z.array(ActivityRow), info: ActivityInfo }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, READ);
        return activityView(await services.reports.activity(actor, request.query as Record<string, unknown>));
      },
    }),
  });

  route(app, '/api/v1/reports/templates', {
    GET: op({
      summary: 'Built-in reports, each saved in one call with POST /api/v1/reports {"template": name}',
      responses: { 200: z.object({ templates: z.array(z.looseObject({ name: z.string(), title: z.string(), description: z.string(),
        query: z.record(z.string(), z.string()), schedule: Schedule })) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { templates: services.reports.templates(actor) };
      },
    }),
  });

  route(app, '/api/v1/reports', {
    GET: op({
      summary: 'The caller\'s saved reports (an Administrator\'s: everyone\'s), with their latest runs',
      responses: { 200: z.object({ reports: z.array(SavedReport) }) },
      handler: async (request) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { reports: (await services.reports.list(actor)).map((v) => reportView(v, actor.timeZone)) };
      },
    }),
    POST: op({
      summary: 'Save a report (name, query, optional schedule and delivery), or a built-in one by template; audited as report_created',
      body: ReportBody,
      responses: { 201: z.object({ report: SavedReport }) },
      handler: async (request, reply) => {
        const { actor } = await guard(services.oauth, request, MANAGE);
        const view = await services.reports.create(actor, request.body);
        return reply.code(201).send({ report: reportView(view, actor.timeZone) });
      },
    }),
  });

  route(app, '/api/v1/reports/:id', {
    GET: op({
      summary: 'One saved report with its recent runs',
      params: idParams,
      responses: { 200: z.object({ report: SavedReport }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { report: reportView(await services.reports.get(actor, input.params.id), actor.timeZone) };
      },
    }),
    PATCH: op({
      summary: 'Change a saved report (any of name, query, schedule, delivery); audited as report_updated with the changes',
      params: idParams,
      body: ReportBody,
      responses: { 200: z.object({ report: SavedReport }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, MANAGE);
        return { report: reportView(await services.reports.update(actor, input.params.id, request.body), actor.timeZone) };
      },
    }),
    DELETE: op({
      summary: 'Delete a saved report and its runs; audited as report_deleted',
      params: idParams,
      responses: { 200: z.object({ report: z.object({ id: Id }) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, MANAGE);
        return { report: await services.reports.remove(actor, input.params.id) };
      },
    }),
  });

  route(app, '/api/v1/reports/:id/run', {
    POST: op({
      summary: 'Run a saved report now, with the caller\'s visibility (nothing is sent); audited as audit_log_viewed',
      params: idParams,
      responses: { 200: z.object({ rows: z.array(ActivityRow), info: ActivityInfo, report: z.looseObject({ id: Id, name: z.string() }) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        const r = await services.reports.runNow(actor, input.params.id);
        return { ...activityView(r), report: { id: r.report.id, name: r.report.name } };
      },
    }),
  });

  route(app, '/api/v1/reports/:id/runs', {
    GET: op({
      summary: 'The scheduled runs of a saved report, newest first: period, status, rows, what each channel answered',
      params: idParams,
      responses: { 200: z.object({ runs: z.array(Run) }) },
      handler: async (request, _reply, input) => {
        const { actor } = await guard(services.oauth, request, READ);
        return { runs: (await services.reports.runs(actor, input.params.id)).map((r) => runView(r, actor.timeZone)) };
      },
    }),
  });
}
