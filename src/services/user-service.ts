import { AppError } from '../domain/errors.ts';
import { newId, isId } from '../domain/ids.ts';
import { fullName } from '../domain/display.ts';
import { isValidTimeZone } from '../domain/time.ts';
import type { FieldChange } from '../domain/audit.ts';
import type { UserTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { checkGrantable, checkRoleGrant, isAdministrator, requireSetting } from './authorization.ts';
import { checkText, EMAIL, fieldError, onlyAdmins, refId } from './directory-input.ts';

export const USER_TYPES = ['AllUsers', 'ActiveUsers', 'DeactiveUsers', 'ConfirmedUsers', 'NotConfirmedUsers',
  'DeletedUsers', 'ActiveConfirmedUsers', 'AdminUsers', 'ActiveConfirmedAdmins', 'CurrentUser'] as const;
export type UserType = (typeof USER_TYPES)[number];

export interface UserInput {
  first_name?: unknown;
  last_name?: unknown;
  email?: unknown;
  role?: unknown;
  profile?: unknown;
  status?: unknown;
  time_zone?: unknown;
  /** Whether emails the user sends are audited (Zoho's SalesInbox email tracking). */
  email_tracking?: unknown;
}

/** Inserts a user and queues its `user_added` entry (organisation seeding and the API). */
export async function addUser(tx: Tx, actor: Actor, u: { first_name: string | null; last_name: string; email: string;
  role_id: string; profile_id: string; time_zone: string; password_hash: string | null; status?: string }): Promise<UserTable> {
  const row: UserTable = {
    id: newId(), org_id: actor.orgId, first_name: u.first_name, last_name: u.last_name, email: u.email.toLowerCase(),
    status: u.status ?? 'active', role_id: u.role_id, profile_id: u.profile_id, password_hash: u.password_hash,
    time_zone: u.time_zone, settings: JSON.stringify({ email_tracking: false }), created_at: tx.now, modified_at: tx.now,
    created_by: actor.userId, modified_by: actor.userId,
  };
  await tx.store.directory.insertUser(row);
  tx.audit({ action: 'user_added', module: 'users', recordId: row.id, recordName: fullName(row), parentModule: null,
    parentId: null, batchId: null, fieldHistory: null,
    extra: { email: row.email, role_id: row.role_id, profile_id: row.profile_id } });
  return row;
}

/** Users: read, add, change, delete; the actor of a user; every change audited in its own transaction. */
export function createUserService(deps: ServiceDeps) {
  const { store } = deps;

  /** Lists users by Zoho's `type` filter. Throws INVALID_DATA for an unknown type. */
  async function listUsers(actor: Actor, type: UserType = 'AllUsers') {
    const [users, profiles] = await Promise.all([store.repos.directory.listUsers(actor.orgId), store.repos.directory.listProfiles(actor.orgId)]);
    const admin = new Set(profiles.filter((p) => p.is_admin).map((p) => p.id));
    const keep: Record<UserType, (u: UserTable) => boolean> = {
      AllUsers: (u) => u.status !== 'deleted',
      ActiveUsers: (u) => u.status === 'active',
      DeactiveUsers: (u) => u.status === 'disabled',
      ConfirmedUsers: (u) => u.status !== 'deleted',
      NotConfirmedUsers: () => false,
      DeletedUsers: (u) => u.status === 'deleted',
      ActiveConfirmedUsers: (u) => u.status === 'active',
      AdminUsers: (u) => u.status !== 'deleted' && admin.has(u.profile_id),
      ActiveConfirmedAdmins: (u) => u.status === 'active' && admin.has(u.profile_id),
      CurrentUser: (u) => u.id === actor.userId,
    };
    return users.filter(keep[type]);
  }

  /** Every user of the organisation, deleted ones included (for rendering names in history). */
  const listEveryUser = (actor: Actor) => store.repos.directory.listUsers(actor.orgId);

  async function getUser(actor: Actor, id: string) {
    return isId(id) ? store.repos.directory.getUser(actor.orgId, id) : undefined;
  }

  /**
   * The role and profile a write names, checked as grants (of those that change): only
   * Administrators give the Administrator profile; nobody changes their own role or profile,
   * gives a profile with permissions they lack, or a role that sees more than they do.
   */
  async function resolveRoleProfile(tx: Tx, actor: Actor, input: UserInput, path: string, user?: UserTable) {
    let roleId: string | undefined;
    let profileId: string | undefined;
    const own = () => new AppError('NOT_ALLOWED', 'you cannot change your own role or profile', { api_name: 'role', json_path: path });
    if (input.role !== undefined) {
      const id = refId(input.role);
      const role = typeof id === 'string' && isId(id) ? await tx.store.directory.getRole(actor.orgId, id) : undefined;
      if (!role) throw fieldError('INVALID_DATA', 'role', `${path}.role`, 'invalid role');
      if (role.id !== user?.role_id) {
        if (user && user.id === actor.userId) throw own();
        await checkRoleGrant(tx.store, actor, await tx.store.directory.listRoles(actor.orgId), user?.id ?? null, role.id);
      }
      roleId = role.id;
    }
    if (input.profile !== undefined) {
      const id = refId(input.profile);
      const profile = typeof id === 'string' && isId(id) ? await tx.store.directory.getProfile(actor.orgId, id) : undefined;
      if (!profile) throw fieldError('INVALID_DATA', 'profile', `${path}.profile`, 'invalid profile');
      if (profile.id !== user?.profile_id) {
        if (profile.is_admin && !isAdministrator(actor)) throw onlyAdmins();
        if (user && user.id === actor.userId) throw own();
        if (!profile.is_admin) checkGrantable(actor, JSON.parse(profile.permissions));
      }
      profileId = profile.id;
    }
    return { roleId, profileId };
  }

  /** Adds a user. Throws NO_PERMISSION, MANDATORY_NOT_FOUND, INVALID_DATA, DUPLICATE_DATA. */
  async function createUser(actor: Actor, input: UserInput, path = '$.users[0]') {
    requireSetting(actor, 'manage_users');
    return inTransaction(deps, actor, async (tx) => {
      for (const f of ['last_name', 'email', 'role', 'profile'] as const) {
        if (input[f] === undefined || input[f] === null || input[f] === '') {
          throw fieldError('MANDATORY_NOT_FOUND', f, `${path}.${f}`, 'required field not found');
        }
      }
      const lastName = checkText(input.last_name, 'last_name', path, 80)!;
      const firstName = checkText(input.first_name, 'first_name', path, 40) ?? null;
      const email = checkText(input.email, 'email', path, 100)!.toLowerCase();
      if (!EMAIL.test(email)) throw fieldError('INVALID_DATA', 'email', `${path}.email`, 'invalid email', { expected_data_type: 'email' });
      if (await tx.store.directory.getUserByEmail(actor.orgId, email)) {
        throw new AppError('DUPLICATE_DATA', 'a user with this email already exists', { api_name: 'email', json_path: `${path}.email` });
      }
      const timeZone = checkText(input.time_zone, 'time_zone', path, 64) ?? actor.timeZone;
      if (!isValidTimeZone(timeZone)) throw fieldError('INVALID_DATA', 'time_zone', `${path}.time_zone`, 'invalid time zone');
      const { roleId, profileId } = await resolveRoleProfile(tx, actor, input, path);
      return addUser(tx, actor, { first_name: firstName, last_name: lastName, email, role_id: roleId!, profile_id: profileId!,
        time_zone: timeZone, password_hash: null });
    });
  }

  /** Changes a user's details, role, profile or status; writes only what changed. */
  async function updateUser(actor: Actor, id: string, input: UserInput, path = '$.users[0]') {
    requireSetting(actor, 'manage_users');
    return inTransaction(deps, actor, async (tx) => {
      const user = isId(id) ? await tx.store.directory.getUser(actor.orgId, id) : undefined;
      if (!user || user.status === 'deleted') throw fieldError('INVALID_DATA', 'id', `${path}.id`, 'the id given seems to be invalid');
      if (!isAdministrator(actor) && (await tx.store.directory.getProfile(actor.orgId, user.profile_id))?.is_admin) throw onlyAdmins();
      const patch: Partial<UserTable> = {};
      const first = checkText(input.first_name, 'first_name', path, 40);
      if (first !== undefined) patch.first_name = first;
      const last = checkText(input.last_name, 'last_name', path, 80);
      if (last === null || last === '') throw fieldError('MANDATORY_NOT_FOUND', 'last_name', `${path}.last_name`, 'required field not found');
      if (last !== undefined) patch.last_name = last;
      const email = checkText(input.email, 'email', path, 100);
      if (email !== undefined) {
        if (!email || !EMAIL.test(email)) throw fieldError('INVALID_DATA', 'email', `${path}.email`, 'invalid email', { expected_data_type: 'email' });
        const other = await tx.store.directory.getUserByEmail(actor.orgId, email);
        if (other && other.id !== id) throw new AppError('DUPLICATE_DATA', 'a user with this email already exists', { api_name: 'email', json_path: `${path}.email` });
        patch.email = email.toLowerCase();
      }
      const tz = checkText(input.time_zone, 'time_zone', path, 64);
      if (tz !== undefined) {
        if (!tz || !isValidTimeZone(tz)) throw fieldError('INVALID_DATA', 'time_zone', `${path}.time_zone`, 'invalid time zone');
        patch.time_zone = tz;
      }
      if (input.status !== undefined) {
        if (input.status !== 'active' && input.status !== 'disabled') {
          throw fieldError('INVALID_DATA', 'status', `${path}.status`, 'invalid status', { supported_values: ['active', 'disabled'] });
        }
        patch.status = input.status;
      }
      if (input.email_tracking !== undefined) {
        if (typeof input.email_tracking !== 'boolean') {
          throw fieldError('INVALID_DATA', 'email_tracking', `${path}.email_tracking`, 'invalid data', { expected_data_type: 'boolean' });
        }
        patch.settings = JSON.stringify({ ...JSON.parse(user.settings), email_tracking: input.email_tracking });
      }
      const { roleId, profileId } = await resolveRoleProfile(tx, actor, input, path, user);
      if (roleId) patch.role_id = roleId;
      if (profileId) patch.profile_id = profileId;
      if (id === actor.userId && (patch.status === 'disabled' || (profileId && profileId !== user.profile_id))) {
        await ensureAnotherAdmin(tx, actor.orgId, id);
      } else if (patch.status === 'disabled' || profileId) {
        const profile = await tx.store.directory.getProfile(actor.orgId, user.profile_id);
        if (profile?.is_admin && (patch.status === 'disabled' || profileId !== user.profile_id)) await ensureAnotherAdmin(tx, actor.orgId, id);
      }
      const labels: Record<string, string> = { first_name: 'First Name', last_name: 'Last Name', email: 'Email',
        status: 'Status', role_id: 'Role', profile_id: 'Profile', time_zone: 'Time Zone' };
      const changes: FieldChange[] = [];
      for (const [k, v] of Object.entries(patch)) {
        if (k === 'settings') {
          const was = (JSON.parse(user.settings) as { email_tracking?: boolean }).email_tracking === true;
          if (was !== input.email_tracking) changes.push({ api_name: 'email_tracking', field_label: 'Email Tracking', old: was, new: input.email_tracking });
          continue;
        }
        const old = user[k as keyof UserTable];
        if (old !== v) changes.push({ api_name: k === 'role_id' ? 'role' : k === 'profile_id' ? 'profile' : k, field_label: labels[k], old, new: v });
      }
      if (changes.length === 0) return user;
      const updated = { ...user, ...patch, modified_at: tx.now, modified_by: actor.userId };
      await tx.store.directory.updateUser(actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      // A disabled user's console sessions and API tokens end now: enabling them again must not bring the old ones back.
      if (patch.status === 'disabled' && user.status !== 'disabled') await endAccess(tx, actor.orgId, id);
      tx.audit({ action: 'user_updated', module: 'users', recordId: id, recordName: fullName(updated), parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return updated;
    });
  }

  /** Ends a user's console sessions and revokes their OAuth tokens, in the change's transaction. */
  async function endAccess(tx: Tx, orgId: string, userId: string) {
    await tx.store.sessions.revokeUser(orgId, userId, tx.now);
    await tx.store.oauth.revokeUserTokens(orgId, userId, tx.now);
  }

  async function ensureAnotherAdmin(tx: Tx, orgId: string, exceptUserId: string) {
    const [users, profiles] = await Promise.all([tx.store.directory.listUsers(orgId), tx.store.directory.listProfiles(orgId)]);
    const admin = new Set(profiles.filter((p) => p.is_admin).map((p) => p.id));
    if (!users.some((u) => u.id !== exceptUserId && u.status === 'active' && admin.has(u.profile_id))) {
      throw new AppError('NOT_ALLOWED', 'the organisation must keep at least one active Administrator', {});
    }
  }

  /** Marks a user deleted (their history stays attributable). Throws NOT_ALLOWED for the last admin. */
  async function deleteUser(actor: Actor, id: string) {
    requireSetting(actor, 'manage_users');
    return inTransaction(deps, actor, async (tx) => {
      const user = isId(id) ? await tx.store.directory.getUser(actor.orgId, id) : undefined;
      if (!user || user.status === 'deleted') throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { id });
      await ensureAnotherAdmin(tx, actor.orgId, id);
      await tx.store.directory.updateUser(actor.orgId, id, { status: 'deleted', modified_at: tx.now, modified_by: actor.userId });
      await endAccess(tx, actor.orgId, id);
      tx.audit({ action: 'user_deleted', module: 'users', recordId: id, recordName: fullName(user), parentModule: null,
        parentId: null, batchId: null, fieldHistory: [{ api_name: 'status', field_label: 'Status', old: user.status, new: 'deleted' }], extra: null });
      return user;
    });
  }

  /** Builds the actor for a user of an organisation (CLI, tests, token principals). */
  async function actorForUser(orgId: string, userId: string, ctx: Partial<Pick<Actor, 'source' | 'ip' | 'userAgent'>> = {}): Promise<Actor> {
    const [org, user] = await Promise.all([store.repos.directory.getOrg(orgId), store.repos.directory.getUser(orgId, userId)]);
    if (!org || !user) throw new AppError('INVALID_DATA', 'no such user', { id: userId });
    const profile = await store.repos.directory.getProfile(orgId, user.profile_id);
    return {
      orgId, type: 'user', userId: user.id, name: fullName(user), source: ctx.source ?? 'api', ip: ctx.ip ?? null,
      userAgent: ctx.userAgent ?? null, isAdmin: profile?.is_admin === 1,
      permissions: profile ? JSON.parse(profile.permissions) : null, roleId: user.role_id, timeZone: org.time_zone,
    };
  }

  return { listUsers, listEveryUser, getUser, createUser, updateUser, deleteUser, actorForUser };
}
