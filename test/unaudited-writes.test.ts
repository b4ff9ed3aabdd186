import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/domain/ids.ts';
import { inTransaction, systemActor } from '../src/services/context.ts';
import { UnauditedWriteError } from '../src/store/bound-store.ts';
import type { RecordTable } from '../src/store/schema.ts';
import { BACKENDS, createEnv, createOrg, type TestEnv } from './helpers.ts';

/** Invariant 1 held by the transaction-bound store: a change without its entry never commits. */
describe.each(BACKENDS)('unaudited writes on %s', (backend) => {
  let env: TestEnv;
  let orgId: string;
  let userId: string;

  beforeAll(async () => {
    env = await createEnv(backend);
    const created = await createOrg(env);
    orgId = created.org.id;
    userId = (await env.store.repos.directory.listUsers(orgId))[0].id;
  });
  afterAll(async () => env?.close());

  const lead = (now: number): RecordTable => {
    const id = newId(now);
    return { id, org_id: orgId, module: 'Leads', name: `Lead ${id}`, owner_id: userId, data: '{"Last_Name":"Doe"}', created_by: userId,
      created_at: now, modified_by: userId, modified_at: now, parent_module: null, parent_id: null, deleted_at: null, deleted_by: null,
      delete_batch: null };
  };
  const exists = async (id: string) => (await env.store.repos.records.byIds(orgId, 'Leads', [id])).length === 1;
  const entries = async () => env.store.repos.audit.count(orgId);

  it('refuses a use case that writes without an audit entry, and commits nothing', async () => {
    const before = await entries();
    let id = '';
    await expect(inTransaction(env.rt.deps, systemActor(orgId), async (tx) => {
      const row = lead(tx.now);
      id = row.id;
      await tx.store.records.insert([row]);
    })).rejects.toBeInstanceOf(UnauditedWriteError);
    expect(await exists(id)).toBe(false);
    expect(await entries()).toBe(before);
  });

  it('lets it through with a declared reason, and writes no entry', async () => {
    const before = await entries();
    const id = await inTransaction(env.rt.deps, systemActor(orgId), async (tx) => {
      tx.unaudited('test: a change that is no business change');
      const row = lead(tx.now);
      await tx.store.records.insert([row]);
      return row.id;
    });
    expect(await exists(id)).toBe(true);
    expect(await entries()).toBe(before);
  });

  it('commits a write with its entry', async () => {
    const before = await entries();
    const id = await inTransaction(env.rt.deps, systemActor(orgId), async (tx) => {
      const row = lead(tx.now);
      await tx.store.records.insert([row]);
      tx.audit({ action: 'added', module: 'Leads', recordId: row.id, recordName: row.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: null });
      return row.id;
    });
    expect(await exists(id)).toBe(true);
    expect(await entries()).toBe(before + 1);
  });

  it('needs nothing for a transaction that only reads', async () => {
    const org = await inTransaction(env.rt.deps, systemActor(orgId), (tx) => tx.store.directory.getOrg(orgId));
    expect(org?.id).toBe(orgId);
  });
});
