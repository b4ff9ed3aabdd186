import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, withApp, type Auth } from './helpers.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import type { Actor } from '../src/services/context.ts';

describe.each(BACKENDS)('anomaly findings on %s', (backend) => {
  const t = withApp({ backend, token: false });
  const ids: Record<string, string> = {};
  const auth: Record<string, Auth> = {};
  const actors: Record<string, Actor> = {};

  const entries = async (action: string) => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
    .where('action', '=', action).orderBy('seq').execute();
  const get = (who: Auth, query = '') => t.app.inject({ method: 'GET', url: `/api/v1/findings${query}`, headers: who });
  const ack = (who: Auth, id: string, note?: string) => t.app.inject({ method: 'POST', url: `/api/v1/findings/${id}/acknowledge`, headers: who,
    payload: note === undefined ? {} : { note } });
  /** Deletes `n` new Leads of `who` in one call. */
  async function deleteLeads(who: Actor, n: number) {
    const made = await t.env.rt.services.records.createRecords(who, 'Leads', Array.from({ length: n }, (_, i) => ({ Last_Name: `Lead ${i}` })));
    t.env.advance(60_000);
    await t.env.rt.services.records.deleteRecords(who, 'Leads', made.map((r) => (r.ok ? r.row.id : '')));
  }

  beforeAll(async () => {
    const dir = t.env.rt.services.directory;
    const team = (await dir.createRole(t.admin, { name: 'Team', reporting_to: { id: t.org.roles.manager.id } })).id;
    const other = (await dir.createRole(t.admin, { name: 'Other', reporting_to: { id: t.org.roles.ceo.id } })).id;
    const standard = { id: t.org.profiles.standard.id };
    for (const [key, role, email] of [['manager', t.org.roles.manager.id, 'manny@acme.example'], ['trainee', team, 'tess@acme.example'],
      ['peer', other, 'pete@acme.example']] as const) {
      ids[key] = (await dir.createUser(t.admin, { last_name: key, email, role: { id: role }, profile: standard })).id;
      actors[key] = await dir.actorForUser(t.orgId, ids[key]);
    }
    const profile = await dir.cloneProfile(t.admin, t.org.profiles.standard.id, { name: 'Deleters', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: { audit_log: true } } });
    for (const key of ['trainee', 'peer']) await dir.updateUser(t.admin, ids[key], { profile: { id: profile.id } });
    for (const key of ['trainee', 'peer']) actors[key] = await dir.actorForUser(t.orgId, ids[key]);
    t.env.advance(3600_000);
    await deleteLeads(actors.trainee, 60);
    t.env.advance(3600_000);
    await deleteLeads(actors.peer, 55);
    // Tokens last an hour of the test clock, which moved: issued now.
    auth.admin = await t.authFor();
    for (const key of ['manager', 'trainee', 'peer']) auth[key] = await t.authFor({ userEmail: `${key === 'manager' ? 'manny' : key === 'trainee' ? 'tess' : 'pete'}@acme.example` });
  });

  it('the worker\'s periodic scan finds a mass deletion from the durable cursor', async () => {
    const worker = createAppWorker(t.env.rt, { pollMs: 20 });
    worker.start();
    try {
      for (let i = 0; i < 500 && (await t.env.store.db.selectFrom('findings').select('id').where('kind', '=', 'mass_deletion').execute()).length < 2; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
    } finally {
      await worker.stop();
    }
    // Each new finding enters the chain (finding_detected) after the entries it was found in; the
    // next scan reads those too and finds nothing in them, so the cursor settles at the head.
    await t.env.rt.services.findings.scanOrganisation(t.orgId);
    const state = await t.env.store.db.selectFrom('finding_detector_state').selectAll().where('org_id', '=', t.orgId).executeTakeFirstOrThrow();
    const head = await t.env.store.db.selectFrom('audit_heads').selectAll().where('org_id', '=', t.orgId).executeTakeFirstOrThrow();
    expect(Number(state.finding_scan_cursor)).toBe(Number(head.last_seq));
    const res = await get(auth.admin, '?kind=mass_deletion');
    expect(res.statusCode).toBe(200);
    const [pete, tess] = res.json().findings;
    expect(tess).toMatchObject({ kind: 'mass_deletion', severity: 'medium', user: { id: ids.trainee, name: 'trainee' },
      explanation: 'deleted 60 Leads in 1 minute; no baseline yet, threshold: 50', acknowledgement: null });
    expect(tess.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
    const deleted = (await entries('deleted')).filter((e) => e.actor_id === ids.trainee).map((e) => e.id);
    expect(tess.entry_ids).toEqual(deleted);
    expect(pete.user.id).toBe(ids.peer);
    ids.tess = tess.id;
    ids.pete = pete.id;
  });

  it('extends the same finding when more entries of the episode arrive, and scans nothing twice', async () => {
    await t.env.rt.services.findings.scanOrganisation(t.orgId);
    expect((await t.env.rt.services.findings.scanOrganisation(t.orgId)).scanned).toBe(0);
    const before = await t.env.store.db.selectFrom('findings').select('id').where('org_id', '=', t.orgId).execute();
    t.env.advance(-3600_000 + 120_000);
    await deleteLeads(actors.trainee, 10);
    const r = await t.env.rt.services.findings.scanOrganisation(t.orgId);
    expect(r.scanned).toBeGreaterThan(0);
    const [tess] = (await get(auth.admin, `?kind=mass_deletion&user=${ids.trainee}`)).json().findings;
    expect(tess.id).toBe(ids.tess);
    expect(tess.explanation).toMatch(/^deleted 70 Leads in \d+ minutes/);
    expect(await t.env.store.db.selectFrom('findings').select('id').where('org_id', '=', t.orgId).execute()).toHaveLength(before.length);
    t.env.advance(3600_000);
  });

  it('applies a batch once when two scanners race for it', async () => {
    await deleteLeads(actors.trainee, 3);
    const state = await t.env.store.db.selectFrom('finding_detector_state').selectAll().where('org_id', '=', t.orgId).executeTakeFirstOrThrow();
    const rows = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
      .where('seq', '>', Number(state.finding_scan_cursor)).orderBy('seq').execute();
    const findings = t.env.rt.services.findings;
    const results = await Promise.allSettled([findings.runDetectors(t.orgId, rows), findings.runDetectors(t.orgId, rows)]);
    // One moved the cursor; the other stored nothing (it lost the compare-and-set, or saw the moved cursor first).
    expect(results.filter((r) => r.status === 'fulfilled' && r.value !== null)).toHaveLength(1);
    const after = await t.env.store.db.selectFrom('finding_detector_state').selectAll().where('org_id', '=', t.orgId).executeTakeFirstOrThrow();
    expect(Number(after.finding_scan_cursor)).toBe(Number(rows.at(-1)!.seq));
  });

  it('refuses entries that do not follow the cursor', async () => {
    const rows = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId).orderBy('seq').limit(3).execute();
    await expect(t.env.rt.services.findings.runDetectors(t.orgId, rows)).rejects.toMatchObject({ code: 'INVALID_DATA' });
  });

  it('shows a manager findings about their subordinates, not their peers\'', async () => {
    const mine = (await get(auth.manager)).json().findings.map((f: { user: { id: string } }) => f.user.id);
    expect(mine).toContain(ids.trainee);
    expect(mine).not.toContain(ids.peer);
    expect((await get(auth.manager, `?user=${ids.peer}`)).json().findings).toEqual([]);
    const own = (await get(auth.trainee)).json().findings;
    expect(own.every((f: { user: { id: string } }) => f.user.id === ids.trainee)).toBe(true);
    expect(own.length).toBeGreaterThan(0);
  });

  it('answers bad filters with Zoho-shaped errors, and audits reading', async () => {
    const before = (await entries('audit_log_viewed')).length;
    expect((await get(auth.admin, '?kind=mass_deletion,nope')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'kind' }, status: 'error' });
    expect((await get(auth.admin, '?from=yesterday')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'from' } });
    expect((await get(auth.admin, '?user=abc')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'user' } });
    const future = (await get(auth.admin, `?from=${encodeURIComponent('2999-01-01T00:00:00+00:00')}`)).json();
    expect(future).toEqual({ findings: [] });
    const viewed = await entries('audit_log_viewed');
    expect(viewed.length).toBe(before + 1);
    expect(JSON.parse(viewed.at(-1)!.details).extra).toMatchObject({ returned: 0 });
  });

  it('lets a manager acknowledge a subordinate\'s finding, audited; not their own, not twice, not a hidden one', async () => {
    const self = await ack(auth.trainee, ids.tess);
    expect(self.statusCode).toBe(400);
    expect(self.json()).toEqual({ code: 'NOT_ALLOWED', details: {}, message: 'a finding about yourself is for someone else to acknowledge', status: 'error' });
    const hidden = await ack(auth.manager, ids.pete);
    const missing = await ack(auth.manager, '1234567890123456789');
    expect(hidden.statusCode).toBe(400);
    expect(hidden.json()).toEqual(missing.json());
    const ok = await ack(auth.manager, ids.tess, 'cleanup of junk leads, agreed with me');
    expect(ok.statusCode).toBe(200);
    expect(ok.json().finding.acknowledgement).toMatchObject({ by: { id: ids.manager, name: 'manager' }, note: 'cleanup of junk leads, agreed with me' });
    const [entry] = await entries('finding_acknowledged');
    expect(entry).toMatchObject({ actor_id: ids.manager, record_id: ids.tess, module: 'audit_log' });
    expect(JSON.parse(entry.details).extra).toMatchObject({ kind: 'mass_deletion', user_id: ids.trainee, note: 'cleanup of junk leads, agreed with me' });
    const again = await ack(auth.admin, ids.tess);
    expect(again.json()).toMatchObject({ code: 'NOT_ALLOWED', status: 'error' });
    expect(await entries('finding_acknowledged')).toHaveLength(1);
    // A token that may only read the audit log cannot acknowledge.
    const reader = await t.authFor({ scopes: ['ZohoCRM.settings.audit_logs.READ'] });
    expect((await ack(reader, ids.pete)).json().code).toBe('OAUTH_SCOPE_MISMATCH');
  });

  it('keeps the thresholds for Administrators, audited, checked', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/findings/settings', headers: auth.manager })).json().code).toBe('NO_PERMISSION');
    const put = (settings: unknown, who = auth.admin) => t.app.inject({ method: 'PUT', url: '/api/v1/findings/settings', headers: who, payload: { settings } });
    expect((await put({ mass_deletion: { min_records: 20 } }, auth.manager)).json().code).toBe('NO_PERMISSION');
    const bad = await put({ mass_deletion: { min_records: 0 } });
    expect(bad.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'mass_deletion.min_records' } });
    const res = await put({ mass_deletion: { min_records: 20 }, off_hours: { enabled: false } });
    expect(res.statusCode).toBe(200);
    expect(res.json().settings).toMatchObject({ mass_deletion: { min_records: 20, gap_minutes: 30 }, off_hours: { enabled: false } });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/findings/settings', headers: auth.admin })).json().settings.mass_deletion.min_records).toBe(20);
    const updated = (await entries('org_updated')).at(-1)!;
    expect(JSON.parse(updated.details).field_history).toEqual([
      { api_name: 'findings.mass_deletion.min_records', field_label: 'Findings: mass_deletion.min_records', old: 50, new: 20 },
      { api_name: 'findings.off_hours.enabled', field_label: 'Findings: off_hours.enabled', old: true, new: false }]);
    // The new threshold applies to what is scanned next: 25 deletions (a new episode) are now a finding.
    t.env.advance(2 * 3600_000);
    await deleteLeads(actors.peer, 25);
    await t.env.rt.services.findings.scanOrganisation(t.orgId);
    const pete = await t.env.rt.services.findings.list(t.admin, { kinds: ['mass_deletion'], userId: ids.peer });
    expect(pete.map((f) => f.explanation)[0]).toMatch(/^deleted 25 Leads/);
  });
});
