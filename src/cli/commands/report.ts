import type { Runtime } from '../../services/runtime.ts';
import { systemActor, type Actor } from '../../services/context.ts';
import { activityCsv, type ActivityResult, type SavedReportView } from '../../services/report-service.ts';
import { formatDateTime } from '../../domain/time.ts';
import { resolveOrg } from '../org-option.ts';
import type { CliCommand } from '../command.ts';
import { CliError, out, say } from '../output.ts';

type Format = 'table' | 'csv' | 'json';
interface Common { org?: string; user?: string }
interface ActivityFlags extends Common {
  groupBy: string; range?: string; from?: string; to?: string; module?: string; action?: string; source?: string; doneBy?: string; limit?: string;
  format?: string;
}
interface CreateFlags extends Common {
  template?: string; name?: string; groupBy?: string; range?: string; module?: string; action?: string; source?: string;
  schedule?: string; time?: string; weekday?: string; dayOfMonth?: string; email?: string[]; webhook?: string; webhookSecret?: string;
}

/** The user a command acts as: `--user <email>`, or the first active Administrator. */
async function actorFor(rt: Runtime, opts: Common): Promise<Actor> {
  const org = await resolveOrg(rt, opts.org);
  const users = await rt.services.directory.listEveryUser(systemActor(org.id));
  const admins = await rt.services.directory.listUsers(systemActor(org.id), 'ActiveConfirmedAdmins');
  const user = opts.user ? users.find((u) => u.email === opts.user!.toLowerCase() && u.status === 'active') : admins[0];
  if (!user) throw new CliError(`no active user ${opts.user ?? 'with the Administrator profile'}`);
  return rt.services.directory.actorForUser(org.id, user.id, { source: 'api', userAgent: 'auditrail-cli' });
}

function format(v: string | undefined): Format {
  const f = v ?? 'table';
  if (f !== 'table' && f !== 'csv' && f !== 'json') throw new CliError('--format takes table, csv or json');
  return f;
}

