import { demoEntryCount } from './common.ts';
/**
 * Export benchmark (not a test: it prints figures and never fails on time).
 *
 * An organisation loaded with `auditrail demo --history N` (N = BENCH_HISTORY, default
 * 1,000,000) is exported whole: one unfiltered audit log export job, which produces the
 * 1,000,000-entry ZIP (ten 100,000-row CSVs and the signed manifest). The job runs in a child
 * process (this file with --child) so that its peak RSS is measured alone; the child opens the
 * runtime, schedules the job for the first Administrator through rt.services.exports.create,
 * runs it with createAppWorker(rt, { maintenance: false }).runOnce() and reports the wall time
 * and process.resourceUsage().maxRSS.
 *
 * Baseline, same rows (the job's own resolved range and sequence bound, same order, same cap)
 * and the same columns, raw: `sqlite3 -csv` (SQLite) or `psql -c "\copy (...) to stdout with
 * csv"` (PostgreSQL) piped into `zip -6`, timed as the wall time of the shell pipeline.
 *
 * Targets (informational): export wall time <= 1.5 x baseline; export peak RSS < 250 MB. The
 * CPU times of both sides are printed too: on a busy machine they are steadier than wall times.
 *
 *   1. SQLite: the database is cached under bench/.cache/export-sqlite/ (built with the real
 *      CLI when absent or holding fewer than N entries).
 *   2. PostgreSQL at BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test), when
 *      reachable: a dedicated database auditrail_bench_export is created, loaded with
 *      `DATABASE_URL=... auditrail demo --history N`, exported, and dropped (BENCH_PG_KEEP=1
 *      keeps it and reuses it next time). Skipped with a note when PostgreSQL is not reachable.
 *
 * Each backend runs BENCH_ROUNDS rounds (default 3) of export then baseline, one after the other,
 * so that each ratio compares two runs made moments apart (a machine's speed drifts noticeably
 * within minutes); the figures are the median round's ratio and the highest peak RSS of all
 * rounds. Before the first round an untimed child only loads the modules, so the rounds measure
 * what a worker process that has started before does, not tsx compiling the sources for the first
 * time (which inflates the first run's peak RSS on a fresh machine).
 *
 * Env: BENCH_HISTORY, BENCH_ROUNDS, BENCH_PG_URL, BENCH_PG_KEEP, BENCH_SKIP_SQLITE=1, BENCH_SKIP_PG=1,
 * BENCH_RERUN=1 (re-run the same job and check the file is byte-identical), BENCH_CACHE_DIR.
 * Missing `sqlite3`, `zip` or `psql` are installed with apt-get (Debian packages sqlite3, zip,
 * postgresql-client).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { openRuntime } from '../src/entry/runtime.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { systemActor } from '../src/services/context.ts';
import { DEMO_ORG_NAME } from '../src/services/demo-service.ts';
import type { ResolvedExport } from '../src/services/export-service.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'auditrail.js');
const intEnv = (name: string, fallback: number) => {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
};
const HISTORY = intEnv('BENCH_HISTORY', 1_000_000);
const ROUNDS = Math.max(1, intEnv('BENCH_ROUNDS', 3));
const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';
const PG_DB = 'auditrail_bench_export';
const PG_KEEP = process.env.BENCH_PG_KEEP === '1';
const RERUN = process.env.BENCH_RERUN === '1';
const cacheRoot = path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(root, 'bench', '.cache'));
const sqliteDir = path.join(cacheRoot, 'export-sqlite');
const pgDataDir = path.join(cacheRoot, 'export-pg');
const TARGET_RATIO = 1.5;
const TARGET_RSS_MB = 250;

const log = (s: string) => console.log(s);
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const count = (n: number) => n.toLocaleString('en-US');

/** What the child reports on its last stdout line. */
interface ChildReport {
  jobId: string;
  status: string;
  entries: number;
  truncated: boolean;
  file: string;
  size: number;
  sha256: string;
  /** create() + runOnce(), the job as a user waits for it. */
  jobMs: number;
  /** runOnce() alone. */
  runMs: number;
  /** CPU time of create + run, all threads of the process (the compressor runs on libuv's pool). */
  cpuMs: number;
  /** Peak resident set of the child process, bytes (process.resourceUsage().maxRSS). */
  maxRss: number;
  resolved: ResolvedExport;
  orgId: string;
  rerun?: { sha256: string; identical: boolean; runMs: number };
}

