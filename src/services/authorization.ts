import { timingSafeEqual } from 'node:crypto';
import { AppError } from '../domain/errors.ts';
import { STANDARD_MODULES, type ModuleDef } from '../domain/modules.ts';
import {
  modulePermission, permissionName, settingsPermission, type ModuleAction, type ProfilePermissions, type SettingsPermission,
} from '../domain/permissions.ts';
import { auditVisibility } from '../domain/visibility.ts';
import {
  accessTo, ACCESS, followsParent, parseDataSharing, readFilter, sharingView, type AccessLevel, type ReadFilter, type SharingView,
} from '../domain/sharing.ts';
import { findModule } from '../domain/modules.ts';
import type { BoundStore, PoolStore } from '../store/bound-store.ts';
import type { RoleTable } from '../store/schema.ts';
import type { Actor } from './context.ts';

/*
 * Every permission decision of the services, in one place. Deny by default: an actor may do what
 * its profile grants (the Administrator profile grants everything) and nothing else; no profile,
 * no permission. Only the system actor (CLI, worker, seeders) bypasses. Token scopes are checked
 * in http/ before a service is called; these checks come on top of them.
 */

export const isSystem = (actor: Actor): boolean => actor.type === 'system';

/** The system actor or a holder of the Administrator profile. */
export const isAdministrator = (actor: Actor): boolean => isSystem(actor) || actor.isAdmin;

const noPermission = (permission: string, message = 'permission denied') =>
  new AppError('NO_PERMISSION', message, { permissions: [permission] });

/** Whether the actor's profile grants a settings permission. */
export function hasSetting(actor: Actor, permission: SettingsPermission): boolean {
  return isAdministrator(actor) || (actor.permissions !== null && settingsPermission(actor.permissions, permission));
}

/** NO_PERMISSION (403) unless the actor's profile grants the settings permission. */
export function requireSetting(actor: Actor, permission: SettingsPermission) {
  if (!hasSetting(actor, permission)) throw noPermission(permission);
}

/** NO_PERMISSION (403) unless the actor holds any of the settings permissions. */
export function requireAnySetting(actor: Actor, ...permissions: SettingsPermission[]) {
  if (!permissions.some((p) => hasSetting(actor, p))) throw noPermission(permissions[0]);
}

/** NO_PERMISSION (403) unless the actor is an Administrator. */
export function requireAdministrator(actor: Actor) {
  if (!isAdministrator(actor)) throw noPermission('administrator');
}

/**
 * The console pages the actor may use (the console hides the others; the routes behind them
 * decide again). Users and Settings are the administrators'.
 */
export function consolePages(actor: Actor) {
  return {
    audit_log: hasSetting(actor, 'audit_log'),
    reports: hasSetting(actor, 'audit_log'),
    recycle_bin: true,
    exports: hasSetting(actor, 'export_audit_log') || hasSetting(actor, 'audit_log'),
    users: isAdministrator(actor),
    settings: isAdministrator(actor),
    findings: hasSetting(actor, 'audit_log'),
    streams: hasSetting(actor, 'audit_log'),
    empty_recycle_bin: hasSetting(actor, 'recycle_bin_admin'),
    alerts: hasSetting(actor, 'audit_log'),
  };
}

/** Whether the actor's profile allows this action on records of this module. */
export function hasModulePermission(actor: Actor, module: string, action: ModuleAction): boolean {
  return isAdministrator(actor) || (actor.permissions !== null && modulePermission(actor.permissions, module, action));
}

/** NO_PERMISSION (403) unless the actor's profile allows this action on this module. */
export function requireModulePermission(actor: Actor, module: ModuleDef, action: ModuleAction) {
  if (!hasModulePermission(actor, module.apiName, action)) throw noPermission(permissionName(module.apiName, action));
}

/** Modules whose records the actor may view; undefined for every module. */
export function readableModules(actor: Actor): string[] | undefined {
  if (isAdministrator(actor)) return undefined;
  return STANDARD_MODULES.filter((m) => hasModulePermission(actor, m.apiName, 'view')).map((m) => m.apiName);
}

/**
 * Whose audit entries the actor sees (DESIGN invariant 4): null for the whole organisation,
 * else the user ids. An actor that is neither the system nor a user sees nobody's.
 */
