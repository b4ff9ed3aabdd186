import type { Runtime } from '../../services/runtime.ts';
import { systemActor } from '../../services/context.ts';
import type { CliCommand } from '../command.ts';
import { actor, profileId, roleId, userByEmail } from '../directory-lookup.ts';
import { resolveOrg } from '../org-option.ts';
import { out } from '../output.ts';

interface UserFlags { org?: string; email: string; firstName?: string; lastName?: string; role?: string; profile?: string; status?: string;
  newEmail?: string; emailTracking?: string }

/** `auditrail user create|update|list`, through the same audited services as the API. */
export async function userCreateCommand(rt: Runtime, o: { org?: string; email: string; firstName?: string; lastName: string; role: string; profile: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const u = await rt.services.directory.createUser(a, { email: o.email, first_name: o.firstName, last_name: o.lastName,
    role: await roleId(rt, org.id, o.role), profile: await profileId(rt, org.id, o.profile) });
  out(u.id);
  return 0;
}

export async function userUpdateCommand(rt: Runtime, o: UserFlags) {
  const { org, actor: a } = await actor(rt, o.org);
  const u = await userByEmail(rt, org.id, o.email);
  await rt.services.directory.updateUser(a, u.id, { first_name: o.firstName, last_name: o.lastName, email: o.newEmail,
    status: o.status, role: await roleId(rt, org.id, o.role), profile: await profileId(rt, org.id, o.profile),
    email_tracking: o.emailTracking === undefined ? undefined : o.emailTracking === 'on' });
  out(u.id);
  return 0;
}

export async function userListCommand(rt: Runtime, o: { org?: string }) {
  const org = await resolveOrg(rt, o.org);
  for (const u of await rt.services.directory.listEveryUser(systemActor(org.id))) {
    out(`${u.id}\t${u.email}\t${[u.first_name, u.last_name].filter(Boolean).join(' ')}\t${u.status}`);
  }
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.command('create').requiredOption('--email <email>').option('--first-name <n>').requiredOption('--last-name <n>')
      .requiredOption('--role <name or id>').requiredOption('--profile <name or id>').option('--org <id>')
      .action(ctx.action((o: UserFlags & { lastName: string; role: string; profile: string }) =>
        ctx.withRuntime({ migrate: true }, (rt) => userCreateCommand(rt, o))));
    cmd.command('update').requiredOption('--email <email>').option('--first-name <n>').option('--last-name <n>')
      .option('--new-email <email>').option('--role <name or id>').option('--profile <name or id>')
      .option('--status <active|disabled>').option('--email-tracking <on|off>', 'audit the emails this user sends').option('--org <id>')
      .action(ctx.action((o: UserFlags) => ctx.withRuntime({ migrate: true }, (rt) => userUpdateCommand(rt, o))));
    cmd.command('list').option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: false }, (rt) => userListCommand(rt, o))));
  },
};
