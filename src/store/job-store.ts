import { sql } from 'kysely';
import type { Db, StoreDialect } from './db.ts';
import type { JobTable } from './schema.ts';

/** The durable jobs queue, in the same database as the data. */

export const insertJob = (db: Db, row: JobTable) => db.insertInto('jobs').values(row).execute();

/** Inserts the job unless one with its id exists: how every worker enqueues the same periodic job. */
export const insertJobOnce = (db: Db, row: JobTable) =>
  db.insertInto('jobs').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();

/** A new job, queued to run from `now`. */
export const queuedJob = (id: string, orgId: string, kind: string, payload: string, maxAttempts: number, now: number): JobTable => ({
  id, org_id: orgId, kind, payload, status: 'queued', attempts: 0, max_attempts: maxAttempts, run_after: now, lease_owner: null,
  lease_expires_at: null, progress_done: 0, progress_total: null, result: null, error: null, created_at: now, updated_at: now,
});

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

/*
 * A worker holds a job's lease while the row is running under its name and the lease has not
 * lapsed: once it lapses, another worker may claim the job, so the lapsed worker's writes
 * (renewal, result, failure) all match no row.
 */

/** Extends the lease; false when the lease is lost (lapsed, or another worker has taken the job over). */
export async function heartbeat(db: Db, id: string, worker: string, now: number, leaseMs: number,
  progress?: { done: number; total: number | null }): Promise<boolean> {
  const r = await db.updateTable('jobs').set({
    lease_expires_at: now + leaseMs, updated_at: now,
    ...(progress ? { progress_done: progress.done, progress_total: progress.total } : {}),
  }).where('id', '=', id).where('lease_owner', '=', worker).where('status', '=', 'running').where('lease_expires_at', '>=', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Marks the job done; false when the lease is lost. Run it in the transaction that writes the job's result. */
export async function finishJob(db: Db, id: string, worker: string, now: number, result: unknown): Promise<boolean> {
  const r = await db.updateTable('jobs').set({ status: 'done', result: JSON.stringify(result ?? null), lease_owner: null,
    lease_expires_at: null, updated_at: now }).where('id', '=', id).where('lease_owner', '=', worker).where('status', '=', 'running')
    .where('lease_expires_at', '>=', now).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Records a failure: back to the queue after `retryAt`, or failed for good after the last attempt. False when the lease is lost. */
export async function failJob(db: Db, job: JobTable, worker: string, now: number, error: string, retryAt: number | null): Promise<boolean> {
  const r = await db.updateTable('jobs').set({
    status: retryAt === null ? 'failed' : 'queued', run_after: retryAt ?? job.run_after, error, lease_owner: null,
    lease_expires_at: null, updated_at: now,
  }).where('id', '=', job.id).where('lease_owner', '=', worker).where('status', '=', 'running').where('lease_expires_at', '>=', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Running jobs whose lease lapsed on their last attempt: their worker died, and nobody may take them over. */
export const lapsedLastAttempts = (db: Db, now: number, kinds: readonly string[]) =>
  kinds.length === 0 ? Promise.resolve([]) : db.selectFrom('jobs').selectAll().where('kind', 'in', kinds).where('status', '=', 'running')
    .where('lease_expires_at', '<', now).whereRef('attempts', '>=', 'max_attempts').execute();

/** Ends such a job as failed; false when another worker ended it first. */
export async function failLapsed(db: Db, job: JobTable, now: number, error: string): Promise<boolean> {
  const r = await db.updateTable('jobs').set({ status: 'failed', error, lease_owner: null, lease_expires_at: null, updated_at: now })
    .where('id', '=', job.id).where('status', '=', 'running').where('lease_expires_at', '<', now).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** An organisation's job of one of these kinds. */
export const orgJob = (db: Db, orgId: string, id: string, kinds: readonly string[]) =>
  db.selectFrom('jobs').selectAll().where('id', '=', id).where('org_id', '=', orgId).where('kind', 'in', kinds).executeTakeFirst();

export const jobsOfKind = (db: Db, orgId: string, kind: string) =>
  db.selectFrom('jobs').selectAll().where('org_id', '=', orgId).where('kind', '=', kind).execute();

/** Removes the ended runs of a periodic task (not an organisation's job) last touched before `before`. */
export const pruneEndedPeriodic = (db: Db, kind: string, before: number) =>
  db.deleteFrom('jobs').where('org_id', '=', '').where('kind', '=', kind).where('status', 'in', ['done', 'failed'])
    .where('updated_at', '<', before).execute();

/**
 * Queues an ended job again, to run from `runAfter` (a stream's next delivery round), or brings a
 * queued one forward to then: false when it is running, or queued to run by then already.
 */
export async function requeueJob(db: Db, id: string, runAfter: number, now: number): Promise<boolean> {
  const r = await db.updateTable('jobs').set({ status: 'queued', run_after: runAfter, attempts: 0, error: null, result: null,
    lease_owner: null, lease_expires_at: null, updated_at: now }).where('id', '=', id)
    .where((eb) => eb.or([eb('status', 'in', ['done', 'failed']), eb.and([eb('status', '=', 'queued'), eb('run_after', '>', runAfter)])]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
