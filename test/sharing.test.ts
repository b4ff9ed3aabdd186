import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, withApp, type Auth } from './helpers.ts';

/**
 * Data sharing settings (issue #14 part 2), tried with an owner, their manager and a peer. The
 * org: CEO (Ada, Administrator) > Manager (Mia) > Sales (Owen, the owner; Pam, his peer), and
 * Support (Sam) under the CEO. Everyone but Ada has the Standard profile, which may do
 * everything with records: only the sharing settings keep them apart.
 */
describe.each(BACKENDS)('data sharing on %s', (backend) => {
  const t = withApp({ backend });
  const auth: Record<string, Auth> = {};
  const ids: Record<string, string> = {};

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, who: Auth, body?: unknown) =>
    t.app.inject({ method, url, headers: { ...who, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      payload: body === undefined ? undefined : JSON.stringify(body) });
  const setDefault = (module: string, type: string) =>
    call('PUT', '/crm/v8/settings/data_sharing', t.auth, { data_sharing: [{ module: { api_name: module }, type }] });
  const leadIds = async (who: Auth) => {
    const res = await call('GET', '/crm/v8/Leads?fields=Last_Name&per_page=200', who);
    return res.statusCode === 204 ? [] : (res.json() as { data: { id: string }[] }).data.map((r) => r.id);
  };
  const addRule = (body: unknown) => call('POST', '/crm/v8/settings/sharing_rules', t.auth, { sharing_rules: [body] });

  beforeAll(async () => {
    const dir = t.env.rt.services.directory;
    const admin = t.admin;
    const standard = t.org.profiles.standard.id;
    ids.manager = t.org.roles.manager.id;
    ids.sales = (await dir.createRole(admin, { name: 'Sales', reporting_to: { id: ids.manager } })).id;
    ids.support = (await dir.createRole(admin, { name: 'Support', reporting_to: { id: t.org.roles.ceo.id } })).id;
    for (const [name, role] of [['mia', ids.manager], ['owen', ids.sales], ['pam', ids.sales], ['sam', ids.support]] as const) {
      ids[name] = (await dir.createUser(admin, { last_name: name, email: `${name}@acme.example`, role: { id: role }, profile: { id: standard } })).id;
      auth[name] = await t.authFor({ userEmail: `${name}@acme.example` });
    }
    const made = await call('POST', '/crm/v8/Leads', auth.owen, { data: [{ Last_Name: 'Owens lead', Company: 'Acme' }] });
    ids.lead = (made.json() as { data: { details: { id: string } }[] }).data[0].details.id;
    const note = await call('POST', '/crm/v8/Notes', auth.owen, { data: [{ Note_Title: 'Call back', Note_Content: 'Tuesday',
      Parent_Id: { module: { api_name: 'Leads' }, id: ids.lead } }] });
    ids.note = (note.json() as { data: { details: { id: string } }[] }).data[0].details.id;
    const pams = await call('POST', '/crm/v8/Leads', auth.pam, { data: [{ Last_Name: 'Pams lead', Company: 'Acme' }] });
    ids.pamLead = (pams.json() as { data: { details: { id: string } }[] }).data[0].details.id;
  });

  it('starts at Zoho\'s default, Public Read/Write/Delete, so a peer sees the owner\'s records', async () => {
    const res = await call('GET', '/crm/v8/settings/data_sharing', t.auth);
    expect(res.statusCode).toBe(200);
    const leads = (res.json() as { data_sharing: { module: { api_name: string; id: string }; type: string }[] }).data_sharing
      .find((d) => d.module.api_name === 'Leads')!;
    expect(leads.type).toBe('public_read_write_delete');
    expect(leads.module.id).toMatch(/^\d+$/);
    expect(await leadIds(auth.pam)).toContain(ids.lead);
  });

  it('under Private, the owner and their manager see the record; a peer sees nothing of it anywhere', async () => {
    const res = await setDefault('Leads', 'private');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ data_sharing: [{ code: 'SUCCESS', status: 'success', details: { module: { api_name: 'Leads' }, type: 'private' } }] });

    for (const who of ['owen', 'mia'] as const) {
      expect(await leadIds(auth[who])).toContain(ids.lead);
      expect((await call('GET', `/crm/v8/Leads/${ids.lead}`, auth[who])).statusCode).toBe(200);
    }
    expect(await leadIds(auth.mia)).toContain(ids.pamLead);
    // The peer: not in the list, not by id, not through its notes, its timeline or an export.
    expect(await leadIds(auth.pam)).not.toContain(ids.lead);
    expect(await leadIds(auth.pam)).toContain(ids.pamLead);
    expect((await call('GET', `/crm/v8/Leads/${ids.lead}`, auth.pam)).statusCode).toBe(204);
    const notes = await call('GET', `/crm/v8/Leads/${ids.lead}/Notes?fields=Note_Title`, auth.pam);
    expect(notes.json()).toMatchObject({ code: 'INVALID_DATA' });
    const allNotes = await call('GET', '/crm/v8/Notes?fields=Note_Title', auth.pam);
    expect(allNotes.statusCode === 204 ? [] : (allNotes.json() as { data: { id: string }[] }).data.map((n) => n.id)).not.toContain(ids.note);
    const managerNotes = await call('GET', '/crm/v8/Notes?fields=Note_Title', auth.mia);
    expect((managerNotes.json() as { data: { id: string }[] }).data.map((n) => n.id)).toContain(ids.note);
    expect((await call('GET', `/crm/v8/Leads/${ids.lead}/__timeline`, auth.pam)).json()).toMatchObject({ code: 'INVALID_DATA' });
    const exported = await call('GET', '/api/v1/modules/Leads/export', auth.pam);
    expect(exported.statusCode).toBe(200);
    expect(exported.body).not.toContain('Owens lead');
    expect(exported.body).toContain('Pams lead');

    // Nor can the peer change or delete it: the answers are those of a missing record.
    const upd = await call('PUT', `/crm/v8/Leads/${ids.lead}`, auth.pam, { data: [{ Company: 'Stolen' }] });
    expect(upd.json()).toMatchObject({ data: [{ code: 'INVALID_DATA' }] });
    const del = await call('DELETE', `/crm/v8/Leads?ids=${ids.lead}`, auth.pam);
    expect(del.json()).toMatchObject({ data: [{ code: 'INVALID_DATA' }] });
    expect((await call('GET', `/crm/v8/Leads/${ids.lead}`, auth.owen)).json()).toMatchObject({ data: [{ Company: 'Acme' }] });
  });

  it('the manager\'s timeline of the owner\'s record shows every change, the Administrator\'s too', async () => {
    await call('PUT', `/crm/v8/Leads/${ids.lead}`, t.auth, { data: [{ Company: 'Acme Corp' }] });
    const res = await call('GET', `/crm/v8/Leads/${ids.lead}/__timeline`, auth.mia);
    expect(res.statusCode).toBe(200);
    const entries = (res.json() as { __timeline: { action: string; done_by: { name: string } }[] }).__timeline;
    expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['updated', 'added']));
    expect(entries.some((e) => e.action === 'updated')).toBe(true);
  });

  it('under Public Read Only a peer reads but may not edit or delete; Read/Write allows the edit only', async () => {
    await setDefault('Leads', 'public_read_only');
    expect((await call('GET', `/crm/v8/Leads/${ids.lead}`, auth.pam)).statusCode).toBe(200);
    expect((await call('PUT', `/crm/v8/Leads/${ids.lead}`, auth.pam, { data: [{ Company: 'Pam was here' }] })).json())
      .toMatchObject({ data: [{ code: 'NO_PERMISSION' }] });
    await setDefault('Leads', 'public_read_write');
    expect((await call('PUT', `/crm/v8/Leads/${ids.lead}`, auth.pam, { data: [{ Company: 'Pam was here' }] })).json())
      .toMatchObject({ data: [{ code: 'SUCCESS' }] });
    expect((await call('DELETE', `/crm/v8/Leads?ids=${ids.lead}`, auth.pam)).json()).toMatchObject({ data: [{ code: 'NO_PERMISSION' }] });
    expect((await call('GET', `/crm/v8/Leads/${ids.lead}`, auth.owen)).statusCode).toBe(200);
  });

  it('a sharing rule opens one role\'s records to another, at the rule\'s level', async () => {
    await setDefault('Leads', 'private');
    expect(await leadIds(auth.sam)).not.toContain(ids.lead);
    const made = await addRule({ name: 'Sales to Support', module: { api_name: 'Leads' }, shared_from: { resource: { id: ids.sales }, type: 'roles' },
      shared_to: { resource: { id: ids.support }, type: 'roles' }, permission_type: 'read_only' });
    expect(made.statusCode).toBe(201);
    const rule = (made.json() as { sharing_rules: { details: { id: string; shared_from: { resource: { name: string } } } }[] }).sharing_rules[0].details;
    expect(rule.shared_from.resource.name).toBe('Sales');
    expect(await leadIds(auth.sam)).toEqual(expect.arrayContaining([ids.lead, ids.pamLead]));
    expect((await call('PUT', `/crm/v8/Leads/${ids.lead}`, auth.sam, { data: [{ Company: 'Sam' }] })).json())
      .toMatchObject({ data: [{ code: 'NO_PERMISSION' }] });
    // The peer is in Sales, not in Support: the rule gives her nothing.
    expect(await leadIds(auth.pam)).not.toContain(ids.lead);

    const changed = await call('PUT', `/crm/v8/settings/sharing_rules/${rule.id}`, t.auth, { sharing_rules: [{ permission_type: 'read_write' }] });
    expect(changed.json()).toMatchObject({ sharing_rules: [{ code: 'SUCCESS', details: { permission_type: 'read_write', name: 'Sales to Support' } }] });
    expect((await call('PUT', `/crm/v8/Leads/${ids.lead}`, auth.sam, { data: [{ Company: 'Sam' }] })).json())
      .toMatchObject({ data: [{ code: 'SUCCESS' }] });
    const listed = await call('GET', '/crm/v8/settings/sharing_rules?module=Leads', t.auth);
    expect((listed.json() as { sharing_rules: unknown[] }).sharing_rules).toHaveLength(1);

    expect((await call('DELETE', `/crm/v8/settings/sharing_rules/${rule.id}`, t.auth)).statusCode).toBe(200);
    expect(await leadIds(auth.sam)).not.toContain(ids.lead);
  });

  it('writes sharing_updated with old and new values under the Administrator for every change', async () => {
    const res = await call('GET', '/crm/v8/settings/audit_log?action=sharing_updated&per_page=50', t.auth);
    expect(res.statusCode).toBe(200);
    const entries = (res.json() as { audit_log: { action: string; done_by: { id: string }; field_history: { api_name: string; _value: { old: unknown; new: unknown } }[] }[] }).audit_log;
    expect(entries.every((e) => e.done_by.id === t.org.admin.id)).toBe(true);
    const first = entries.at(-1)!;
    expect(first.field_history[0]).toMatchObject({ api_name: 'Leads', _value: { old: 'public_read_write_delete', new: 'private' } });
    // Defaults: private, read only, read/write, private again; the rule: created, changed, deleted.
    expect(entries.length).toBe(7);
    expect(entries.filter((e) => e.field_history[0].api_name.startsWith('sharing_rule:'))).toHaveLength(3);
  });

  it('refuses bad settings with Zoho-shaped errors naming the key, and changes nothing', async () => {
    const bad = async (url: string, method: 'PUT' | 'POST', body: unknown) => (await call(method, url, t.auth, body)).json() as Record<string, unknown>;
    expect(await bad('/crm/v8/settings/data_sharing', 'PUT', { data_sharing: [{ module: { api_name: 'Leads' }, type: 'everyone' }] }))
      .toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'type', json_path: '$.data_sharing[0].type' } });
    expect(await bad('/crm/v8/settings/data_sharing', 'PUT', { data_sharing: [{ module: { api_name: 'Nope' }, type: 'private' }] }))
      .toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'module' } });
    expect(await bad('/crm/v8/settings/data_sharing', 'PUT', { data_sharing: [{ type: 'private' }] }))
      .toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'module' } });
    expect(await bad('/crm/v8/settings/data_sharing', 'PUT', { data_sharing: [{ module: { api_name: 'Notes' }, type: 'private' }] }))
      .toMatchObject({ code: 'NOT_SUPPORTED' });
    // Two items, the second bad: the first is not applied either.
    await bad('/crm/v8/settings/data_sharing', 'PUT', { data_sharing: [{ module: { api_name: 'Deals' }, type: 'private' }, { module: 'Leads', type: 'x' }] });
    const now = (await call('GET', '/crm/v8/settings/data_sharing', t.auth)).json() as { data_sharing: { module: { api_name: string }; type: string }[] };
    expect(now.data_sharing.find((d) => d.module.api_name === 'Deals')!.type).toBe('public_read_write_delete');
    expect(await bad('/crm/v8/settings/sharing_rules', 'POST', { sharing_rules: [{ module: { api_name: 'Leads' },
      shared_from: { resource: { id: '123' } }, shared_to: { resource: { id: ids.support } }, permission_type: 'read_only' }] }))
      .toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'shared_from' } });
    expect(await bad('/crm/v8/settings/sharing_rules', 'POST', { sharing_rules: [{ module: { api_name: 'Leads' } }] }))
      .toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'shared_from' } });
    expect(await bad('/crm/v8/settings/sharing_rules', 'POST', { sharing_rules: [{ module: { api_name: 'Leads' }, shared_from: { resource: { id: ids.sales } },
      shared_to: { resource: { id: ids.support } }, permission_type: 'everything' }] }))
      .toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'permission_type' } });
    expect((await call('PUT', '/crm/v8/settings/sharing_rules/1234567890123456789', t.auth, { sharing_rules: [{}] })).json())
      .toMatchObject({ code: 'INVALID_DATA' });
  });

  it('only Administrators read or change the settings', async () => {
    for (const who of ['mia', 'owen'] as const) {
      const read = await call('GET', '/crm/v8/settings/data_sharing', auth[who]);
      expect([401, 403]).toContain(read.statusCode);
      const write = await call('PUT', '/crm/v8/settings/data_sharing', auth[who], { data_sharing: [{ module: { api_name: 'Leads' }, type: 'public_read_write_delete' }] });
      expect([401, 403]).toContain(write.statusCode);
    }
    const sharing = t.env.rt.services.sharing;
    const mia = await t.env.rt.services.directory.actorForUser(t.orgId, ids.mia);
    await expect(sharing.updateDefaults(mia, [{ module: 'Leads', type: 'public_read_write_delete' }])).rejects.toMatchObject({ code: 'NO_PERMISSION' });
    await expect(sharing.createRule(mia, {})).rejects.toMatchObject({ code: 'NO_PERMISSION' });
    expect(await leadIds(auth.pam)).not.toContain(ids.lead);
  });

  it('decides what the recycle bin shows: a peer who deleted a record under Public loses sight of it under Private', async () => {
    await setDefault('Leads', 'public_read_write_delete');
    const made = await call('POST', '/crm/v8/Leads', auth.owen, { data: [{ Last_Name: 'Binned lead', Company: 'Acme' }] });
    const id = (made.json() as { data: { details: { id: string } }[] }).data[0].details.id;
    expect((await call('DELETE', `/crm/v8/Leads?ids=${id}`, auth.pam)).json()).toMatchObject({ data: [{ code: 'SUCCESS' }] });
    const binIds = async (who: Auth) => {
      const res = await call('GET', '/crm/v8/settings/recycle_bin?per_page=200', who);
      return res.statusCode === 204 ? [] : (res.json() as { recycle_bin: { id: string }[] }).recycle_bin.map((r) => r.id);
    };
    const deletedIds = async (who: Auth) => {
      const res = await call('GET', '/crm/v8/Leads/deleted?type=recycle', who);
      return res.statusCode === 204 ? [] : (res.json() as { data: { id: string }[] }).data.map((r) => r.id);
    };
    expect(await binIds(auth.pam)).toContain(id);
    expect(await deletedIds(auth.pam)).toContain(id);
    await setDefault('Leads', 'private');
    expect(await binIds(auth.pam)).not.toContain(id);
    expect(await deletedIds(auth.pam)).not.toContain(id);
    expect((await call('POST', `/crm/v8/settings/recycle_bin/${id}/actions/restore`, auth.pam)).statusCode).toBeGreaterThanOrEqual(400);
    expect(await binIds(auth.mia)).toContain(id);
    expect(await binIds(auth.owen)).toContain(id);

    // Deleted for good: the tombstone keeps the name, shown to those who could read the record only.
    expect((await call('DELETE', `/crm/v8/settings/recycle_bin?ids=${id}`, t.auth)).statusCode).toBe(200);
    const permanent = async (who: Auth) => {
      const res = await call('GET', '/crm/v8/Leads/deleted?type=permanent', who);
      return res.statusCode === 204 ? [] : (res.json() as { data: { id: string; display_name: string }[] }).data.map((r) => r.display_name);
    };
    expect(await permanent(auth.mia)).toContain('Binned lead');
    expect(await permanent(auth.pam)).not.toContain('Binned lead');
  });

  it('under Private, a peer cannot write beside a hidden record: a note, a task or a lookup naming it answers as an id that does not exist', async () => {
    await setDefault('Leads', 'private');
    const countRows = async (module: string) => Number((await t.env.store.db.selectFrom('records').select((eb) => eb.fn.countAll().as('n'))
      .where('org_id', '=', t.orgId).where('module', '=', module).executeTakeFirstOrThrow()).n);
    const before = { notes: await countRows('Notes'), tasks: await countRows('Tasks') };
    const missing = '1234567890123456789';
    const answers = async (leadId: string) => [
      (await call('POST', `/crm/v8/Leads/${leadId}/Notes`, auth.pam, { data: [{ Note_Content: 'x' }] })).json(),
      (await call('POST', '/crm/v8/Notes', auth.pam, { data: [{ Note_Content: 'x', Parent_Id: { module: { api_name: 'Leads' }, id: leadId } }] })).json(),
      (await call('POST', '/crm/v8/Tasks', auth.pam, { data: [{ Subject: 't', What_Id: { id: leadId }, $se_module: 'Leads' }] })).json(),
    ];
    const hidden = await answers(ids.lead);
    // The same answers as for a record that does not exist: whether it exists is not told either.
    expect(hidden).toEqual(await answers(missing));
    expect(hidden[1]).toMatchObject({ data: [{ code: 'INVALID_DATA', details: { api_name: 'Parent_Id' } }] });
    expect(hidden[2]).toMatchObject({ data: [{ code: 'INVALID_DATA', details: { api_name: 'What_Id' } }] });
    expect({ notes: await countRows('Notes'), tasks: await countRows('Tasks') }).toEqual(before);
    // The owner still can; under Public Read Only the peer may link a task to it, but not add a note (it would become part of it).
    expect((await call('POST', `/crm/v8/Leads/${ids.lead}/Notes`, auth.owen, { data: [{ Note_Content: 'mine' }] })).json())
      .toMatchObject({ data: [{ code: 'SUCCESS' }] });
    await setDefault('Leads', 'public_read_only');
    const task = (await call('POST', '/crm/v8/Tasks', auth.pam, { data: [{ Subject: 't', What_Id: { id: ids.lead }, $se_module: 'Leads' }] })).json();
    expect(task).toMatchObject({ data: [{ code: 'SUCCESS' }] });
    const taskId = (task as { data: { details: { id: string } }[] }).data[0].details.id;
    expect((await call('POST', '/crm/v8/Notes', auth.pam, { data: [{ Note_Content: 'x', Parent_Id: { module: { api_name: 'Leads' }, id: ids.lead } }] })).json())
      .toMatchObject({ data: [{ code: 'INVALID_DATA', details: { api_name: 'Parent_Id' } }] });
    // Back to Private: Pam's own task still names the lead, and writing it back as read is no new link.
    await setDefault('Leads', 'private');
    expect((await call('PUT', `/crm/v8/Tasks/${taskId}`, auth.pam, { data: [{ Subject: 'renamed', What_Id: { id: ids.lead }, $se_module: 'Leads' }] })).json())
      .toMatchObject({ data: [{ code: 'SUCCESS' }] });
    expect((await call('PUT', `/crm/v8/Tasks/${taskId}`, auth.pam, { data: [{ What_Id: { id: ids.pamLead }, $se_module: 'Leads' }] })).json())
      .toMatchObject({ data: [{ code: 'SUCCESS' }] });
    expect((await call('PUT', `/crm/v8/Tasks/${taskId}`, auth.pam, { data: [{ What_Id: { id: ids.lead }, $se_module: 'Leads' }] })).json())
      .toMatchObject({ data: [{ code: 'INVALID_DATA', details: { api_name: 'What_Id' } }] });
  });
});

