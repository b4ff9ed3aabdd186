import { randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { fullName } from '../domain/display.ts';
import { newId } from '../domain/ids.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { formatDateTime } from '../domain/time.ts';
import type { FieldChange } from '../domain/audit.ts';
import {
  dayLabel, lastFireAt, nextFireAt, offsetSegments, parseActivityQuery, parseSavedReportInput, resolveRange, REPORT_TEMPLATES,
  type ActivityQuery, type Delivery, type GroupKey, type Schedule, type TemplateName,
} from '../domain/report.ts';
import type { ActivityGroup } from '../store/report-store.ts';
import type { JobTable, ReportRunTable, SavedReportTable } from '../store/schema.ts';
import type { BoundStore } from '../store/bound-store.ts';
import { auditReadActorIds, hasSetting, isAdministrator, requireSetting } from './authorization.ts';
import { bookkeeping, inTransaction, systemActor, type Actor, type ServiceDeps } from './context.ts';
import { serialiseFilters } from './audit-log-service.ts';
import { BOM, csvRow } from './csv.ts';
import type { JobContext } from './job-queue.ts';
import type { Mailer } from './mailer.ts';
import { checkWebhookUrl, sendWebhook } from './webhook-sender.ts';
import { queuedJob } from '../store/job-store.ts';

const DAY = 86_400_000;
/** A period whose firing was missed (no worker running) still runs if it is at most this old. */
const CATCH_UP_MS = DAY;
const MAX_REPORTS_PER_OWNER = 50;
const RUNS_SHOWN = 20;

/** One row of an activity report on the wire: a key per grouping, and the count. */
export interface ActivityRow {
  done_by?: { id: string | null; name: string; type: string };
  module?: string | null;
  action?: string;
  source?: string;
  day?: string;
  week?: string;
  hour?: number;
  weekday?: number;
  count: number;
}

export interface ActivityResult {
  rows: ActivityRow[];
  /** More groups matched than `limit`. */
  more: boolean;
  from: number;
  to: number;
  windowStart: number;
  timeZone: string;
  groupBy: GroupKey[];
}

export interface ReportServiceOptions {
  mailer: Mailer;
  webhookAllowHttp: boolean;
  /** The console's address, for links in emails. */
  publicUrl?: string;
  actorForUser: (orgId: string, userId: string) => Promise<Actor>;
}

export interface SavedReportView {
  row: SavedReportTable;
  ownerName: string;
  schedule: Schedule | null;
  delivery: Delivery;
  query: Record<string, string>;
  nextRunAt: number | null;
  runs?: ReportRunTable[];
  /** Set once, when the server generated the webhook secret. */
  webhookSecret?: string;
}

export interface Delivered { ok: boolean; error: string | null; to?: string[]; url?: string; status?: number | null; message_id?: string }
export interface RunDelivery { email?: Delivered; webhook?: Delivered }

/** The CSV of an activity report: a column per grouping (done_by as id and name), and count. */
export function activityCsv(groupBy: GroupKey[], rows: ActivityRow[]): string {
  const header = groupBy.flatMap((k) => (k === 'done_by' ? ['done_by_id', 'done_by_name'] : [k]));
  let out = BOM + csvRow([...header, 'count']);
  for (const r of rows) {
    out += csvRow([...groupBy.flatMap((k) => (k === 'done_by' ? [r.done_by?.id ?? '', r.done_by?.name ?? ''] : [r[k] ?? ''])), r.count]);
  }
  return out;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const cellText = (r: ActivityRow, k: GroupKey) => (k === 'done_by' ? r.done_by?.name ?? '' : String(r[k] ?? '(none)'));

/**
 * Activity reports over the audit log and saved reports with schedules. Every read goes
 * through the audit log's permission and visibility rule (authorization.ts auditReadActorIds)
 * and is audited as `audit_log_viewed` with the report in its details; saved reports' changes
 * are audited as report_created / report_updated / report_deleted. Scheduled runs are jobs,
 * one per report and period, computed with the owner's visibility at run time.
 */
export function createReportService(deps: ServiceDeps, opts: ReportServiceOptions) {
  const { store } = deps;

  /** The report's rows for an explicit span, under the actor's permission and visibility; not audited. */
  async function compute(actor: Actor, q: ActivityQuery, span: { from?: number; to?: number }): Promise<ActivityResult> {
    requireSetting(actor, 'audit_log');
    const org = await store.repos.directory.getOrg(actor.orgId);
    const settings = parseOrgSettings(org!.settings);
    const tz = org!.time_zone;
    const now = deps.clock();
    // The audit log API's window applies to reports too: they read the same log.
    const windowStart = now - settings.audit_log_window_days * DAY;
    const from = Math.max(span.from ?? windowStart, windowStart);
    const to = Math.min(span.to ?? now, now);
    const actorIds = await auditReadActorIds(store.repos, actor, q.filters.doneBy);
    const f = q.filters;
    const base = { rows: [] as ActivityRow[], more: false, from, to, windowStart, timeZone: tz, groupBy: q.groupBy };
    if (from > to) return base;
    const groups = await store.repos.reports.activity({
      orgId: actor.orgId, from, to, actorIds, actions: f.actions, modules: f.modules, sources: f.sources, recordId: f.recordId, ip: f.ip,
      recordName: f.recordName, batchId: f.batchId, groupBy: q.groupBy, offsets: offsetSegments(from, to, tz), limit: q.limit + 1,
    });
    const more = groups.length > q.limit;
    const names = q.groupBy.includes('done_by')
      ? new Map((await store.repos.directory.listUsers(actor.orgId)).map((u) => [u.id, fullName(u)])) : new Map<string, string>();
    return { ...base, more, rows: groups.slice(0, q.limit).map((g) => rowOf(g, q.groupBy, names)) };
  }

  function rowOf(g: ActivityGroup, groupBy: GroupKey[], names: Map<string, string>): ActivityRow {
    const row: ActivityRow = { count: g.count };
    for (const k of groupBy) {
      if (k === 'done_by') {
        row.done_by = { id: g.actorId ?? null, name: (g.actorId && names.get(g.actorId)) || g.actorName || '', type: g.actorType ?? 'user' };
      } else if (k === 'day' || k === 'week') row[k] = dayLabel(g[k]!);
      else if (k === 'hour' || k === 'weekday') row[k] = g[k]!;
      else row[k] = g[k] as string;
    }
    return row;
  }

  function spanOf(q: ActivityQuery, tz: string, at: number) {
    return q.range ? resolveRange(q.range, at, tz) : { from: q.filters.from, to: q.filters.to };
  }

  /** The read's audit entry, as the audit log's reads write theirs. */
  async function auditRead(actor: Actor, q: ActivityQuery, r: ActivityResult, report?: SavedReportTable) {
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'audit_log_viewed', module: 'audit_log', recordId: report?.id ?? null, recordName: report?.name ?? null,
        parentModule: null, parentId: null, batchId: null, fieldHistory: null,
        extra: { report: { kind: 'activity', group_by: q.groupBy, range: q.range, saved_report_id: report?.id },
          filters: { ...serialiseFilters({ ...q.filters, from: r.from, to: r.to }) }, returned: r.rows.length } });
    });
  }

  /**
   * The activity report (GET /api/v1/reports/activity): NO_PERMISSION without the audit log
   * permission; INVALID_DATA for bad parameters (parseActivityQuery) or a done_by outside the
   * organisation. Audited as audit_log_viewed with `report` in its details.
   */
  async function activity(actor: Actor, params: Record<string, unknown>): Promise<ActivityResult> {
    requireSetting(actor, 'audit_log');
    const q = parseActivityQuery(params);
    const r = await compute(actor, q, spanOf(q, actor.timeZone, deps.clock()));
    await auditRead(actor, q, r);
    return r;
  }

  /** Whose saved reports the actor may see and change: their own; administrators, everyone's. */
  const ownersOf = (actor: Actor): string[] | null => (isAdministrator(actor) ? null : actor.userId ? [actor.userId] : []);

  /** A saved report the actor may see; a missing, foreign or someone else's id answers alike. */
  async function visibleReport(actor: Actor, id: string): Promise<SavedReportTable> {
    requireSetting(actor, 'audit_log');
    const row = /^\d{1,19}$/.test(id) ? await store.repos.reports.get(actor.orgId, id) : undefined;
    const owners = ownersOf(actor);
    if (!row || (owners && !owners.includes(row.owner_id))) {
      throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 0 });
    }
    return row;
  }

  async function viewOf(row: SavedReportTable, tz: string, runs?: ReportRunTable[], webhookSecret?: string): Promise<SavedReportView> {
    const schedule = row.schedule ? JSON.parse(row.schedule) as Schedule : null;
    const owner = await store.repos.directory.getUser(row.org_id, row.owner_id);
    return { row, ownerName: owner ? fullName(owner) : '', schedule, delivery: JSON.parse(row.delivery) as Delivery, query: JSON.parse(row.query) as Record<string, string>,
      nextRunAt: schedule ? nextFireAt(schedule, deps.clock(), tz) : null, runs, webhookSecret };
  }

  async function list(actor: Actor): Promise<SavedReportView[]> {
    requireSetting(actor, 'audit_log');
    const rows = await store.repos.reports.list(actor.orgId, ownersOf(actor));
    return Promise.all(rows.map(async (r) => viewOf(r, actor.timeZone, await store.repos.reports.runs(actor.orgId, r.id, 5))));
  }

  async function get(actor: Actor, id: string): Promise<SavedReportView> {
    const row = await visibleReport(actor, id);
    return viewOf(row, actor.timeZone, await store.repos.reports.runs(actor.orgId, row.id, RUNS_SHOWN));
  }

  function checkDelivery(d: Delivery) {
    if (d.webhook_url) checkWebhookUrl(d.webhook_url, opts.webhookAllowHttp, 'delivery.webhook_url');
  }

  const auditedFields = (row: SavedReportTable) => ({ name: row.name, query: row.query, schedule: row.schedule, delivery: row.delivery });

  /**
   * Saves a report for the actor, from a body (parseSavedReportInput) or a built-in template
   * (`{"template": "team_activity_this_week"}`, emailed to the owner when SMTP is set up).
   * NO_PERMISSION without the audit log permission; INVALID_DATA for a bad body or webhook URL;
   * LIMIT_EXCEEDED past 50 reports per owner. Audited as report_created.
   */
  async function create(actor: Actor, body: unknown): Promise<SavedReportView> {
    requireSetting(actor, 'audit_log');
    if (!actor.userId) throw new AppError('NOT_ALLOWED', 'a saved report belongs to a user', {});
    const b = (body ?? {}) as Record<string, unknown>;
    let input;
    if (b && typeof b === 'object' && 'template' in b) {
      const name = b.template;
      if (typeof name !== 'string' || !(name in REPORT_TEMPLATES)) {
        throw new AppError('INVALID_DATA', 'unknown template', { api_name: 'template', json_path: '$.template', supported_values: Object.keys(REPORT_TEMPLATES) });
      }
      const t = REPORT_TEMPLATES[name as TemplateName];
      const owner = await store.repos.directory.getUser(actor.orgId, actor.userId);
      input = parseSavedReportInput({ name: typeof b.name === 'string' ? b.name : t.name, query: t.query, schedule: t.schedule,
        delivery: { emails: opts.mailer.configured && owner ? [owner.email] : [] } }, false);
    } else {
      input = parseSavedReportInput(body, false);
    }
    checkDelivery(input.delivery);
    const existing = await store.repos.reports.list(actor.orgId, [actor.userId]);
    if (existing.length >= MAX_REPORTS_PER_OWNER) {
      throw new AppError('LIMIT_EXCEEDED', `at most ${MAX_REPORTS_PER_OWNER} saved reports per user`, { limit: MAX_REPORTS_PER_OWNER });
    }
    const generated = input.delivery.webhook_url && !input.webhookSecret ? randomBytes(24).toString('base64url') : undefined;
    const saved = await inTransaction(deps, actor, async (tx) => {
      const row: SavedReportTable = {
        id: newId(tx.now), org_id: actor.orgId, owner_id: actor.userId!, name: input.name, query: JSON.stringify(input.query),
        schedule: input.schedule ? JSON.stringify(input.schedule) : null, schedule_set_at: input.schedule ? tx.now : null,
        delivery: JSON.stringify(input.delivery), webhook_secret: input.webhookSecret ?? generated ?? null, created_at: tx.now, updated_at: tx.now,
      };
      await tx.store.reports.insert(row);
      tx.audit({ action: 'report_created', module: 'reports', recordId: row.id, recordName: row.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null,
        extra: { query: input.query, schedule: input.schedule, delivery: input.delivery, template: typeof b.template === 'string' ? b.template : undefined } });
      return row;
    });
    return viewOf(saved, actor.timeZone, [], generated);
  }

  /**
   * Changes a saved report (name, query, schedule, delivery). A new schedule counts from now: no
   * period that fired before the change runs. Audited as report_updated with the changes.
   */
  async function update(actor: Actor, id: string, body: unknown): Promise<SavedReportView> {
    const before = await visibleReport(actor, id);
    const input = parseSavedReportInput(body, true);
    if (input.delivery) checkDelivery(input.delivery);
    const { after, generated } = await inTransaction(deps, actor, async (tx) => {
      const current = await tx.store.reports.get(actor.orgId, before.id);
      if (!current) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 0 });
      const patch: Partial<SavedReportTable> = { updated_at: tx.now };
      if (input.name !== undefined) patch.name = input.name;
      if (input.query !== undefined) patch.query = JSON.stringify(input.query);
      if (input.schedule !== undefined) {
        patch.schedule = input.schedule ? JSON.stringify(input.schedule) : null;
        if (patch.schedule !== current.schedule) patch.schedule_set_at = input.schedule ? tx.now : null;
      }
      let generated: string | undefined;
      if (input.delivery !== undefined) {
        patch.delivery = JSON.stringify(input.delivery);
        if (input.webhookSecret) patch.webhook_secret = input.webhookSecret;
        else if (input.delivery.webhook_url && !current.webhook_secret) patch.webhook_secret = generated = randomBytes(24).toString('base64url');
        else if (!input.delivery.webhook_url) patch.webhook_secret = null;
      }
      const after = { ...current, ...patch };
      const changes: FieldChange[] = Object.entries(auditedFields(current))
        .filter(([k, v]) => auditedFields(after)[k as keyof ReturnType<typeof auditedFields>] !== v)
        .map(([k, v]) => ({ api_name: k, field_label: k, old: v, new: auditedFields(after)[k as keyof ReturnType<typeof auditedFields>] }));
      if (input.webhookSecret) changes.push({ api_name: 'webhook_secret', field_label: 'webhook_secret', old: '(hidden)', new: '(changed)' });
      await tx.store.reports.update(actor.orgId, current.id, patch);
      tx.audit({ action: 'report_updated', module: 'reports', recordId: current.id, recordName: after.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: changes, extra: { owner_id: current.owner_id } });
      return { after, generated };
    });
    return viewOf(after, actor.timeZone, undefined, generated);
  }

  /** Deletes a saved report and its runs; audited as report_deleted. */
  async function remove(actor: Actor, id: string): Promise<{ id: string }> {
    const row = await visibleReport(actor, id);
    await inTransaction(deps, actor, async (tx) => {
      await tx.store.reports.deleteRuns(actor.orgId, row.id);
      await tx.store.reports.delete(actor.orgId, row.id);
      tx.audit({ action: 'report_deleted', module: 'reports', recordId: row.id, recordName: row.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { owner_id: row.owner_id, ...auditedFields(row) } });
    });
    return { id: row.id };
  }

  /** Runs a saved report now for the caller (their own visibility), audited as a read. */
  async function runNow(actor: Actor, id: string): Promise<ActivityResult & { report: SavedReportTable }> {
    const report = await visibleReport(actor, id);
    const q = parseActivityQuery(JSON.parse(report.query));
    const r = await compute(actor, q, spanOf(q, actor.timeZone, deps.clock()));
    await auditRead(actor, q, r, report);
    return { ...r, report };
  }

  async function runs(actor: Actor, id: string): Promise<ReportRunTable[]> {
    const report = await visibleReport(actor, id);
    return store.repos.reports.runs(actor.orgId, report.id, RUNS_SHOWN);
  }

  // -------------------------------------------------------------------------------------------
  // Schedules.

  /** The job id of a report's run for one period: every worker computes the same one. */
  const runJobId = (reportId: string, periodStart: number) => `report_run:${reportId}@${new Date(periodStart).toISOString()}`;

  /**
   * Queues the run of every scheduled report whose latest firing (croner, in the organisation's
   * time zone) has no job yet: one job per report and period, inserted once however many
   * workers ask. A firing before the schedule was set, or older than a day, is not run.
   */
  async function queueDueRuns(): Promise<number> {
    const now = deps.clock();
    let queued = 0;
    for (const org of await store.repos.directory.listOrgs()) {
      for (const r of await store.repos.reports.scheduled(org.id)) {
        const schedule = JSON.parse(r.schedule!) as Schedule;
        const fire = lastFireAt(schedule, now, org.time_zone);
        if (fire === null || fire < (r.schedule_set_at ?? Infinity) || fire < now - CATCH_UP_MS) continue;
        const id = runJobId(r.id, fire);
        if (await store.repos.jobs.get(id)) continue;
        await bookkeeping(deps, 'queueing a scheduled report run (the run itself is audited)', (s) =>
          s.jobs.insertOnce(queuedJob(id, org.id, 'report_run', JSON.stringify({ report_id: r.id, period_start: fire }), 5, now)));
        queued++;
      }
    }
    return queued;
  }

  async function deliver(report: SavedReportTable, run: ReportRunTable, r: ActivityResult, previous: RunDelivery): Promise<RunDelivery> {
    const delivery = JSON.parse(report.delivery) as Delivery;
    const out: RunDelivery = { ...previous };
    const tz = r.timeZone;
    const period = `${formatDateTime(r.from, tz).slice(0, 16).replace('T', ' ')} to ${formatDateTime(r.to, tz).slice(0, 16).replace('T', ' ')}`;
    if (delivery.emails.length && !previous.email?.ok) {
      try {
        const total = r.rows.reduce((n, x) => n + x.count, 0);
        const head = r.groupBy.map((k) => `<th scope="col">${escapeHtml(k)}</th>`).join('');
        const body = r.rows.slice(0, 20).map((x) => `<tr>${r.groupBy.map((k) => `<td>${escapeHtml(cellText(x, k))}</td>`).join('')}<td>${x.count}</td></tr>`).join('');
        const link = opts.publicUrl ? `<p><a href="${escapeHtml(`${opts.publicUrl}/reports`)}">Open Reports in auditrail</a></p>` : '';
        const html = `<h1>${escapeHtml(report.name)}</h1><p>${escapeHtml(period)} (${escapeHtml(tz)}): ${total} entries in ${r.rows.length} groups`
          + `${r.more ? ' (more groups than shown in the CSV limit)' : ''}.</p>`
          + `<table border="1" cellpadding="4"><thead><tr>${head}<th scope="col">count</th></tr></thead><tbody>${body}</tbody></table>`
          + `${r.rows.length > 20 ? '<p>The attached CSV holds every row.</p>' : ''}${link}`;
        const id = await opts.mailer.send({
          to: delivery.emails, subject: `auditrail report: ${report.name} (${period})`,
          text: `${report.name}\n${period} (${tz}): ${total} entries in ${r.rows.length} groups. The CSV is attached.`,
          html, attachments: [{ filename: `${report.name.replace(/[^\w.-]+/g, '-')}-${formatDateTime(run.period_start, tz).slice(0, 10)}.csv`,
            content: activityCsv(r.groupBy, r.rows), contentType: 'text/csv; charset=utf-8' }],
        });
        out.email = { ok: true, error: null, to: delivery.emails, message_id: id };
      } catch (e) {
        out.email = { ok: false, error: e instanceof AppError ? e.message : `the mail server refused or could not be reached (${(e as Error).message})`, to: delivery.emails };
      }
    }
    if (delivery.webhook_url && !previous.webhook?.ok) {
      const res = await sendWebhook({
        url: delivery.webhook_url, secret: report.webhook_secret ?? '', event: 'report.run', idempotencyKey: run.id,
        body: { event: 'report.run', delivered_at: formatDateTime(deps.clock(), tz), report: { id: report.id, name: report.name },
          run: { id: run.id, period_start: formatDateTime(run.period_start, tz), from: formatDateTime(r.from, tz), to: formatDateTime(r.to, tz),
            time_zone: tz }, group_by: r.groupBy, rows: r.rows, more: r.more },
      });
      out.webhook = { ok: res.ok, error: res.error, status: res.status, url: delivery.webhook_url };
    }
    return out;
  }

  /**
   * Runs one scheduled period (job `report_run`): computes the report with its owner's
   * visibility at run time (an owner no longer active, or without the audit log permission,
   * gets a skipped run and nothing is sent), delivers it by email (CSV attached, HTML summary)
   * and signed webhook, and records the run. A repeated attempt resends only the channels that
   * failed; the period's run row is one, whatever the attempts.
   */
  async function runScheduled(job: JobTable, ctx: JobContext): Promise<unknown> {
    const { report_id: reportId, period_start: periodStart } = JSON.parse(job.payload) as { report_id: string; period_start: number };
    const report = await store.repos.reports.get(job.org_id, reportId);
    if (!report) return { skipped: 'the report was deleted' };
    const org = (await store.repos.directory.getOrg(job.org_id))!;
    const tz = org.time_zone;
    const q = parseActivityQuery(JSON.parse(report.query));
    const span = spanOf(q, tz, periodStart);
    ctx.holdLease();
    const run = await bookkeeping(deps, 'a scheduled report run starts (its outcome is audited)', (s) => s.reports.insertRunOnce({
      id: newId(deps.clock()), org_id: job.org_id, report_id: report.id, period_start: periodStart, range_from: span.from ?? 0,
      range_to: span.to ?? periodStart, status: 'running', row_count: null, delivery: '{}', error: null, started_at: deps.clock(), finished_at: null,
    }));
    if (run.status === 'delivered' || run.status === 'skipped') return { run_id: run.id, status: run.status };
    const owner = await opts.actorForUser(job.org_id, report.owner_id).catch(() => null);
    const ownerRow = await store.repos.directory.getUser(job.org_id, report.owner_id);
    const refusal = !owner || !ownerRow || ownerRow.status !== 'active' ? 'the report\'s owner is no longer an active user'
      : !hasSetting(owner, 'audit_log') ? 'the report\'s owner no longer has the audit log permission' : null;
    const system = systemActor(job.org_id, 'Scheduled report', tz);
    const finish = (patch: Partial<ReportRunTable>, extra: Record<string, unknown>) => inTransaction(deps, system, async (tx) => {
      ctx.holdLease();
      await tx.store.reports.updateRun(job.org_id, run.id, { ...patch, finished_at: tx.now });
      tx.audit({ action: 'audit_log_viewed', module: 'audit_log', recordId: report.id, recordName: report.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null,
        extra: { report: { kind: 'activity', scheduled: true, saved_report_id: report.id, owner_id: report.owner_id, run_id: run.id,
          period_start: new Date(periodStart).toISOString() }, ...extra } });
      await ctx.complete(tx.store as unknown as BoundStore, { run_id: run.id, status: patch.status });
    });
    if (refusal) {
      await finish({ status: 'skipped', error: refusal, row_count: 0 }, { skipped: refusal });
      return { run_id: run.id, status: 'skipped' };
    }
    const r = await compute(owner!, q, span);
    await ctx.progress(0, null);
    const delivery = await deliver(report, run, r, JSON.parse(run.delivery) as RunDelivery);
    const failed = Object.values(delivery).filter((d) => d && !d.ok).map((d) => d!.error).join('; ');
    ctx.holdLease();
    if (failed && job.attempts < job.max_attempts) {
      await bookkeeping(deps, 'a scheduled report run will be retried (its outcome is audited)', (s) =>
        s.reports.updateRun(job.org_id, run.id, { status: 'retrying', delivery: JSON.stringify(delivery), error: failed, row_count: r.rows.length }));
      throw new AppError('NOT_ALLOWED', `delivery failed, to be retried: ${failed}`);
    }
    await finish({ status: failed ? 'failed' : 'delivered', delivery: JSON.stringify(delivery), error: failed || null, row_count: r.rows.length,
      range_from: r.from, range_to: r.to },
    { returned: r.rows.length, delivered_to: { emails: delivery.email?.to, webhook_url: delivery.webhook?.url } });
    return { run_id: run.id, status: failed ? 'failed' : 'delivered' };
  }

  /** Marks the run of a job that failed for good (in the job's failing transaction). */
  async function markRunFailed(s: BoundStore, job: JobTable) {
    const { report_id: reportId, period_start: periodStart } = JSON.parse(job.payload) as { report_id: string; period_start: number };
    const [run] = (await s.reports.runs(job.org_id, reportId, 1000)).filter((x) => Number(x.period_start) === periodStart);
    if (run && run.status !== 'delivered') {
      await s.reports.updateRun(job.org_id, run.id, { status: 'failed', error: run.error ?? job.error ?? 'the run failed', finished_at: deps.clock() });
    }
  }

  /** The built-in reports (REPORT_TEMPLATES), for whoever may save reports. */
  function templates(actor: Actor) {
    requireSetting(actor, 'audit_log');
    return Object.entries(REPORT_TEMPLATES).map(([name, t]) => ({ name, title: t.name, description: t.description, query: t.query, schedule: t.schedule }));
  }

  return { activity, templates, list, get, create, update, remove, runNow, runs, queueDueRuns, runScheduled, markRunFailed };
}

export type ReportService = ReturnType<typeof createReportService>;
