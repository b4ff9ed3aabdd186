import { formatDateTime } from '../domain/time.ts';
import { findModule, metadataId, moduleIndex, STANDARD_MODULES, type FieldDef, type ModuleDef } from '../domain/modules.ts';
import { SETTINGS_PERMISSIONS, type ProfilePermissions, modulePermission, permissionName } from '../domain/permissions.ts';
import type { OrgTable, ProfileTable, RoleTable, UserTable } from '../store/schema.ts';
import { fullName } from '../domain/display.ts';
// Audit entries' shapes live in services (alerts' webhooks and SIEM streams send them too).
export { auditEntryView, moduleRef, timelineEntryView } from '../services/audit-entry-view.ts';

/** Zoho wire shapes of stored rows. Ids are strings, times ISO 8601 in the org's zone. */

// Records render in services (the module data export writes them too); the routes take them from here.
export { allFields, recordView, referencedIds, userRef, type RecordViewContext } from '../services/record-view.ts';

export function userView(u: UserTable, ctx: { tz: string; roles: Map<string, RoleTable>; profiles: Map<string, ProfileTable>;
  users: Map<string, UserTable>; org: OrgTable }) {
  const role = ctx.roles.get(u.role_id);
  const profile = ctx.profiles.get(u.profile_id);
  const manager = role?.reporting_to
    ? [...ctx.users.values()].find((m) => m.role_id === role.reporting_to && m.status === 'active') : undefined;
  const by = (id: string | null) => (id ? { name: ctx.users.get(id) ? fullName(ctx.users.get(id)!) : null, id } : null);
  return {
    id: u.id, first_name: u.first_name, last_name: u.last_name, full_name: fullName(u), email: u.email, status: u.status,
    confirm: true, zuid: String(BigInt(u.id) % 1_000_000_000n), time_zone: u.time_zone, locale: 'en_US',
    country_locale: 'en_US', language: 'en_US',
    role: role ? { name: role.name, id: role.id } : null,
    profile: profile ? { name: profile.name, id: profile.id } : null,
    Reporting_To: manager ? { name: fullName(manager), id: manager.id } : null,
    type__s: 'Regular User', org_id: ctx.org.id,
    email_tracking: (JSON.parse(u.settings) as { email_tracking?: boolean }).email_tracking === true,
    created_time: formatDateTime(u.created_at, ctx.tz), Modified_Time: formatDateTime(u.modified_at, ctx.tz),
    created_by: by(u.created_by), Modified_By: by(u.modified_by),
  };
}

export function roleView(r: RoleTable, roles: Map<string, RoleTable>, users: Map<string, UserTable>, tz: string) {
  const parent = r.reporting_to ? roles.get(r.reporting_to) : undefined;
  const by = (id: string | null) => (id ? { name: users.get(id) ? fullName(users.get(id)!) : null, id } : null);
  return {
    id: r.id, name: r.name, display_label: r.name, api_name: r.name.replace(/\W+/g, '_'), description: r.description,
    reporting_to: parent ? { id: parent.id, name: parent.name } : null, forecast_manager: null,
    share_with_peers: r.share_with_peers === 1, admin_user: r.reporting_to === null,
    created_by__s: by(r.created_by), modified_by__s: by(r.modified_by),
    created_time__s: formatDateTime(r.created_at, tz), modified_time__s: formatDateTime(r.modified_at, tz),
  };
}

