import { apiGet, apiSend } from './client.ts';

/** Data sharing settings (GET/PUT /crm/v8/settings/data_sharing) and sharing rules (administrators). */

export const SHARING_TYPES = ['private', 'public_read_only', 'public_read_write', 'public_read_write_delete'] as const;
export type SharingType = (typeof SHARING_TYPES)[number];
export const SHARING_LABELS: Record<SharingType, string> = {
  private: 'Private', public_read_only: 'Public Read Only', public_read_write: 'Public Read/Write',
  public_read_write_delete: 'Public Read/Write/Delete',
};
export const RULE_PERMISSIONS = ['read_only', 'read_write', 'read_write_delete'] as const;
export type RulePermission = (typeof RULE_PERMISSIONS)[number];
export const RULE_LABELS: Record<RulePermission, string> = { read_only: 'Read Only', read_write: 'Read/Write', read_write_delete: 'Read/Write/Delete' };

export interface ModuleSharing { module: { api_name: string; id: string | null }; type: SharingType }

export interface SharingRule {
  id: string;
  name: string;
  module: { api_name: string };
  shared_from: { resource: { id: string; name: string | null }; type: 'roles' | 'roles_and_subordinates' };
  shared_to: { resource: { id: string; name: string | null }; type: 'roles' | 'roles_and_subordinates' };
  permission_type: RulePermission;
}

export interface RuleInput {
  name: string;
  module: string;
  from: { roleId: string; subordinates: boolean };
  to: { roleId: string; subordinates: boolean };
  permission: RulePermission;
}

export async function getDataSharing(): Promise<ModuleSharing[]> {
  return (await apiGet<{ data_sharing: ModuleSharing[] }>('/crm/v8/settings/data_sharing'))?.data_sharing ?? [];
}

/** PUT one module's default; audited on the server as sharing_updated. */
export const setDataSharing = (module: string, type: SharingType) =>
  apiSend('PUT', '/crm/v8/settings/data_sharing', { data_sharing: [{ module: { api_name: module }, type }] });

export async function getSharingRules(): Promise<SharingRule[]> {
  return (await apiGet<{ sharing_rules: SharingRule[] }>('/crm/v8/settings/sharing_rules'))?.sharing_rules ?? [];
}

export const createSharingRule = (r: RuleInput) => apiSend('POST', '/crm/v8/settings/sharing_rules', { sharing_rules: [{
  name: r.name || undefined, module: { api_name: r.module }, permission_type: r.permission,
  shared_from: { resource: { id: r.from.roleId }, type: r.from.subordinates ? 'roles_and_subordinates' : 'roles' },
  shared_to: { resource: { id: r.to.roleId }, type: r.to.subordinates ? 'roles_and_subordinates' : 'roles' },
}] });

export const deleteSharingRule = (id: string) => apiSend('DELETE', `/crm/v8/settings/sharing_rules/${id}`);
