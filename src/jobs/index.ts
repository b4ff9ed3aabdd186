import type { Runtime } from '../services/runtime.ts';
import { createWorker, type WorkerOptions } from './worker.ts';

const HOUR = 3600_000;

/** The worker with every job kind and maintenance task of the application. */
export function createAppWorker(rt: Runtime, opts: Partial<Pick<WorkerOptions, 'leaseMs' | 'pollMs' | 'id'>> & { maintenance?: boolean } = {}) {
  const { services } = rt;
  return createWorker(rt.deps, {
    ...opts,
    handlers: {
      audit_log_export: (job, ctx) => services.exports.run(job, ctx),
      recycle_bin_restore: (job, ctx) => services.recycleBin.runJob(job, ctx),
      recycle_bin_delete: (job, ctx) => services.recycleBin.runJob(job, ctx),
      stream_delivery: (job, ctx) => services.streams.runDelivery(job, ctx),
    },
    periodic: opts.maintenance === false ? [] : [
      { name: 'retention', everyMs: 24 * HOUR,
        run: (_job, ctx) => services.retention.runRetention({ progress: (purged) => ctx.progress(purged, null) }) },
      { name: 'expired_exports', everyMs: HOUR, run: () => services.exports.removeExpired() },
      { name: 'recycle_bin_purge', everyMs: HOUR, run: () => services.recycleBin.purgeExpired() },
      { name: 'refused_login_summaries', everyMs: 5 * 60_000, run: () => services.oauth.summariseRefusedLogins() },
      { name: 'stream_jobs', everyMs: 5 * 60_000, run: () => services.streams.keepDelivering() },
      { name: 'ended_sessions', everyMs: HOUR, run: async () => Number((await services.sessions.pruneSessions())[0]?.numDeletedRows ?? 0) },
    ],
    onFailed: async (store, job) => {
      if (job.kind === 'audit_log_export') await services.exports.markFailed(store, job.id);
    },
  });
}
