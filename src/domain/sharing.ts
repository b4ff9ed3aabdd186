import { AppError } from './errors.ts';
import type { FieldChange } from './audit.ts';
import { findModule, STANDARD_MODULES, type ModuleDef } from './modules.ts';
import { auditVisibility, type VisibilityRole, type VisibilityUser } from './visibility.ts';

/*
 * Data sharing, as Zoho's Setup → Data Sharing Settings: per module an organisation-wide default
 * decides what users may do with records they neither own nor see through the role hierarchy,
 * and sharing rules open one role's records to another role. Records of the user and of their
 * subordinates are always theirs to read, edit and delete (the profile still decides whether the
 * module may be touched at all); Administrators and the top role see everything. Notes,
 * attachments and emails have no setting of their own: they follow their parent record
 * (Zoho's "controlled by parent").
 */

export const SHARING_TYPES = ['private', 'public_read_only', 'public_read_write', 'public_read_write_delete'] as const;
export type SharingType = (typeof SHARING_TYPES)[number];

export const RULE_PERMISSIONS = ['read_only', 'read_write', 'read_write_delete'] as const;
export type RulePermission = (typeof RULE_PERMISSIONS)[number];

/** What a user may do with one record: nothing, read, read and edit, or also delete. */
export const ACCESS = { none: 0, read: 1, edit: 2, delete: 3 } as const;
export type AccessLevel = 0 | 1 | 2 | 3;

const TYPE_LEVEL: Record<SharingType, AccessLevel> = { private: 0, public_read_only: 1, public_read_write: 2, public_read_write_delete: 3 };
const RULE_LEVEL: Record<RulePermission, AccessLevel> = { read_only: 1, read_write: 2, read_write_delete: 3 };

/** Zoho's default for every module: Public Read/Write/Delete. */
export const DEFAULT_SHARING_TYPE: SharingType = 'public_read_write_delete';

/** Shares records owned by users of one role (and optionally its subordinate roles) with another. */
export interface SharingRule {
  id: string;
  name: string;
  module: string;
  shared_from: { role_id: string; subordinates: boolean };
  shared_to: { role_id: string; subordinates: boolean };
  permission: RulePermission;
}

export interface DataSharing {
  /** Per module api name; modules not listed use DEFAULT_SHARING_TYPE. */
  defaults: Record<string, SharingType>;
  rules: SharingRule[];
}

export const EMPTY_DATA_SHARING: DataSharing = { defaults: {}, rules: [] };

/** Whether a module follows its parent record (notes, attachments, emails) instead of its own setting. */
export const followsParent = (module: ModuleDef): boolean => module.dependent === 'parent_id';

/** The modules that have a data sharing setting of their own, in menu order. */
export const sharingModules = (): ModuleDef[] => STANDARD_MODULES.filter((m) => !followsParent(m));

export const sharingTypeOf = (ds: DataSharing, module: string): SharingType => ds.defaults[module] ?? DEFAULT_SHARING_TYPE;

/** The stored data sharing JSON (a key of the organisation's settings), tolerant of its absence. */
export function parseDataSharing(value: unknown): DataSharing {
  if (!value || typeof value !== 'object') return EMPTY_DATA_SHARING;
  const v = value as Partial<DataSharing>;
  return { defaults: v.defaults ?? {}, rules: v.rules ?? [] };
}

const sharingModuleName = (raw: unknown, path: string): string => {
  const name = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? (raw as { api_name?: unknown }).api_name : undefined;
  const m = typeof name === 'string' ? findModule(name) : undefined;
  if (!m) throw new AppError('INVALID_DATA', 'the module given seems to be invalid', { api_name: 'module', json_path: path });
  if (followsParent(m)) {
    throw new AppError('NOT_SUPPORTED', `${m.apiName} follow their parent record and have no sharing setting of their own`,
      { api_name: 'module', json_path: path });
  }
  return m.apiName;
};

