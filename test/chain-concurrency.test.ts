import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, createPgDatabase, PG_URL, silentLogger, type TestEnv } from './helpers.ts';
import { openStore } from '../src/store/db.ts';
import { createRuntime } from '../src/services/runtime.ts';
import { countAuditEntries } from '../src/store/audit-store.ts';

describe.each(BACKENDS)('concurrent writers on %s', (backend) => {
  let env: TestEnv;
  beforeAll(async () => { env = await createEnv(backend); });
  afterAll(async () => env?.close());

  it('never fork or break the chain when many use cases commit at once', async () => {
    const { org, admin } = await createOrg(env);
    const actor = await env.rt.services.directory.actorForUser(org.id, admin.id);
    const before = await env.rt.services.audit.verifyChain(org.id);
    await Promise.all(Array.from({ length: 20 }, (_, i) => env.rt.services.records.createRecords(actor, 'Leads',
      Array.from({ length: 3 }, (__, j) => ({ Last_Name: `C${i}-${j}` })))));
    const after = await env.rt.services.audit.verifyChain(org.id);
    expect(after).toMatchObject({ ok: true, entries: before.entries + 60 });
  });
});

describe.skipIf(!PG_URL)('several processes on one PostgreSQL database', () => {
  let db: Awaited<ReturnType<typeof createPgDatabase>>;
  beforeAll(async () => { db = await createPgDatabase(); });
  afterAll(async () => db?.drop());

  it('append to one chain without forking it', async () => {
    const store = await openStore({ databaseUrl: db.url, dataDir: ':memory:' });
    const rt = createRuntime(store, silentLogger);
    const { org, admin } = await rt.services.directory.createOrganisation({ name: 'Multi', adminEmail: 'a@multi.example' });
    const before = await rt.services.audit.verifyChain(org.id);
    const processes = 4;
    const rounds = 15;
    const runs = Array.from({ length: processes }, () => new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/chain-writer.ts', db.url, org.id, admin.id, String(rounds)],
        { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d) => { err += d; });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`writer exited ${code}: ${err}`))));
    }));
    await Promise.all(runs);
    const after = await rt.services.audit.verifyChain(org.id);
    expect(after.ok).toBe(true);
    expect(after.entries).toBe(before.entries + processes * rounds * 5);
    expect(await countAuditEntries(store.db, org.id)).toBe(after.entries);
    const leads = await store.db.selectFrom('records').select(({ fn }) => fn.countAll().as('n'))
      .where('org_id', '=', org.id).where('module', '=', 'Leads').executeTakeFirstOrThrow();
    expect(Number(leads.n)).toBe(processes * rounds * 5);
    await store.close();
  });
});
