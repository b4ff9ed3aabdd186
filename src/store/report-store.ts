import { sql, type RawBuilder } from 'kysely';
import type { GroupKey, OffsetSegment } from '../domain/report.ts';
import type { Db } from './db.ts';
import { buildAuditSelect, type AuditSelect } from './audit-query-store.ts';
import type { ReportRunTable, SavedReportTable } from './schema.ts';

/** Saved reports, their runs, and the activity report's GROUP BY over the audit log. */

export type ActivitySelect = Omit<AuditSelect, 'desc' | 'after' | 'offset' | 'afterSeq' | 'aboutRecord' | 'dependentModules'
  | 'withoutViewsOf'> & {
  groupBy: GroupKey[];
  /** The organisation's UTC offsets over the span (domain/report.ts offsetSegments). */
  offsets: OffsetSegment[];
};

/** One group: its keys (`done_by` as id, type and name; time keys as integers) and its count. */
export interface ActivityGroup {
  actorId?: string | null;
  actorType?: string;
  actorName?: string;
  module?: string | null;
  action?: string;
  source?: string;
  /** Local day number (days since 1970-01-01 in the zone). */
  day?: number;
  /** Local day number of the week's Monday. */
  week?: number;
  hour?: number;
  /** 1 (Monday) to 7 (Sunday). */
  weekday?: number;
  count: number;
}

const DAY_MS = 86_400_000;

/** An integer we computed, inlined: both dialects then see the same text in SELECT and GROUP BY. */
function int(n: number): RawBuilder<number> {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return sql.raw(String(n));
}

/** audited_at in local milliseconds: plus the offset of the segment the instant falls in. */
function localMs(offsets: OffsetSegment[]): RawBuilder<number> {
  const last = offsets[offsets.length - 1];
  if (offsets.length === 1) return sql<number>`(audited_at + ${int(last.offset)})`;
  const whens = offsets.slice(0, -1).map((s) => sql`WHEN audited_at < ${int(s.until!)} THEN ${int(s.offset)}`);
  return sql<number>`(audited_at + CASE ${sql.join(whens, sql` `)} ELSE ${int(last.offset)} END)`;
}

/** The SQL of each grouping, by key (done_by takes two: the actor, and a system actor's name). */
function groupExpressions(key: GroupKey, local: RawBuilder<number>): RawBuilder<unknown>[] {
  const day = sql`(${local} / ${int(DAY_MS)})`;
  switch (key) {
    case 'done_by': return [sql`actor_id`, sql`CASE WHEN actor_id IS NULL THEN actor_name END`];
    case 'module': return [sql`module`];
    case 'action': return [sql`action`];
    case 'source': return [sql`source`];
    // 1970-01-01 was a Thursday: (day + 3) % 7 is 0 on Mondays.
    case 'day': return [day];
    case 'week': return [sql`(${day} - ((${day} + 3) % 7))`];
    case 'hour': return [sql`((${local} % ${int(DAY_MS)}) / ${int(3_600_000)})`];
    case 'weekday': return [sql`(((${day} + 3) % 7) + 1)`];
  }
}

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));

/**
 * Counts of the entries the filters select, grouped by the keys, in one GROUP BY (the same SQL
 * on SQLite and PostgreSQL). Ordered by the time keys, oldest first, then by count, largest
 * first; at most `limit` groups.
 */