// ---------------------------------------------------------------------------------------------
// Child: one export job, alone in its process.
// ---------------------------------------------------------------------------------------------

async function child() {
  const dataDir = process.env.BENCH_CHILD_DATA_DIR!;
  const config = loadConfig({ dataDir }, { ...process.env, AUDITRAIL_LOG_LEVEL: 'warn' });
  const rt = await openRuntime(config);
  try {
    const org = await rt.demo.findDemoOrg();
    if (!org) throw new Error('no demo organisation in the database');
    const admins = await rt.services.directory.listUsers(systemActor(org.id), 'ActiveConfirmedAdmins');
    if (!admins[0]) throw new Error('no active Administrator');
    const actor = await rt.services.directory.actorForUser(org.id, admins[0].id, { source: 'api', userAgent: 'auditrail-bench' });
    // Earlier runs that did not finish (a killed benchmark) must neither block the new job
    // (ALREADY_SCHEDULED) nor be claimed by runOnce() before it.
    const now = Date.now();
    await rt.store.db.updateTable('audit_exports').set({ status: 'Failed', finished_at: now })
      .where('org_id', '=', org.id).where('status', 'in', ['Scheduled', 'Progress']).execute();
    await rt.store.db.updateTable('jobs').set({ status: 'failed', error: 'abandoned by bench/export.ts', lease_owner: null,
      lease_expires_at: null, updated_at: now }).where('kind', '=', 'audit_log_export').where('status', 'in', ['queued', 'running']).execute();

    const worker = createAppWorker(rt, { maintenance: false });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const job = await rt.services.exports.create(actor, undefined);
    const t1 = performance.now();
    if (!(await worker.runOnce())) throw new Error('the worker found no job to run');
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const maxRss = process.resourceUsage().maxRSS * 1024;

    const exp = await rt.store.db.selectFrom('audit_exports').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    if (exp.status !== 'Finished') {
      const j = await rt.store.db.selectFrom('jobs').select(['status', 'error']).where('id', '=', job.id).executeTakeFirst();
      throw new Error(`export ${job.id} ended ${exp.status} (job ${j?.status}: ${j?.error})`);
    }
    const key = `exports/${exp.org_id}/${exp.id}`;
    const digest = async () => {
      const stream = await rt.blobs.read(key);
      if (!stream) throw new Error(`no blob ${key}`);
      const h = createHash('sha256');
      for await (const c of stream) h.update(c as Buffer);
      return h.digest('hex');
    };
    const sha256 = await digest();
    const [file] = JSON.parse(exp.files!) as { name: string; size: number }[];
    const report: ChildReport = {
      jobId: job.id, status: exp.status, entries: Number(exp.entry_count), truncated: Number(exp.truncated) === 1, file: file.name,
      size: file.size, sha256, jobMs: t2 - t0, runMs: t2 - t1, cpuMs: (cpu.user + cpu.system) / 1000, maxRss,
      resolved: JSON.parse(exp.resolved) as ResolvedExport, orgId: org.id,
    };
    if (RERUN) {
      // The same job once more, as when a worker dies and another takes it over: same bytes.
      await rt.store.db.updateTable('audit_exports').set({ status: 'Progress' }).where('id', '=', job.id).execute();
      await rt.store.db.updateTable('jobs').set({ status: 'queued', attempts: 0, run_after: 0, lease_owner: null, lease_expires_at: null })
        .where('id', '=', job.id).execute();
      const r0 = performance.now();
      if (!(await worker.runOnce())) throw new Error('the worker found no job to re-run');
      const runMs = performance.now() - r0;
      const again = await digest();
      report.rerun = { sha256: again, identical: again === sha256, runMs };
    }
    await rt.blobs.remove(key);
    await rt.store.db.updateTable('audit_exports').set({ removed_at: Date.now() }).where('id', '=', job.id).execute();
    process.stdout.write(`\nBENCH_REPORT ${JSON.stringify(report)}\n`);
  } finally {
    await rt.store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Parent.
// ---------------------------------------------------------------------------------------------

function have(cmd: string) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Installs Debian packages for missing commands (apt-get install -y ...). */
function ensureTools(tools: Record<string, string>) {
  const missing = Object.entries(tools).filter(([cmd]) => !have(cmd));
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map(([, p]) => p))];
  const sudo = process.getuid?.() === 0 || !have('sudo') ? [] : ['sudo'];
  log(`installing ${pkgs.join(' ')} (apt-get install -y) for ${missing.map(([c]) => c).join(', ')}`);
  const install = () => spawnSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), 'install', '-y', ...pkgs],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (install().status !== 0) {
    spawnSync(sudo[0] ?? 'apt-get', [...(sudo.length ? ['apt-get'] : []), 'update'], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (install().status !== 0) throw new Error(`apt-get install -y ${pkgs.join(' ')} failed`);
  }
}

