import type { CliCommand } from '../cli/command.ts';
import { out } from '../cli/output.ts';
import { createAppWorker } from '../jobs/index.ts';
import { openRuntime } from './runtime.ts';
import { onStopSignal } from './signals.ts';

/** `auditrail worker`: the jobs worker alone, until SIGINT or SIGTERM. */
export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.action(ctx.action(async () => {
      const config = ctx.config();
      const rt = await openRuntime(config);
      const worker = createAppWorker(rt, { leaseMs: config.workerLeaseMs });
      worker.start();
      rt.services.heads.start(config.headsIntervalMs);
      out(`auditrail worker ${worker.id} running (${rt.store.dialect})`);
      await onStopSignal();
      await worker.stop();
      await rt.services.heads.stop();
      await rt.store.close();
      return 0;
    }));
  },
};
