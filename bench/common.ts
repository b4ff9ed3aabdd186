import { existsSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { DEMO_ORG_NAME } from '../src/services/demo-service.ts';

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