/** Runs this file as the export child; resolves to its report and the child's whole wall time. */
function runChild(env: Record<string, string>): Promise<{ report: ChildReport; processMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Loaded the way bin/auditrail.js loads the product (tsx's require hook), so the child's
    // memory is what a worker process's would be.
    const p = spawn(process.execPath, [path.join(root, 'bin', 'run-ts.js'), fileURLToPath(import.meta.url), '--child'],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env, AUDITRAIL_LOG_LEVEL: 'warn' } });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => { out += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      const processMs = performance.now() - t0;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_REPORT '));
      if (code !== 0 || !line) {
        reject(new Error(`export child exited ${code}${out.trim() ? `: ${out.trim().slice(-2000)}` : ''}`));
        return;
      }
      resolve({ report: JSON.parse(line.slice('BENCH_REPORT '.length)) as ChildReport, processMs });
    });
  });
}

/** Wall time of a bash pipeline (with pipefail), and the CPU time of its processes, in ms. */
function timePipeline(script: string, env: Record<string, string> = {}) {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `set -eo pipefail; TIMEFORMAT='%U %S'; time { ${script}; }`],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = performance.now() - t0;
  if (r.stderr && r.status !== 0) process.stderr.write(r.stderr);
  if (r.status !== 0) throw new Error(`baseline pipeline failed (exit ${r.status ?? r.signal}): ${script}`);
  const [user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (user + sys) * 1000 };
}

const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The export's rows and columns as one raw SELECT (literal values; the ids are digits). */
function baselineSql(orgId: string, r: ResolvedExport, limit: number) {
  if (r.actorIds || r.actions || r.modules) throw new Error('the benchmark export is meant to be unfiltered');
  if (!/^\d+$/.test(orgId)) throw new Error(`unexpected org id ${orgId}`);
  return 'SELECT audited_at, actor_name, actor_id, action, module, record_name, record_id, parent_module, parent_id, source, ip, ' +
    `user_agent, batch_id, details, id, seq FROM audit_entries WHERE org_id = '${orgId}' AND audited_at >= ${Math.trunc(r.from)} ` +
    `AND audited_at <= ${Math.trunc(r.to)} AND seq <= ${Math.trunc(r.maxSeq)} ORDER BY audited_at, seq LIMIT ${limit}`;
}

/** One round: an export job, then the baseline over the same rows. */
interface Round {
  report: ChildReport;
  processMs: number;
  baselineMs: number;
  baselineCpuMs: number;
  baselineSize: number;
}

interface Figures {
  backend: string;
  rounds: Round[];
  csvBytes: number;
}

