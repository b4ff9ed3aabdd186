import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { loadConfig } from '../src/config/config.ts';
import { openRuntime } from '../src/entry/runtime.ts';
import { systemActor } from '../src/services/context.ts';
import { ensureDemoDatabase, intEnv, percentile, ROOT, runIfMain } from './common.ts';

/**
 * Activity report benchmark (SQLite): the report's GROUP BY with the organisation's time zone
 * against a raw `count(*)` over the same rows (the cheapest query that reads them), over the demo
 * organisation loaded with `auditrail demo --history N` (BENCH_HISTORY, default 5,000,000), for a
 * year of its activity. Prints medians and ratios; never fails on timing. The cached database
 * (bench/.cache/read-sqlite, shared with bench:read; BENCH_CACHE_DIR) is copied for the run.
 */

const DAY = 86_400_000;
const HISTORY = intEnv('BENCH_HISTORY', 5_000_000);
const ITERATIONS = Math.max(1, intEnv('BENCH_ITERATIONS', 5));
const dataDir = path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(ROOT, 'bench', '.cache', 'read-sqlite'));
const runDir = path.join(ROOT, 'bench', '.cache', 'reports-run');
const log = (s: string) => console.log(s);

async function main() {
  ensureDemoDatabase(dataDir, HISTORY, log);
  rmSync(runDir, { recursive: true, force: true });
  cpSync(dataDir, runDir, { recursive: true });
  const rt = await openRuntime(loadConfig({ dataDir: runDir }, { ...process.env, AUDITRAIL_LOG_LEVEL: 'warn' }));
  const org = await rt.demo.findDemoOrg();
  if (!org) throw new Error('the cached database has no demo organisation');
  const actor = systemActor(org.id, 'Benchmark', org.time_zone);
  await rt.services.directory.updateOrgSettings(actor, { audit_log_window_days: 3650 });
  const last = await sql<{ t: number }>`SELECT max(audited_at) AS t FROM audit_entries WHERE org_id = ${org.id}`.execute(rt.store.db);
  const to = Number(last.rows[0].t);
  const from = to - 365 * DAY;
  const iso = (ms: number) => new Date(ms).toISOString();
  const time = async (run: () => Promise<unknown>) => {
    await run();
    const ms: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now();
      await run();
      ms.push(performance.now() - t0);
    }
    return percentile(ms.sort((a, b) => a - b), 50);
  };
  const rows = await sql<{ n: number }>`SELECT count(*) AS n FROM audit_entries WHERE org_id = ${org.id} AND audited_at BETWEEN ${from} AND ${to}`
    .execute(rt.store.db);
  const baseline = await time(() => sql`SELECT count(*) FROM audit_entries WHERE org_id = ${org.id} AND audited_at BETWEEN ${from} AND ${to}`
    .execute(rt.store.db));
  log(`a year of ${org.name} (${org.time_zone}): ${Number(rows.rows[0].n).toLocaleString('en-US')} entries; raw count(*) p50 ${baseline.toFixed(1)} ms`);
  for (const groupBy of ['day,action', 'done_by', 'module', 'weekday,hour', 'done_by,module,action']) {
    const p50 = await time(() => rt.services.reports.activity(actor, { group_by: groupBy, from: iso(from), to: iso(to) }));
    log(`group_by=${groupBy.padEnd(22)} p50 ${p50.toFixed(1).padStart(8)} ms  = ${(p50 / baseline).toFixed(2)} x the raw count`);
  }
  await rt.store.close();
  rmSync(runDir, { recursive: true, force: true });
}

runIfMain(import.meta.url, main);