/** Profile permissions rendered as Zoho's `permissions_details`, plus our structured form. */
export function profileView(p: ProfileTable, users: Map<string, UserTable>, tz: string, detailed: boolean) {
  const perms = JSON.parse(p.permissions) as ProfilePermissions;
  const by = (id: string | null) => (id ? { name: users.get(id) ? fullName(users.get(id)!) : null, id } : null);
  const base = {
    id: p.id, name: p.name, display_label: p.name, description: p.description, default: p.custom === 0,
    custom: p.custom === 1, type: 'normal_profile', category: false, permission_type: p.is_admin ? 'crm_admin' : 'crm_standard',
    created_time: formatDateTime(p.created_at, tz), modified_time: formatDateTime(p.modified_at, tz),
    created_by: by(p.created_by), modified_by: by(p.modified_by),
  };
  if (!detailed) return base;
  const details: Record<string, unknown>[] = [];
  for (const m of STANDARD_MODULES) {
    for (const action of ['view', 'create', 'edit', 'delete'] as const) {
      details.push({ id: `${m.apiName}_${action}`, name: permissionName(m.apiName, action),
        display_label: `${action[0].toUpperCase()}${action.slice(1)} ${m.plural}`, module: m.apiName,
        enabled: p.is_admin === 1 || modulePermission(perms, m.apiName, action) });
    }
  }
  for (const s of SETTINGS_PERMISSIONS) {
    details.push({ id: s, name: s, display_label: s.replace(/_/g, ' '), module: null, enabled: p.is_admin === 1 || perms.settings[s] === true });
  }
  return { ...base, permissions_details: details, permissions: perms };
}

export function orgView(org: OrgTable, admin: UserTable | undefined) {
  return {
    id: org.id, zgid: org.zgid, company_name: org.name, primary_email: admin?.email ?? null, time_zone: org.time_zone,
    iso_code: org.currency, currency: org.currency, currency_symbol: org.currency === 'USD' ? '$' : org.currency,
    country_code: org.country_code, type: 'Production', primary_zuid: admin ? String(BigInt(admin.id) % 1_000_000_000n) : null,
    domain_name: `org${org.zgid}`, license_details: { paid: true, paid_type: 'enterprise', users_license_purchased: 1000 },
    mc_status: false, gapps_enabled: false, privacy_settings: true,
  };
}

export function moduleView(orgId: string, m: ModuleDef, profiles: ProfileTable[]) {
  const i = moduleIndex(m);
  return {
    id: metadataId(orgId, i), api_name: m.apiName, module_name: m.moduleName, singular_label: m.singular,
    plural_label: m.plural, generated_type: 'default', api_supported: true, creatable: m.creatable !== false,
    editable: m.creatable !== false, deletable: true, viewable: true, convertable: m.convertable === true,
    status: 'visible', visibility: 1, sequence_number: i + 1, recycle_bin_on_delete: true,
    modified_time: null, modified_by: null,
    profiles: profiles.map((p) => ({ name: p.name, id: p.id })), parent_module: null,
  };
}

export function fieldView(orgId: string, m: ModuleDef, f: FieldDef, index: number) {
  const lookupTarget = f.type === 'lookup' && f.lookupModule && f.lookupModule !== '*' ? findModule(f.lookupModule) : undefined;
  const multi = f.type === 'lookup' && f.lookupModule === '*';
  return {
    id: metadataId(orgId, moduleIndex(m), index), api_name: f.apiName, field_label: f.label, display_label: f.label,
    data_type: multi ? 'multi_module_lookup' : f.type, json_type: jsonType(f), system_mandatory: f.mandatory === true,
    read_only: f.readOnly === true, field_read_only: f.readOnly === true, custom_field: false, visible: true,
    length: f.maxLength ?? null,
    pick_list_values: f.picklist ? f.picklist.map((v) => ({ display_value: v, actual_value: v })) : [],
    lookup: lookupTarget ? { module: { api_name: lookupTarget.apiName, id: metadataId(orgId, moduleIndex(lookupTarget)) } } : {},
  };
}

function jsonType(f: FieldDef) {
  switch (f.type) {
    case 'integer': case 'bigint': return 'integer';
    case 'double': case 'currency': return 'double';
    case 'boolean': return 'boolean';
    case 'multiselectpicklist': return 'jsonarray';
    case 'lookup': case 'ownerlookup': case 'userlookup': return 'jsonobject';
    default: return 'string';
  }
}
