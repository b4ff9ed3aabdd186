import type { AuditSource } from '../domain/audit.ts';
import type { Runtime } from '../services/runtime.ts';
import { systemActor } from '../services/context.ts';
import { resolveOrg } from './org-option.ts';
import { CliError } from './output.ts';
import { cliActorName } from './cli-actor.ts';

/** Finding the organisation, roles, profiles and users that the directory commands (user, role, profile) name. */

export async function actor(rt: Runtime, orgId?: string) {
  const org = await resolveOrg(rt, orgId);
  return { org, actor: { ...systemActor(org.id, cliActorName(), org.time_zone), userAgent: 'auditrail-cli' } };
}

/** `{ id }` of the role or profile named (case-insensitively) or with that id. */
function byNameOrId(kind: string, items: { id: string; name: string }[], nameOrId: string) {
  const x = items.find((i) => i.id === nameOrId || i.name.toLowerCase() === nameOrId.toLowerCase());
  if (!x) throw new CliError(`no ${kind} ${nameOrId}`);
  return { id: x.id };
}

export async function roleId(rt: Runtime, orgId: string, nameOrId: string | undefined) {
  return nameOrId ? byNameOrId('role', await rt.services.directory.listRoles({ ...systemActor(orgId) }), nameOrId) : undefined;
}

export async function profileId(rt: Runtime, orgId: string, nameOrId: string | undefined) {
  return nameOrId ? byNameOrId('profile', await rt.services.directory.listProfiles({ ...systemActor(orgId) }), nameOrId) : undefined;
}

/**
 * The user a command acts as, with their own permissions (`--user <email>`, default: the first
 * active Administrator), as an actor whose user agent names the operating-system user and host.
 */
export async function actingUser(rt: Runtime, opts: { org?: string; user?: string }, source: AuditSource = 'api') {
  const org = await resolveOrg(rt, opts.org);
  const user = opts.user
    ? (await rt.services.directory.listEveryUser(systemActor(org.id))).find((u) => u.email === opts.user!.toLowerCase() && u.status === 'active')
    : (await rt.services.directory.listUsers(systemActor(org.id), 'ActiveConfirmedAdmins'))[0];
  if (!user) throw new CliError(`no active user ${opts.user ?? 'with the Administrator profile'}`);
  return { org, user, actor: await rt.services.directory.actorForUser(org.id, user.id, { source, userAgent: cliActorName() }) };
}

export async function userByEmail(rt: Runtime, orgId: string, email: string) {
  const users = await rt.services.directory.listEveryUser(systemActor(orgId));
  const u = users.find((x) => x.email === email.toLowerCase());
  if (!u) throw new CliError(`no user ${email}`);
  return u;
}

/** `--permissions <json>` of `profile clone` and `profile update`. */
export function parsePermissions(json: string | undefined): unknown {
  if (!json) return undefined;
  try { return JSON.parse(json); } catch { throw new CliError('--permissions must be JSON'); }
}
