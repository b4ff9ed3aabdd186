import { beforeAll, describe, expect, it } from 'vitest';
import { createOrg, tokenFor, withApp, type Auth } from './helpers.ts';
import type { Actor } from '../src/services/context.ts';
import { auditEntryView } from '../src/http/views.ts';

const DAY = 86_400_000;

describe('reading the audit log', () => {
  const now = Date.now();
  const users: Record<string, { id: string; email: string }> = {};
  const auth: Record<string, Auth> = {};
  const actors: Record<string, Actor> = {};
  let otherOrgUser: string;
  let dealId: string;
  let oldLeadId: string;
  const t = withApp({ now: now - 100 * DAY, token: false });

  beforeAll(async () => {
    const { org, orgId } = t;
    const dir = t.env.rt.services.directory;
    const admin = t.admin;
    // CEO > Director > Manager > Rep;  Director > Manager2 > Rep3
    const role = async (name: string, parent: string) => (await dir.createRole(admin, { name, reporting_to: { id: parent } })).id;
    const director = await role('Director', org.roles.ceo.id);
    const manager = await role('Manager A', director);
    const rep = await role('Rep A', manager);
    const manager2 = await role('Manager B', director);
    const rep3Role = await role('Rep B', manager2);
    const std = org.profiles.standard.id;
    const add = async (key: string, roleId: string) => {
      const u = await dir.createUser(admin, { first_name: key, last_name: 'User', email: `${key}@acme.example`, role: { id: roleId }, profile: { id: std } });
      users[key] = { id: u.id, email: u.email };
    };
    users.admin = { id: org.admin.id, email: org.admin.email };
    await add('ceo2', org.roles.ceo.id);
    await add('director', director);
    await add('manager', manager);
    await add('rep1', rep);
    await add('rep2', rep);
    await add('leaver', rep);
    await add('manager2', manager2);
    await add('rep3', rep3Role);
    for (const key of Object.keys(users)) actors[key] = await dir.actorForUser(orgId, users[key].id, { source: 'crm_ui', ip: '10.1.1.1' });
    // 64 days ago: a lead by rep1 (outside the 60-day window, inside the timeline).
    t.env.setNow(now - 64 * DAY);
    const [old] = await t.env.rt.services.records.createRecords(actors.rep1, 'Leads', [{ Last_Name: 'Old Lead' }]);
    oldLeadId = old.ok ? old.row.id : '';
    t.env.setNow(now - 10 * DAY);
    for (const key of ['admin', 'director', 'manager', 'rep1', 'rep2', 'leaver', 'manager2', 'rep3']) {
      await t.env.rt.services.records.createRecords(actors[key], key === 'rep3' ? 'Contacts' : 'Leads', [{ Last_Name: `By ${key}` }]);
    }
    const [deal] = await t.env.rt.services.records.createRecords(actors.rep1, 'Deals', [{ Deal_Name: 'Big', Stage: 'Qualification' }]);
    dealId = deal.ok ? deal.row.id : '';
    t.env.setNow(now - 2 * DAY);
    await t.env.rt.services.records.updateRecords(actors.manager, 'Deals', [{ Stage: 'Needs Analysis' }], dealId);
    await t.env.rt.services.records.createRecords(actors.rep2, 'Notes', [{ Note_Content: 'Call back Monday', Parent_Id: { module: { api_name: 'Deals' }, id: dealId } }]);
    await t.env.rt.services.records.updateRecords(actors.rep1, 'Leads', [{ Company: 'Renamed' }], oldLeadId);
    await dir.updateUser(admin, users.leaver.id, { status: 'disabled' });
    t.env.setNow(now);
    for (const key of Object.keys(users)) {
      if (key !== 'leaver') auth[key] = await t.authFor({ userEmail: users[key].email });
    }
    const other = await createOrg(t.env, 'Globex');
    otherOrgUser = other.admin.id;
  });

  const log = (who: string, query = '') => t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log${query}`, headers: auth[who] });
  const doers = async (who: string, query = '?module=Leads,Contacts,Deals,Notes') =>
    new Set((await log(who, query)).json().audit_log.map((e: { done_by: { id: string } }) => e.done_by.id));
  const ids = (...keys: string[]) => new Set(keys.map((k) => users[k].id));

  it('shows an Administrator and the CEO role the whole organisation', async () => {
    const everyone = ids('admin', 'director', 'manager', 'rep1', 'rep2', 'leaver', 'manager2', 'rep3');
    expect(await doers('admin')).toEqual(everyone);
    expect(await doers('ceo2')).toEqual(everyone);
  });

  it('shows everyone else their own and their subordinates\' entries, inactive users included', async () => {
    expect(await doers('director')).toEqual(ids('director', 'manager', 'rep1', 'rep2', 'leaver', 'manager2', 'rep3'));
    expect(await doers('manager')).toEqual(ids('manager', 'rep1', 'rep2', 'leaver'));
    expect(await doers('rep1')).toEqual(ids('rep1'));
    expect(await doers('manager2')).toEqual(ids('manager2', 'rep3'));
  });

  it('follows a user who moves roles', async () => {
    const dir = t.env.rt.services.directory;
    const admin = await dir.actorForUser(t.orgId, users.admin.id);
    const roleB = (await dir.listRoles(admin)).find((r) => r.name === 'Rep B')!;
    const roleA = (await dir.listRoles(admin)).find((r) => r.name === 'Rep A')!;
    await dir.updateUser(admin, users.rep2.id, { role: { id: roleB.id } });
    try {
      expect(await doers('manager')).toEqual(ids('manager', 'rep1', 'leaver'));
      expect(await doers('manager2')).toEqual(ids('manager2', 'rep3', 'rep2'));
    } finally {
      await dir.updateUser(admin, users.rep2.id, { role: { id: roleA.id } });
    }
  });

  it('answers "who changed this deal last week?" in one call, in the timeline\'s shapes', async () => {
    const from = new Date(now - 7 * DAY).toISOString();
    const res = await log('admin', `?record_id=${dealId}&action=updated&from=${encodeURIComponent(from)}`);
    expect(res.statusCode).toBe(200);
    const [entry] = res.json().audit_log;
    expect(entry).toMatchObject({
      action: 'updated', done_by: { id: users.manager.id, name: 'manager User' }, module: { api_name: 'Deals' },
      record: { id: dealId, name: 'Big' }, source: 'crm_ui', ip_address: '10.1.1.1',
      field_history: [{ api_name: 'Stage', field_label: 'Stage', _value: { old: 'Qualification', new: 'Needs Analysis' } }],
    });
    expect(entry.audited_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/);
    expect(entry.id).toMatch(/^\d{19}$/);
  });

  it('answers every entry as the view of its stored row, each key of it, in every shape', async () => {
    await log('admin'); // an audit_log_viewed entry, whose details carry the query's filters
    const body = (await log('admin', '?per_page=200')).json();
    const rows = await t.env.store.db.selectFrom('audit_entries').selectAll().where('id', 'in', body.audit_log.map((e: { id: string }) => e.id))
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const names = new Map<string, string | null>(body.audit_log.filter((e: { parent_record: unknown }) => e.parent_record)
      .map((e: { parent_record: { id: string; name: string | null } }) => [e.parent_record.id, e.parent_record.name]));
    const tz = (await t.env.store.db.selectFrom('orgs').select('time_zone').where('id', '=', t.orgId).executeTakeFirstOrThrow()).time_zone;
    for (const entry of body.audit_log) {
      expect(entry).toEqual(JSON.parse(JSON.stringify(auditEntryView(byId.get(entry.id)!, tz, names))));
    }
    const kinds = body.audit_log as { done_by: { id: string | null }; field_history: unknown; details: unknown; parent_record: unknown }[];
    // The page holds every shape: system actors, field changes, extra details, parent records.
    expect(kinds.some((e) => e.done_by.id === null)).toBe(true);
    expect(kinds.some((e) => e.field_history !== null)).toBe(true);
    expect(kinds.some((e) => e.details !== null)).toBe(true);
    expect(kinds.some((e) => e.parent_record !== null)).toBe(true);
  });

  it('filters by user, action, module and source, newest first', async () => {
    const body = (await log('admin', `?done_by=${users.rep1.id},${users.rep2.id}&module=Leads,Deals&action=added`)).json();
    expect(body.audit_log.length).toBe(3);
    for (const e of body.audit_log) {
      expect([users.rep1.id, users.rep2.id]).toContain(e.done_by.id);
      expect(['Leads', 'Deals']).toContain(e.module.api_name);
      expect(e.action).toBe('added');
    }
    const times = body.audit_log.map((e: { audited_time: string }) => Date.parse(e.audited_time));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await log('admin', '?source=import')).statusCode).toBe(204);
    const parent = (await log('admin', `?module=Notes`)).json().audit_log[0];
    expect(parent.parent_record).toMatchObject({ id: dealId, name: 'Big', module: { api_name: 'Deals' } });
  });

  it('keeps to the 60-day window; the window is a per-organisation setting', async () => {
    const seen = (await log('admin', `?record_id=${oldLeadId}`)).json().audit_log.map((e: { action: string }) => e.action);
    expect(seen).toEqual(['updated']);
    const admin = await t.env.rt.services.directory.actorForUser(t.orgId, users.admin.id);
    await t.env.rt.services.directory.updateOrgSettings(admin, { audit_log_window_days: 90 });
    try {
      const wide = (await log('admin', `?record_id=${oldLeadId}`)).json().audit_log.map((e: { action: string }) => e.action);
      expect(wide).toEqual(['updated', 'added']);
    } finally {
      await t.env.rt.services.directory.updateOrgSettings(admin, { audit_log_window_days: 60 });
    }
  });

  it('pages with a page_token through exactly the unpaged result, and page 1 by page is the same', async () => {
    const all = (await log('admin', '?per_page=200')).json().audit_log.map((e: { id: string }) => e.id);
    expect(all.length).toBeGreaterThan(20);
    const paged: string[] = [];
    let token: string | null = null;
    do {
      const q: string = token ? `?per_page=7&page_token=${token}` : '?per_page=7';
      const body = (await log('admin', q)).json();
      paged.push(...body.audit_log.map((e: { id: string }) => e.id));
      token = body.info.next_page_token;
    } while (token);
    // every query adds an audit_log_viewed entry of its own: compare what existed at the first call
    expect(paged.filter((id) => all.includes(id))).toEqual(all);
    const page2 = (await log('admin', '?per_page=7&page=2')).json();
    expect(page2.info).toMatchObject({ page: 2, per_page: 7, count: 7, more_records: true });
  });

  it('does not shift pages under the reader\'s own reads: page 2 follows page 1, entry for entry', async () => {
    const whole = (await log('admin', '?per_page=14')).json().audit_log.map((e: { id: string }) => e.id);
    const p1 = (await log('admin', '?per_page=7&page=1')).json().audit_log.map((e: { id: string }) => e.id);
    const p2 = (await log('admin', '?per_page=7&page=2')).json().audit_log.map((e: { id: string }) => e.id);
    expect([...p1, ...p2]).toEqual(whole);
    // Someone else's reads are entries like any other; one's own reads show when asked for.
    const mine = (await log('admin', '?action=audit_log_viewed&per_page=5')).json().audit_log;
    expect(mine.some((e: { done_by: { id: string } }) => e.done_by.id === users.admin.id)).toBe(true);
  });

  it('refuses bad input with INVALID_DATA naming the parameter', async () => {
    const cases: [string, string][] = [
      ['?colour=red', 'colour'], ['?from=yesterday', 'from'], ['?to=2025-13-01T00:00:00Z', 'to'],
      [`?from=${encodeURIComponent('2026-02-01T00:00:00Z')}&to=${encodeURIComponent('2026-01-01T00:00:00Z')}`, 'from'],
      ['?done_by=abc', 'done_by'], [`?done_by=${otherOrgUser}`, 'done_by'], ['?record_id=12x', 'record_id'],
      ['?per_page=201', 'per_page'], ['?action=flew', 'action'], ['?module=Spaceships', 'module'], ['?source=fax', 'source'],
      ['?page_token=garbage', 'page_token'],
    ];
    for (const [q, param] of cases) {
      const res = await log('admin', q);
      expect(res.statusCode, q).toBe(400);
      expect(res.json(), q).toMatchObject({ code: 'INVALID_DATA', details: { param_name: param }, status: 'error' });
    }
  });

  it('refuses another user\'s page token and a token used with other filters', async () => {
    const token = (await log('admin', '?per_page=2')).json().info.next_page_token;
    expect((await log('ceo2', `?per_page=2&page_token=${token}`)).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'page_token' } });
    expect((await log('admin', `?per_page=3&page_token=${token}`)).json()).toMatchObject({ code: 'TOKEN_BOUND_DATA_MISMATCH' });
    const forged = token.replace(/^.{10}/, 'eyJvIjoiMT');
    expect((await log('admin', `?per_page=2&page_token=${forged}x`)).json().code).toBe('INVALID_DATA');
  });

  it('audits every read of the log, once per query, with its filters', async () => {
    const before = await t.env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'audit_log_viewed').execute();
    await log('manager', `?module=Deals&action=updated`);
    const after = await t.env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'audit_log_viewed').orderBy('seq').execute();
    expect(after.length).toBe(before.length + 1);
    const e = after[after.length - 1];
    expect(e.actor_id).toBe(users.manager.id);
    expect(JSON.parse(e.details).extra.filters).toMatchObject({ module: ['Deals'], action: ['updated'] });
    const viewed = (await log('admin', '?action=audit_log_viewed&per_page=1')).json().audit_log[0];
    expect(viewed).toMatchObject({ action: 'audit_log_viewed', module: { api_name: 'audit_log' } });
  });

  it('needs the audit_logs scope and the audit log permission', async () => {
    const { auth: noScope } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.modules.ALL'] });
    expect((await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log', headers: noScope })).json().code).toBe('OAUTH_SCOPE_MISMATCH');
    const dir = t.env.rt.services.directory;
    const admin = await dir.actorForUser(t.orgId, users.admin.id);
    const std = (await dir.listProfiles(admin)).find((p) => p.name === 'Standard')!;
    const blind = await dir.cloneProfile(admin, std.id, { name: 'No log', permissions: { modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: {} } });
    await dir.updateUser(admin, users.rep3.id, { profile: { id: blind.id } });
    t.env.rt.services.oauth.clearCache();
    const res = await log('rep3');
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'NO_PERMISSION', details: { permissions: ['audit_log'] } });
  });

  describe('record timeline', () => {
    const timeline = (who: string, id: string, q = '', module = 'Deals') =>
      t.app.inject({ method: 'GET', url: `/crm/v8/${module}/${id}/__timeline${q}`, headers: auth[who] });

    it('returns the record\'s history with notes and activities as Zoho shapes it', async () => {
      const res = await timeline('admin', dealId);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.__timeline.map((e: { action: string; record: { module: { api_name: string } } }) => `${e.action}:${e.record.module.api_name}`))
        .toEqual(['added:Notes', 'updated:Deals', 'added:Deals']);
      expect(body.__timeline[0]).toMatchObject({ type: 'timeline', source: 'crm_ui', related_record: { id: dealId, name: 'Big', module: { api_name: 'Deals' } },
        done_by: { id: users.rep2.id } });
      expect(body.__timeline[1].field_history).toEqual([expect.objectContaining({ api_name: 'Stage', _value: { old: 'Qualification', new: 'Needs Analysis' } })]);
      expect(body.info).toMatchObject({ per_page: 20, count: 3, page: 1, more_records: false, next_page_token: null });
      const asc = (await timeline('admin', dealId, '?sort_order=asc&per_page=1')).json();
      expect(asc.__timeline[0].action).toBe('added');
      expect(asc.info.more_records).toBe(true);
      const next = (await timeline('admin', dealId, `?sort_order=asc&per_page=1&page_token=${asc.info.next_page_token}`)).json();
      expect(next.__timeline[0].action).toBe('updated');
    });

    it('keeps history older than the log window, and works for records in the recycle bin', async () => {
      const res = (await timeline('admin', oldLeadId, '', 'Leads')).json();
      expect(res.__timeline.map((e: { action: string }) => e.action)).toEqual(['updated', 'added']);
      await t.env.rt.services.records.deleteRecords(actors.rep1, 'Leads', [oldLeadId]);
      const binned = (await timeline('admin', oldLeadId, '', 'Leads')).json();
      expect(binned.__timeline.map((e: { action: string }) => e.action)).toEqual(['deleted', 'updated', 'added']);
    });

    it('filters with Zoho\'s grammar, and shows everyone\'s changes to whoever may see the record', async () => {
      const filters = encodeURIComponent(JSON.stringify({ group_operator: 'AND', group: [
        { field: { api_name: 'record.module.api_name' }, comparator: 'in', value: ['Notes'] },
        { field: { api_name: 'source' }, comparator: 'equal', value: 'crm_ui' }] }));
      const notes = (await timeline('admin', dealId, `?filters=${filters}`)).json().__timeline;
      expect(notes).toHaveLength(1);
      expect(notes[0].record.module.api_name).toBe('Notes');
      // The timeline follows the record: rep1 sees their manager's and others' changes too, which
      // the audit log hides from them.
      const rep1 = (await timeline('rep1', dealId)).json().__timeline.map((e: { done_by: { id: string } }) => e.done_by.id);
      const everyone = (await timeline('admin', dealId)).json().__timeline.map((e: { done_by: { id: string } }) => e.done_by.id);
      expect(rep1).toEqual(everyone);
      expect(new Set(rep1).size).toBeGreaterThan(1);
      const inLog = (await log('rep1', `?record_id=${dealId}`)).json().audit_log?.map((e: { done_by: { id: string } }) => e.done_by.id) ?? [];
      expect(new Set(inLog)).toEqual(new Set([users.rep1.id]));
      expect((await timeline('admin', dealId, '?filters=%7Bnope')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'filters' } });
      expect((await timeline('admin', dealId, '?sort_by=name')).json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'sort_by' } });
    });

    it('answers a missing and a foreign record alike', async () => {
      const { auth: globex } = await tokenFor(t.app, t.env, (await t.env.rt.services.directory.listOrgs()).find((o) => o.name === 'Globex')!.id);
      const foreign = await t.app.inject({ method: 'GET', url: `/crm/v8/Deals/${dealId}/__timeline`, headers: globex });
      const missing = await t.app.inject({ method: 'GET', url: '/crm/v8/Deals/1000000000000000001/__timeline', headers: globex });
      expect(foreign.statusCode).toBe(400);
      expect(foreign.body).toBe(missing.body);
      expect(foreign.json()).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 1 } });
    });
  });
});
