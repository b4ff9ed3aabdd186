import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { out, say } from '../output.ts';

/** `auditrail demo [--history N]`: seeds Zylker if absent, then optionally bulk-loads history. */
export async function demoCommand(rt: Runtime, opts: { history?: string }) {
  const started = Date.now();
  const n = opts.history ? Number(opts.history) : 0;
  if (!Number.isInteger(n) || n < 0) {
    say('--history must be a non-negative integer');
    return 2;
  }
  const existing = await rt.demo.findDemoOrg();
  if (existing && n > 0) {
    // History is three years of the past: after Zylker's recent activity it would enter the chain
    // out of time order (and retention, which purges the chain's oldest prefix, could not reach it).
    say(`demo organisation Zylker already present (${existing.id}): its history cannot be back-dated behind the activity already `
      + 'in its chain. Load history when the demo is first created: `auditrail demo --history N` on an empty database.');
    return 2;
  }
  const t0 = Date.now();
  const r = await rt.demo.seedDemo({ history: n, onHistory: (done) => {
    if (process.stderr.isTTY) process.stderr.write(`\rloaded ${done}/${n} historic entries`);
  } });
  if (r.created) {
    out(`demo organisation Zylker created (${r.orgId})`);
    out(`administrator: ${r.adminEmail}  password: ${r.password}`);
  } else say(`demo organisation Zylker already present (${r.orgId})`);
  if (n > 0) {
    const secs = (Date.now() - t0) / 1000;
    if (process.stderr.isTTY) process.stderr.write('\n');
    say(`loaded ${n} historic entries before the six months of activity (${secs.toFixed(1)} s with the seeding)`);
  }
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    cmd.option('--history <n>', 'with a new demo: N historic audit entries over the three years before its six months of activity')
      .action(ctx.action((o: { history?: string }) => ctx.withRuntime({ migrate: true }, (rt) => demoCommand(rt, o))));
  },
};
