import { describe, expect, it } from 'vitest';
import { ADMIN_PERMISSIONS, modulePermission, parsePermissions, permissionName, settingsPermission, STANDARD_PERMISSIONS } from './permissions.ts';

describe('permissions', () => {
  it('reads a module entry, falling back to the wildcard, and denies what neither names', () => {
    const perms = { modules: { '*': { view: true, create: false, edit: false, delete: false }, Deals: { view: false, create: true, edit: true, delete: true } }, settings: {} };
    expect(modulePermission(perms, 'Leads', 'view')).toBe(true);
    expect(modulePermission(perms, 'Leads', 'create')).toBe(false);
    expect(modulePermission(perms, 'Deals', 'view')).toBe(false);
    expect(modulePermission({ modules: {}, settings: {} }, 'Leads', 'view')).toBe(false);
    expect(settingsPermission(ADMIN_PERMISSIONS, 'audit_log')).toBe(true);
    expect(settingsPermission(STANDARD_PERMISSIONS, 'manage_users')).toBe(false);
  });

  it('names a permission the Zoho way', () => {
    expect(permissionName('Leads', 'view')).toBe('Crm_Implied_View_Leads');
    expect(permissionName('Deals', 'delete')).toBe('Crm_Implied_Delete_Deals');
  });

  it('merges a partial update into the base, and refuses malformed JSON', () => {
    const merged = parsePermissions({ modules: { Leads: { delete: false } }, settings: { audit_log: true } }, ADMIN_PERMISSIONS)!;
    expect(merged.modules.Leads).toEqual({ view: true, create: true, edit: true, delete: false });
    expect(merged.settings.audit_log).toBe(true);
    expect(modulePermission(merged, 'Deals', 'delete')).toBe(true);
    expect(parsePermissions({ modules: { Leads: { view: true } } })!.modules.Leads).toEqual({ view: true, create: false, edit: false, delete: false });
    for (const bad of [null, 'all', { modules: { Leads: { view: 'yes' } } }, { modules: { Leads: null } }, { settings: { not_a_setting: true } },
      { settings: { audit_log: 1 } }]) {
      expect(parsePermissions(bad), JSON.stringify(bad)).toBeNull();
    }
  });
});
