import { runIfMain } from './common.ts';
/**
 * Recycle bin throughput benchmark (not a test: it prints figures and never fails on time).
 *
 * One run, on SQLite (fresh temp data dirs, WAL, the pragmas of src/store/db.ts, wired as the
 * server wires it: openRuntime over a loadConfig-built config), measures:
 *
 *   (a) the bulk-write rate of bench:writes: records/s created through the services,
 *       100 records a transaction (measureWrites, services mode, its own fresh database);
 *   (b) a lead carrying 1,000 dependents (notes, calls and tasks, created through the services):
 *       the delete (records moved to the bin per second) and the restore of the lead, which
 *       at 1,001 records exceeds the 1,000 synchronous limit and runs as a job: restore() +
 *       createAppWorker(rt, { maintenance: false }).runOnce(), timed together;
 *   (c) a bulk restore: 10,000 leads deleted 100 a transaction, then restored by a module
 *       filter (restore() schedules the job; the worker runs it), records restored per second.
 *
 * It prints records/s and the ratios restore throughput / bulk-write rate against the target
 * (>= 0.5, informational), then checks (untimed) that every record is back, the bin is empty,
 * every restore was audited once per record and the hash chain verifies.
 *
 *   npm run bench:bin
 *   BENCH_RECORDS=5000 BENCH_BIN_LEADS=2000 BENCH_BIN_CYCLES=1 npm run bench:bin
 *
 * The bulk-write rate is measured in two halves, one before (b) and (c), one after, and combined
 * (records over time), so that a machine whose load drifts skews both sides of the ratios alike.
 *
 * Env: BENCH_RECORDS (records timed for the bulk-write rate, in two halves, default 20,000),
 * BENCH_BIN_DEPENDENTS (1,000), BENCH_BIN_CYCLES (delete/restore cycles of (b), 3),
 * BENCH_BIN_LEADS (10,000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.ts';
import { openRuntime } from '../src/entry/runtime.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { SYNC_LIMIT } from '../src/services/recycle-bin-service.ts';
import type { Actor } from '../src/services/context.ts';
import type { Runtime } from '../src/services/runtime.ts';
import { BATCH, TARGET_RATIO, leadRow, measureWrites } from './writes.ts';

const intEnv = (name: string, fallback: number, min: number) => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}`);
  return n;
};

export interface BinBenchOptions {
  /** Dependents of the lead in (b). Default env BENCH_BIN_DEPENDENTS or 1,000. */
  dependents?: number;
  /** Delete/restore cycles of (b). Default env BENCH_BIN_CYCLES or 3. */
  cycles?: number;
  /** Leads deleted and bulk-restored in (c). Default env BENCH_BIN_LEADS or 10,000. */
  leads?: number;
  /** Records timed for the bulk-write rate (a), in two halves. Default env BENCH_RECORDS or 20,000. */
  writeRecords?: number;
  log?: (line: string) => void;
}

interface Timing { wall: number; cpu: number }
/** Wall-clock and CPU rates of one measured operation. */
export interface Rate { records: number; wall: number; cpu: number }

export interface BinBenchResult {
  /** (a) services bulk create, records/s. */
  bulkWrite: { wall: number; cpu: number; records: number };
  /** (b) lead with dependents: records per cycle, and the rates over all cycles. */
  leadTree: { records: number; cycles: number; delete: Rate; restore: Rate; scheduled: boolean };
  /** (c) bulk restore. */
  bulk: { records: number; create: Rate; delete: Rate; restore: Rate };
  verified: string[];
}

async function timed(fn: () => Promise<void>): Promise<Timing> {
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const { user, system } = process.cpuUsage(cpu0);
  return { wall, cpu: (user + system) / 1000 };
}

const toRate = (records: number, t: Timing): Rate => ({ records, wall: (records * 1000) / t.wall, cpu: (records * 1000) / t.cpu });
const sum = (ts: Timing[]): Timing => ts.reduce((a, t) => ({ wall: a.wall + t.wall, cpu: a.cpu + t.cpu }), { wall: 0, cpu: 0 });

