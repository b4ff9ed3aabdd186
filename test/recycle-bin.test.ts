import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, tokenFor, withApp, createEnvWithOrg, type Auth } from './helpers.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import type { Actor } from '../src/services/context.ts';

const DAY = 86_400_000;

describe('recycle bin', () => {
  const t = withApp({ token: false });
  let rep: Actor;
  let adminAuth: Auth;
  let repAuth: Auth;
  let otherAuth: Auth;

  beforeAll(async () => {
    const org = t.org;
    const dir = t.env.rt.services.directory;
    const repRole = (await dir.createRole(t.admin, { name: 'Rep', reporting_to: { id: org.roles.manager.id } })).id;
    const r = await dir.createUser(t.admin, { first_name: 'Rae', last_name: 'Rep', email: 'rae@acme.example', role: { id: repRole }, profile: { id: org.profiles.standard.id } });
    await dir.createUser(t.admin, { first_name: 'Otto', last_name: 'Other', email: 'otto@acme.example', role: { id: repRole }, profile: { id: org.profiles.standard.id } });
    rep = await dir.actorForUser(t.orgId, r.id);
    adminAuth = await t.authFor();
    repAuth = await t.authFor({ userEmail: 'rae@acme.example' });
    otherAuth = await t.authFor({ userEmail: 'otto@acme.example' });
  });

  const records = () => t.env.rt.services.records;
  const one = async (actor: Actor, module: string, values: Record<string, unknown>) => {
    const [r] = await records().createRecords(actor, module, [values]);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.row.id;
  };
  async function leadWithDependents(actor: Actor, name: string) {
    const lead = await one(actor, 'Leads', { Last_Name: name });
    const note = await one(actor, 'Notes', { Note_Content: 'n', Parent_Id: { module: { api_name: 'Leads' }, id: lead } });
    const call = await one(actor, 'Calls', { Subject: 'c', Call_Type: 'Outbound', Call_Start_Time: '2026-01-01T10:00:00Z', What_Id: { id: lead }, $se_module: 'Leads' });
    const task = await one(t.admin, 'Tasks', { Subject: 't', What_Id: { id: lead }, $se_module: 'Leads' });
    const event = await one(actor, 'Events', { Event_Title: 'e', Start_DateTime: '2026-01-02T10:00:00Z', End_DateTime: '2026-01-02T11:00:00Z', What_Id: { id: lead }, $se_module: 'Leads' });
    return { lead, note, call, task, event };
  }
  const live = async (id: string) => (await t.env.store.db.selectFrom('records').select(['deleted_at']).where('id', '=', id).executeTakeFirst());
  const binGet = (auth: Record<string, string>, q = '') => t.app.inject({ method: 'GET', url: `/crm/v8/settings/recycle_bin${q}`, headers: auth });

  it('takes a deleted lead with everything attached, each showing who deleted it', async () => {
    const r = await leadWithDependents(rep, 'Binned Lead');
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    for (const id of Object.values(r)) expect((await live(id))!.deleted_at).not.toBeNull();
    const res = await binGet(repAuth);
    expect(res.statusCode).toBe(200);
    const items = res.json().recycle_bin;
    expect(items.map((i: { id: string }) => i.id).sort()).toEqual(Object.values(r).sort());
    for (const i of items) expect(i.deleted_by).toMatchObject({ id: rep.userId, name: 'Rae Rep' });
    const task = items.find((i: { id: string }) => i.id === r.task);
    expect(task).toMatchObject({ display_name: 't', module: { api_name: 'Tasks' }, owner: { id: t.admin.userId } });
    expect(task.deleted_time).toMatch(/\+05:30$/);
    expect(res.json().info).toMatchObject({ per_page: 200, count: 5, page: 1, more_records: false });
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/settings/recycle_bin/actions/count', headers: repAuth })).json()).toEqual({ count: 5 });
    expect((await t.app.inject({ method: 'GET', url: `/crm/v8/settings/recycle_bin/${r.note}`, headers: repAuth })).json().recycle_bin[0].id).toBe(r.note);
  });

  it('restores exactly what the deletion took, links intact, audited', async () => {
    const r = await leadWithDependents(rep, 'Restorable');
    await records().deleteRecords(rep, 'Notes', [r.note]);
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    const res = await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${r.lead}/actions/restore`, headers: repAuth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ recycle_bin: [{ code: 'SUCCESS', details: { id: r.lead }, message: 'record restored', status: 'success' }] });
    for (const id of [r.lead, r.call, r.task, r.event]) expect((await live(id))!.deleted_at).toBeNull();
    expect((await live(r.note))!.deleted_at).not.toBeNull();
    const call = await records().getRecord(rep, 'Calls', r.call);
    expect(call).toMatchObject({ parent_id: r.lead, parent_module: 'Leads' });
    const restored = await t.env.store.db.selectFrom('audit_entries').select(['record_id', 'batch_id']).where('action', '=', 'restored')
      .where('record_id', 'in', [r.lead, r.call, r.task, r.event]).execute();
    expect(restored).toHaveLength(4);
    expect(new Set(restored.map((e) => e.batch_id)).size).toBe(1);
    const tl = (await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${r.lead}/__timeline`, headers: adminAuth })).json().__timeline;
    expect(tl.filter((e: { record: { id: string } }) => e.record.id === r.lead).map((e: { action: string }) => e.action)).toEqual(['restored', 'deleted', 'added']);
  });

  it('refuses a dependent whose parent is still in the bin, restoring twice, and others\' items', async () => {
    const r = await leadWithDependents(rep, 'Parent in bin');
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    const child = await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${r.note}/actions/restore`, headers: repAuth });
    expect(child.statusCode).toBe(400);
    expect(child.json().recycle_bin[0]).toMatchObject({ code: 'CANNOT_RESTORE_WITHOUT_PARENT', details: { id: r.note }, status: 'error' });
    const theirs = await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${r.lead}/actions/restore`, headers: otherAuth });
    const missing = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/1000000000000000001/actions/restore', headers: otherAuth });
    expect(theirs.json().recycle_bin[0].message).toBe(missing.json().recycle_bin[0].message);
    expect((await t.app.inject({ method: 'GET', url: `/crm/v8/settings/recycle_bin/${r.lead}`, headers: otherAuth })).json())
      .toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 2 } });
    await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${r.lead}/actions/restore`, headers: repAuth });
    const twice = await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${r.lead}/actions/restore`, headers: repAuth });
    expect(twice.json().recycle_bin[0]).toMatchObject({ code: 'INVALID_DATA', message: 'the record is not in the recycle bin' });
    expect((await live(r.note))!.deleted_at).toBeNull();
  });

  it('deletes permanently with dependents; restoring afterwards says so; /{module}/deleted shows both kinds', async () => {
    const r = await leadWithDependents(rep, 'Doomed');
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    const res = await t.app.inject({ method: 'DELETE', url: `/crm/v8/settings/recycle_bin?ids=${r.lead}`, headers: adminAuth });
    expect(res.json()).toEqual({ recycle_bin: [{ code: 'SUCCESS', details: { id: r.lead }, message: 'record deleted', status: 'success' }] });
    for (const id of Object.values(r)) expect(await live(id)).toBeUndefined();
    const again = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/actions/restore', headers: adminAuth, payload: JSON.stringify({ ids: [r.lead] }) });
    expect(again.json().recycle_bin[0]).toMatchObject({ code: 'INVALID_DATA', message: 'the record was permanently deleted' });
    const perm = await t.env.store.db.selectFrom('audit_entries').select('record_id').where('action', '=', 'permanently_deleted').execute();
    expect(perm.map((p) => p.record_id)).toEqual(expect.arrayContaining(Object.values(r)));
    const kept = await leadWithDependents(rep, 'In bin');
    await records().deleteRecords(rep, 'Leads', [kept.lead]);
    const deleted = (await t.app.inject({ method: 'GET', url: '/crm/v8/Leads/deleted', headers: adminAuth })).json().data;
    // Gone for good, it is still named, with who removed it and who created it.
    expect(deleted.find((d: { id: string }) => d.id === r.lead)).toMatchObject({ type: 'permanent', display_name: 'Doomed',
      deleted_by: { id: t.admin.userId, name: 'Ada Admin' }, created_by: { id: rep.userId } });
    expect(deleted.find((d: { id: string }) => d.id === kept.lead)).toMatchObject({ type: 'recycle', display_name: 'In bin', deleted_by: { id: rep.userId } });
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/Leads/deleted?type=recycle', headers: adminAuth })).json().data
      .every((d: { type: string }) => d.type === 'recycle')).toBe(true);
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/Leads/deleted?type=gone', headers: adminAuth })).json())
      .toMatchObject({ code: 'PATTERN_NOT_MATCHED', details: { param_name: 'type' } });
  });

  it('filters the bin by type, deleter and time, and acts on a filter as a job whose progress can be followed', async () => {
    const f = (conds: unknown[]) => encodeURIComponent(JSON.stringify({ group_operator: 'AND', group: conds }));
    const tasksByRep = await binGet(adminAuth, `?filters=${f([{ field: { api_name: 'module' }, comparator: 'equal', value: 'Tasks' },
      { field: { api_name: 'deleted_by' }, comparator: 'equal', value: 'Rae Rep' }])}`);
    expect(tasksByRep.json().recycle_bin.every((i: { module: { api_name: string }; deleted_by: { id: string } }) => i.module.api_name === 'Tasks' && i.deleted_by.id === rep.userId)).toBe(true);
    const future = new Date(Date.now() + DAY).toISOString();
    expect((await binGet(adminAuth, `?filters=${f([{ field: { api_name: 'deleted_time' }, comparator: 'greater_than', value: future }])}`)).statusCode).toBe(204);
    expect((await binGet(adminAuth, `?filters=${f([{ field: { api_name: 'module' }, comparator: 'contains', value: 'Le' }])}`)).json())
      .toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'filters', api_name: 'comparator' } });
    const res = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/actions/restore', headers: adminAuth,
      payload: JSON.stringify({ filters: { field: { api_name: 'module' }, comparator: 'equal', value: 'Leads' } }) });
    expect(res.statusCode).toBe(202);
    const jobId = res.json().recycle_bin[0].details.job_id;
    expect(res.json().recycle_bin[0]).toMatchObject({ code: 'SCHEDULED', status: 'success' });
    const w = createAppWorker(t.env.rt, { maintenance: false });
    while (await w.runOnce()) { /* drain */ }
    const status = (await t.app.inject({ method: 'GET', url: `/crm/v8/settings/recycle_bin/jobs/${jobId}`, headers: adminAuth })).json().recycle_bin_jobs[0];
    expect(status).toMatchObject({ status: 'COMPLETED', action: 'restore' });
    expect(status.processed).toBe(status.total);
    const leadsLeft = (await binGet(adminAuth, `?filters=${f([{ field: { api_name: 'module' }, comparator: 'equal', value: 'Leads' }])}`)).statusCode;
    expect(leadsLeft).toBe(204);
  });

  it('validates restore and delete requests', async () => {
    const restore = (body: unknown) => t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/actions/restore', headers: adminAuth, payload: JSON.stringify(body) });
    expect((await restore({})).json()).toMatchObject({ code: 'EXPECTED_PARAM_MISSING', details: { param_names: ['filters', 'ids', 'restore_all_records'] } });
    expect((await restore({ ids: ['1'], restore_all_records: true })).json().code).toBe('AMBIGUITY_DURING_PROCESSING');
    expect((await restore({ ids: Array.from({ length: 201 }, (_, i) => String(1000 + i)) })).json()).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 200 } });
    expect((await t.app.inject({ method: 'DELETE', url: '/crm/v8/settings/recycle_bin', headers: adminAuth })).json()).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'ids' } });
    const many = Array.from({ length: 101 }, (_, i) => String(1000 + i)).join(',');
    expect((await t.app.inject({ method: 'DELETE', url: `/crm/v8/settings/recycle_bin?ids=${many}`, headers: adminAuth })).json()).toMatchObject({ code: 'LIMIT_EXCEEDED' });
    const { auth: readOnly } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.settings.recycle_bin.READ'] });
    expect((await t.app.inject({ method: 'DELETE', url: '/crm/v8/settings/recycle_bin?ids=1', headers: readOnly })).json().code).toBe('OAUTH_SCOPE_MISMATCH');
  });

  it('lets only an Administrator empty the bin', async () => {
    const r = await leadWithDependents(rep, 'Emptied');
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    const no = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/actions/empty', headers: repAuth });
    expect(no.statusCode).toBe(400);
    expect(no.json()).toMatchObject({ code: 'AUTHORIZATION_FAILED', status: 'error' });
    const yes = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/recycle_bin/actions/empty', headers: adminAuth });
    expect(yes.json()).toMatchObject({ code: 'SUCCESS', message: 'recyclebin is cleared', status: 'success' });
    expect((await binGet(adminAuth)).statusCode).toBe(204);
    // One summary beside the permanent deletions, in the same batch, even without a job.
    const entries = await t.env.store.db.selectFrom('audit_entries').select(['action', 'batch_id', 'details']).where('org_id', '=', t.orgId)
      .where('action', 'in', ['recycle_bin_emptied', 'permanently_deleted']).orderBy('seq', 'desc').execute();
    const summary = entries.filter((e) => e.action === 'recycle_bin_emptied');
    expect(summary).toHaveLength(1);
    const removed = entries.filter((e) => e.action === 'permanently_deleted' && e.batch_id === summary[0].batch_id);
    expect(JSON.parse(summary[0].details).extra).toEqual({ removed: removed.length });
    expect(removed.length).toBeGreaterThan(1);
  });

  it('runs a restore of more than 1,000 records as a background job (202)', async () => {
    const lead = await one(rep, 'Leads', { Last_Name: 'Heavy' });
    for (let i = 0; i < 11; i++) {
      await records().createRecords(rep, 'Notes', Array.from({ length: 100 }, (_, j) => ({ Note_Content: `n${i}-${j}`, Parent_Id: { module: { api_name: 'Leads' }, id: lead } })));
    }
    await records().deleteRecords(rep, 'Leads', [lead]);
    const res = await t.app.inject({ method: 'POST', url: `/crm/v8/settings/recycle_bin/${lead}/actions/restore`, headers: repAuth });
    expect(res.statusCode).toBe(202);
    expect(res.json().recycle_bin[0]).toMatchObject({ code: 'SCHEDULED', details: { id: lead }, message: 'record has been scheduled for restoration' });
    expect((await live(lead))!.deleted_at).not.toBeNull();
    const w = createAppWorker(t.env.rt, { maintenance: false });
    while (await w.runOnce()) { /* drain */ }
    expect((await live(lead))!.deleted_at).toBeNull();
    const back = await t.env.store.db.selectFrom('records').select(({ fn }) => fn.countAll().as('n')).where('parent_id', '=', lead).where('deleted_at', 'is', null).executeTakeFirstOrThrow();
    expect(Number(back.n)).toBe(1100);
  });

  it('purges items older than 60 days, audited', async () => {
    const r = await leadWithDependents(rep, 'Old');
    await records().deleteRecords(rep, 'Leads', [r.lead]);
    expect(await t.env.rt.services.recycleBin.purgeExpired()).toBe(0);
    t.env.advance(61 * DAY);
    try {
      expect(await t.env.rt.services.recycleBin.purgeExpired()).toBe(5);
      const entries = await t.env.store.db.selectFrom('audit_entries').selectAll().where('record_id', '=', r.lead).where('action', '=', 'permanently_deleted').execute();
      expect(entries[0]).toMatchObject({ source: 'retention', actor_type: 'system' });
    } finally {
      t.env.advance(-61 * DAY);
    }
    expect((await t.env.rt.services.audit.verifyChain(t.orgId)).ok).toBe(true);
  });
});

