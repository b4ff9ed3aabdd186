import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { actor, roleId } from '../directory-lookup.ts';
import { CliError, out } from '../output.ts';

/** `auditrail sharing show`: every module's default access, then the sharing rules. */
export async function sharingShowCommand(rt: Runtime, o: { org?: string }) {
  const { actor: a } = await actor(rt, o.org);
  out(['MODULE', 'DEFAULT ACCESS'].join('\t'));
  for (const d of await rt.services.sharing.defaults(a)) out([d.module.api_name, d.type].join('\t'));
  const rules = await rt.services.sharing.rules(a);
  out('');
  out(['RULE ID', 'NAME', 'MODULE', 'FROM', 'TO', 'PERMISSION'].join('\t'));
  const side = (s: { resource: { name: string | null; id: string }; type: string }) =>
    `${s.resource.name ?? s.resource.id}${s.type === 'roles_and_subordinates' ? ' and subordinates' : ''}`;
  for (const r of rules) out([r.id, r.name, r.module.api_name, side(r.shared_from), side(r.shared_to), r.permission_type].join('\t'));
  if (rules.length === 0) out('(no sharing rules)');
  return 0;
}

/** `auditrail sharing set --module Leads --access private`, audited as sharing_updated. */
export async function sharingSetCommand(rt: Runtime, o: { org?: string; module: string; access: string }) {
  const { actor: a } = await actor(rt, o.org);
  const all = await rt.services.sharing.updateDefaults(a, [{ module: { api_name: o.module }, type: o.access }]);
  const d = all.find((x) => x.module.api_name.toLowerCase() === o.module.toLowerCase())!;
  out(`${d.module.api_name}\t${d.type}`);
  return 0;
}

const PERMISSIONS = ['read_only', 'read_write', 'read_write_delete'];

/** `auditrail sharing rule add`: shares one role's records with another role. */
export async function sharingRuleAddCommand(rt: Runtime, o: { org?: string; module: string; fromRole: string; toRole: string;
  fromSubordinates?: boolean; toSubordinates?: boolean; permission: string; name?: string }) {
  if (!PERMISSIONS.includes(o.permission)) throw new CliError(`--permission must be one of ${PERMISSIONS.join(', ')}`);
  const { org, actor: a } = await actor(rt, o.org);
  const from = await roleId(rt, org.id, o.fromRole);
  const to = await roleId(rt, org.id, o.toRole);
  const rule = await rt.services.sharing.createRule(a, { name: o.name, module: { api_name: o.module }, permission_type: o.permission,
    shared_from: { resource: from, type: o.fromSubordinates ? 'roles_and_subordinates' : 'roles' },
    shared_to: { resource: to, type: o.toSubordinates ? 'roles_and_subordinates' : 'roles' } });
  out(rule.id);
  return 0;
}

/** `auditrail sharing rule delete <id>`. */
export async function sharingRuleDeleteCommand(rt: Runtime, id: string, o: { org?: string }) {
  const { actor: a } = await actor(rt, o.org);
  await rt.services.sharing.deleteRule(a, id);
  out(`deleted ${id}`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('show').description('each module\'s default access and the sharing rules').option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: false }, (rt) => sharingShowCommand(rt, o))));
    cmd.command('set').description('set a module\'s organisation-wide default access')
      .requiredOption('--module <api name>')
      .requiredOption('--access <type>', 'private | public_read_only | public_read_write | public_read_write_delete')
      .option('--org <id>')
      .action(ctx.action((o: { org?: string; module: string; access: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => sharingSetCommand(rt, o))));
    const rule = cmd.command('rule').description('sharing rules: share one role\'s records with another role');
    rule.command('add').requiredOption('--module <api name>').requiredOption('--from-role <role>', 'records owned by users of this role')
      .option('--from-subordinates', 'and of the roles below it').requiredOption('--to-role <role>', 'are shared with users of this role')
      .option('--to-subordinates', 'and of the roles below it')
      .requiredOption('--permission <p>', PERMISSIONS.join(' | ')).option('--name <name>').option('--org <id>')
      .action(ctx.action((o: Parameters<typeof sharingRuleAddCommand>[1]) =>
        ctx.withRuntime({ migrate: true }, (rt) => sharingRuleAddCommand(rt, o))));
    rule.command('delete').argument('<id>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => sharingRuleDeleteCommand(rt, id, o))));
  },
};
