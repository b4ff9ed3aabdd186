import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { actor, parsePermissions, profileId } from '../directory-lookup.ts';
import { out } from '../output.ts';

interface ProfileFlags { org?: string; name?: string; description?: string; permissions?: string }

/**
 * `auditrail profile clone|update`, through the same audited services as the API: `clone` makes a
 * new profile from the one named, `update` changes the one named; either prints the profile's id.
 */
export async function profileCommand(rt: Runtime, change: 'clone' | 'update', nameOrId: string, o: ProfileFlags) {
  const { org, actor: a } = await actor(rt, o.org);
  const target = (await profileId(rt, org.id, nameOrId))!;
  const input = { name: o.name, description: o.description, permissions: parsePermissions(o.permissions) };
  const p = change === 'clone' ? await rt.services.directory.cloneProfile(a, target.id, input)
    : await rt.services.directory.updateProfile(a, target.id, input);
  out(p.id);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('clone').requiredOption('--from <profile>').requiredOption('--name <name>').option('--description <d>')
      .option('--permissions <json>').option('--org <id>')
      .action(ctx.action((o: ProfileFlags & { from: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => profileCommand(rt, 'clone', o.from, o))));
    cmd.command('update').requiredOption('--profile <name or id>').option('--name <name>').option('--description <d>')
      .option('--permissions <json>').option('--org <id>')
      .action(ctx.action((o: ProfileFlags & { profile: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => profileCommand(rt, 'update', o.profile, o))));
  },
};
