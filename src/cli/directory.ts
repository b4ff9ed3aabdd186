import type { Runtime } from '../services/runtime.ts';
import { systemActor } from '../services/context.ts';
import { resolveOrg } from './org-option.ts';
import { CliError, out } from './output.ts';

/** Users, roles and profiles from the CLI, through the same audited services as the API. */

async function actor(rt: Runtime, orgId?: string) {
  const org = await resolveOrg(rt, orgId);
  return { org, actor: { ...systemActor(org.id, 'auditrail CLI', org.time_zone), userAgent: 'auditrail-cli' } };
}

async function roleId(rt: Runtime, orgId: string, nameOrId: string | undefined) {
  if (!nameOrId) return undefined;
  const roles = await rt.services.directory.listRoles({ ...systemActor(orgId) });
  const r = roles.find((x) => x.id === nameOrId || x.name.toLowerCase() === nameOrId.toLowerCase());
  if (!r) throw new CliError(`no role ${nameOrId}`);
  return { id: r.id };
}

async function profileId(rt: Runtime, orgId: string, nameOrId: string | undefined) {
  if (!nameOrId) return undefined;
  const profiles = await rt.services.directory.listProfiles({ ...systemActor(orgId) });
  const p = profiles.find((x) => x.id === nameOrId || x.name.toLowerCase() === nameOrId.toLowerCase());
  if (!p) throw new CliError(`no profile ${nameOrId}`);
  return { id: p.id };
}

async function userByEmail(rt: Runtime, orgId: string, email: string) {
  const users = await rt.services.directory.listEveryUser(systemActor(orgId));
  const u = users.find((x) => x.email === email.toLowerCase());
  if (!u) throw new CliError(`no user ${email}`);
  return u;
}

export async function userCreateCommand(rt: Runtime, o: { org?: string; email: string; firstName?: string; lastName: string; role: string; profile: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const u = await rt.services.directory.createUser(a, { email: o.email, first_name: o.firstName, last_name: o.lastName,
    role: await roleId(rt, org.id, o.role), profile: await profileId(rt, org.id, o.profile) });
  out(u.id);
  return 0;
}

export async function userUpdateCommand(rt: Runtime, o: { org?: string; email: string; firstName?: string; lastName?: string;
  role?: string; profile?: string; status?: string; newEmail?: string; emailTracking?: string }) {
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

export async function profileCloneCommand(rt: Runtime, o: { org?: string; from: string; name: string; description?: string; permissions?: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const source = (await profileId(rt, org.id, o.from))!;
  let permissions: unknown;
  if (o.permissions) {
    try { permissions = JSON.parse(o.permissions); } catch { throw new CliError('--permissions must be JSON'); }
  }
  const p = await rt.services.directory.cloneProfile(a, source.id, { name: o.name, description: o.description, permissions });
  out(p.id);
  return 0;
}

export async function profileUpdateCommand(rt: Runtime, o: { org?: string; profile: string; name?: string; description?: string; permissions?: string }) {
  const { org, actor: a } = await actor(rt, o.org);
  const target = (await profileId(rt, org.id, o.profile))!;
  let permissions: unknown;
  if (o.permissions) {
    try { permissions = JSON.parse(o.permissions); } catch { throw new CliError('--permissions must be JSON'); }
  }
  const p = await rt.services.directory.updateProfile(a, target.id, { name: o.name, description: o.description, permissions });
  out(p.id);
  return 0;
}
