import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BACKENDS, createEnv, createOrg, disableGuards, type TestEnv } from './helpers.ts';
import { GENESIS_HASH } from '../src/domain/audit.ts';
import { recomputeHash } from '../src/services/audit-service.ts';
import { headPayload } from '../src/services/heads-service.ts';
import { systemActor } from '../src/services/context.ts';
import type { AuditEntryTable } from '../src/store/schema.ts';

/**
 * The tamper suite: what someone with write access to the database (but not the signing key)
 * might do to the audit trail, and the words `verify` must find for each.
 */
describe.each(BACKENDS)('tampering with the audit trail on %s', (backend) => {
  let env: TestEnv;
  let dir: string;
  let orgId: string;

  /** An organisation with 150 entries and a signed head at its end; the guards switched off. */
  async function setup(opts: { headsUrl?: string } = {}) {
    dir = mkdtempSync(path.join(tmpdir(), 'auditrail-tamper-'));
    env = await createEnv(backend, { keyDir: dir, headsUrl: opts.headsUrl });
    orgId = (await createOrg(env)).org.id;
    const actor = systemActor(orgId);
    for (let i = 0; env.rt && (await last()) < 150; i++) {
      await env.rt.services.records.createRecords(actor, 'Leads', Array.from({ length: 10 }, (_, k) => ({ Last_Name: `Lead ${i}.${k}` })));
    }
    expect((await env.rt.services.heads.signAll('interval')).map((h) => Number(h.seq))).toEqual([await last()]);
    await disableGuards(env);
  }
  afterEach(async () => {
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const db = () => env.store.db;
  const last = async () => Number((await db().selectFrom('audit_entries').select('seq').where('org_id', '=', orgId)
    .orderBy('seq', 'desc').limit(1).executeTakeFirst())?.seq ?? 0);
  const row = (seq: number) => db().selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).where('seq', '=', seq)
    .executeTakeFirstOrThrow();
  const verify = (opts = {}) => env.rt.services.audit.verifyChain(orgId, { sign: false, ...opts });
  const reasons = async (opts = {}) => (await verify(opts)).breaks.map((b) => `${b.seq}: ${b.reason}`).join('\n');

  /** Rewrites the chain from `fromSeq` on with the project's own hash functions, and the head row to match. */
  async function rewriteFrom(fromSeq: number, change: (rows: AuditEntryTable[]) => AuditEntryTable[]) {
    const rows = await db().selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).where('seq', '>=', fromSeq)
      .orderBy('seq').execute();
    let prev = fromSeq > 1 ? (await row(fromSeq - 1)).hash : GENESIS_HASH;
    const rewritten = change(rows).map((r, i) => {
      const n = { ...r, seq: fromSeq + i, prev_hash: prev };
      n.hash = recomputeHash(n);
      prev = n.hash;
      return n;
    });
    await db().deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '>=', fromSeq).execute();
    for (let i = 0; i < rewritten.length; i += 100) await db().insertInto('audit_entries').values(rewritten.slice(i, i + 100)).execute();
    await db().updateTable('audit_heads').set({ last_seq: fromSeq + rewritten.length - 1, last_hash: prev }).where('org_id', '=', orgId).execute();
  }

  it('is intact before anyone touches it, and verify signs the head it checked', async () => {
    await setup();
    const before = await db().selectFrom('signed_heads').select('id').execute();
    const r = await env.rt.services.audit.verifyChain(orgId);
    expect(r).toMatchObject({ ok: true, breaks: [], lastSeq: await last() });
    expect(r.signedHead).toMatchObject({ seq: await last() });
    const after = await db().selectFrom('signed_heads').select(['reason']).execute();
    expect(after).toHaveLength(before.length + 1);
    expect(after.map((h) => h.reason)).toContain('verify');
  });

  it('names an altered entry, and every other one, not only the first', async () => {
    await setup();
    for (const seq of [40, 101, 120]) {
      await db().updateTable('audit_entries').set({ record_name: 'Someone else' }).where('org_id', '=', orgId).where('seq', '=', seq).execute();
    }
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.breaks.map((b) => b.seq)).toEqual([40, 101, 120]);
    for (const b of r.breaks) expect(b.reason).toMatch(/altered/);
  });

  it('names a deleted entry', async () => {
    await setup();
    await db().deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '=', 77).execute();
    expect(await reasons()).toMatch(/^77: entries 77\.\.77 are missing/m);
  });

  it('names an inserted entry, even when the rest of the chain is rehashed around it', async () => {
    await setup();
    const end = await last();
    await rewriteFrom(60, (rows) => [{ ...rows[0], id: '1999999999999999999', record_name: 'Planted' }, ...rows]);
    const r = await reasons();
    expect(r).toMatch(new RegExp(`${end}: its hash no longer matches the head signed at .*: the history up to it was rewritten`));
  });

  it('names two reordered entries', async () => {
    await setup();
    const a = await row(90);
    const b = await row(91);
    await db().deleteFrom('audit_entries').where('id', 'in', [a.id, b.id]).execute();
    await db().insertInto('audit_entries').values([{ ...a, seq: 91 }, { ...b, seq: 90 }]).execute();
    const r = await reasons();
    expect(r).toMatch(/^90: links to a different predecessor/m);
    expect(r).toMatch(/^91: links to a different predecessor/m);
  });

  it('names a truncation even when the head row was rewound to match', async () => {
    await setup();
    const end = await last();
    await db().deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '>', end - 50).execute();
    const newEnd = await row(end - 50);
    await db().updateTable('audit_heads').set({ last_seq: end - 50, last_hash: newEnd.hash }).where('org_id', '=', orgId).execute();
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.breaks.map((b) => b.reason)).toEqual([expect.stringMatching(new RegExp(`^the chain ends at ${end - 50} but head ${end} was signed`))]);
  });

  it('names a truncation when the head row is gone altogether', async () => {
    await setup();
    const end = await last();
    await db().deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '>', end - 5).execute();
    await db().deleteFrom('audit_heads').where('org_id', '=', orgId).execute();
    const r = await reasons();
    expect(r).toMatch(new RegExp(`the chain ends at ${end - 5} but head ${end} was signed`));
    expect(r).toMatch(/audit_heads\) is missing/);
  });

  it('names a full rewrite without the key, even with the signed heads deleted from the database', async () => {
    await setup();
    const end = await last();
    await rewriteFrom(101, (rows) => [{ ...rows[0], actor_name: 'Nobody' }, ...rows.slice(1)]);
    await db().deleteFrom('signed_heads').execute();
    // The rewritten chain is consistent in itself: only the heads log outside the database knows.
    const r = await verify();
    expect(r.ok).toBe(false);
    expect(r.breaks).toHaveLength(1);
    expect(r.breaks[0]).toMatchObject({ seq: end });
    expect(r.breaks[0].reason).toMatch(/heads\.log:1\): the history up to it was rewritten/);
    // Without the log (deleted as well), only a copy shipped elsewhere can tell: --heads.
    const shipped = path.join(dir, 'shipped-heads.log');
    writeFileSync(shipped, readFileSync(path.join(dir, 'heads.log')));
    rmSync(path.join(dir, 'heads.log'));
    expect((await verify()).ok).toBe(true);
    expect(await reasons({ headsFiles: [shipped] })).toMatch(/shipped-heads\.log:1\): the history up to it was rewritten/);
  });

  it('refuses heads signed with a key of the attacker\'s own, registered in the database or not', async () => {
    await setup();
    const end = await last();
    await rewriteFrom(101, (rows) => [{ ...rows[0], actor_name: 'Nobody' }, ...rows.slice(1)]);
    await db().deleteFrom('signed_heads').execute();
    rmSync(path.join(dir, 'heads.log'));
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const forged = { org_id: orgId, seq: end, hash: (await row(end)).hash, signed_at: Date.now() };
    await db().insertInto('integrity_keys').values({ key_id: 'attacker', public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      created_at: Date.now() }).execute();
    await db().insertInto('signed_heads').values({ id: '1999999999999999998', ...forged, reason: 'interval', key_id: 'attacker',
      signature: sign(null, Buffer.from(headPayload(forged)), privateKey).toString('base64') }).execute();
    expect(await reasons()).toMatch(new RegExp(`^${end}: the head signed for entry ${end} in database does not verify`, 'm'));
  });

  it('checks only the entries after a signed head with since, and still names a rewrite behind it', async () => {
    await setup();
    const signedAt = await last();
    const actor = systemActor(orgId);
    for (let i = 0; i < 5; i++) await env.rt.services.records.createRecords(actor, 'Leads', [{ Last_Name: `Later ${i}` }]);
    const r = await verify({ since: signedAt });
    expect(r).toMatchObject({ ok: true, fromSeq: signedAt, entries: (await last()) - signedAt });
    await db().updateTable('audit_entries').set({ record_name: 'Old news' }).where('org_id', '=', orgId).where('seq', '=', 10).execute();
    expect((await verify({ since: signedAt })).ok).toBe(true);
    expect((await verify()).ok).toBe(false);
    await rewriteFrom(10, (rows) => rows);
    expect(await reasons({ since: signedAt })).toMatch(new RegExp(`^${signedAt}: entry ${signedAt}'s hash no longer matches the head signed`, 'm'));
    // No signed head at or before 5: the walk starts where a full verify does, and finds what it finds.
    expect(await reasons({ since: 5 })).toBe(await reasons());
    expect(await reasons({ since: 5 })).toMatch(/the history up to it was rewritten/);
  });

  it('never signs a head over a chain rewritten or cut below the last signed head', async () => {
    await setup();
    const actor = systemActor(orgId);
    await rewriteFrom(50, (rows) => [{ ...rows[0], record_name: 'Changed' }, ...rows.slice(1)]);
    await env.rt.services.records.createRecords(actor, 'Leads', [{ Last_Name: 'After' }]);
    expect(await env.rt.services.heads.signAll('interval')).toEqual([]);
    expect(await env.rt.services.heads.signHead(orgId, 'stop', true)).toBeNull();
    await db().deleteFrom('audit_entries').where('org_id', '=', orgId).where('seq', '>', 20).execute();
    expect(await env.rt.services.heads.signHead(orgId, 'stop', true)).toBeNull();
  });

  it('signs only moved heads on the interval, writes each to the log and to the witness', async () => {
    const received: unknown[] = [];
    let arrived: () => void = () => {};
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { received.push(JSON.parse(body)); res.end(); arrived(); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const first = new Promise<void>((resolve) => { arrived = resolve; });
      await setup({ headsUrl: `http://127.0.0.1:${port}/heads` });
      await first;
      expect(await env.rt.services.heads.signAll('interval')).toEqual([]);
      const lines = readFileSync(path.join(dir, 'heads.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ org_id: orgId, seq: await last(), reason: 'interval' });
      expect(received).toEqual([lines[0]]);
    } finally {
      server.close();
    }
  });
});