export async function visibleUserIds(s: PoolStore, actor: Actor): Promise<string[] | null> {
  if (isAdministrator(actor)) return null;
  if (!actor.userId) return [];
  const [users, roles] = await Promise.all([s.directory.listUsers(actor.orgId), s.directory.listRoles(actor.orgId)]);
  const v = auditVisibility({ id: actor.userId, roleId: actor.roleId, isAdmin: false },
    roles.map((r) => ({ id: r.id, reportingTo: r.reporting_to })), users.map((u) => ({ id: u.id, roleId: u.role_id, isAdmin: false })));
  return v.all ? null : [...v.userIds];
}

/**
 * The actor ids an audit log read may cover (null: the whole organisation), narrowed to
 * `doneBy` when given. INVALID_DATA naming `param` when `doneBy` names someone who is not a
 * user of the organisation. The audit log, its live view and reports all read through it.
 */
export async function auditReadActorIds(s: PoolStore, actor: Actor, doneBy: string[] | undefined, param = 'done_by'): Promise<string[] | null> {
  if (doneBy) {
    const found = new Set(await s.directory.listUserIdsIn(actor.orgId, doneBy));
    if (doneBy.some((id) => !found.has(id))) {
      throw new AppError('INVALID_DATA', 'done_by names a user who is not in this organisation', { param_name: param });
    }
  }
  const visible = await visibleUserIds(s, actor);
  if (visible === null) return doneBy ?? null;
  return doneBy ? doneBy.filter((id) => visible.includes(id)) : visible;
}

type SharingReads = Pick<PoolStore, 'directory' | 'records'>;

/**
 * What the actor may do with records by their owner, under the organisation's data sharing
 * settings (domain/sharing.ts): everything for the system, Administrators and the top role.
 */
export async function sharingViewOf(s: SharingReads, actor: Actor): Promise<SharingView> {
  if (isAdministrator(actor)) return { all: true };
  const [org, users, roles] = await Promise.all([s.directory.getOrg(actor.orgId), s.directory.listUsers(actor.orgId), s.directory.listRoles(actor.orgId)]);
  const settings = org?.settings ? JSON.parse(org.settings) as { data_sharing?: unknown } : {};
  return sharingView({ id: actor.userId ?? '', roleId: actor.roleId, isAdmin: false }, roles.map((r) => ({ id: r.id, reportingTo: r.reporting_to })),
    users.map((u) => ({ id: u.id, roleId: u.role_id, isAdmin: false })), parseDataSharing(settings.data_sharing));
}

/** The actor's data sharing as a query filter; null when they may read every record. */
export const readFilterOf = async (s: SharingReads, actor: Actor): Promise<ReadFilter | null> => readFilter(await sharingViewOf(s, actor));

/**
 * The actor's access to each of these records (deleted or not): by owner, or through the parent
 * for notes, attachments and emails.
 */
export async function accessToRows(s: SharingReads, actor: Actor,
  rows: readonly { id: string; module: string; owner_id: string; parent_id: string | null }[], view?: SharingView): Promise<Map<string, AccessLevel>> {
  const v = view ?? await sharingViewOf(s, actor);
  const out = new Map<string, AccessLevel>();
  if (v.all) { for (const r of rows) out.set(r.id, ACCESS.delete); return out; }
  const dependent = rows.filter((r) => { const m = findModule(r.module); return m !== undefined && followsParent(m); });
  const parents = new Map((await s.records.names(actor.orgId, dependent.map((r) => r.parent_id).filter((x): x is string => !!x)))
    .map((p) => [p.id, p]));
  for (const r of rows) {
    if (!dependent.includes(r)) { out.set(r.id, accessTo(v, r.module, r.owner_id)); continue; }
    const p = r.parent_id ? parents.get(r.parent_id) : undefined;
    out.set(r.id, p ? accessTo(v, p.module, p.owner_id) : ACCESS.none);
  }
  return out;
}

/** The actor's access to one record; see accessToRows. */
export async function accessToRow(s: SharingReads, actor: Actor, row: { id: string; module: string; owner_id: string; parent_id: string | null }) {
  return (await accessToRows(s, actor, [row])).get(row.id)!;
}

/** Whose recycle bin items the actor sees: everyone's for bin administrators, else as the audit log. */
export const binVisibleUserIds = (s: PoolStore, actor: Actor): Promise<string[] | null> =>
  (hasSetting(actor, 'recycle_bin_admin') ? Promise.resolve(null) : visibleUserIds(s, actor));

