import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { out, say } from '../output.ts';

/** `auditrail demo [--history N]`: seeds Zylker if absent, then optionally bulk-loads history. */
export async function demoCommand(rt: Runtime, opts: { history?: string }) {
  const started = Date.now();
  const r = await rt.demo.seedDemo();
  if (r.created) {
    out(`demo organisation Zylker created (${r.orgId})`);
    out(`administrator: ${r.adminEmail}  password: ${r.password}`);
  } else say(`demo organisation Zylker already present (${r.orgId})`);
  const n = opts.history ? Number(opts.history) : 0;
  if (!Number.isInteger(n) || n < 0) {
    say('--history must be a non-negative integer');
    return 2;
  }
  if (n > 0) {
    const t0 = Date.now();
    await rt.demo.loadHistory(r.orgId, n, (done) => {
      if (process.stderr.isTTY) process.stderr.write(`\rloaded ${done}/${n} historic entries`);
    });
    const secs = (Date.now() - t0) / 1000;
    if (process.stderr.isTTY) process.stderr.write('\n');
    say(`loaded ${n} historic entries in ${secs.toFixed(1)} s (${Math.round(n / secs)} entries/s)`);
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--history <n>', 'bulk-load N historic audit entries over the last three years')
      .action(ctx.action((o: { history?: string }) => ctx.withRuntime({ migrate: true }, (rt) => demoCommand(rt, o))));
  },
};