/**
 * Applies `PUT /settings/data_sharing` items (`{module: {api_name}, type}`) to the defaults:
 * the next defaults and the changes, old and new. Throws MANDATORY_NOT_FOUND, INVALID_DATA or
 * NOT_SUPPORTED naming the offending key.
 */
export function applySharingDefaults(current: DataSharing, items: unknown[]) {
  const defaults = { ...current.defaults };
  const changes: FieldChange[] = [];
  items.forEach((raw, i) => {
    const base = `$.data_sharing[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new AppError('INVALID_DATA', 'invalid data', { json_path: base, expected_data_type: 'jsonobject' });
    }
    const item = raw as Record<string, unknown>;
    if (item.module === undefined) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'module', json_path: `${base}.module` });
    if (item.type === undefined) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'type', json_path: `${base}.type` });
    const module = sharingModuleName(item.module, `${base}.module`);
    if (typeof item.type !== 'string' || !(SHARING_TYPES as readonly string[]).includes(item.type)) {
      throw new AppError('INVALID_DATA', `type must be one of ${SHARING_TYPES.join(', ')}`, { api_name: 'type', json_path: `${base}.type` });
    }
    const old = sharingTypeOf({ defaults, rules: [] }, module);
    const next = item.type as SharingType;
    if (old !== next) changes.push({ api_name: module, field_label: `${module} default access`, old, new: next });
    defaults[module] = next;
  });
  return { next: { ...current, defaults }, changes };
}

/**
 * Validates one sharing rule from the API or the CLI against the organisation's roles. Throws
 * MANDATORY_NOT_FOUND or INVALID_DATA naming the offending key.
 */
export function parseSharingRule(raw: unknown, roleIds: ReadonlySet<string>, base: string, id: string): SharingRule {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new AppError('INVALID_DATA', 'invalid data', { json_path: base, expected_data_type: 'jsonobject' });
  }
  const r = raw as Record<string, unknown>;
  for (const key of ['module', 'shared_from', 'shared_to', 'permission_type'] as const) {
    if (r[key] === undefined || r[key] === null) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: key, json_path: `${base}.${key}` });
  }
  const module = sharingModuleName(r.module, `${base}.module`);
  const side = (key: 'shared_from' | 'shared_to') => {
    const s = r[key] as Record<string, unknown>;
    const path = `${base}.${key}`;
    const resource = s && typeof s === 'object' ? s.resource as Record<string, unknown> | undefined : undefined;
    const roleId = resource && typeof resource === 'object' ? resource.id : undefined;
    if (typeof roleId !== 'string' || !roleIds.has(roleId)) {
      throw new AppError('INVALID_DATA', 'the role given seems to be invalid', { api_name: key, json_path: `${path}.resource.id` });
    }
    const type = s.type ?? 'roles';
    if (type !== 'roles' && type !== 'roles_and_subordinates') {
      throw new AppError('INVALID_DATA', 'type must be roles or roles_and_subordinates', { api_name: key, json_path: `${path}.type` });
    }
    return { role_id: roleId, subordinates: type === 'roles_and_subordinates' };
  };
  const permission = r.permission_type;
  if (typeof permission !== 'string' || !(RULE_PERMISSIONS as readonly string[]).includes(permission)) {
    throw new AppError('INVALID_DATA', `permission_type must be one of ${RULE_PERMISSIONS.join(', ')}`,
      { api_name: 'permission_type', json_path: `${base}.permission_type` });
  }
  const name = r.name ?? `${module} sharing rule`;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
    throw new AppError('INVALID_DATA', 'name must be text of 1 to 100 characters', { api_name: 'name', json_path: `${base}.name` });
  }
  return { id, name: name.trim(), module, shared_from: side('shared_from'), shared_to: side('shared_to'), permission: permission as RulePermission };
}

/** A rule on the wire, in Zoho's shape. */
export function ruleView(rule: SharingRule, roleNames: ReadonlyMap<string, string>) {
  const side = (s: SharingRule['shared_from']) => ({
    resource: { id: s.role_id, name: roleNames.get(s.role_id) ?? null }, type: s.subordinates ? 'roles_and_subordinates' : 'roles',
  });
  return { id: rule.id, name: rule.name, module: { api_name: rule.module }, type: 'Record_Owner_Based',
    shared_from: side(rule.shared_from), shared_to: side(rule.shared_to), permission_type: rule.permission, superiors_allowed: false };
}

/** The role and, when asked, every role below it. */
function rolesUnder(roles: readonly VisibilityRole[], roleId: string, subordinates: boolean): Set<string> {
  const out = new Set([roleId]);
  if (!subordinates) return out;
  for (let grew = true; grew;) {
    grew = false;
    for (const r of roles) if (r.reportingTo && out.has(r.reportingTo) && !out.has(r.id)) { out.add(r.id); grew = true; }
  }
  return out;
}

/**
 * What one user may do with records of each module, by the records' owner. `all` for
 * Administrators and the top role; otherwise per module a base level (the default's) raised to
 * full access for the user's own and subordinates' records and by the rules shared to their role.
 */
export type SharingView =
  | { all: true }
  | { all: false; base: Map<string, AccessLevel>; owners: Map<string, Map<string, AccessLevel>> };

export function sharingView(viewer: VisibilityUser, roles: readonly VisibilityRole[], users: readonly VisibilityUser[], ds: DataSharing): SharingView {
  const hierarchy = auditVisibility(viewer, roles, users);
  if (hierarchy.all) return { all: true };
  const base = new Map<string, AccessLevel>();
  const owners = new Map<string, Map<string, AccessLevel>>();
  for (const m of sharingModules()) {
    base.set(m.apiName, TYPE_LEVEL[sharingTypeOf(ds, m.apiName)]);
    const map = new Map<string, AccessLevel>();
    for (const id of hierarchy.userIds) map.set(id, ACCESS.delete);
    owners.set(m.apiName, map);
  }
  for (const rule of ds.rules) {
    const map = owners.get(rule.module);
    if (!map || !viewer.roleId || !rolesUnder(roles, rule.shared_to.role_id, rule.shared_to.subordinates).has(viewer.roleId)) continue;
    const from = rolesUnder(roles, rule.shared_from.role_id, rule.shared_from.subordinates);
    for (const u of users) {
      if (u.roleId && from.has(u.roleId)) map.set(u.id, Math.max(map.get(u.id) ?? 0, RULE_LEVEL[rule.permission]) as AccessLevel);
    }
  }
  return { all: false, base, owners };
}

/** The access a view gives to a record of an own-setting module owned by `ownerId`. */
export function accessTo(view: SharingView, module: string, ownerId: string): AccessLevel {
  if (view.all) return ACCESS.delete;
  return Math.max(view.base.get(module) ?? ACCESS.delete, view.owners.get(module)?.get(ownerId) ?? 0) as AccessLevel;
}

/**
 * The same view as a filter a query can apply: modules readable in full, and for the others the
 * owners whose records may be read. Null when everything may be read.
 */
export interface ReadFilter { open: string[]; owners: Record<string, string[]>; parentModules: string[] }

export function readFilter(view: SharingView): ReadFilter | null {
  if (view.all) return null;
  const open: string[] = [];
  const owners: Record<string, string[]> = {};
  for (const [module, level] of view.base) {
    if (level >= ACCESS.read) open.push(module);
    else owners[module] = [...(view.owners.get(module) ?? new Map<string, AccessLevel>())].filter(([, l]) => l >= ACCESS.read).map(([id]) => id);
  }
  if (Object.keys(owners).length === 0) return null;
  return { open, owners, parentModules: STANDARD_MODULES.filter(followsParent).map((m) => m.apiName) };
}
