import { randomBytes } from 'node:crypto';
import { queuedJob } from '../store/job-store.ts';
import type { BoundStore } from '../store/bound-store.ts';
import type { JobTable } from '../store/schema.ts';
import { bookkeeping, type Logger, type ServiceDeps } from '../services/context.ts';
import { LeaseLostError, type JobContext } from '../services/job-queue.ts';
import { AppError } from '../domain/errors.ts';

export type JobHandler = (job: JobTable, ctx: JobContext) => Promise<unknown>;

export interface WorkerOptions {
  handlers: Record<string, JobHandler>;
  /**
   * Periodic maintenance (retention, expired export files), run once per `everyMs` for the whole
   * cluster: each worker enqueues the period's job of kind `name` under an id made of the name
   * and the period, so however many workers try, the period has one job, run by one of them.
   */
  periodic?: { name: string; everyMs: number; run: JobHandler; keepMs?: number }[];
  /**
   * Work every running worker polls for between (and during) jobs, on its own timer: the alert
   * pump, woken within `everyMs` of a write on any node. Such work must be safe to run on many
   * nodes at once by its own means (the feed's cursor transaction, delivery claims); it is no job.
   */
  background?: { name: string; everyMs: number;
    /** One round; true when it found work, so there may be more at once (the next round then starts without the pause). */
    run: () => Promise<boolean> }[];
  /** Runs in the transaction that ends a job as failed for good (an export marks itself Failed). */
  onFailed?: (store: BoundStore, job: JobTable) => Promise<void>;
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
  const handlers: Record<string, JobHandler> = { ...opts.handlers, ...Object.fromEntries((opts.periodic ?? []).map((p) => [p.name, p.run])) };
  const kinds = Object.keys(handlers);
  const jobs = deps.store.repos.jobs;
  const log: Logger = deps.logger;
  let running = false;
  let loop: Promise<void> | null = null;
  /** The period each periodic job was last enqueued for, by name. */
  const scheduled = new Map<string, number>();

  async function runJob(job: JobTable) {
    let lastBeat = deps.clock();
    let leaseUntil = Number(job.lease_expires_at);
    let lost = false;
    let completed = false;
    const leaseLost = () => {
      lost = true;
      return new LeaseLostError(job.id);
    };
    // The lease is renewed on a timer too, so a long step between progress reports does not
    // let another worker take the job over while this one still runs it.
    const renew = setInterval(() => {
      const now = deps.clock();
      if (!lost) {
        jobs.heartbeat(job.id, id, now, leaseMs)
          .then((ok) => { if (ok) leaseUntil = now + leaseMs; else lost = true; })
          .catch((e) => log.warn({ err: e, job: job.id }, 'lease renewal failed'));
      }
    }, Math.max(200, Math.floor(leaseMs / 3)));
    renew.unref();
    const holdLease = () => {
      // Past the lease's end another worker may already have claimed the job, renewal or not.
      if (lost || deps.clock() > leaseUntil) throw leaseLost();
    };
    const ctx: JobContext = {
      jobId: job.id, attempt: job.attempts, holdLease,
      progress: async (done, total) => {
        holdLease();
        const now = deps.clock();
        if (now - lastBeat < Math.min(1000, leaseMs / 3) && done !== total) return;
        lastBeat = now;
        if (!(await jobs.heartbeat(job.id, id, now, leaseMs, { done, total }))) throw leaseLost();
        leaseUntil = now + leaseMs;
      },
      complete: async (store, result) => {
        if (!(await store.jobs.finish(job.id, id, deps.clock(), result))) throw leaseLost();
        completed = true;
      },
    };
    try {
      const result = await handlers[job.kind](job, ctx);
      if (!completed) await ctx.complete(deps.store.repos, result);
    } catch (e) {
      if (e instanceof LeaseLostError) {
        log.warn({ job: job.id }, 'lost the lease on the job (another worker may run it)');
        return;
      }
      const now = deps.clock();
      const retryAt = job.attempts < job.max_attempts ? now + Math.min(2 ** job.attempts * 5000, 600_000) : null;
      log.error({ err: e, job: job.id, attempt: job.attempts }, 'job failed');
      // Only our own error messages are shown to users; driver messages stay in the server log.
      const message = e instanceof AppError ? `${e.code}: ${e.message}` : 'internal error (see the server log)';
      await bookkeeping(deps, 'a job failed: its outcome, not a change to CRM data', async (s) => {
        if (await s.jobs.fail(job, id, now, message, retryAt) && retryAt === null) await opts.onFailed?.(s, job);
      });
    } finally {
      clearInterval(renew);
    }
  }

  /**
   * Ends as failed the jobs whose worker died on their last attempt: nobody may take them over,
   * and left running they would stay so for ever (and an export would block its user's next one).
   */
  async function failLapsed() {
    const now = deps.clock();
    const lapsed = await jobs.lapsedLastAttempts(now, kinds);
    for (const job of lapsed) {
      log.error({ job: job.id, worker: job.lease_owner, attempt: job.attempts }, 'job abandoned on its last attempt');
      await bookkeeping(deps, 'a job abandoned by its worker: its outcome, not a change to CRM data', async (s) => {
        if (await s.jobs.failLapsed(job, now, 'the worker running its last attempt stopped')) await opts.onFailed?.(s, job);
      });
    }
  }

  /** Runs at most one job; true when one ran. */
  async function runOnce(): Promise<boolean> {
    await failLapsed();
    const job = await jobs.claim(id, deps.clock(), leaseMs, kinds);
    if (!job) return false;
    await runJob(job);
    return true;
  }

  const PERIODIC_HISTORY_MS = 30 * 86_400_000;

  /** Enqueues the current period's job of each periodic task, unless some worker already did. */
  async function schedulePeriodic() {
    const now = deps.clock();
    for (const p of opts.periodic ?? []) {
      const period = Math.floor(now / p.everyMs);
      if (scheduled.get(p.name) === period) continue;
      // Not an organisation's job: it runs over all of them.
      await jobs.insertOnce(
        queuedJob(`${p.name}@${new Date(period * p.everyMs).toISOString()}`, '', p.name, '{}', 3, now));
      // Each period leaves a row; keep a month of them, so the queue does not grow for ever.
      await jobs.pruneEndedPeriodic(p.name, now - (p.keepMs ?? PERIODIC_HISTORY_MS));
      scheduled.set(p.name, period);
    }
  }

  const backgroundLoops: Promise<void>[] = [];
  const wakers = new Set<() => void>();
  const pause = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(() => { wakers.delete(done); r(); }, ms);
    const done = () => { clearTimeout(t); r(); };
    wakers.add(done);
  });

  function start() {
    if (running) return;
    running = true;
    for (const b of opts.background ?? []) {
      backgroundLoops.push((async () => {
        while (running) {
          let more = false;
          try {
            more = await b.run();
          } catch (e) {
            log.error({ err: e, task: b.name }, 'background task failed');
          }
          // Busy: yield to the event loop only, so a backlog drains without a pause per round.
          if (running) await (more ? new Promise<void>((r) => setImmediate(r)) : pause(b.everyMs));
        }
      })());
    }
    loop = (async () => {
      while (running) {
        try {
          await schedulePeriodic();
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
    for (const w of [...wakers]) w();
    await loop;
    await Promise.all(backgroundLoops.splice(0));
  }

  return { id, start, stop, runOnce };
}

export type Worker = ReturnType<typeof createWorker>;
