import { AppError } from '../domain/errors.ts';
import { newId, isId } from '../domain/ids.ts';
import { parsePermissions, type ProfilePermissions } from '../domain/permissions.ts';
import type { FieldChange } from '../domain/audit.ts';
import type { ProfileTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { checkGrantable, isAdministrator, requireSetting } from './authorization.ts';
import { checkText, fieldError, onlyAdmins } from './directory-input.ts';

export interface ProfileInput { name?: unknown; description?: unknown; permissions?: unknown }

/** Inserts a profile and queues its `profile_added` entry (organisation seeding and clones). */
export async function addProfile(tx: Tx, actor: Actor, name: string, description: string | null, isAdmin: boolean,
  permissions: ProfilePermissions, custom: boolean): Promise<ProfileTable> {
  const row: ProfileTable = {
    id: newId(), org_id: actor.orgId, name, description, is_admin: isAdmin ? 1 : 0, custom: custom ? 1 : 0,
    permissions: JSON.stringify(permissions), created_at: tx.now, modified_at: tx.now,
    created_by: actor.userId, modified_by: actor.userId,
  };
  await tx.store.directory.insertProfile(row);
  tx.audit({ action: 'profile_added', module: 'profiles', recordId: row.id, recordName: name, parentModule: null,
    parentId: null, batchId: null, fieldHistory: null, extra: { permissions } });
  return row;
}

/** Profiles: read, clone, change, delete; every change audited in its own transaction. */
export function createProfileService(deps: ServiceDeps) {
  const { store } = deps;

  const listProfiles = (actor: Actor) => store.repos.directory.listProfiles(actor.orgId);
  const getProfile = (actor: Actor, id: string) => (isId(id) ? store.repos.directory.getProfile(actor.orgId, id) : Promise.resolve(undefined));

  /** Clones a profile under a new name (Zoho's way to create one). */
  async function cloneProfile(actor: Actor, sourceId: string, input: ProfileInput, path = '$.profiles[0]') {
    requireSetting(actor, 'manage_profiles');
    return inTransaction(deps, actor, async (tx) => {
      const source = isId(sourceId) ? await tx.store.directory.getProfile(actor.orgId, sourceId) : undefined;
      if (!source) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (source.is_admin && !isAdministrator(actor)) throw onlyAdmins();
      const name = checkText(input.name, 'name', path, 50);
      if (!name) throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      const profiles = await tx.store.directory.listProfiles(actor.orgId);
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
      const profile = isId(id) ? await tx.store.directory.getProfile(actor.orgId, id) : undefined;
      if (!profile) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (!isAdministrator(actor) && actor.userId && (await tx.store.directory.getUser(actor.orgId, actor.userId))?.profile_id === profile.id) {
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
      await tx.store.directory.updateProfile(actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'profile_updated', module: 'profiles', recordId: id, recordName: patch.name ?? profile.name,
        parentModule: null, parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return { ...profile, ...patch, modified_at: tx.now, modified_by: actor.userId };
    });
  }

  /** Deletes a custom profile, moving its users to `transferTo`. */
  async function deleteProfile(actor: Actor, id: string, transferTo: string | undefined) {
    requireSetting(actor, 'manage_profiles');
    return inTransaction(deps, actor, async (tx) => {
      const profiles = await tx.store.directory.listProfiles(actor.orgId);
      const profile = profiles.find((p) => p.id === id);
      if (!profile) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (profile.custom === 0) throw new AppError('NOT_ALLOWED', 'default profiles cannot be deleted', {});
      const target = profiles.find((p) => p.id === transferTo && p.id !== id);
      if (!transferTo) throw new AppError('REQUIRED_PARAM_MISSING', 'transfer_to is required', { param_name: 'transfer_to' });
      if (!target) throw new AppError('INVALID_DATA', 'invalid transfer profile', { param_name: 'transfer_to' });
      await tx.store.directory.moveUsersToProfile(actor.orgId, id, target.id, tx.now);
      await tx.store.directory.deleteProfile(actor.orgId, id);
      tx.audit({ action: 'profile_deleted', module: 'profiles', recordId: id, recordName: profile.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { transfer_to: target.id } });
      return profile;
    });
  }

  return { listProfiles, getProfile, cloneProfile, updateProfile, deleteProfile };
}
