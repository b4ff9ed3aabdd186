import { AppError, type ErrorCode } from '../domain/errors.ts';
import { newId, isId, shortOrgId } from '../domain/ids.ts';
import {
  ADMIN_PERMISSIONS, STANDARD_PERMISSIONS, parsePermissions, type ProfilePermissions,
} from '../domain/permissions.ts';
import { isValidTimeZone } from '../domain/time.ts';
import type { FieldChange } from '../domain/audit.ts';
import * as dir from '../store/directory-store.ts';
import type { OrgTable, ProfileTable, RoleTable, UserTable } from '../store/schema.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { checkGrantable, checkRoleGrant, isAdministrator, requireAdministrator, requireSetting } from './authorization.ts';

export const USER_TYPES = ['AllUsers', 'ActiveUsers', 'DeactiveUsers', 'ConfirmedUsers', 'NotConfirmedUsers',
  'DeletedUsers', 'ActiveConfirmedUsers', 'AdminUsers', 'ActiveConfirmedAdmins', 'CurrentUser'] as const;
export type UserType = (typeof USER_TYPES)[number];
export const USER_STATUSES = ['active', 'disabled', 'deleted'] as const;

export interface OrgSettings {
  audit_log_window_days: number;
  retention_years: number;
  legal_hold: boolean;
  recycle_bin_days: number;
  /** API requests each access token may make per minute (TOO_MANY_REQUESTS past it). */
  api_requests_per_minute: number;
}
export const DEFAULT_ORG_SETTINGS: OrgSettings = {
  audit_log_window_days: 60, retention_years: 3, legal_hold: false, recycle_bin_days: 60, api_requests_per_minute: 6000,
};

export interface CreateOrgInput {
  name: string;
  adminEmail: string;
  adminFirstName?: string;
  adminLastName?: string;
  timeZone?: string;
  currency?: string;
  countryCode?: string;
  password?: string;
}

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

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const refId = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? (v as { id?: unknown }).id : v);
const fullName = (u: Pick<UserTable, 'first_name' | 'last_name'>) => [u.first_name, u.last_name].filter(Boolean).join(' ');

const onlyAdmins = () => new AppError('NO_PERMISSION', 'only an Administrator can grant or change Administrator access', { permissions: ['administrator'] });

function fieldError(code: ErrorCode, apiName: string, jsonPath: string, message: string,
  extra: Record<string, unknown> = {}) {
  return new AppError(code, message, { api_name: apiName, json_path: jsonPath, ...extra });
}

