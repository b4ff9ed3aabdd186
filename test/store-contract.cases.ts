import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createEnv, createOrg, disableGuards, PG_URL, type Backend, type TestEnv } from './helpers.ts';
import { appendAuditEntries } from '../src/store/audit-store.ts';
import { listRecords } from '../src/store/record-store.ts';
import { systemActor } from '../src/services/context.ts';
import type { AuditEntryInput } from '../src/domain/audit.ts';

const entry = (i: number, at = Date.now()): AuditEntryInput => ({
  auditedAt: at + i, actorType: 'system', actorId: null, actorName: 'System', action: 'updated', module: 'Leads',
  recordId: String(1_000_000_000_000_000_000n + BigInt(i)), recordName: `Lead ${i}`, parentModule: null, parentId: null,
  source: 'system', ip: null, userAgent: null, batchId: null,
  fieldHistory: [{ api_name: 'Company', field_label: 'Company', old: `A${i}`, new: `B${i}` }], extra: null,
});

/**
 * The store contract: what every backend must do the same way. Each backend's file runs it once;
 * PostgreSQL's is skipped without AUDITRAIL_TEST_PG_URL (and CI fails then, see helpers.ts).
 */
export const storeContract = (backend: Backend) => describe.skipIf(backend === 'postgres' && !PG_URL)(`store contract on ${backend}`, () => {
  let env: TestEnv;
  let orgId: string;

  beforeAll(async () => {
    env = await createEnv(backend);
    orgId = (await createOrg(env)).org.id;
  });
  afterAll(async () => env?.close());

  const append = (n: number, org = orgId) => env.store.db.transaction().execute((trx) =>
    appendAuditEntries(trx, env.store.dialect, org, Array.from({ length: n }, (_, i) => entry(i))));

  it('chains entries with consecutive sequence numbers and linked hashes', async () => {
    const before = await env.rt.services.audit.verifyChain(orgId);
    const rows = await append(5);
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4, 5].map((i) => i + before.lastSeq));
    expect(rows[0].prev_hash).toBe(before.lastHash);
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    const after = await env.rt.services.audit.verifyChain(orgId);
    expect(after).toMatchObject({ ok: true, entries: before.entries + 5, lastHash: rows[4].hash });
  });

  it('refuses UPDATE and DELETE on audit entries at the database level', async () => {
    await expect(env.store.db.updateTable('audit_entries').set({ actor_name: 'Mallory' }).where('org_id', '=', orgId).execute())
      .rejects.toThrow(/append-only/);
    await expect(env.store.db.deleteFrom('audit_entries').where('org_id', '=', orgId).execute()).rejects.toThrow(/append-only/);
    if (backend === 'postgres') {
      await expect(sql`TRUNCATE audit_entries`.execute(env.store.db)).rejects.toThrow(/append-only/);
    }
    expect((await env.rt.services.audit.verifyChain(orgId)).ok).toBe(true);
  });

  it('rolls back the audit entries with a failed change', async () => {
    const before = await env.rt.services.audit.verifyChain(orgId);
    await expect(env.store.db.transaction().execute(async (trx) => {
      await appendAuditEntries(trx, env.store.dialect, orgId, [entry(1)]);
      throw new Error('the change failed');
    })).rejects.toThrow('the change failed');
    expect(await env.rt.services.audit.verifyChain(orgId)).toMatchObject({ ok: true, entries: before.entries });
  });

  it('keeps organisations apart: each has its own chain and its own records', async () => {
    const other = await createOrg(env, 'Globex');
    await append(3, other.org.id);
    const a = await env.rt.services.audit.verifyChain(orgId);
    const b = await env.rt.services.audit.verifyChain(other.org.id);
    expect(a.ok && b.ok).toBe(true);
    const actor = await env.rt.services.directory.actorForUser(other.org.id, other.admin.id);
    await env.rt.services.records.createRecords(actor, 'Leads', [{ Last_Name: 'Only in Globex' }]);
    const mine = await listRecords(env.store.db, { orgId, module: 'Leads', sort: 'id', desc: true, limit: 10 });
    expect(mine.find((r) => r.name === 'Only in Globex')).toBeUndefined();
  });

  it('pages records by keyset in a stable order', async () => {
    const admin = await env.rt.services.directory.listUsers(systemActor(orgId), 'AdminUsers');
    const actor = await env.rt.services.directory.actorForUser(orgId, admin[0].id);
    await env.rt.services.records.createRecords(actor, 'Contacts',
      Array.from({ length: 25 }, (_, i) => ({ Last_Name: `Page ${String(i).padStart(2, '0')}` })));
    const seen: string[] = [];
    let after: { value: string | number; id: string } | undefined;
    for (;;) {
      const page = await listRecords(env.store.db, { orgId, module: 'Contacts', sort: 'created_at', desc: false, limit: 10, after });
      seen.push(...page.map((r) => r.id));
      if (page.length < 10) break;
      const last = page[page.length - 1];
      after = { value: last.created_at, id: last.id };
    }
    expect(seen).toHaveLength(25);
    expect(new Set(seen).size).toBe(25);
  });

  describe('verify names the first broken link', () => {
    let tamper: TestEnv;
    let org: string;
    let base: number;
    beforeAll(async () => {
      tamper = await createEnv(backend);
      org = (await createOrg(tamper, 'Tamper')).org.id;
      base = (await tamper.rt.services.audit.verifyChain(org)).lastSeq;
      await tamper.store.db.transaction().execute((trx) =>
        appendAuditEntries(trx, tamper.store.dialect, org, Array.from({ length: 20 }, (_, i) => entry(i))));
      await disableGuards(tamper);
    });
    afterAll(async () => tamper?.close());

    const row = (seq: number) => tamper.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', org)
      .where('seq', '=', base + seq).executeTakeFirstOrThrow();
    const restore = async (r: Awaited<ReturnType<typeof row>>) => {
      await tamper.store.db.deleteFrom('audit_entries').where('id', '=', r.id).execute();
      await tamper.store.db.insertInto('audit_entries').values(r).execute();
    };

    it('an altered entry', async () => {
      const original = await row(10);
      await tamper.store.db.updateTable('audit_entries').set({ actor_name: 'Someone else' }).where('id', '=', original.id).execute();
      const r = await tamper.rt.services.audit.verifyChain(org);
      expect(r.ok).toBe(false);
      expect(r.firstBreak).toMatchObject({ seq: base + 10, id: original.id });
      expect(r.firstBreak!.reason).toMatch(/altered/);
      await restore(original);
      expect((await tamper.rt.services.audit.verifyChain(org)).ok).toBe(true);
    });

    it('an altered field change (old/new values)', async () => {
      const original = await row(4);
      await tamper.store.db.updateTable('audit_entries').set({ details: original.details.replace('B3', 'C3') })
        .where('id', '=', original.id).execute();
      expect((await tamper.rt.services.audit.verifyChain(org)).firstBreak).toMatchObject({ seq: base + 4, id: original.id });
      await restore(original);
    });

    it('a deleted entry', async () => {
      const original = await row(7);
      await tamper.store.db.deleteFrom('audit_entries').where('id', '=', original.id).execute();
      const r = await tamper.rt.services.audit.verifyChain(org);
      expect(r.ok).toBe(false);
      expect(r.firstBreak!.seq).toBe(base + 7);
      expect(r.firstBreak!.reason).toMatch(/missing/);
      await tamper.store.db.insertInto('audit_entries').values(original).execute();
      expect((await tamper.rt.services.audit.verifyChain(org)).ok).toBe(true);
    });

    it('two swapped entries', async () => {
      const a = await row(12);
      const b = await row(13);
      await tamper.store.db.deleteFrom('audit_entries').where('id', 'in', [a.id, b.id]).execute();
      await tamper.store.db.insertInto('audit_entries').values([{ ...a, seq: base + 13 }, { ...b, seq: base + 12 }]).execute();
      const r = await tamper.rt.services.audit.verifyChain(org);
      expect(r.ok).toBe(false);
      expect(r.firstBreak).toMatchObject({ seq: base + 12, id: b.id });
      await tamper.store.db.deleteFrom('audit_entries').where('id', 'in', [a.id, b.id]).execute();
      await tamper.store.db.insertInto('audit_entries').values([a, b]).execute();
      expect((await tamper.rt.services.audit.verifyChain(org)).ok).toBe(true);
    });

    it('an inserted entry and a truncated tail', async () => {
      const last = await row(20);
      const forged = { ...last, id: '1999999999999999999', seq: base + 21, prev_hash: last.hash, actor_name: 'Forger' };
      await tamper.store.db.insertInto('audit_entries').values(forged).execute();
      let r = await tamper.rt.services.audit.verifyChain(org);
      expect(r.ok).toBe(false);
      expect(r.firstBreak!.id).toBe(forged.id);
      await tamper.store.db.deleteFrom('audit_entries').where('id', '=', forged.id).execute();
      await tamper.store.db.deleteFrom('audit_entries').where('id', '=', last.id).execute();
      r = await tamper.rt.services.audit.verifyChain(org);
      expect(r.ok).toBe(false);
      expect(r.firstBreak!.reason).toMatch(new RegExp(`the chain ends at ${base + 19} but head ${base + 20} was signed`));
      expect(r.breaks.map((b) => b.reason).join('\n')).toMatch(/removed from the end/);
      await tamper.store.db.insertInto('audit_entries').values(last).execute();
      expect((await tamper.rt.services.audit.verifyChain(org)).ok).toBe(true);
    });
  });
});
