import { randomBytes } from 'node:crypto';
import * as jobs from '../store/job-store.ts';
import type { JobTable } from '../store/schema.ts';
import type { Logger, ServiceDeps } from '../services/context.ts';
import { LeaseLostError, type JobContext } from '../services/jobs.ts';
import { AppError } from '../domain/errors.ts';

export type JobHandler = (job: JobTable, ctx: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  handlers: Record<string, JobHandler>;
  /** Periodic maintenance (retention, expired export files), each run at most every `everyMs`. */
  periodic?: { name: string; everyMs: number; run: () => Promise<unknown> }[];
  leaseMs?: number;
  pollMs?: number;
  id?: string;
}

/**
 * The jobs worker: claims one job at a time under a lease, renews the lease while the handler
 * reports progress, retries failures with exponential backoff, and lets another worker take
 * over a job whose lease lapsed (its worker died).
 */
export function createWorker(deps: ServiceDeps, opts: WorkerOptions) {
  const id = opts.id ?? `worker-${process.pid}-${randomBytes(3).toString('hex')}`;
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 500;
  const kinds = Object.keys(opts.handlers);
  const log: Logger = deps.logger;
  let running = false;
  let loop: Promise<void> | null = null;
  const lastRun = new Map<string, number>();

  async function runJob(job: JobTable) {
    let lastBeat = deps.clock();
    // The lease is renewed on a timer too, so a long step between progress reports does not
    // let another worker take the job over while this one still runs it.
    let lost = false;
    const renew = setInterval(() => {
      jobs.heartbeat(deps.store.db, job.id, id, deps.clock(), leaseMs)
        .then((ok) => { if (!ok) lost = true; })
        .catch((e) => log.warn({ err: e, job: job.id }, 'lease renewal failed'));
    }, Math.max(200, Math.floor(leaseMs / 3)));
    renew.unref();
    const ctx: JobContext = {
      jobId: job.id, attempt: job.attempts,
      progress: async (done, total) => {
        if (lost) throw new LeaseLostError(job.id);
        const now = deps.clock();
        if (now - lastBeat < Math.min(1000, leaseMs / 3) && done !== total) return;
        lastBeat = now;
        if (!(await jobs.heartbeat(deps.store.db, job.id, id, now, leaseMs, { done, total }))) throw new LeaseLostError(job.id);
      },
    };
    try {
      const result = await opts.handlers[job.kind](job, ctx);
      await jobs.finishJob(deps.store.db, job.id, id, deps.clock(), result);
    } catch (e) {
      if (e instanceof LeaseLostError) {
        log.warn({ job: job.id }, 'job taken over by another worker');
        return;
      }
      const now = deps.clock();
      const retryAt = job.attempts < job.max_attempts ? now + Math.min(2 ** job.attempts * 5000, 600_000) : null;
      log.error({ err: e, job: job.id, attempt: job.attempts }, 'job failed');
      // Only our own error messages are shown to users; driver messages stay in the server log.
      const message = e instanceof AppError ? `${e.code}: ${e.message}` : 'internal error (see the server log)';
      await jobs.failJob(deps.store.db, job, id, now, message, retryAt);
    } finally {
      clearInterval(renew);
    }
  }

  /** Runs at most one job; true when one ran. */
  async function runOnce(): Promise<boolean> {
    const job = await jobs.claimJob(deps.store.db, deps.store.dialect, id, deps.clock(), leaseMs, kinds);
    if (!job) return false;
    await runJob(job);
    return true;
  }

  async function runPeriodic() {
    for (const p of opts.periodic ?? []) {
      const now = deps.clock();
      if (now - (lastRun.get(p.name) ?? 0) < p.everyMs) continue;
      lastRun.set(p.name, now);
      try {
        await p.run();
      } catch (e) {
        log.error({ err: e, task: p.name }, 'periodic task failed');
      }
    }
  }

  function start() {
    if (running) return;
    running = true;
    loop = (async () => {
      while (running) {
        try {
          await runPeriodic();
          if (await runOnce()) continue;
        } catch (e) {
          log.error({ err: e }, 'worker loop error');
        }
        await new Promise((r) => setTimeout(r, pollMs));
      }
    })();
  }

  async function stop() {
    running = false;
    await loop;
  }

  return { id, start, stop, runOnce };
}

export type Worker = ReturnType<typeof createWorker>;
