import type { Runtime } from '../services/runtime.ts';
import { systemActor } from '../services/context.ts';
import { resolveOrg } from './org-option.ts';
import { CliError, out } from './output.ts';

/** `auditrail retention run`: purge entries past each organisation's retention now. */
export async function retentionRunCommand(rt: Runtime, opts: { org?: string }) {
  const orgs = opts.org ? [await resolveOrg(rt, opts.org)] : await rt.services.directory.listOrgs();
  for (const org of orgs) {
    const r = await rt.services.retention.purgeOrg(org.id);
    out(r.skipped ? `${org.name}: legal hold, nothing purged`
      : `${org.name}: purged ${r.purged} entries${r.throughSeq ? ` through #${r.throughSeq}` : ''}`);
  }
  return 0;
}

/** `auditrail org settings`: show or change the audit log window, retention, legal hold, bin period, API rate limit. */
export async function orgSettingsCommand(rt: Runtime, opts: { org?: string; auditLogWindowDays?: string; retentionYears?: string;
  legalHold?: string; recycleBinDays?: string; apiRequestsPerMinute?: string }) {
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
  };
  const actor = { ...systemActor(org.id, 'auditrail CLI', org.time_zone), userAgent: 'auditrail-cli' };
  const settings = Object.values(patch).some((v) => v !== undefined)
    ? await rt.services.directory.updateOrgSettings(actor, patch)
    : await rt.services.directory.orgSettings(org.id);
  out(JSON.stringify(settings));
  return 0;
}
