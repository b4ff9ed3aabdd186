import { newId } from '../domain/ids.ts';
import { queuedJob } from '../store/job-store.ts';
import type { PoolStore } from '../store/bound-store.ts';
import type { Tx } from './context.ts';

export type JobKind = 'audit_log_export' | 'recycle_bin_restore' | 'recycle_bin_delete';

/** Queues a job inside the caller's transaction: it exists exactly when the change commits. */
export async function enqueueJob(tx: Tx, orgId: string, kind: JobKind, payload: Record<string, unknown>,
  opts: { id?: string; maxAttempts?: number } = {}) {
  const id = opts.id ?? newId(tx.now);
  await tx.store.jobs.insert(queuedJob(id, orgId, kind, JSON.stringify(payload), opts.maxAttempts ?? 5, tx.now));
  return id;
}

/** What a running job may do: report progress (which also renews its lease), check its lease, write its result. */
export interface JobContext {
  jobId: string;
  attempt: number;
  /** Renews the lease and records progress; throws LeaseLostError when the lease is lost. */
  progress(done: number, total: number | null): Promise<void>;
  /**
   * Throws LeaseLostError once the lease is lost (lapsed by the clock, or found taken over by the
   * renewal), without a query: call it before every write, so a worker that lost its lease stops at once.
   */
  holdLease(): void;
  /**
   * Marks the job done with its result inside the caller's transaction (its bound store), the one that writes the
   * job's other results, so they commit only while this worker holds the lease. Throws
   * LeaseLostError otherwise, which rolls them back. Without it the worker marks the job done
   * after the handler returns.
   */
  complete(store: PoolStore, result: unknown): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lost the lease on job ${jobId}`);
  }
}