const ratioOf = (r: Round) => r.report.jobMs / r.baselineMs;
/** The round whose ratio is the median (the lower middle one of an even count). */
const medianRound = (f: Figures) => [...f.rounds].sort((a, b) => ratioOf(a) - ratioOf(b))[Math.floor((f.rounds.length - 1) / 2)];
const peakRss = (f: Figures) => Math.max(...f.rounds.map((r) => r.report.maxRss));

function printRound(backend: string, i: number, round: Round) {
  const { report: r } = round;
  const ratio = ratioOf(round);
  log(`${backend} round ${i + 1}/${ROUNDS}: export ${secs(r.jobMs)} (run alone ${secs(r.runMs)}; child incl. start-up ` +
    `${secs(round.processMs)}), baseline ${secs(round.baselineMs)}, ratio ${ratio.toFixed(2)}x; CPU ${secs(r.cpuMs)} / ` +
    `${secs(round.baselineCpuMs)}; peak RSS ${mb(r.maxRss)}`);
}

function printFigures(f: Figures) {
  const m = medianRound(f);
  const { report: r } = m;
  const ratio = ratioOf(m);
  const rssMb = peakRss(f) / 1024 / 1024;
  log('');
  log(`${f.backend}: ${count(r.entries)} entries${r.truncated ? ' (cut at the 1,000,000-entry cap)' : ''} -> ${r.file}, ${mb(r.size)}` +
    ` (raw CSV of the baseline: ${mb(f.csvBytes)}); the median of ${f.rounds.length} rounds:`);
  log(`  export job (create + run)      ${secs(r.jobMs).padStart(10)}   (run alone ${secs(r.runMs)}; child process incl. start-up ${secs(m.processMs)})`);
  log(`  baseline (raw CSV | zip -6)    ${secs(m.baselineMs).padStart(10)}   (${mb(m.baselineSize)} zip)`);
  log(`  CPU time export / baseline     ${secs(r.cpuMs).padStart(10)} / ${secs(m.baselineCpuMs)} = ${(r.cpuMs / m.baselineCpuMs).toFixed(2)}x` +
    ' (all threads / all processes; the PostgreSQL server\'s share is in neither)');
  log(`  ratio export / baseline        ${ratio.toFixed(2).padStart(9)}x   target <= ${TARGET_RATIO}x   ${ratio <= TARGET_RATIO ? 'PASS' : 'BELOW'}` +
    `   (rounds: ${f.rounds.map((x) => `${ratioOf(x).toFixed(2)}x`).join(', ')})`);
  log(`  export peak RSS (child)        ${rssMb.toFixed(1).padStart(7)} MB   target < ${TARGET_RSS_MB} MB   ${rssMb < TARGET_RSS_MB ? 'PASS' : 'BELOW'}` +
    '   (the highest of all rounds)');
  for (const x of f.rounds) {
    if (x.report.rerun) {
      log(`  re-run of the same job         ${secs(x.report.rerun.runMs).padStart(10)}   byte-identical: ${x.report.rerun.identical ? 'yes' : `NO (${x.report.rerun.sha256})`}`);
    }
  }
  log(`  sha256 ${r.sha256}`);
}

/** Untimed: a child that loads the modules and exits, so tsx's compile cache is warm for the rounds. */
async function warmUp(env: Record<string, string>) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'run-ts.js'), fileURLToPath(import.meta.url), '--warm'],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env, AUDITRAIL_LOG_LEVEL: 'warn' } });
  if (r.status !== 0) throw new Error(`the warm-up child exited ${r.status ?? r.signal}`);
}

/** ROUNDS rounds of export then baseline, printed as they finish. */
async function rounds(backend: string, env: Record<string, string>, baseline: (report: ChildReport) => Omit<Round, 'report' | 'processMs'>) {
  await warmUp(env);
  const done: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const { report, processMs } = await runChild(env);
    const round = { report, processMs, ...baseline(report) };
    printRound(backend, i, round);
    done.push(round);
  }
  return done;
}