/** Prints an activity report as an aligned table, CSV or the API's JSON. */
function printActivity(r: ActivityResult, f: Format) {
  if (f === 'json') {
    out(JSON.stringify({ rows: r.rows, info: { from: formatDateTime(r.from, r.timeZone), to: formatDateTime(r.to, r.timeZone),
      time_zone: r.timeZone, group_by: r.groupBy, more_rows: r.more } }, null, 2));
    return;
  }
  if (f === 'csv') {
    process.stdout.write(activityCsv(r.groupBy, r.rows).replace(/^\uFEFF/, ''));
    return;
  }
  const header = [...r.groupBy, 'count'];
  const lines = r.rows.map((row) => [...r.groupBy.map((k) => (k === 'done_by' ? row.done_by?.name ?? '' : String(row[k] ?? '(none)'))),
    String(row.count)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  out(line(header));
  for (const l of lines) out(line(l));
  say(`${r.rows.length} group${r.rows.length === 1 ? '' : 's'}${r.more ? ' (more exist: raise --limit)' : ''}, `
    + `${formatDateTime(r.from, r.timeZone)} to ${formatDateTime(r.to, r.timeZone)} (${r.timeZone})`);
}

/** `auditrail report activity`: the activity report, as the API computes it, audited as the API's read. */
export async function reportActivityCommand(rt: Runtime, o: ActivityFlags) {
  const f = format(o.format);
  const actor = await actorFor(rt, o);
  const params: Record<string, string> = { group_by: o.groupBy };
  const map: [keyof ActivityFlags, string][] = [['range', 'range'], ['from', 'from'], ['to', 'to'], ['module', 'module'], ['action', 'action'],
    ['source', 'source'], ['doneBy', 'done_by'], ['limit', 'limit']];
  for (const [flag, param] of map) if (o[flag] !== undefined) params[param] = String(o[flag]);
  printActivity(await rt.services.reports.activity(actor, params), f);
  return 0;
}

const describeReport = (v: SavedReportView, tz: string) => [v.row.id, v.row.name, v.ownerName,
  v.schedule ? `${v.schedule.frequency} ${v.schedule.time}` : 'not scheduled',
  v.nextRunAt ? `next ${formatDateTime(v.nextRunAt, tz)}` : '', v.runs?.[0] ? `last run ${v.runs[0].status}` : ''].join('\t');

export async function reportListCommand(rt: Runtime, o: Common) {
  const actor = await actorFor(rt, o);
  for (const v of await rt.services.reports.list(actor)) out(describeReport(v, actor.timeZone));
  return 0;
}

export async function reportCreateCommand(rt: Runtime, o: CreateFlags) {
  const actor = await actorFor(rt, o);
  let body: Record<string, unknown>;
  if (o.template) {
    body = { template: o.template, ...(o.name ? { name: o.name } : {}) };
  } else {
    if (!o.name || !o.groupBy) throw new CliError('give --template, or --name and --group-by');
    const query: Record<string, string> = { group_by: o.groupBy };
    for (const k of ['range', 'module', 'action', 'source'] as const) if (o[k]) query[k] = o[k]!;
    const schedule = o.schedule ? { frequency: o.schedule, time: o.time ?? '08:00', ...(o.weekday ? { weekday: Number(o.weekday) } : {}),
      ...(o.dayOfMonth ? { day_of_month: Number(o.dayOfMonth) } : {}) } : null;
    body = { name: o.name, query, schedule, delivery: { emails: o.email ?? [], webhook_url: o.webhook ?? null,
      ...(o.webhookSecret ? { webhook_secret: o.webhookSecret } : {}) } };
  }
  const v = await rt.services.reports.create(actor, body);
  out(describeReport(v, actor.timeZone));
  if (v.webhookSecret) say(`webhook secret (shown once, keep it to check X-Auditrail-Signature): ${v.webhookSecret}`);
  return 0;
}

export async function reportRunCommand(rt: Runtime, id: string, o: Common & { format?: string }) {
  const f = format(o.format);
  const actor = await actorFor(rt, o);
  printActivity(await rt.services.reports.runNow(actor, id), f);
  return 0;
}

export async function reportRunsCommand(rt: Runtime, id: string, o: Common) {
  const actor = await actorFor(rt, o);
  for (const r of await rt.services.reports.runs(actor, id)) {
    out([r.id, formatDateTime(Number(r.period_start), actor.timeZone), r.status, r.row_count ?? '', r.error ?? ''].join('\t'));
  }
  return 0;
}

export async function reportDeleteCommand(rt: Runtime, id: string, o: Common) {
  const actor = await actorFor(rt, o);
  await rt.services.reports.remove(actor, id);
  say(`deleted report ${id}`);
  return 0;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const command: CliCommand = {
  define(cmd, ctx) {
    const who = (c: ReturnType<typeof cmd.command>) => c.option('--user <email>', 'act as this user (default: the first Administrator)')
      .option('--org <id>');
    who(cmd.command('activity').description('counts of audit entries grouped by user, module, action, source, day, week, hour or weekday')
      .requiredOption('--group-by <keys>', 'comma-separated: done_by, module, action, source, day, week, hour, weekday (at most 3)')
      .option('--range <range>', 'today, yesterday, this_week, last_week, last_7_days, this_month, last_month, last_30_days')
      .option('--from <datetime>').option('--to <datetime>').option('--module <names>').option('--action <actions>')
      .option('--source <sources>').option('--done-by <ids>').option('--limit <n>')
      .option('--format <format>', 'table, csv or json', 'table'))
      .action(ctx.action((o: ActivityFlags) => ctx.withRuntime({ migrate: false }, (rt) => reportActivityCommand(rt, o))));
    who(cmd.command('list').description('saved reports with their schedules'))
      .action(ctx.action((o: Common) => ctx.withRuntime({ migrate: false }, (rt) => reportListCommand(rt, o))));
    who(cmd.command('create').description('save a report, or a built-in one (--template team_activity_this_week)')
      .option('--template <name>').option('--name <name>').option('--group-by <keys>').option('--range <range>')
      .option('--module <names>').option('--action <actions>').option('--source <sources>')
      .option('--schedule <frequency>', 'daily, weekly or monthly').option('--time <HH:MM>', 'in the organisation\'s time zone')
      .option('--weekday <1-7>').option('--day-of-month <1-28>')
      .option('--email <address>', 'deliver to this address (repeatable)', collect).option('--webhook <url>').option('--webhook-secret <secret>'))
      .action(ctx.action((o: CreateFlags) => ctx.withRuntime({ migrate: true }, (rt) => reportCreateCommand(rt, o))));
    who(cmd.command('run').argument('<id>').description('run a saved report now').option('--format <format>', 'table, csv or json', 'table'))
      .action(ctx.action((id: string, o: Common & { format?: string }) => ctx.withRuntime({ migrate: false }, (rt) => reportRunCommand(rt, id, o))));
    who(cmd.command('runs').argument('<id>').description('a saved report\'s scheduled runs'))
      .action(ctx.action((id: string, o: Common) => ctx.withRuntime({ migrate: false }, (rt) => reportRunsCommand(rt, id, o))));
    who(cmd.command('delete').argument('<id>').description('delete a saved report'))
      .action(ctx.action((id: string, o: Common) => ctx.withRuntime({ migrate: true }, (rt) => reportDeleteCommand(rt, id, o))));
  },
};
