/** Profile permissions: what a user may do, enforced on top of the token's scopes. */

export interface ModulePermission { view: boolean; create: boolean; edit: boolean; delete: boolean }

export const SETTINGS_PERMISSIONS = [
  'manage_users', 'manage_roles', 'manage_profiles', 'manage_oauth_clients',
  'audit_log', 'export_audit_log', 'recycle_bin_admin', 'mass_update', 'mass_delete', 'import', 'export',
] as const;
export type SettingsPermission = (typeof SETTINGS_PERMISSIONS)[number];

export interface ProfilePermissions {
  /** Per module api name; the `*` entry applies to modules not listed. */
  modules: Record<string, ModulePermission>;
  settings: Partial<Record<SettingsPermission, boolean>>;
}

const ALL_MODULE: ModulePermission = { view: true, create: true, edit: true, delete: true };

export const ADMIN_PERMISSIONS: ProfilePermissions = {
  modules: { '*': ALL_MODULE },
  settings: Object.fromEntries(SETTINGS_PERMISSIONS.map((p) => [p, true])),
};

export const STANDARD_PERMISSIONS: ProfilePermissions = {
  modules: { '*': ALL_MODULE },
  settings: { audit_log: true, export_audit_log: true, mass_update: true, import: true, export: true },
};

export type ModuleAction = keyof ModulePermission;

export function modulePermission(perms: ProfilePermissions, module: string, action: ModuleAction): boolean {
  const entry = perms.modules[module] ?? perms.modules['*'];
  return entry?.[action] === true;
}

export function settingsPermission(perms: ProfilePermissions, permission: SettingsPermission): boolean {
  return perms.settings[permission] === true;
}

/** Zoho's permission name in NO_PERMISSION details, e.g. `Crm_Implied_View_Leads`. */
export function permissionName(module: string, action: ModuleAction): string {
  const verb = { view: 'View', create: 'Create', edit: 'Edit', delete: 'Delete' }[action];
  return `Crm_Implied_${verb}_${module}`;
}

const NONE: ProfilePermissions = { modules: {}, settings: {} };

/**
 * Validates untrusted permission JSON (from the API or CLI); returns null when malformed. What
 * the JSON leaves out is kept from `base` (Zoho merges a profile update into the profile), a
 * module's unnamed flags included; without a base, left out means not granted.
 */
export function parsePermissions(value: unknown, base: ProfilePermissions = NONE): ProfilePermissions | null {
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const modules: Record<string, ModulePermission> = { ...base.modules };
  if (v.modules !== undefined) {
    if (!v.modules || typeof v.modules !== 'object') return null;
    for (const [name, p] of Object.entries(v.modules as Record<string, unknown>)) {
      if (!p || typeof p !== 'object') return null;
      const q = p as Record<string, unknown>;
      const flags = ['view', 'create', 'edit', 'delete'] as const;
      if (flags.some((f) => q[f] !== undefined && typeof q[f] !== 'boolean')) return null;
      const flag = (f: ModuleAction) => (typeof q[f] === 'boolean' ? q[f] as boolean : modulePermission(base, name, f));
      modules[name] = { view: flag('view'), create: flag('create'), edit: flag('edit'), delete: flag('delete') };
    }
  }
  const settings: Partial<Record<SettingsPermission, boolean>> = { ...base.settings };
  if (v.settings !== undefined) {
    if (!v.settings || typeof v.settings !== 'object') return null;
    for (const [name, flag] of Object.entries(v.settings as Record<string, unknown>)) {
      if (!(SETTINGS_PERMISSIONS as readonly string[]).includes(name) || typeof flag !== 'boolean') return null;
      settings[name as SettingsPermission] = flag;
    }
  }
  return { modules, settings };
}