describe('auditrail sharing (CLI)', () => {
  const t = withApp({ token: false });

  const captured = async (run: () => Promise<number>) => {
    const lines: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      return { code: await run(), text: lines.join('') };
    } finally {
      process.stdout.write = write;
    }
  };

  it('sets a default and adds and deletes a rule, each audited under the CLI operator', async () => {
    const cli = await import('../src/cli/commands/sharing.ts');
    const rt = t.env.rt;
    await (rt.services.directory.createRole(t.admin, { name: 'Sales', reporting_to: { id: t.org.roles.manager.id } }));
    expect((await captured(() => cli.sharingSetCommand(rt, { org: t.orgId, module: 'deals', access: 'private' }))).text).toBe('Deals\tprivate\n');
    const added = await captured(() => cli.sharingRuleAddCommand(rt, { org: t.orgId, module: 'Deals', fromRole: 'Sales', toRole: 'Manager',
      toSubordinates: true, permission: 'read_only', name: 'Deals to managers' }));
    const ruleId = added.text.trim();
    expect(ruleId).toMatch(/^\d+$/);
    const shown = (await captured(() => cli.sharingShowCommand(rt, { org: t.orgId }))).text;
    expect(shown).toContain('Deals\tprivate');
    expect(shown).toContain('Leads\tpublic_read_write_delete');
    expect(shown).toContain(`${ruleId}\tDeals to managers\tDeals\tSales\tManager and subordinates\tread_only`);
    expect(shown).not.toMatch(/^Notes\t/m);
    await captured(() => cli.sharingRuleDeleteCommand(rt, ruleId, { org: t.orgId }));
    expect((await captured(() => cli.sharingShowCommand(rt, { org: t.orgId }))).text).toContain('(no sharing rules)');
    await expect(cli.sharingRuleAddCommand(rt, { org: t.orgId, module: 'Deals', fromRole: 'Sales', toRole: 'Manager', permission: 'all' }))
      .rejects.toThrow(/--permission/);
    await expect(cli.sharingSetCommand(rt, { org: t.orgId, module: 'Deals', access: 'open' })).rejects.toMatchObject({ code: 'INVALID_DATA' });

    const entries = await t.env.store.db.selectFrom('audit_entries').select(['action', 'actor_name', 'actor_type'])
      .where('org_id', '=', t.orgId).where('action', '=', 'sharing_updated').execute();
    expect(entries).toHaveLength(3);
    expect(entries.every((e) => /^auditrail CLI \(/.test(e.actor_name ?? ''))).toBe(true);
  });

});