/** Byte count of the baseline's CSV (untimed; tells how much text both sides produce). */
function csvBytes(script: string, env: Record<string, string> = {}) {
  const r = spawnSync('bash', ['-c', `set -eo pipefail; ${script} | wc -c`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env }, maxBuffer: 1024 });
  return Number(r.stdout.trim());
}

// --- SQLite ----------------------------------------------------------------------------------

const sqliteCount = demoEntryCount;

function buildWithCli(args: string[], env: Record<string, string>) {
  log(`building: ${env.DATABASE_URL ? 'DATABASE_URL=... ' : ''}node bin/auditrail.js ${args.join(' ')} (takes a while for a million)`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ...env, AUDITRAIL_LOG_LEVEL: 'warn' } });
  if (r.status !== 0) throw new Error(`auditrail demo failed (exit ${r.status ?? r.signal})`);
  log(`built in ${secs(performance.now() - t0)}`);
}

async function benchSqlite(tmp: string): Promise<Figures> {
  const dbFile = path.join(sqliteDir, 'auditrail.db');
  const n = sqliteCount(dbFile);
  if (n >= HISTORY) log(`cache: ${path.relative(root, dbFile)} holds ${count(n)} entries, reused`);
  else {
    log(n < 0 ? `cache: no usable database at ${path.relative(root, sqliteDir)}` : `cache: ${count(n)} entries < ${count(HISTORY)}, rebuilding`);
    rmSync(sqliteDir, { recursive: true, force: true });
    buildWithCli(['--data-dir', sqliteDir, 'demo', '--history', String(HISTORY)], {});
  }
  log(`SQLite: ${ROUNDS} rounds of the export job (in a child process), then sqlite3 -csv | zip -6 over the same rows...`);
  const zipFile = path.join(tmp, 'baseline-sqlite.zip');
  const source = (report: ChildReport) => `sqlite3 -readonly -csv -header ${sq(dbFile)} ${sq(baselineSql(report.orgId, report.resolved, report.entries))}`;
  const done = await rounds('SQLite', { BENCH_CHILD_DATA_DIR: sqliteDir, DATABASE_URL: '' }, (report) => {
    rmSync(zipFile, { force: true });
    const baseline = timePipeline(`${source(report)} | zip -q -6 ${sq(zipFile)} -`);
    return { baselineMs: baseline.ms, baselineCpuMs: baseline.cpuMs, baselineSize: statSync(zipFile).size };
  });
  return { backend: 'SQLite', rounds: done, csvBytes: csvBytes(source(done[0].report)) };
}

// --- PostgreSQL ------------------------------------------------------------------------------

