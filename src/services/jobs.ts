import { newId } from '../domain/ids.ts';
import * as jobs from '../store/job-store.ts';
import type { Tx } from './context.ts';

export type JobKind = 'audit_log_export' | 'recycle_bin_restore' | 'recycle_bin_delete';

/** Queues a job inside the caller's transaction: it exists exactly when the change commits. */
export async function enqueueJob(tx: Tx, orgId: string, kind: JobKind, payload: Record<string, unknown>,
  opts: { id?: string; maxAttempts?: number } = {}) {
  const id = opts.id ?? newId(tx.now);
  await jobs.insertJob(tx.db, {
    id, org_id: orgId, kind, payload: JSON.stringify(payload), status: 'queued', attempts: 0,
    max_attempts: opts.maxAttempts ?? 5, run_after: tx.now, lease_owner: null, lease_expires_at: null,
    progress_done: 0, progress_total: null, result: null, error: null, created_at: tx.now, updated_at: tx.now,
  });
  return id;
}

/** What a running job may do: report progress (which also renews its lease). */
export interface JobContext {
  jobId: string;
  attempt: number;
  /** Renews the lease and records progress; throws LeaseLostError when another worker took over. */
  progress(done: number, total: number | null): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lost the lease on job ${jobId}`);
  }
}
