import type { Runtime } from '../../services/runtime.ts';
import { systemActor } from '../../services/context.ts';
import type { CliCommand } from '../command.ts';
import { actor, profileId, roleId, userByEmail } from '../directory-lookup.ts';
import { resolveOrg } from '../org-option.ts';
import { CliError, out, say } from '../output.ts';
import { cliActorName } from '../cli-actor.ts';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';

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
  const actor = systemActor(org.id);
  const [users, roles, profiles] = await Promise.all([rt.services.directory.listEveryUser(actor),
    rt.services.directory.listRoles(actor), rt.services.directory.listProfiles(actor)]);
  const roleName = new Map(roles.map((r) => [r.id, r.name]));
  const profileName = new Map(profiles.map((p) => [p.id, p.name]));
  out(['ID', 'EMAIL', 'NAME', 'STATUS', 'ROLE', 'PROFILE'].join('\t'));
  for (const u of users) {
    out([u.id, u.email, [u.first_name, u.last_name].filter(Boolean).join(' '), u.status, roleName.get(u.role_id) ?? u.role_id,
      profileName.get(u.profile_id) ?? u.profile_id].join('\t'));
  }
  return 0;
}

/**
 * The new password from standard input, so that it never appears on a command line (shell
 * history, `ps`): piped, the first line; at a terminal, typed at a prompt without echo.
 */
export async function readPassword(input: NodeJS.ReadStream = process.stdin): Promise<string> {
  if (!input.isTTY) {
    let text = '';
    for await (const chunk of input) text += chunk;
    return text.replace(/\r?\n[\s\S]*$/, '');
  }
  const muted = new Writable({ write: (_chunk, _enc, done) => done() });
  const rl = createInterface({ input, output: muted, terminal: true });
  try {
    process.stderr.write('New password: ');
    const first = await rl.question('');
    process.stderr.write('\nRepeat it: ');
    const second = await rl.question('');
    process.stderr.write('\n');
    if (first !== second) throw new CliError('the two passwords differ: nothing was changed');
    return first;
  } finally {
    rl.close();
  }
}

/** `auditrail user set-password --email <e>`: the console password, read from standard input; ends the user's sessions. */
export async function userSetPasswordCommand(rt: Runtime, o: { org?: string; email: string }, password: string) {
  const org = await resolveOrg(rt, o.org);
  const u = await rt.services.sessions.setPassword(org.id, o.email, password, cliActorName());
  say(`password set for ${u.email}; their console sessions were ended`);
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
    cmd.command('set-password').description('set a user\'s console password, read from standard input')
      .requiredOption('--email <email>').option('--org <id>')
      .action(ctx.action(async (o: { org?: string; email: string }) => {
        const password = await readPassword();
        return ctx.withRuntime({ migrate: true }, (rt) => userSetPasswordCommand(rt, o, password));
      }));
    cmd.command('list').option('--org <id>')
      .action(ctx.action((o: { org?: string }) => ctx.withRuntime({ migrate: false }, (rt) => userListCommand(rt, o))));
  },
};