function check(cond: unknown, what: string): asserts cond {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** The create payload of dependent number `i` of a lead: notes, calls and tasks in turn. */
function dependent(lead: string, i: number): { module: 'Notes' | 'Calls' | 'Tasks'; values: Record<string, unknown> } {
  switch (i % 3) {
    case 0: return { module: 'Notes', values: { Note_Title: `Note ${i}`, Note_Content: `Follow-up note number ${i}: discussed pricing, next steps and timeline.`,
      Parent_Id: { module: { api_name: 'Leads' }, id: lead } } };
    case 1: return { module: 'Calls', values: { Subject: `Call ${i}`, Call_Type: i % 2 ? 'Outbound' : 'Inbound',
      Call_Start_Time: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`, Call_Duration: '12:30', Call_Purpose: 'Prospecting',
      What_Id: { id: lead }, $se_module: 'Leads' } };
    default: return { module: 'Tasks', values: { Subject: `Task ${i}`, Status: 'Not Started', Priority: 'Normal',
      Due_Date: `2026-02-${String(1 + (i % 28)).padStart(2, '0')}`, What_Id: { id: lead }, $se_module: 'Leads' } };
  }
}

async function createAll(rt: Runtime, actor: Actor, module: string, items: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < items.length; i += BATCH) {
    const results = await rt.services.records.createRecords(actor, module, items.slice(i, i + BATCH));
    for (const r of results) {
      if (!r.ok) throw new Error(`create ${module} failed: ${JSON.stringify(r.error)}`);
      ids.push(r.row.id);
    }
  }
  return ids;
}

/** Runs queued jobs until none is left; returns how many ran. */
async function drain(rt: Runtime) {
  const worker = createAppWorker(rt, { maintenance: false });
  let n = 0;
  while (await worker.runOnce()) n += 1;
  return n;
}

async function jobResult(rt: Runtime, actor: Actor, jobId: string) {
  const job = await rt.services.recycleBin.jobStatus(actor, jobId);
  check(job.status === 'done', `job ${jobId} done (status ${job.status}, error ${job.error})`);
  return JSON.parse(job.result ?? 'null') as { processed: number; failed: number; targets: number };
}

/** (b) and (c) over one fresh runtime; (a) is measured by measureWrites around it. */
async function measureBinOps(opts: Required<Omit<BinBenchOptions, 'writeRecords'>>) {
  const { dependents, cycles, leads, log } = opts;
  const dir = mkdtempSync(path.join(tmpdir(), 'auditrail-bench-bin-'));
  let rt: Runtime | undefined;
  try {
    // SQLite in the temp dir whatever the environment says (no DATABASE_URL), as the server opens it.
    rt = await openRuntime(loadConfig({ dataDir: dir, port: 0, host: '127.0.0.1' }, { AUDITRAIL_LOG_LEVEL: 'warn' }));
    const org = await rt.services.directory.createOrganisation({ name: 'Bench Corp', adminEmail: 'admin@bench.example',
      adminFirstName: 'Ada', adminLastName: 'Admin' });
    const orgId = org.org.id;
    const actor = await rt.services.directory.actorForUser(orgId, org.admin.id);
    const bin = rt.services.recycleBin;
    const db = rt.store.db;
    const liveCount = async (ids: string[]) => {
      let n = 0;
      for (let i = 0; i < ids.length; i += 500) {
        const r = await db.selectFrom('records').select(({ fn }) => fn.countAll<number>().as('n')).where('org_id', '=', orgId)
          .where('id', 'in', ids.slice(i, i + 500)).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
        n += Number(r.n);
      }
      return n;
    };

    // Warm-up (untimed): a small tree deleted and restored synchronously, a few leads by filter.
    {
      const [w] = await createAll(rt, actor, 'Leads', [leadRow(0)]);
      await createAll(rt, actor, 'Notes', Array.from({ length: 50 }, (_, i) => dependent(w, i * 3).values));
      await rt.services.records.deleteRecords(actor, 'Leads', [w]);
      const r = await bin.restore(actor, { ids: [w] });
      check(!r.scheduled && r.results[0].ok, 'warm-up restore');
    }

    // (b) A lead with `dependents` dependents.
    log(`(b) creating a lead with ${dependents.toLocaleString('en-US')} dependents (notes, calls, tasks)`);
    const [lead] = await createAll(rt, actor, 'Leads', [leadRow(1)]);
    const deps = Array.from({ length: dependents }, (_, i) => dependent(lead, i));
    const depIds: string[] = [];
    for (const module of ['Notes', 'Calls', 'Tasks'] as const) {
      depIds.push(...await createAll(rt, actor, module, deps.filter((d) => d.module === module).map((d) => d.values)));
    }
    const tree = [lead, ...depIds];
    const deletes: Timing[] = [];
    const restores: Timing[] = [];
    let scheduled = true;
    for (let c = 0; c < cycles; c += 1) {
      deletes.push(await timed(async () => {
        const [r] = await rt!.services.records.deleteRecords(actor, 'Leads', [lead]);
        check(r.ok, 'lead deleted');
      }));
      check(await liveCount(tree) === 0, `(b) cycle ${c + 1}: the whole tree in the bin`);
      let jobId: string | undefined;
      restores.push(await timed(async () => {
        const r = await bin.restore(actor, { ids: [lead] });
        if (r.scheduled) {
          jobId = r.jobId;
          check(await drain(rt!) === 1, 'one job ran');
        } else {
          scheduled = false;
          check(r.results[0].ok && r.results[0].count === tree.length, 'synchronous restore of the tree');
        }
      }));
      if (jobId) {
        const res = await jobResult(rt, actor, jobId);
        check(res.processed === tree.length && res.failed === 0, `(b) job restored ${tree.length} records (${JSON.stringify(res)})`);
      }
      check(await liveCount(tree) === tree.length, `(b) cycle ${c + 1}: the whole tree back`);
      log(`    cycle ${c + 1}: delete ${deletes[c].wall.toFixed(0)} ms, restore ${restores[c].wall.toFixed(0)} ms`);
    }
    check(!scheduled || tree.length > SYNC_LIMIT, 'scheduled only beyond the sync limit');

    // (c) `leads` leads deleted 100 a transaction, restored by a module filter.
    log(`(c) creating ${leads.toLocaleString('en-US')} leads, deleting them ${BATCH} a transaction, restoring them by filter`);
    const items = Array.from({ length: leads }, (_, i) => leadRow(1000 + i));
    let leadIds: string[] = [];
    const createT = await timed(async () => { leadIds = await createAll(rt!, actor, 'Leads', items); });
    const deleteT = await timed(async () => {
      for (let i = 0; i < leadIds.length; i += BATCH) {
        const results = await rt!.services.records.deleteRecords(actor, 'Leads', leadIds.slice(i, i + BATCH));
        check(results.every((r) => r.ok), 'leads deleted');
      }
    });
    check(await liveCount(leadIds) === 0, '(c) every lead in the bin');
    let bulkJob = '';
    const restoreT = await timed(async () => {
      const r = await bin.restore(actor, { filters: [{ field: 'module', comparator: 'equal', value: 'Leads' }] });
      check(r.scheduled, 'a filtered restore is scheduled');
      bulkJob = r.jobId;
      check(await drain(rt!) === 1, 'one job ran');
    });
    const bulkRes = await jobResult(rt, actor, bulkJob);
    check(bulkRes.processed === leads && bulkRes.failed === 0, `(c) job restored ${leads} records (${JSON.stringify(bulkRes)})`);

    // Correctness (untimed).
    log('verifying (untimed): records back, bin empty, restores audited, hash chain');
    const verified: string[] = [];
    check(await liveCount(tree) === tree.length, 'tree live');
    check(await liveCount(leadIds) === leads, 'bulk leads live');
    verified.push(`all ${(tree.length + leads).toLocaleString('en-US')} records live`);
    check(await bin.count(actor) === 0, 'bin empty');
    verified.push('recycle bin empty');
    const restored = await db.selectFrom('audit_entries').select(({ fn }) => fn.countAll<number>().as('n')).where('org_id', '=', orgId)
      .where('action', '=', 'restored').executeTakeFirstOrThrow();
    const expected = 51 + tree.length * cycles + leads;
    check(Number(restored.n) === expected, `${expected} 'restored' audit entries (found ${restored.n})`);
    verified.push(`${expected.toLocaleString('en-US')} 'restored' audit entries, one per record restored`);
    const chain = await rt.services.audit.verifyChain(orgId);
    check(chain.ok, `hash chain verifies (${JSON.stringify(chain)})`);
    verified.push('audit hash chain verifies');

    return {
      leadTree: { records: tree.length, cycles, delete: toRate(tree.length * cycles, sum(deletes)),
        restore: toRate(tree.length * cycles, sum(restores)), scheduled },
      bulk: { records: leads, create: toRate(leads, createT), delete: toRate(leads, deleteT), restore: toRate(leads, restoreT) },
      verified,
    };
  } finally {
    await rt?.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records/s of n records at rates r1 and r2 for halves n1 and n2 (total records over total time). */
const combined = (n1: number, r1: number, n2: number, r2: number) => (n1 + n2) / (n1 / r1 + n2 / r2);

/**
 * Measures (a) in two halves, before and after (b) and (c), all in the same process: a machine
 * whose load drifts during the run skews the bulk-write rate and the bin rates alike.
 */
export async function measureBin(opts: BinBenchOptions = {}): Promise<BinBenchResult> {
  const log = opts.log ?? (() => {});
  const dependents = opts.dependents ?? intEnv('BENCH_BIN_DEPENDENTS', 1000, 1);
  const cycles = opts.cycles ?? intEnv('BENCH_BIN_CYCLES', 3, 1);
  const leads = opts.leads ?? intEnv('BENCH_BIN_LEADS', 10_000, 1);
  const writeRecords = opts.writeRecords ?? intEnv('BENCH_RECORDS', 20_000, 2 * BATCH);
  const half = Math.max(BATCH, Math.round(writeRecords / 2 / BATCH) * BATCH);
  const writes = async (tag: string) => {
    log(`(a) bulk-write rate, ${tag}: bench:writes, services mode, ${half.toLocaleString('en-US')} records`);
    const w = await measureWrites({ modes: ['services'], records: half, log: (l) => log(`    ${l}`) });
    check(w.services, 'services rates');
    return w.services;
  };
  const first = await writes('first half');
  const ops = await measureBinOps({ dependents, cycles, leads, log });
  const second = await writes('second half');
  log(`    bulk write: ${Math.round(first.create).toLocaleString('en-US')} rec/s before, `
    + `${Math.round(second.create).toLocaleString('en-US')} rec/s after (b) and (c)`);
  return {
    bulkWrite: { wall: combined(half, first.create, half, second.create), cpu: combined(half, first.cpu.create, half, second.cpu.create),
      records: 2 * half },
    ...ops,
  };
}

export function formatBinResult(r: BinBenchResult): string {
  const num = (v: number) => Math.round(v).toLocaleString('en-US').padStart(9);
  const line = (label: string, x: { wall: number; cpu: number }) => `  ${label.padEnd(66)} ${num(x.wall)} ${num(x.cpu)}`;
  const lines = [
    'recycle bin throughput, SQLite (WAL, temp data dir, openRuntime as the server)',
    '',
    `  ${'records/s'.padEnd(66)} ${'wall'.padStart(9)} ${'per CPU s'.padStart(9)}`,
    line(`(a) bulk write: services create, ${BATCH} a transaction (bench:writes)`, r.bulkWrite),
    line(`(b) delete lead + ${(r.leadTree.records - 1).toLocaleString('en-US')} dependents (to the bin)`, r.leadTree.delete),
    line(`(b) restore it (${r.leadTree.scheduled ? 'scheduled job: restore() + worker.runOnce()' : 'synchronous'})`, r.leadTree.restore),
    line(`(c) create ${r.bulk.records.toLocaleString('en-US')} leads, ${BATCH} a transaction (context)`, r.bulk.create),
    line(`(c) delete them, ${BATCH} a transaction (to the bin)`, r.bulk.delete),
    line('(c) bulk restore by module filter (job, 200 a transaction)', r.bulk.restore),
    '',
    `  (b): ${r.leadTree.records.toLocaleString('en-US')} records a cycle, ${r.leadTree.cycles} cycles; `
      + `(a): ${r.bulkWrite.records.toLocaleString('en-US')} records timed, half before (b) and (c), half after`,
    '',
    '  restore throughput / bulk-write rate',
  ];
  const ratio = (label: string, x: Rate) => {
    const v = x.wall / r.bulkWrite.wall;
    lines.push(`  ${label.padEnd(30)} ${v.toFixed(2).padStart(6)}  (target >= ${TARGET_RATIO.toFixed(2)})  ${(v >= TARGET_RATIO ? 'PASS' : 'BELOW').padEnd(5)}`
      + `   per CPU second: ${(x.cpu / r.bulkWrite.cpu).toFixed(2)}`);
  };
  ratio('(b) lead + dependents restore', r.leadTree.restore);
  ratio('(c) bulk restore', r.bulk.restore);
  lines.push('', '  verified:', ...r.verified.map((v) => `    ${v}`), '', '  (informational: the benchmark never fails on time)');
  return lines.join('\n');
}

async function main() {
  const result = await measureBin({ log: (l) => console.log(l) });
  console.log('');
  console.log(formatBinResult(result));
}

runIfMain(import.meta.url, main);
