import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { actor, roleId } from '../directory-lookup.ts';
import { out } from '../output.ts';

/** `auditrail role create|update`, through the same audited services as the API. */
export async function roleCreateCommand(rt: Runtime, o: { org?: string; name: string; reportsTo: string; description?: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const r = await rt.services.directory.createRole(a, { name: o.name, description: o.description,
    reporting_to: await roleId(rt, org.id, o.reportsTo) });
  out(r.id);
  return 0;
}

export async function roleUpdateCommand(rt: Runtime, o: { org?: string; role: string; name?: string; reportsTo?: string; description?: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const target = (await roleId(rt, org.id, o.role))!;
  const r = await rt.services.directory.updateRole(a, target.id, { name: o.name, description: o.description,
    reporting_to: o.reportsTo ? await roleId(rt, org.id, o.reportsTo) : undefined });
  out(r.id);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('create').requiredOption('--name <name>').requiredOption('--reports-to <role>').option('--description <d>')
      .option('--org <id>')
      .action(ctx.action((o: { org?: string; name: string; reportsTo: string; description?: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => roleCreateCommand(rt, o))));
    cmd.command('update').requiredOption('--role <name or id>').option('--name <name>').option('--reports-to <role>')
      .option('--description <d>').option('--org <id>')
      .action(ctx.action((o: { org?: string; role: string; name?: string; reportsTo?: string; description?: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => roleUpdateCommand(rt, o))));
  },
};
