import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { DEMO_ORG_NAME } from '../src/services/demo-service.ts';

/** The repository's root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A non-negative integer from the environment (underscores allowed: 5_000_000), or the fallback. */
export function intEnv(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer`);
  return n;
}

/** The p-th percentile (nearest rank) of ascending values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Audit entries of the demo organisation in a cached SQLite file; -1 when there is no usable cache. */
export function demoEntryCount(dbFile: string): number {
  if (!existsSync(dbFile)) return -1;
  try {
    const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
    try {
      const org = db.prepare('select id from orgs where name = ?').get(DEMO_ORG_NAME) as { id: string } | undefined;
      if (!org) return -1;
      return (db.prepare('select count(*) as n from audit_entries where org_id = ?').get(org.id) as { n: number }).n;
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}

/**
 * The demo organisation with at least `history` audit entries in a SQLite data directory, built
 * with `auditrail demo --history N` when absent or smaller (minutes for millions), reused otherwise.
 */
export function ensureDemoDatabase(dataDir: string, history: number, log: (line: string) => void) {
  const dbFile = path.join(dataDir, 'auditrail.db');
  const n = demoEntryCount(dbFile);
  if (n >= history) {
    log(`cache: ${dbFile} holds ${n.toLocaleString('en-US')} entries (>= ${history.toLocaleString('en-US')}), reused`);
    return;
  }
  log(n < 0 ? `cache: no usable database at ${dataDir}` : `cache: ${n.toLocaleString('en-US')} entries < ${history.toLocaleString('en-US')}, rebuilding`);
  rmSync(dataDir, { recursive: true, force: true });
  log(`building: node bin/auditrail.js --data-dir ${path.relative(ROOT, dataDir)} demo --history ${history} (minutes for millions)`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'auditrail.js'), '--data-dir', dataDir, 'demo', '--history', String(history)],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, AUDITRAIL_LOG_LEVEL: 'warn' } });
  if (r.status !== 0) throw new Error(`auditrail demo failed (exit ${r.status ?? r.signal})`);
  log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${demoEntryCount(dbFile).toLocaleString('en-US')} entries`);
}

/** Runs `main` when the benchmark file is executed directly (not when imported by another benchmark). */
export function runIfMain(moduleUrl: string, main: () => Promise<void>) {
  const entry = process.argv[1];
  if (entry && moduleUrl === pathToFileURL(realpathSync(entry)).href) {
    main().catch((e) => {
      console.error(e);
      process.exitCode = 1;
    });
  }
}
