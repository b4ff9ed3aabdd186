import type { Runtime } from '../../services/runtime.ts';
import { resolveOrg } from '../org-option.ts';
import type { CliCommand } from '../command.ts';
import { out } from '../output.ts';

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

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('run').description('purge entries older than each organisation\'s retention now (the server does this daily)')
      .option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => retentionRunCommand(rt, o))));
  },
};
