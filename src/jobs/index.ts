import type { Runtime } from '../services/runtime.ts';
import { createWorker, type WorkerOptions } from './worker.ts';

const HOUR = 3600_000;

/** The worker with every job kind and maintenance task of the application. */
export function createAppWorker(rt: Runtime, opts: Partial<Pick<WorkerOptions, 'leaseMs' | 'pollMs' | 'id'>> & { maintenance?: boolean;
  /** How often a running worker looks for new entries and due alert deliveries (default 200 ms). */
  alertPollMs?: number } = {}) {
  const { services } = rt;
  return createWorker(rt.deps, {
    ...opts,
    handlers: {
      audit_log_export: (job, ctx) => services.exports.run(job, ctx),
      recycle_bin_restore: (job, ctx) => services.recycleBin.runJob(job, ctx),
      recycle_bin_delete: (job, ctx) => services.recycleBin.runJob(job, ctx),
      report_run: (job, ctx) => services.reports.runScheduled(job, ctx),
      stream_delivery: (job, ctx) => services.streams.runDelivery(job, ctx),
    },
    periodic: opts.maintenance === false ? [] : [
      { name: 'retention', everyMs: 24 * HOUR,
        run: (_job, ctx) => services.retention.runRetention({ progress: (purged) => ctx.progress(purged, null) }) },
      { name: 'expired_exports', everyMs: HOUR, run: () => services.exports.removeExpired() },
      { name: 'recycle_bin_purge', everyMs: HOUR, run: () => services.recycleBin.purgeExpired() },
      { name: 'refused_login_summaries', everyMs: 5 * 60_000, run: () => services.oauth.summariseRefusedLogins() },
      // Anomaly findings within a minute of the entries they look at (docs/findings.md).
      { name: 'findings_scan', everyMs: 60_000, run: () => services.findings.scanAll() },
      // Scheduled reports: each due period's run is queued as its own job (report_run), once.
      { name: 'report_schedules', everyMs: 60_000, run: () => services.reports.queueDueRuns() },
      { name: 'stream_jobs', everyMs: 5 * 60_000, run: () => services.streams.keepDelivering() },
      { name: 'ended_sessions', everyMs: HOUR, run: async () => Number((await services.sessions.pruneSessions())[0]?.numDeletedRows ?? 0) },
      // The alert pipeline's cluster-wide round, even where no worker polls (and the jobs table
      // shows it runs); a day of its runs is kept.
      { name: 'alerts', everyMs: 5000, keepMs: 24 * HOUR,
        run: async () => ({ ...(await services.alerts.pump()), pruned: await services.alerts.pruneDelivered() }) },
    ],
    // Prompt delivery: every running worker looks for new entries and due deliveries this often
    // (two small queries when there is nothing to do); a round that found work is followed at once.
    background: [{ name: 'alerts', everyMs: opts.alertPollMs ?? 200, run: async () => {
      const { entries, sent } = await services.alerts.pump();
      return entries + sent > 0;
    } }],
    onFailed: async (store, job) => {
      if (job.kind === 'audit_log_export') await services.exports.markFailed(store, job.id);
      if (job.kind === 'report_run') await services.reports.markRunFailed(store, job);
    },
  });
}
