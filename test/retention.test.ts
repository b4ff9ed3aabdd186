import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey, verify } from 'node:crypto';
import { sql } from 'kysely';
import { BACKENDS, createApp, createEnv, createOrg, disableGuards, type TestEnv } from './helpers.ts';
import { checkpointPayload } from '../src/services/integrity-service.ts';
import type { Actor } from '../src/services/context.ts';

const DAY = 86_400_000;
const YEAR = 365.25 * DAY;

describe.each(BACKENDS)('retention on %s', (backend) => {
  let env: TestEnv;
  let orgId: string;
  let actor: Actor;
  const start = Date.now() - 4 * YEAR;

  beforeAll(async () => {
    env = await createEnv(backend);
    env.setNow(start);
    const org = await createOrg(env);
    orgId = org.org.id;
    actor = await env.rt.services.directory.actorForUser(orgId, org.admin.id);
    // One lead a month for four years: 48 entries plus the organisation's own.
    for (let m = 0; m < 48; m++) {
      env.setNow(start + m * 30 * DAY);
      await env.rt.services.records.createRecords(actor, 'Leads', [{ Last_Name: `Month ${m}` }]);
    }
    env.setNow(Date.now());
  });
  afterAll(async () => env?.close());

  const oldest = async () => {
    const r = await env.store.db.selectFrom('audit_entries').select(({ fn }) => fn.min('audited_at').as('t'))
      .where('org_id', '=', orgId).executeTakeFirstOrThrow();
    return Number(r.t);
  };

  it('does nothing under a legal hold', async () => {
    await env.rt.services.directory.updateOrgSettings(actor, { legal_hold: true });
    const r = await env.rt.services.retention.purgeOrg(orgId);
    expect(r).toMatchObject({ purged: 0, skipped: 'legal_hold' });
    expect(await oldest()).toBeLessThan(Date.now() - 3 * YEAR);
    await env.rt.services.directory.updateOrgSettings(actor, { legal_hold: false });
  });

  it('purges entries past three years in small batches, leaving signed checkpoints the chain verifies from', async () => {
    const before = await env.rt.services.audit.verifyChain(orgId);
    const r = await env.rt.services.retention.purgeOrg(orgId, { batchSize: 4 });
    expect(r.purged).toBeGreaterThan(8);
    expect(await oldest()).toBeGreaterThanOrEqual(Date.now() - 3 * YEAR - DAY);
    const checkpoints = await env.store.db.selectFrom('audit_checkpoints').selectAll().where('org_id', '=', orgId).orderBy('seq').execute();
    expect(checkpoints.length).toBeGreaterThan(2);
    for (let i = 1; i < checkpoints.length; i++) expect(checkpoints[i].prev_signature).toBe(checkpoints[i - 1].signature);
    const after = await env.rt.services.audit.verifyChain(orgId);
    expect(after.ok).toBe(true);
    expect(after.checkpoint).toMatchObject({ seq: r.throughSeq });
    // every batch was audited, and those entries are themselves part of the chain
    const purges = await env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'audit_log_purged').execute();
    expect(purges.length).toBe(checkpoints.length);
    expect(after.entries).toBe(before.entries - r.purged + purges.length);
    // and a second run finds nothing more to do
    expect((await env.rt.services.retention.purgeOrg(orgId)).purged).toBe(0);
  });

  it('publishes the public key that verifies the checkpoints offline', async () => {
    const app = await createApp(env);
    const res = await app.inject({ method: 'GET', url: '/api/integrity/public-key' });
    await app.close();
    const { public_key: pem, key_id: keyId, algorithm } = res.json();
    expect(algorithm).toBe('Ed25519');
    const cp = await env.store.db.selectFrom('audit_checkpoints').selectAll().where('org_id', '=', orgId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(cp.key_id).toBe(keyId);
    expect(verify(null, Buffer.from(checkpointPayload(cp)), createPublicKey(pem), Buffer.from(cp.signature, 'base64'))).toBe(true);
  });

  it('notices a forged checkpoint', async () => {
    const cp = await env.store.db.selectFrom('audit_checkpoints').selectAll().where('org_id', '=', orgId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    await expect(env.store.db.updateTable('audit_checkpoints').set({ purged: 0 }).where('id', '=', cp.id).execute()).rejects.toThrow(/append-only/);
    await disableGuards(env, ['audit_checkpoints']);
    await env.store.db.updateTable('audit_checkpoints').set({ purged: Number(cp.purged) + 1 }).where('id', '=', cp.id).execute();
    const r = await env.rt.services.audit.verifyChain(orgId);
    expect(r.ok).toBe(false);
    expect(r.firstBreak!.reason).toMatch(/checkpoint/);
    await env.store.db.updateTable('audit_checkpoints').set({ purged: cp.purged }).where('id', '=', cp.id).execute();
    expect((await env.rt.services.audit.verifyChain(orgId)).ok).toBe(true);
  });

  it('still refuses ordinary deletes: only the purge holds a permit, and only inside its transaction', async () => {
    const permits = await env.store.db.selectFrom('audit_purge_permits').selectAll().execute();
    expect(permits).toHaveLength(0);
    await expect(sql`DELETE FROM audit_entries WHERE org_id = ${orgId}`.execute(env.store.db)).rejects.toThrow(/append-only/);
  });

  it('keeps retention between one and ten years', async () => {
    await expect(env.rt.services.directory.updateOrgSettings(actor, { retention_years: 11 })).rejects.toMatchObject({ code: 'INVALID_DATA' });
    await expect(env.rt.services.directory.updateOrgSettings(actor, { retention_years: 0 })).rejects.toMatchObject({ code: 'INVALID_DATA' });
    const s = await env.rt.services.directory.updateOrgSettings(actor, { retention_years: 10 });
    expect(s.retention_years).toBe(10);
    const [entry] = await env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'org_updated').orderBy('seq', 'desc').limit(1).execute();
    expect(JSON.parse(entry.details).field_history).toEqual([{ api_name: 'retention_years', field_label: 'retention_years', old: 3, new: 10 }]);
  });

  it('stops a purge that is already running when a legal hold is set, between batches', async () => {
    env.setNow(start);
    const held = await createOrg(env, 'Held');
    const heldAdmin = await env.rt.services.directory.actorForUser(held.org.id, held.admin.id);
    for (let m = 0; m < 6; m++) {
      env.setNow(start + m * 30 * DAY);
      await env.rt.services.records.createRecords(heldAdmin, 'Leads', [{ Last_Name: `Month ${m}` }]);
    }
    env.setNow(Date.now());
    let batches = 0;
    const r = await env.rt.services.retention.purgeOrg(held.org.id, { batchSize: 2, progress: async () => {
      batches += 1;
      if (batches === 1) await env.rt.services.directory.updateOrgSettings(heldAdmin, { legal_hold: true });
    } });
    expect(r).toMatchObject({ purged: 2, skipped: 'legal_hold' });
    const purges = await env.store.db.selectFrom('audit_entries').select('id').where('org_id', '=', held.org.id)
      .where('action', '=', 'audit_log_purged').execute();
    expect(purges).toHaveLength(1);
  });
});

describe.each(BACKENDS)('the daily retention run on %s', (backend) => {
  it('purges the other organisations when one of them fails', async () => {
    const env = await createEnv(backend);
    env.setNow(Date.now() - 4 * YEAR);
    const orgs = [await createOrg(env, 'Broken'), await createOrg(env, 'Fine')];
    env.setNow(Date.now());
    await env.store.db.updateTable('orgs').set({ settings: '{broken' }).where('id', '=', orgs[0].org.id).execute();
    const results = await env.rt.services.retention.runRetention();
    expect(results.find((r) => r.orgId === orgs[0].org.id)).toMatchObject({ purged: 0, skipped: 'failed' });
    expect(results.find((r) => r.orgId === orgs[1].org.id)!.purged).toBeGreaterThan(0);
    await env.close();
  });
});