/** Whether the actor may see a job or export another user started: its starter, or bin administrators for bin jobs. */
export const seesJobOf = (actor: Actor, startedBy: string | null, permission: 'recycle_bin_admin' | 'administrator') =>
  (permission === 'administrator' ? isAdministrator(actor) : hasSetting(actor, permission)) || (actor.userId !== null && actor.userId === startedBy);

/** NO_PERMISSION unless the actor holds every permission they grant (only what `before` lacked counts). */
export function checkGrantable(actor: Actor, perms: ProfilePermissions, before?: ProfilePermissions) {
  if (isAdministrator(actor)) return;
  for (const [name, flag] of Object.entries(perms.settings)) {
    const p = name as SettingsPermission;
    if (flag && !(before && settingsPermission(before, p)) && !hasSetting(actor, p)) throw noPermission(name, `you cannot grant ${name}`);
  }
  for (const m of STANDARD_MODULES.map((x) => x.apiName)) {
    for (const action of ['view', 'create', 'edit', 'delete'] as const) {
      if (modulePermission(perms, m, action) && !(before && modulePermission(before, m, action)) && !hasModulePermission(actor, m, action)) {
        throw noPermission(permissionName(m, action), `you cannot grant ${action} on ${m}`);
      }
    }
  }
}

/** Whether `role` lies strictly below `ancestor` in the role tree. */
function isBelow(roles: readonly RoleTable[], role: string, ancestor: string): boolean {
  const byId = new Map(roles.map((r) => [r.id, r]));
  const seen = new Set<string>();
  for (let cur = byId.get(role)?.reporting_to; cur && !seen.has(cur); cur = byId.get(cur)?.reporting_to) {
    if (cur === ancestor) return true;
    seen.add(cur);
  }
  return false;
}

/**
 * Role changes by someone who does not see the whole organisation: they may move only users
 * they see (their subordinates), and only into roles strictly below their own. Any other role
 * would let the moved user see entries the mover cannot (the top role sees the whole
 * organisation), or bring a peer's entries into the mover's view. NO_PERMISSION otherwise.
 */
export async function checkRoleGrant(s: BoundStore, actor: Actor, roles: readonly RoleTable[], userId: string | null, roleId: string) {
  const visible = await visibleUserIds(s, actor);
  if (visible === null) return;
  const mayMove = userId === null || visible.includes(userId);
  if (!mayMove || !actor.roleId || !isBelow(roles, roleId, actor.roleId)) {
    throw new AppError('NO_PERMISSION', 'you can only give roles below your own, to users below you', { permissions: ['role'] });
  }
}

/**
 * The widest scopes a profile allows: what `client create` grants by default, and the bound
 * for the scopes of any client or grant code of the user.
 */
export function profileScopes(isAdmin: boolean, permissions: ProfilePermissions | null): string[] {
  if (isAdmin) {
    return ['ZohoCRM.modules.ALL', 'ZohoCRM.settings.ALL', 'ZohoCRM.users.ALL', 'ZohoCRM.org.ALL', 'ZohoFiles.files.READ'];
  }
  const has = (p: SettingsPermission) => permissions !== null && settingsPermission(permissions, p);
  const scopes = ['ZohoCRM.modules.ALL', 'ZohoCRM.users.READ', 'ZohoCRM.org.READ', 'ZohoCRM.settings.modules.READ',
    'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.roles.READ', 'ZohoCRM.settings.profiles.READ', 'ZohoFiles.files.READ'];
  // UPDATE on the audit log: acknowledging findings, and saved reports with their schedules (a
  // report reads only what its owner may read). The audit log's readers manage their own SIEM
  // streams (of what they see).
  if (has('audit_log')) scopes.push('ZohoCRM.settings.audit_logs.READ', 'ZohoCRM.settings.audit_logs.UPDATE', 'ZohoCRM.settings.audit_log_streams.ALL');
  if (has('export_audit_log')) scopes.push('ZohoCRM.settings.audit_logs.CREATE');
  scopes.push('ZohoCRM.settings.recycle_bin.READ', 'ZohoCRM.settings.recycle_bin.UPDATE');
  if (has('recycle_bin_admin')) scopes.push('ZohoCRM.settings.recycle_bin.DELETE');
  if (has('manage_users')) scopes.push('ZohoCRM.users.ALL');
  if (has('manage_roles')) scopes.push('ZohoCRM.settings.roles.ALL');
  if (has('manage_profiles')) scopes.push('ZohoCRM.settings.profiles.ALL');
  return scopes;
}

/** Equality of two secrets (or their hashes) in time independent of where they differ. */
export function secretsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