/** Organisations, users, roles and profiles; every change audited in its own transaction. */
export function createDirectoryService(deps: ServiceDeps) {
  const { store } = deps;

  /** Creates an organisation with default profiles and roles and its first Administrator. */
  async function createOrganisation(input: CreateOrgInput) {
    const name = input.name?.trim();
    if (!name) throw new AppError('MANDATORY_NOT_FOUND', 'organisation name is required', { api_name: 'name' });
    const email = input.adminEmail?.trim().toLowerCase();
    if (!email || !EMAIL.test(email)) throw new AppError('INVALID_DATA', 'invalid admin email', { api_name: 'email' });
    const timeZone = input.timeZone ?? 'UTC';
    if (!isValidTimeZone(timeZone)) throw new AppError('INVALID_DATA', 'invalid time zone', { api_name: 'time_zone' });
    const orgId = newId();
    const password = input.password ?? generatePassword();
    const actor = systemActor(orgId, 'System', timeZone);
    return inTransaction(deps, actor, async (tx) => {
      const now = tx.now;
      const org: OrgTable = {
        id: orgId, name, time_zone: timeZone, currency: input.currency ?? 'USD', country_code: input.countryCode ?? 'US',
        zgid: shortOrgId(orgId), settings: JSON.stringify(DEFAULT_ORG_SETTINGS), created_at: now,
      };
      await dir.insertOrg(tx.db, org);
      tx.audit({ action: 'org_created', module: null, recordId: orgId, recordName: name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { time_zone: timeZone } });
      const adminProfile = await addProfile(tx, actor, 'Administrator', 'This profile will have all the permissions.', true, ADMIN_PERMISSIONS, false);
      const standardProfile = await addProfile(tx, actor, 'Standard', 'This profile will have all the permissions except administrative privileges.', false, STANDARD_PERMISSIONS, false);
      const ceo = await addRole(tx, actor, { name: 'CEO', description: 'The top of the role hierarchy', reportingTo: null });
      const manager = await addRole(tx, actor, { name: 'Manager', description: null, reportingTo: ceo.id });
      const admin = await addUser(tx, actor, {
        first_name: input.adminFirstName ?? null, last_name: input.adminLastName ?? 'Administrator', email,
        role_id: ceo.id, profile_id: adminProfile.id, time_zone: timeZone, password_hash: hashPassword(password),
      });
      return { org, admin, password, profiles: { admin: adminProfile, standard: standardProfile }, roles: { ceo, manager } };
    });
  }

  async function addProfile(tx: Tx, actor: Actor, name: string, description: string | null, isAdmin: boolean,
    permissions: ProfilePermissions, custom: boolean): Promise<ProfileTable> {
    const row: ProfileTable = {
      id: newId(), org_id: actor.orgId, name, description, is_admin: isAdmin ? 1 : 0, custom: custom ? 1 : 0,
      permissions: JSON.stringify(permissions), created_at: tx.now, modified_at: tx.now,
      created_by: actor.userId, modified_by: actor.userId,
    };
    await dir.insertProfile(tx.db, row);
    tx.audit({ action: 'profile_added', module: 'profiles', recordId: row.id, recordName: name, parentModule: null,
      parentId: null, batchId: null, fieldHistory: null, extra: { permissions } });
    return row;
  }

  async function addRole(tx: Tx, actor: Actor, r: { name: string; description: string | null; reportingTo: string | null;
    shareWithPeers?: boolean }): Promise<RoleTable> {
    const row: RoleTable = {
      id: newId(), org_id: actor.orgId, name: r.name, description: r.description, reporting_to: r.reportingTo,
      share_with_peers: r.shareWithPeers ? 1 : 0, created_at: tx.now, modified_at: tx.now,
      created_by: actor.userId, modified_by: actor.userId,
    };
    await dir.insertRole(tx.db, row);
    tx.audit({ action: 'role_added', module: 'roles', recordId: row.id, recordName: r.name, parentModule: null,
      parentId: null, batchId: null, fieldHistory: null, extra: { reporting_to: r.reportingTo } });
    return row;
  }

  async function addUser(tx: Tx, actor: Actor, u: { first_name: string | null; last_name: string; email: string;
    role_id: string; profile_id: string; time_zone: string; password_hash: string | null; status?: string }): Promise<UserTable> {
    const row: UserTable = {
      id: newId(), org_id: actor.orgId, first_name: u.first_name, last_name: u.last_name, email: u.email.toLowerCase(),
      status: u.status ?? 'active', role_id: u.role_id, profile_id: u.profile_id, password_hash: u.password_hash,
      time_zone: u.time_zone, settings: JSON.stringify({ email_tracking: false }), created_at: tx.now, modified_at: tx.now,
      created_by: actor.userId, modified_by: actor.userId,
    };
    await dir.insertUser(tx.db, row);
    tx.audit({ action: 'user_added', module: 'users', recordId: row.id, recordName: fullName(row), parentModule: null,
      parentId: null, batchId: null, fieldHistory: null,
      extra: { email: row.email, role_id: row.role_id, profile_id: row.profile_id } });
    return row;
  }

  // ---- users --------------------------------------------------------------------------

  /** Lists users by Zoho's `type` filter. Throws INVALID_DATA for an unknown type. */
  async function listUsers(actor: Actor, type: UserType = 'AllUsers') {
    const [users, profiles] = await Promise.all([dir.listUsers(store.db, actor.orgId), dir.listProfiles(store.db, actor.orgId)]);
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
  const listEveryUser = (actor: Actor) => dir.listUsers(store.db, actor.orgId);

  async function getUser(actor: Actor, id: string) {
    return isId(id) ? dir.getUser(store.db, actor.orgId, id) : undefined;
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
      const role = typeof id === 'string' && isId(id) ? await dir.getRole(tx.db, actor.orgId, id) : undefined;
      if (!role) throw fieldError('INVALID_DATA', 'role', `${path}.role`, 'invalid role');
      if (role.id !== user?.role_id) {
        if (user && user.id === actor.userId) throw own();
        await checkRoleGrant(tx.db, actor, await dir.listRoles(tx.db, actor.orgId), user?.id ?? null, role.id);
      }
      roleId = role.id;
    }
    if (input.profile !== undefined) {
      const id = refId(input.profile);
      const profile = typeof id === 'string' && isId(id) ? await dir.getProfile(tx.db, actor.orgId, id) : undefined;
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

  function checkText(v: unknown, api: string, path: string, max: number): string | null | undefined {
    if (v === undefined) return undefined;
    if (v === null) return null;
    if (typeof v !== 'string' || v.length > max) throw fieldError('INVALID_DATA', api, `${path}.${api}`, 'invalid data', { expected_data_type: 'text' });
    return v.trim();
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
      if (await dir.getUserByEmail(tx.db, actor.orgId, email)) {
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
      const user = isId(id) ? await dir.getUser(tx.db, actor.orgId, id) : undefined;
      if (!user || user.status === 'deleted') throw fieldError('INVALID_DATA', 'id', `${path}.id`, 'the id given seems to be invalid');
      if (!isAdministrator(actor) && (await dir.getProfile(tx.db, actor.orgId, user.profile_id))?.is_admin) throw onlyAdmins();
      const patch: Partial<UserTable> = {};
      const first = checkText(input.first_name, 'first_name', path, 40);
      if (first !== undefined) patch.first_name = first;
      const last = checkText(input.last_name, 'last_name', path, 80);
      if (last === null || last === '') throw fieldError('MANDATORY_NOT_FOUND', 'last_name', `${path}.last_name`, 'required field not found');
      if (last !== undefined) patch.last_name = last;
      const email = checkText(input.email, 'email', path, 100);
      if (email !== undefined) {
        if (!email || !EMAIL.test(email)) throw fieldError('INVALID_DATA', 'email', `${path}.email`, 'invalid email', { expected_data_type: 'email' });
        const other = await dir.getUserByEmail(tx.db, actor.orgId, email);
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
        const profile = await dir.getProfile(tx.db, actor.orgId, user.profile_id);
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
      await dir.updateUserRow(tx.db, actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'user_updated', module: 'users', recordId: id, recordName: fullName(updated), parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return updated;
    });
  }

  async function ensureAnotherAdmin(tx: Tx, orgId: string, exceptUserId: string) {
    const [users, profiles] = await Promise.all([dir.listUsers(tx.db, orgId), dir.listProfiles(tx.db, orgId)]);
    const admin = new Set(profiles.filter((p) => p.is_admin).map((p) => p.id));
    if (!users.some((u) => u.id !== exceptUserId && u.status === 'active' && admin.has(u.profile_id))) {
      throw new AppError('NOT_ALLOWED', 'the organisation must keep at least one active Administrator', {});
    }
  }

  /** Marks a user deleted (their history stays attributable). Throws NOT_ALLOWED for the last admin. */
  async function deleteUser(actor: Actor, id: string) {
    requireSetting(actor, 'manage_users');
    return inTransaction(deps, actor, async (tx) => {
      const user = isId(id) ? await dir.getUser(tx.db, actor.orgId, id) : undefined;
      if (!user || user.status === 'deleted') throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { id });
      await ensureAnotherAdmin(tx, actor.orgId, id);
      await dir.updateUserRow(tx.db, actor.orgId, id, { status: 'deleted', modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'user_deleted', module: 'users', recordId: id, recordName: fullName(user), parentModule: null,
        parentId: null, batchId: null, fieldHistory: [{ api_name: 'status', field_label: 'Status', old: user.status, new: 'deleted' }], extra: null });
      return user;
    });
  }

  // ---- roles --------------------------------------------------------------------------

  const listRoles = (actor: Actor) => dir.listRoles(store.db, actor.orgId);
  const getRole = (actor: Actor, id: string) => (isId(id) ? dir.getRole(store.db, actor.orgId, id) : Promise.resolve(undefined));

  interface RoleInput { name?: unknown; description?: unknown; reporting_to?: unknown; share_with_peers?: unknown }

  function isDescendant(roles: RoleTable[], candidate: string, ancestor: string): boolean {
    const byId = new Map(roles.map((r) => [r.id, r]));
    for (let cur = byId.get(candidate); cur; cur = cur.reporting_to ? byId.get(cur.reporting_to) : undefined) {
      if (cur.id === ancestor) return true;
    }
    return false;
  }

  /** Adds a role under `reporting_to` (mandatory: there is exactly one top role). */
  async function createRole(actor: Actor, input: RoleInput, path = '$.roles[0]') {
    requireSetting(actor, 'manage_roles');
    return inTransaction(deps, actor, async (tx) => {
      const name = checkText(input.name, 'name', path, 50);
      if (!name) throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      const parentId = refId(input.reporting_to);
      if (parentId === undefined || parentId === null) throw fieldError('MANDATORY_NOT_FOUND', 'reporting_to', `${path}.reporting_to`, 'required field not found');
      const parent = typeof parentId === 'string' && isId(parentId) ? await dir.getRole(tx.db, actor.orgId, parentId) : undefined;
      if (!parent) throw fieldError('INVALID_DATA', 'reporting_to', `${path}.reporting_to`, 'invalid role');
      const roles = await dir.listRoles(tx.db, actor.orgId);
      if (roles.some((r) => r.name.toLowerCase() === name.toLowerCase())) {
        throw new AppError('DUPLICATE_DATA', 'a role with this name already exists', { api_name: 'name', json_path: `${path}.name` });
      }
      const description = checkText(input.description, 'description', path, 250) ?? null;
      return addRole(tx, actor, { name, description, reportingTo: parent.id, shareWithPeers: input.share_with_peers === true });
    });
  }

  /** Renames or moves a role; refuses to move a role under its own subtree. */
  async function updateRole(actor: Actor, id: string, input: RoleInput, path = '$.roles[0]') {
    requireSetting(actor, 'manage_roles');
    return inTransaction(deps, actor, async (tx) => {
      const roles = await dir.listRoles(tx.db, actor.orgId);
      const role = roles.find((r) => r.id === id);
      if (!role) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { api_name: 'id', json_path: `${path}.id` });
      const patch: Partial<RoleTable> = {};
      const name = checkText(input.name, 'name', path, 50);
      if (name === null || name === '') throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      if (name !== undefined) {
        if (roles.some((r) => r.id !== id && r.name.toLowerCase() === name.toLowerCase())) {
          throw new AppError('DUPLICATE_DATA', 'a role with this name already exists', { api_name: 'name', json_path: `${path}.name` });
        }
        patch.name = name;
      }
      const description = checkText(input.description, 'description', path, 250);
      if (description !== undefined) patch.description = description;
      if (input.share_with_peers !== undefined) {
        if (typeof input.share_with_peers !== 'boolean') throw fieldError('INVALID_DATA', 'share_with_peers', `${path}.share_with_peers`, 'invalid data', { expected_data_type: 'boolean' });
        patch.share_with_peers = input.share_with_peers ? 1 : 0;
      }
      if (input.reporting_to !== undefined) {
        const parentId = refId(input.reporting_to);
        if (role.reporting_to === null) {
          if (parentId !== null) throw fieldError('NOT_ALLOWED', 'reporting_to', `${path}.reporting_to`, 'the top role cannot report to another role');
        } else {
          const parent = typeof parentId === 'string' ? roles.find((r) => r.id === parentId) : undefined;
          if (!parent || isDescendant(roles, parent.id, id)) {
            throw fieldError('INVALID_DATA', 'reporting_to', `${path}.reporting_to`, 'invalid role');
          }
          patch.reporting_to = parent.id;
        }
      }
      const changes: FieldChange[] = [];
      for (const [k, v] of Object.entries(patch)) {
        const old = role[k as keyof RoleTable];
        if (old !== v) changes.push({ api_name: k, field_label: k, old, new: v });
      }
      if (changes.length === 0) return role;
      await dir.updateRoleRow(tx.db, actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'role_updated', module: 'roles', recordId: id, recordName: patch.name ?? role.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return { ...role, ...patch, modified_at: tx.now, modified_by: actor.userId };
    });
  }

  /** Deletes a role, moving its users to `transferTo` and its child roles up one level. */
  async function deleteRole(actor: Actor, id: string, transferTo: string | undefined) {
    requireSetting(actor, 'manage_roles');
    return inTransaction(deps, actor, async (tx) => {
      const roles = await dir.listRoles(tx.db, actor.orgId);
      const role = roles.find((r) => r.id === id);
      if (!role) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (role.reporting_to === null) throw new AppError('NOT_ALLOWED', 'the top role cannot be deleted', {});
      if (!transferTo) throw new AppError('REQUIRED_PARAM_MISSING', 'transfer_to_id is required', { param_name: 'transfer_to_id' });
      const target = roles.find((r) => r.id === transferTo);
      if (!target || target.id === id) throw new AppError('INVALID_DATA', 'invalid transfer role', { param_name: 'transfer_to_id' });
      await dir.moveUsersToRole(tx.db, actor.orgId, id, target.id, tx.now);
      await dir.reparentRoles(tx.db, actor.orgId, id, role.reporting_to);
      await dir.deleteRoleRow(tx.db, actor.orgId, id);
      tx.audit({ action: 'role_deleted', module: 'roles', recordId: id, recordName: role.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { transfer_to_id: target.id } });
      return role;
    });
  }

  // ---- profiles -----------------------------------------------------------------------

  const listProfiles = (actor: Actor) => dir.listProfiles(store.db, actor.orgId);
  const getProfile = (actor: Actor, id: string) => (isId(id) ? dir.getProfile(store.db, actor.orgId, id) : Promise.resolve(undefined));

  interface ProfileInput { name?: unknown; description?: unknown; permissions?: unknown }

  /** Clones a profile under a new name (Zoho's way to create one). */
  async function cloneProfile(actor: Actor, sourceId: string, input: ProfileInput, path = '$.profiles[0]') {
    requireSetting(actor, 'manage_profiles');
    return inTransaction(deps, actor, async (tx) => {
      const source = isId(sourceId) ? await dir.getProfile(tx.db, actor.orgId, sourceId) : undefined;
      if (!source) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (source.is_admin && !isAdministrator(actor)) throw onlyAdmins();
      const name = checkText(input.name, 'name', path, 50);
      if (!name) throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      const profiles = await dir.listProfiles(tx.db, actor.orgId);
      if (profiles.some((p) => p.name.toLowerCase() === name.toLowerCase())) {
        throw new AppError('DUPLICATE_DATA', 'a profile with this name already exists', { api_name: 'name', json_path: `${path}.name` });
      }
      let permissions = JSON.parse(source.permissions) as ProfilePermissions;
      if (input.permissions !== undefined) {
        const parsed = parsePermissions(input.permissions);
        if (!parsed) throw fieldError('INVALID_DATA', 'permissions', `${path}.permissions`, 'invalid permissions');
        permissions = parsed;
      }
      if (!source.is_admin) checkGrantable(actor, permissions);
      const description = checkText(input.description, 'description', path, 250) ?? null;
      return addProfile(tx, actor, name, description, source.is_admin === 1, permissions, true);
    });
  }

  /** Changes a profile's name, description or permissions. The Administrator profile is fixed. */
  async function updateProfile(actor: Actor, id: string, input: ProfileInput, path = '$.profiles[0]') {
    requireSetting(actor, 'manage_profiles');
    return inTransaction(deps, actor, async (tx) => {
      const profile = isId(id) ? await dir.getProfile(tx.db, actor.orgId, id) : undefined;
      if (!profile) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (!isAdministrator(actor) && actor.userId && (await dir.getUser(tx.db, actor.orgId, actor.userId))?.profile_id === profile.id) {
        throw new AppError('NOT_ALLOWED', 'you cannot change the profile you hold', {});
      }
      const patch: Partial<ProfileTable> = {};
      const changes: FieldChange[] = [];
      const name = checkText(input.name, 'name', path, 50);
      if (name === null || name === '') throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      if (name !== undefined && name !== profile.name) {
        if (profile.custom === 0) throw new AppError('NOT_ALLOWED', 'default profiles cannot be renamed', { api_name: 'name', json_path: `${path}.name` });
        patch.name = name;
        changes.push({ api_name: 'name', field_label: 'Profile Name', old: profile.name, new: name });
      }
      const description = checkText(input.description, 'description', path, 250);
      if (description !== undefined && description !== profile.description) {
        patch.description = description;
        changes.push({ api_name: 'description', field_label: 'Description', old: profile.description, new: description });
      }
      if (input.permissions !== undefined) {
        if (profile.is_admin) throw new AppError('NOT_ALLOWED', 'the Administrator profile always has every permission', { api_name: 'permissions', json_path: `${path}.permissions` });
        const old = JSON.parse(profile.permissions) as ProfilePermissions;
        const parsed = parsePermissions(input.permissions, old);
        if (!parsed) throw fieldError('INVALID_DATA', 'permissions', `${path}.permissions`, 'invalid permissions');
        checkGrantable(actor, parsed, old);
        if (JSON.stringify(old) !== JSON.stringify(parsed)) {
          patch.permissions = JSON.stringify(parsed);
          changes.push({ api_name: 'permissions', field_label: 'Permissions', old, new: parsed });
        }
      }
      if (changes.length === 0) return profile;
      await dir.updateProfileRow(tx.db, actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'profile_updated', module: 'profiles', recordId: id, recordName: patch.name ?? profile.name,
        parentModule: null, parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return { ...profile, ...patch, modified_at: tx.now, modified_by: actor.userId };
    });
  }

  /** Deletes a custom profile, moving its users to `transferTo`. */
  async function deleteProfile(actor: Actor, id: string, transferTo: string | undefined) {
    requireSetting(actor, 'manage_profiles');
    return inTransaction(deps, actor, async (tx) => {
      const profiles = await dir.listProfiles(tx.db, actor.orgId);
      const profile = profiles.find((p) => p.id === id);
      if (!profile) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (profile.custom === 0) throw new AppError('NOT_ALLOWED', 'default profiles cannot be deleted', {});
      const target = profiles.find((p) => p.id === transferTo && p.id !== id);
      if (!transferTo) throw new AppError('REQUIRED_PARAM_MISSING', 'transfer_to is required', { param_name: 'transfer_to' });
      if (!target) throw new AppError('INVALID_DATA', 'invalid transfer profile', { param_name: 'transfer_to' });
      await dir.moveUsersToProfile(tx.db, actor.orgId, id, target.id, tx.now);
      await dir.deleteProfileRow(tx.db, actor.orgId, id);
      tx.audit({ action: 'profile_deleted', module: 'profiles', recordId: id, recordName: profile.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { transfer_to: target.id } });
      return profile;
    });
  }

  // ---- org ----------------------------------------------------------------------------

  /** Current settings of an organisation, defaults filled in. */
  async function orgSettings(orgId: string): Promise<OrgSettings> {
    const org = await dir.getOrg(store.db, orgId);
    return { ...DEFAULT_ORG_SETTINGS, ...(org ? JSON.parse(org.settings) : {}) };
  }

  /**
   * Changes the audit log window, retention (1 to 10 years), legal hold, recycle bin period or
   * API requests per minute per access token.
   * Throws INVALID_DATA naming the setting.
   */
  async function updateOrgSettings(actor: Actor, patch: Partial<Record<keyof OrgSettings, unknown>>) {
    requireAdministrator(actor);
    const limits: Record<Exclude<keyof OrgSettings, 'legal_hold'>, [number, number]> = {
      audit_log_window_days: [1, 3650], retention_years: [1, 10], recycle_bin_days: [1, 365], api_requests_per_minute: [1, 1_000_000],
    };
    return inTransaction(deps, actor, async (tx) => {
      const org = await dir.getOrg(tx.db, actor.orgId);
      if (!org) throw new AppError('INVALID_DATA', 'no such organisation', {});
      const current: OrgSettings = { ...DEFAULT_ORG_SETTINGS, ...JSON.parse(org.settings) };
      const next = { ...current };
      const changes: FieldChange[] = [];
      for (const [key, value] of Object.entries(patch)) {
        if (value === undefined) continue;
        if (key === 'legal_hold') {
          if (typeof value !== 'boolean') throw new AppError('INVALID_DATA', 'legal_hold must be true or false', { api_name: key });
          next.legal_hold = value;
        } else if (key in limits) {
          const [lo, hi] = limits[key as keyof typeof limits];
          if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
            throw new AppError('INVALID_DATA', `${key} must be an integer from ${lo} to ${hi}`, { api_name: key });
          }
          next[key as keyof typeof limits] = value;
        } else {
          throw new AppError('INVALID_DATA', `unknown setting ${key}`, { api_name: key });
        }
        if (current[key as keyof OrgSettings] !== next[key as keyof OrgSettings]) {
          changes.push({ api_name: key, field_label: key, old: current[key as keyof OrgSettings], new: next[key as keyof OrgSettings] });
        }
      }
      if (changes.length === 0) return next;
      await dir.updateOrgRow(tx.db, actor.orgId, { settings: JSON.stringify(next) });
      tx.audit({ action: 'org_updated', module: null, recordId: actor.orgId, recordName: org.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return next;
    });
  }

  const getOrg = (orgId: string) => dir.getOrg(store.db, orgId);
  const listOrgs = () => dir.listOrgs(store.db);

  /** Builds the actor for a user of an organisation (CLI, tests, token principals). */
  async function actorForUser(orgId: string, userId: string, ctx: Partial<Pick<Actor, 'source' | 'ip' | 'userAgent'>> = {}): Promise<Actor> {
    const [org, user] = await Promise.all([dir.getOrg(store.db, orgId), dir.getUser(store.db, orgId, userId)]);
    if (!org || !user) throw new AppError('INVALID_DATA', 'no such user', { id: userId });
    const profile = await dir.getProfile(store.db, orgId, user.profile_id);
    return {
      orgId, type: 'user', userId: user.id, name: fullName(user), source: ctx.source ?? 'api', ip: ctx.ip ?? null,
      userAgent: ctx.userAgent ?? null, isAdmin: profile?.is_admin === 1,
      permissions: profile ? JSON.parse(profile.permissions) : null, roleId: user.role_id, timeZone: org.time_zone,
    };
  }

  return {
    createOrganisation, listUsers, listEveryUser, getUser, createUser, updateUser, deleteUser,
    listRoles, getRole, createRole, updateRole, deleteRole,
    listProfiles, getProfile, cloneProfile, updateProfile, deleteProfile,
    getOrg, listOrgs, actorForUser, orgSettings, updateOrgSettings,
  };
}

export type DirectoryService = ReturnType<typeof createDirectoryService>;
export { fullName };