describe.each(BACKENDS)('the recycle bin purge on %s', (backend) => {
  it('purges every other item when one of them fails', async () => {
    const env = await createEnv(backend);
    const org = await createOrg(env);
    const other = await createOrg(env, 'Globex');
    const ids: string[] = [];
    for (const o of [org, other]) {
      const admin = await env.rt.services.directory.actorForUser(o.org.id, o.admin.id);
      const created = await env.rt.services.records.createRecords(admin, 'Leads', [1, 2, 3].map((i) => ({ Last_Name: `Old ${i}` })));
      const leadIds = created.map((c) => (c.ok ? c.row.id : ''));
      await env.rt.services.records.deleteRecords(admin, 'Leads', leadIds);
      ids.push(...leadIds);
    }
    // One item the purge cannot process (its stored values no longer parse).
    await env.store.db.updateTable('records').set({ data: '{broken' }).where('id', '=', ids[0]).execute();
    env.advance(61 * DAY);
    expect(await env.rt.services.recycleBin.purgeExpired()).toBe(5);
    const left = await env.store.db.selectFrom('records').select('id').where('id', 'in', ids).execute();
    expect(left.map((r) => r.id)).toEqual([ids[0]]);
    await env.close();
  });
});

describe.each(BACKENDS)('concurrent restore and purge on %s', (backend) => {
  it('one wins, the other gets a clear error, and the data stays consistent', async () => {
    const { env, org, admin } = await createEnvWithOrg(backend);
    const second = backend === 'postgres' ? await env.second() : null;
    const otherBin = second ? second.rt.services.recycleBin : env.rt.services.recycleBin;
    for (let i = 0; i < 10; i++) {
      const [lead] = await env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: `Race ${i}` }]);
      if (!lead.ok) throw new Error('create failed');
      await env.rt.services.records.createRecords(admin, 'Notes', [{ Note_Content: 'x', Parent_Id: { module: { api_name: 'Leads' }, id: lead.row.id } }]);
      await env.rt.services.records.deleteRecords(admin, 'Leads', [lead.row.id]);
      const [a, b] = await Promise.allSettled([
        env.rt.services.recycleBin.restore(admin, { ids: [lead.row.id] }),
        otherBin.remove(admin, { ids: [lead.row.id] }),
      ]);
      const outcome = (s: PromiseSettledResult<unknown>) => (s.status === 'rejected' ? 'error'
        : ((s.value as { results: { ok: boolean }[] }).results[0].ok ? 'ok' : 'error'));
      expect([outcome(a), outcome(b)].sort()).toEqual(['error', 'ok']);
      const rows = await env.store.db.selectFrom('records').select(['id', 'deleted_at']).where('org_id', '=', org.org.id)
        .where((eb) => eb.or([eb('id', '=', lead.row.id), eb('parent_id', '=', lead.row.id)])).execute();
      if (outcome(a) === 'ok') expect(rows.map((r) => r.deleted_at)).toEqual([null, null]);
      else expect(rows).toHaveLength(0);
    }
    expect((await env.rt.services.audit.verifyChain(org.org.id)).ok).toBe(true);
    await second?.close();
    await env.close();
  });
});
