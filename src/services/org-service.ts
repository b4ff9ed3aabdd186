import { AppError } from '../domain/errors.ts';
import { newId, shortOrgId } from '../domain/ids.ts';
import { ADMIN_PERMISSIONS, STANDARD_PERMISSIONS } from '../domain/permissions.ts';
import {
  applyOrgSettingsPatch, DEFAULT_ORG_SETTINGS, mergeSettingsJson, parseOrgSettings, type OrgSettings,
} from '../domain/org-settings.ts';
import { isValidTimeZone } from '../domain/time.ts';
import type { OrgTable } from '../store/schema.ts';
import { inTransaction, systemActor, type ServiceDeps, type Actor } from './context.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { requireAdministrator } from './authorization.ts';
import { EMAIL } from './directory-input.ts';
import { addProfile } from './profile-service.ts';
import { addRole } from './role-service.ts';
import { addUser } from './user-service.ts';

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

/** Organisations: creation with their default profiles, roles and first Administrator; settings. */
export function createOrgService(deps: ServiceDeps) {
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
    const passwordHash = await hashPassword(password);
    const actor = systemActor(orgId, 'System', timeZone);
    return inTransaction(deps, actor, async (tx) => {
      const now = tx.now;
      const org: OrgTable = {
        id: orgId, name, time_zone: timeZone, currency: input.currency ?? 'USD', country_code: input.countryCode ?? 'US',
        zgid: shortOrgId(orgId), settings: JSON.stringify(DEFAULT_ORG_SETTINGS), created_at: now,
      };
      await tx.store.directory.insertOrg(org);
      tx.audit({ action: 'org_created', module: null, recordId: orgId, recordName: name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { time_zone: timeZone } });
      const adminProfile = await addProfile(tx, actor, 'Administrator', 'This profile will have all the permissions.', true, ADMIN_PERMISSIONS, false);
      const standardProfile = await addProfile(tx, actor, 'Standard', 'This profile will have all the permissions except administrative privileges.', false, STANDARD_PERMISSIONS, false);
      const ceo = await addRole(tx, actor, { name: 'CEO', description: 'The top of the role hierarchy', reportingTo: null });
      const manager = await addRole(tx, actor, { name: 'Manager', description: null, reportingTo: ceo.id });
      const admin = await addUser(tx, actor, {
        first_name: input.adminFirstName ?? null, last_name: input.adminLastName ?? 'Administrator', email,
        role_id: ceo.id, profile_id: adminProfile.id, time_zone: timeZone, password_hash: passwordHash,
      });
      return { org, admin, password, profiles: { admin: adminProfile, standard: standardProfile }, roles: { ceo, manager } };
    });
  }

  /** Current settings of an organisation, defaults filled in. */
  async function orgSettings(orgId: string): Promise<OrgSettings> {
    return parseOrgSettings((await store.repos.directory.getOrg(orgId))?.settings);
  }

  /**
   * Changes the audit log window, retention (1 to 10 years), legal hold, recycle bin period or
   * API requests per minute per access token.
   * Throws INVALID_DATA naming the setting.
   */
  async function updateOrgSettings(actor: Actor, patch: Partial<Record<keyof OrgSettings, unknown>>) {
    requireAdministrator(actor);
    return inTransaction(deps, actor, async (tx) => {
      const org = await tx.store.directory.getOrg(actor.orgId);
      if (!org) throw new AppError('INVALID_DATA', 'no such organisation', {});
      const { next, changes } = applyOrgSettingsPatch(parseOrgSettings(org.settings), patch);
      if (changes.length === 0) return next;
      await tx.store.directory.updateOrg(actor.orgId, { settings: mergeSettingsJson(org.settings, { ...next }) });
      tx.audit({ action: 'org_updated', module: null, recordId: actor.orgId, recordName: org.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return next;
    });
  }

  /** The settings as an Administrator reads them. Throws NO_PERMISSION for anyone else. */
  async function readOrgSettings(actor: Actor): Promise<OrgSettings> {
    requireAdministrator(actor);
    return orgSettings(actor.orgId);
  }

  const getOrg = (orgId: string) => store.repos.directory.getOrg(orgId);
  const listOrgs = () => store.repos.directory.listOrgs();

  return { createOrganisation, getOrg, listOrgs, orgSettings, readOrgSettings, updateOrgSettings };
}
