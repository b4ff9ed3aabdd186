import { cliActorName } from '../cli-actor.ts';
import type { Runtime } from '../../services/runtime.ts';
import { systemActor } from '../../services/context.ts';
import type { CliCommand } from '../command.ts';
import { resolveOrg } from '../org-option.ts';
import { CliError, out, say } from '../output.ts';

/** `auditrail org create`: a new organisation with its first Administrator. */
export async function orgCreateCommand(rt: Runtime, opts: { name: string; adminEmail: string; timeZone?: string; json?: boolean }) {
  const r = await rt.services.directory.createOrganisation({ name: opts.name, adminEmail: opts.adminEmail, timeZone: opts.timeZone });
  if (opts.json) {
    out(JSON.stringify({ org_id: r.org.id, admin_email: r.admin.email, admin_password: r.password }));
  } else {
    out(`organisation ${r.org.name} (${r.org.id}) created`);
    out(`administrator: ${r.admin.email}  password: ${r.password}`);
    say(`API credentials: npx auditrail client create --org ${r.org.id}`);
  }
  return 0;
}

export async function orgListCommand(rt: Runtime) {
  for (const o of await rt.services.directory.listOrgs()) out(`${o.id}\t${o.name}\t${o.time_zone}`);
  return 0;
}

interface SettingsFlags { org?: string; auditLogWindowDays?: string; retentionYears?: string; legalHold?: string;
  recycleBinDays?: string; apiRequestsPerMinute?: string; auditRecordViews?: string }

/** Whether `org settings` was asked to change anything (otherwise it only reads). */
const changesSettings = (o: SettingsFlags) =>
  [o.auditLogWindowDays, o.retentionYears, o.legalHold, o.recycleBinDays, o.apiRequestsPerMinute, o.auditRecordViews].some((v) => v !== undefined);

/** `auditrail org settings`: show or change the audit log window, retention, legal hold, bin period, API rate limit. */
export async function orgSettingsCommand(rt: Runtime, opts: SettingsFlags) {
  const org = await resolveOrg(rt, opts.org);
  const num = (v: string | undefined, name: string) => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new CliError(`--${name} must be a whole number`);
    return Number(v);
  };
  let legalHold: boolean | undefined;
  if (opts.legalHold !== undefined) {
    if (!['on', 'off'].includes(opts.legalHold)) throw new CliError('--legal-hold takes on or off');
    legalHold = opts.legalHold === 'on';
  }
  const patch = {
    audit_log_window_days: num(opts.auditLogWindowDays, 'audit-log-window-days'),
    retention_years: num(opts.retentionYears, 'retention-years'),
    recycle_bin_days: num(opts.recycleBinDays, 'recycle-bin-days'),
    api_requests_per_minute: num(opts.apiRequestsPerMinute, 'api-requests-per-minute'),
    legal_hold: legalHold,
    audit_record_views: opts.auditRecordViews === undefined ? undefined : opts.auditRecordViews.split(',').map((m) => m.trim()).filter(Boolean),
  };
  const actor = { ...systemActor(org.id, cliActorName(), org.time_zone), userAgent: 'auditrail-cli' };
  const settings = changesSettings(opts)
    ? await rt.services.directory.updateOrgSettings(actor, patch)
    : await rt.services.directory.orgSettings(org.id);
  out(JSON.stringify(settings));
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('create').requiredOption('--name <name>').requiredOption('--admin-email <email>')
      .option('--time-zone <tz>', 'IANA time zone', 'UTC').option('--json')
      .action(ctx.action((o: { name: string; adminEmail: string; timeZone?: string; json?: boolean }) =>
        ctx.withRuntime({ migrate: true }, (rt) => orgCreateCommand(rt, o))));
    cmd.command('list').action(ctx.action(() => ctx.withRuntime({ migrate: false }, (rt) => orgListCommand(rt))));
    cmd.command('settings').description('show or change audit log window, retention, legal hold, recycle bin period, API rate limit')
      .option('--org <id>').option('--audit-log-window-days <n>').option('--retention-years <n>', '1 to 10')
      .option('--legal-hold <on|off>').option('--recycle-bin-days <n>')
      .option('--api-requests-per-minute <n>', 'API requests each access token may make per minute (default 6000)')
      .option('--audit-record-views <modules>', 'comma-separated modules whose record reads are audited as viewed ("" for none)')
      .action(ctx.action((o: SettingsFlags) => ctx.withRuntime({ migrate: changesSettings(o) }, (rt) => orgSettingsCommand(rt, o))));
  },
};