function pgUrlFor(db: string) {
  const u = new URL(PG_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

async function pgQuery<T extends pg.QueryResultRow>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}

async function pgCount(url: string): Promise<number> {
  try {
    const rows = await pgQuery<{ n: string }>(url,
      `select count(*) as n from audit_entries where org_id = (select id from orgs where name = '${DEMO_ORG_NAME}' limit 1)`);
    return Number(rows[0].n);
  } catch {
    return -1;
  }
}

async function benchPg(tmp: string): Promise<Figures | null> {
  try {
    await pgQuery(PG_URL, 'select 1');
  } catch (e) {
    log('');
    log(`PostgreSQL: not reachable at ${PG_URL} (${(e as Error).message}); skipped. Set BENCH_PG_URL to include it.`);
    return null;
  }
  ensureTools({ psql: 'postgresql-client' });
  const url = pgUrlFor(PG_DB);
  const dbs = await pgQuery<{ n: string }>(PG_URL, `select count(*) as n from pg_database where datname = '${PG_DB}'`);
  const existing = Number(dbs[0].n) > 0 ? await pgCount(url) : -1;
  try {
    if (PG_KEEP && existing >= HISTORY) log(`PostgreSQL: database ${PG_DB} holds ${count(existing)} entries, reused (BENCH_PG_KEEP=1)`);
    else {
      await pgQuery(PG_URL, `DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`);
      await pgQuery(PG_URL, `CREATE DATABASE ${PG_DB}`);
      rmSync(pgDataDir, { recursive: true, force: true });
      log(`PostgreSQL: created database ${PG_DB}`);
      buildWithCli(['--data-dir', pgDataDir, 'demo', '--history', String(HISTORY)], { DATABASE_URL: url });
      await pgQuery(url, 'VACUUM ANALYZE');
    }
    log(`PostgreSQL: ${ROUNDS} rounds of the export job (in a child process), then psql \\copy ... csv | zip -6 over the same rows...`);
    const zipFile = path.join(tmp, 'baseline-pg.zip');
    const source = (report: ChildReport) => `psql ${sq(url)} -X -q -v ON_ERROR_STOP=1 -c ` +
      sq(`\\copy (${baselineSql(report.orgId, report.resolved, report.entries)}) to stdout with csv header`);
    const done = await rounds('PostgreSQL', { BENCH_CHILD_DATA_DIR: pgDataDir, DATABASE_URL: url }, (report) => {
      rmSync(zipFile, { force: true });
      const baseline = timePipeline(`${source(report)} | zip -q -6 ${sq(zipFile)} -`);
      return { baselineMs: baseline.ms, baselineCpuMs: baseline.cpuMs, baselineSize: statSync(zipFile).size };
    });
    return { backend: 'PostgreSQL', rounds: done, csvBytes: csvBytes(source(done[0].report)) };
  } finally {
    if (!PG_KEEP) {
      await pgQuery(PG_URL, `DROP DATABASE IF EXISTS ${PG_DB} WITH (FORCE)`);
      rmSync(pgDataDir, { recursive: true, force: true });
      log(`PostgreSQL: dropped database ${PG_DB}`);
    }
  }
}

async function main() {
  log(`auditrail export benchmark: history ${count(HISTORY)}; targets: export <= ${TARGET_RATIO}x baseline, peak RSS < ${TARGET_RSS_MB} MB`);
  log(`machine: ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} (wall times stretch on a busy machine)`);
  ensureTools({ sqlite3: 'sqlite3', zip: 'zip' });
  const tmp = mkdtempSync(path.join(tmpdir(), 'auditrail-bench-export-'));
  const results: Figures[] = [];
  try {
    if (process.env.BENCH_SKIP_SQLITE !== '1') {
      const f = await benchSqlite(tmp);
      printFigures(f);
      results.push(f);
    }
    if (process.env.BENCH_SKIP_PG !== '1') {
      log('');
      const f = await benchPg(tmp);
      if (f) {
        printFigures(f);
        results.push(f);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (results.length) {
    log('');
    log('backend      export     baseline   ratio   peak RSS    check');
    for (const f of results) {
      const m = medianRound(f);
      const ratio = ratioOf(m);
      const rss = peakRss(f) / 1024 / 1024;
      log(`${f.backend.padEnd(12)} ${secs(m.report.jobMs).padEnd(10)} ${secs(m.baselineMs).padEnd(10)} ${`${ratio.toFixed(2)}x`.padEnd(7)} ` +
        `${`${rss.toFixed(1)} MB`.padEnd(11)} ${ratio <= TARGET_RATIO ? 'PASS' : 'BELOW'} time, ${rss < TARGET_RSS_MB ? 'PASS' : 'BELOW'} memory`);
    }
    log(`(export = create + run of the job in its own process; baseline = raw CSV of the same rows piped into zip -6; the round with the median ratio of ${ROUNDS}, the highest peak RSS; informational)`);
    log(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  }
}

if (process.argv.includes('--warm')) {
  // The modules are loaded (this file's imports): nothing else to do.
} else if (process.argv.includes('--child')) {
  child().then(() => { process.exitCode = 0; }, (e: unknown) => {
    console.error(`bench:export child failed: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 1;
  });
} else {
  main().then(() => process.exit(0), (e: unknown) => {
    console.error(`bench:export failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  });
}
