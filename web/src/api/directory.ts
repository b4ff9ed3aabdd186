import { apiGet, apiSend, ApiError } from './client.ts';

/** The organisation's directory as the API shows it: users, roles, profiles and modules. */

export interface DirectoryUser {
  id: string;
  first_name: string | null;
  last_name: string;
  full_name: string;
  email: string;
  /** active, disabled (or deleted, listed only by type DeletedUsers). */
  status: string;
  role: { id: string; name: string } | null;
  profile: { id: string; name: string } | null;
  email_tracking: boolean;
  time_zone: string | null;
}

/** GET /crm/v8/users?type=AllUsers, every page (200 a page). */
export async function listUsers(type = 'AllUsers'): Promise<DirectoryUser[]> {
  const out: DirectoryUser[] = [];
  for (let page = 1; page <= 50; page++) {
    const r = await apiGet<{ users: DirectoryUser[]; info: { more_records: boolean } }>('/crm/v8/users', { type, page, per_page: 200 });
    if (!r) break;
    out.push(...r.users);
    if (!r.info.more_records) break;
  }
  return out;
}

/** What PUT /crm/v8/users/{id} may change from the console. */
export interface UserPatch {
  role?: { id: string };
  profile?: { id: string };
  status?: 'active' | 'disabled';
  email_tracking?: boolean;
}

/** PUT /crm/v8/users/{id} {"users":[patch]}; the item's error, if any, thrown in words. */
export async function updateUser(id: string, patch: UserPatch): Promise<void> {
  const r = await apiSend<{ users: { code: string; message: string; status: string; details: Record<string, unknown> }[] }>(
    'PUT', `/crm/v8/users/${encodeURIComponent(id)}`, { users: [patch] });
  const item = r?.users?.[0];
  if (item && item.status !== 'success') throw new ApiError(item.code, 400, item.message, item.details);
}

export interface Role {
  id: string;
  name: string;
  display_label: string;
  reporting_to: { id: string; name: string } | null;
  admin_user: boolean;
  share_with_peers: boolean;
  description: string | null;
}

/** GET /crm/v8/settings/roles: every role, each with the role it reports to. */
export async function listRoles(): Promise<Role[]> {
  const r = await apiGet<{ roles: Role[] }>('/crm/v8/settings/roles');
  return r?.roles ?? [];
}

export interface Profile {
  id: string;
  name: string;
  display_label: string;
  description: string | null;
  default: boolean;
  custom: boolean;
  /** crm_admin for the Administrator profile. */
  permission_type: string;
}

export interface ModulePermission { view: boolean; create: boolean; edit: boolean; delete: boolean }

export interface ProfileDetail extends Profile {
  permissions_details: { id: string; name: string; display_label: string; module: string | null; enabled: boolean }[];
  permissions: { modules: Record<string, ModulePermission>; settings: Record<string, boolean> };
}

/** GET /crm/v8/settings/profiles. */
export async function listProfiles(): Promise<Profile[]> {
  const r = await apiGet<{ profiles: Profile[] }>('/crm/v8/settings/profiles');
  return r?.profiles ?? [];
}

/** GET /crm/v8/settings/profiles/{id}: one profile with its permissions. */
export async function getProfile(id: string): Promise<ProfileDetail> {
  const r = await apiGet<{ profiles: ProfileDetail[] }>(`/crm/v8/settings/profiles/${encodeURIComponent(id)}`);
  if (!r?.profiles?.[0]) throw new ApiError('NOT_FOUND', 404, 'This profile no longer exists.');
  return r.profiles[0];
}

export interface ModuleInfo { id: string; api_name: string; module_name: string; singular_label: string; plural_label: string }

/** GET /crm/v8/settings/modules. */
export async function listModules(): Promise<ModuleInfo[]> {
  const r = await apiGet<{ modules: ModuleInfo[] }>('/crm/v8/settings/modules');
  return r?.modules ?? [];
}
