import { sql } from 'kysely';
import type { Db, StoreDialect } from './db.ts';
import type { JobTable } from './schema.ts';

/** The durable jobs queue, in the same database as the data. */

export const insertJob = (db: Db, row: JobTable) => db.insertInto('jobs').values(row).execute();

export const getJob = (db: Db, id: string) => db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();

/**
 * Claims the next runnable job: a queued one whose time has come, or a running one whose lease
 * lapsed (its worker died). PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers never
 * take the same row. SQLite: the write transaction serialises claims.
 */
export async function claimJob(db: Db, dialect: StoreDialect, worker: string, now: number, leaseMs: number,
  kinds: readonly string[]): Promise<JobTable | undefined> {
  if (kinds.length === 0) return undefined;
  if (dialect === 'postgres') {
    const r = await sql<JobTable>`
      UPDATE jobs SET status = 'running', lease_owner = ${worker}, lease_expires_at = ${now + leaseMs},
        attempts = attempts + 1, updated_at = ${now}
      WHERE id = (
        SELECT id FROM jobs
        WHERE kind IN (${sql.join(kinds)})
          AND ((status = 'queued' AND run_after <= ${now})
            OR (status = 'running' AND lease_expires_at < ${now} AND attempts < max_attempts))
        ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED)
      RETURNING *`.execute(db);
    return r.rows[0];
  }
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('jobs').selectAll().where('kind', 'in', kinds)
      .where((eb) => eb.or([
        eb.and([eb('status', '=', 'queued'), eb('run_after', '<=', now)]),
        eb.and([eb('status', '=', 'running'), eb('lease_expires_at', '<', now), eb('attempts', '<', eb.ref('max_attempts'))]),
      ])).orderBy('run_after').orderBy('id').limit(1).executeTakeFirst();
    if (!row) return undefined;
    const patch = { status: 'running', lease_owner: worker, lease_expires_at: now + leaseMs, attempts: row.attempts + 1, updated_at: now };
    await trx.updateTable('jobs').set(patch).where('id', '=', row.id).execute();
    return { ...row, ...patch };
  });
}

/** Extends the lease; false when another worker has taken the job over. */
export async function heartbeat(db: Db, id: string, worker: string, now: number, leaseMs: number,
  progress?: { done: number; total: number | null }): Promise<boolean> {
  const r = await db.updateTable('jobs').set({
    lease_expires_at: now + leaseMs, updated_at: now,
    ...(progress ? { progress_done: progress.done, progress_total: progress.total } : {}),
  }).where('id', '=', id).where('lease_owner', '=', worker).where('status', '=', 'running').executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function finishJob(db: Db, id: string, worker: string, now: number, result: unknown): Promise<boolean> {
  const r = await db.updateTable('jobs').set({ status: 'done', result: JSON.stringify(result ?? null), lease_owner: null,
    lease_expires_at: null, updated_at: now }).where('id', '=', id).where('lease_owner', '=', worker).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records a failure: back to the queue after `retryAt`, or failed for good after the last attempt. */
export async function failJob(db: Db, job: JobTable, worker: string, now: number, error: string, retryAt: number | null) {
  await db.updateTable('jobs').set({
    status: retryAt === null ? 'failed' : 'queued', run_after: retryAt ?? job.run_after, error, lease_owner: null,
    lease_expires_at: null, updated_at: now,
  }).where('id', '=', job.id).where('lease_owner', '=', worker).execute();
}

export const jobsOfKind = (db: Db, orgId: string, kind: string) =>
  db.selectFrom('jobs').selectAll().where('org_id', '=', orgId).where('kind', '=', kind).execute();
