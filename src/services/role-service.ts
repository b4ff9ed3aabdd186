import { AppError } from '../domain/errors.ts';
import { newId, isId } from '../domain/ids.ts';
import type { FieldChange } from '../domain/audit.ts';
import type { RoleTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { requireSetting } from './authorization.ts';
import { checkText, fieldError, refId } from './directory-input.ts';

export interface RoleInput { name?: unknown; description?: unknown; reporting_to?: unknown; share_with_peers?: unknown }

/** Inserts a role and queues its `role_added` entry (organisation seeding and the API). */
export async function addRole(tx: Tx, actor: Actor, r: { name: string; description: string | null; reportingTo: string | null;
  shareWithPeers?: boolean }): Promise<RoleTable> {
  const row: RoleTable = {
    id: newId(), org_id: actor.orgId, name: r.name, description: r.description, reporting_to: r.reportingTo,
    share_with_peers: r.shareWithPeers ? 1 : 0, created_at: tx.now, modified_at: tx.now,
    created_by: actor.userId, modified_by: actor.userId,
  };
  await tx.store.directory.insertRole(row);
  tx.audit({ action: 'role_added', module: 'roles', recordId: row.id, recordName: r.name, parentModule: null,
    parentId: null, batchId: null, fieldHistory: null, extra: { reporting_to: r.reportingTo } });
  return row;
}

function isDescendant(roles: RoleTable[], candidate: string, ancestor: string): boolean {
  const byId = new Map(roles.map((r) => [r.id, r]));
  for (let cur = byId.get(candidate); cur; cur = cur.reporting_to ? byId.get(cur.reporting_to) : undefined) {
    if (cur.id === ancestor) return true;
  }
  return false;
}

/** The role tree: read, add, rename or move, delete; every change audited in its own transaction. */
export function createRoleService(deps: ServiceDeps) {
  const { store } = deps;

  const listRoles = (actor: Actor) => store.repos.directory.listRoles(actor.orgId);
  const getRole = (actor: Actor, id: string) => (isId(id) ? store.repos.directory.getRole(actor.orgId, id) : Promise.resolve(undefined));

  /** Adds a role under `reporting_to` (mandatory: there is exactly one top role). */
  async function createRole(actor: Actor, input: RoleInput, path = '$.roles[0]') {
    requireSetting(actor, 'manage_roles');
    return inTransaction(deps, actor, async (tx) => {
      const name = checkText(input.name, 'name', path, 50);
      if (!name) throw fieldError('MANDATORY_NOT_FOUND', 'name', `${path}.name`, 'required field not found');
      const parentId = refId(input.reporting_to);
      if (parentId === undefined || parentId === null) throw fieldError('MANDATORY_NOT_FOUND', 'reporting_to', `${path}.reporting_to`, 'required field not found');
      const parent = typeof parentId === 'string' && isId(parentId) ? await tx.store.directory.getRole(actor.orgId, parentId) : undefined;
      if (!parent) throw fieldError('INVALID_DATA', 'reporting_to', `${path}.reporting_to`, 'invalid role');
      const roles = await tx.store.directory.listRoles(actor.orgId);
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
      const roles = await tx.store.directory.listRoles(actor.orgId);
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
      await tx.store.directory.updateRole(actor.orgId, id, { ...patch, modified_at: tx.now, modified_by: actor.userId });
      tx.audit({ action: 'role_updated', module: 'roles', recordId: id, recordName: patch.name ?? role.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return { ...role, ...patch, modified_at: tx.now, modified_by: actor.userId };
    });
  }

  /** Deletes a role, moving its users to `transferTo` and its child roles up one level. */
  async function deleteRole(actor: Actor, id: string, transferTo: string | undefined) {
    requireSetting(actor, 'manage_roles');
    return inTransaction(deps, actor, async (tx) => {
      const roles = await tx.store.directory.listRoles(actor.orgId);
      const role = roles.find((r) => r.id === id);
      if (!role) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 2 });
      if (role.reporting_to === null) throw new AppError('NOT_ALLOWED', 'the top role cannot be deleted', {});
      if (!transferTo) throw new AppError('REQUIRED_PARAM_MISSING', 'transfer_to_id is required', { param_name: 'transfer_to_id' });
      const target = roles.find((r) => r.id === transferTo);
      if (!target || target.id === id) throw new AppError('INVALID_DATA', 'invalid transfer role', { param_name: 'transfer_to_id' });
      await tx.store.directory.moveUsersToRole(actor.orgId, id, target.id, tx.now);
      await tx.store.directory.reparentRoles(actor.orgId, id, role.reporting_to);
      await tx.store.directory.deleteRole(actor.orgId, id);
      tx.audit({ action: 'role_deleted', module: 'roles', recordId: id, recordName: role.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { transfer_to_id: target.id } });
      return role;
    });
  }

  return { listRoles, getRole, createRole, updateRole, deleteRole };
}
