import type { Db } from './db.ts';
import type { OrgTable, ProfileTable, RoleTable, UserTable } from './schema.ts';

/** Organisations, users, roles and profiles. Every query is scoped by organisation id. */

export const getOrg = (db: Db, id: string) =>
  db.selectFrom('orgs').selectAll().where('id', '=', id).executeTakeFirst();

export const listOrgs = (db: Db) => db.selectFrom('orgs').selectAll().orderBy('created_at').execute();

export const insertOrg = (db: Db, row: OrgTable) => db.insertInto('orgs').values(row).execute();

export const updateOrgRow = (db: Db, id: string, patch: Partial<OrgTable>) =>
  db.updateTable('orgs').set(patch).where('id', '=', id).execute();

export const listUsers = (db: Db, orgId: string) =>
  db.selectFrom('users').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();

/** Which of these ids are users of the organisation (whatever their status). */
export async function listUserIdsIn(db: Db, orgId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('users').select('id').where('org_id', '=', orgId).where('id', 'in', [...new Set(ids)]).execute();
  return rows.map((r) => r.id);
}

export const getUser = (db: Db, orgId: string, id: string) =>
  db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

/** The users with this email in every organisation (signing in names no organisation). */
export const findUsersByEmail = (db: Db, email: string) =>
  db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).orderBy('created_at').limit(20).execute();

export const getUserByEmail = (db: Db, orgId: string, email: string) =>
  db.selectFrom('users').selectAll().where('org_id', '=', orgId).where('email', '=', email.toLowerCase()).executeTakeFirst();

export const insertUser = (db: Db, row: UserTable) => db.insertInto('users').values(row).execute();

export const updateUserRow = (db: Db, orgId: string, id: string, patch: Partial<UserTable>) =>
  db.updateTable('users').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

export const listRoles = (db: Db, orgId: string) =>
  db.selectFrom('roles').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();

export const getRole = (db: Db, orgId: string, id: string) =>
  db.selectFrom('roles').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

export const insertRole = (db: Db, row: RoleTable) => db.insertInto('roles').values(row).execute();

export const updateRoleRow = (db: Db, orgId: string, id: string, patch: Partial<RoleTable>) =>
  db.updateTable('roles').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

export const deleteRoleRow = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('roles').where('org_id', '=', orgId).where('id', '=', id).execute();

export const listProfiles = (db: Db, orgId: string) =>
  db.selectFrom('profiles').selectAll().where('org_id', '=', orgId).orderBy('created_at').orderBy('id').execute();

export const getProfile = (db: Db, orgId: string, id: string) =>
  db.selectFrom('profiles').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

export const insertProfile = (db: Db, row: ProfileTable) => db.insertInto('profiles').values(row).execute();

export const updateProfileRow = (db: Db, orgId: string, id: string, patch: Partial<ProfileTable>) =>
  db.updateTable('profiles').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

export const deleteProfileRow = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('profiles').where('org_id', '=', orgId).where('id', '=', id).execute();

export const moveUsersToRole = (db: Db, orgId: string, fromRole: string, toRole: string, now: number) =>
  db.updateTable('users').set({ role_id: toRole, modified_at: now }).where('org_id', '=', orgId)
    .where('role_id', '=', fromRole).execute();

export const moveUsersToProfile = (db: Db, orgId: string, fromProfile: string, toProfile: string, now: number) =>
  db.updateTable('users').set({ profile_id: toProfile, modified_at: now }).where('org_id', '=', orgId)
    .where('profile_id', '=', fromProfile).execute();

export const reparentRoles = (db: Db, orgId: string, fromRole: string, toRole: string | null) =>
  db.updateTable('roles').set({ reporting_to: toRole }).where('org_id', '=', orgId)
    .where('reporting_to', '=', fromRole).execute();
