import type { Db } from './db.ts';
import type { AuditExportTable } from './schema.ts';

/** Audit log export jobs as users see them (the jobs table holds the execution side). */

export const insertExport = (db: Db, row: AuditExportTable) => db.insertInto('audit_exports').values(row).execute();

export const getExport = (db: Db, orgId: string, id: string) =>
  db.selectFrom('audit_exports').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

export const listExports = (db: Db, orgId: string, createdBy: string | null) => {
  let q = db.selectFrom('audit_exports').selectAll().where('org_id', '=', orgId);
  if (createdBy) q = q.where('created_by', '=', createdBy);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
};

export const activeExportOf = (db: Db, orgId: string, userId: string) =>
  db.selectFrom('audit_exports').select(['id']).where('org_id', '=', orgId).where('created_by', '=', userId)
    .where('status', 'in', ['Scheduled', 'Progress']).executeTakeFirst();

export const updateExport = (db: Db, id: string, patch: Partial<AuditExportTable>) =>
  db.updateTable('audit_exports').set(patch).where('id', '=', id).execute();

/** Finished exports whose files are past expiry and not yet removed. */
export const expiredExports = (db: Db, now: number) =>
  db.selectFrom('audit_exports').selectAll().where('expires_at', '<', now).where('removed_at', 'is', null).execute();