export async function activityCounts(db: Db, q: ActivitySelect): Promise<ActivityGroup[]> {
  const local = localMs(q.offsets);
  const exprs = q.groupBy.map((k) => ({ key: k, sql: groupExpressions(k, local) }));
  const isTime = (k: GroupKey) => k === 'day' || k === 'week' || k === 'hour' || k === 'weekday';
  const selects = exprs.flatMap((e) => e.sql.map((s, i) => s.as<string>(`k_${e.key}_${i}`)));
  if (q.groupBy.includes('done_by')) selects.push(sql`max(actor_name)`.as('actor_name_any'), sql`max(actor_type)`.as('actor_type_any'));
  let query = buildAuditSelect(db, { ...q, desc: true, limit: 1 }).clearSelect().clearOrderBy().clearLimit()
    .select([...selects, sql<number>`count(*)`.as('n')])
    .groupBy(exprs.flatMap((e) => e.sql));
  for (const e of exprs.filter((x) => isTime(x.key))) for (const s of e.sql) query = query.orderBy(s, 'asc');
  query = query.orderBy(sql`count(*)`, 'desc');
  // Ties in a fixed order (nulls, as a system actor's id, sort alike on both dialects).
  for (const e of exprs.filter((x) => !isTime(x.key))) for (const s of e.sql) query = query.orderBy(sql`coalesce(${s}, '')`, 'asc');
  const rows = (await query.limit(q.limit).execute()) as Record<string, unknown>[];
  return rows.map((r) => {
    const g: ActivityGroup = { count: Number(r.n) };
    for (const k of q.groupBy) {
      if (k === 'done_by') {
        g.actorId = (r.k_done_by_0 as string | null) ?? null;
        g.actorName = String(r.k_done_by_1 ?? r.actor_name_any ?? '');
        g.actorType = String(r.actor_type_any ?? 'user');
      } else if (k === 'module') g.module = (r.k_module_0 as string | null) ?? null;
      else if (k === 'action' || k === 'source') g[k] = String(r[`k_${k}_0`]);
      else g[k] = num(r[`k_${k}_0`]);
    }
    return g;
  });
}

export type SavedReportRow = SavedReportTable;

export const insertSavedReport = (db: Db, row: SavedReportTable) => db.insertInto('saved_reports').values(row).execute();

export const updateSavedReport = (db: Db, orgId: string, id: string, patch: Partial<SavedReportTable>) =>
  db.updateTable('saved_reports').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

export const deleteSavedReport = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('saved_reports').where('org_id', '=', orgId).where('id', '=', id).execute();

export const getSavedReport = (db: Db, orgId: string, id: string) =>
  db.selectFrom('saved_reports').selectAll().where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();

/** Saved reports of an organisation, of the given owners (null: every owner), by name. */
export function listSavedReports(db: Db, orgId: string, ownerIds: string[] | null) {
  let q = db.selectFrom('saved_reports').selectAll().where('org_id', '=', orgId);
  if (ownerIds) q = ownerIds.length ? q.where('owner_id', 'in', ownerIds) : q.where(sql<boolean>`false`);
  return q.orderBy('name').orderBy('id').execute();
}

/** An organisation's reports that have a schedule. */
export const scheduledReports = (db: Db, orgId: string) =>
  db.selectFrom('saved_reports').selectAll().where('org_id', '=', orgId).where('schedule', 'is not', null).execute();

/** Inserts a period's run unless the report already has one for it; returns the period's run either way. */
export async function insertRunOnce(db: Db, row: ReportRunTable): Promise<ReportRunTable> {
  await db.insertInto('report_runs').values(row)
    .onConflict((oc) => oc.columns(['org_id', 'report_id', 'period_start']).doNothing()).execute();
  return (await db.selectFrom('report_runs').selectAll().where('org_id', '=', row.org_id).where('report_id', '=', row.report_id)
    .where('period_start', '=', row.period_start).executeTakeFirstOrThrow());
}

export const updateRun = (db: Db, orgId: string, id: string, patch: Partial<ReportRunTable>) =>
  db.updateTable('report_runs').set(patch).where('org_id', '=', orgId).where('id', '=', id).execute();

/** The newest runs of a report. */
export const listRuns = (db: Db, orgId: string, reportId: string, limit: number) =>
  db.selectFrom('report_runs').selectAll().where('org_id', '=', orgId).where('report_id', '=', reportId)
    .orderBy('period_start', 'desc').limit(limit).execute();

/** Removes a deleted report's runs. */
export const deleteRuns = (db: Db, orgId: string, reportId: string) =>
  db.deleteFrom('report_runs').where('org_id', '=', orgId).where('report_id', '=', reportId).execute();
