import type { Runtime } from '../../services/runtime.ts';
import { resolveOrg } from '../org-option.ts';
import type { CliCommand } from '../command.ts';
import { out } from '../output.ts';

/** "3 days", "6 months", "2 years": how old, as people say it. */
function age(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  const [n, unit] = days >= 730 ? [Math.floor(days / 365), 'year'] : days >= 60 ? [Math.floor(days / 30.4), 'month'] : [days, 'day'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** `auditrail retention run`: purge entries past each organisation's retention now. */
export async function retentionRunCommand(rt: Runtime, opts: { org?: string }) {
  const orgs = opts.org ? [await resolveOrg(rt, opts.org)] : await rt.services.directory.listOrgs();
  for (const org of orgs) {
    const r = await rt.services.retention.purgeOrg(org.id);
    out(r.skipped ? `${org.name}: legal hold, nothing purged`
      : r.purged === 0 ? `${org.name}: purged 0 entries: ${r.oldestAt ? `the oldest entry is ${age(Date.now() - r.oldestAt)} old` : 'the log is empty'}, `
        + `and entries are kept ${r.retentionYears} year${r.retentionYears === 1 ? '' : 's'}`
        : `${org.name}: purged ${r.purged} entries${r.throughSeq ? ` through #${r.throughSeq}` : ''}`);
  }
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('run').description('purge entries older than each organisation\'s retention now (the server does this daily)')
      .option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => retentionRunCommand(rt, o))));
  },
};
