import { beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, tokenFor, withApp, type Auth } from './helpers.ts';
import type { Actor } from '../src/services/context.ts';
import { offsetSegments, resolveRange } from '../src/domain/report.ts';
import { reportActivityCommand, reportCreateCommand } from '../src/cli/commands/report.ts';

/** What a CLI function printed on stdout. */
async function stdoutOf(run: () => Promise<unknown>): Promise<string> {
  let text = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { text += String(chunk); return true; });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await run();
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return text;
}

const DAY = 86_400_000;

describe('time zone arithmetic', () => {
  it('finds Berlin\'s daylight-saving changes to the millisecond', () => {
    const segs = offsetSegments(Date.parse('2026-01-01T00:00:00Z'), Date.parse('2026-12-31T00:00:00Z'), 'Europe/Berlin');
    expect(segs).toEqual([
      { until: Date.parse('2026-03-29T01:00:00Z'), offset: 3_600_000 },
      { until: Date.parse('2026-10-25T01:00:00Z'), offset: 7_200_000 },
      { until: null, offset: 3_600_000 },
    ]);
    expect(offsetSegments(0, 10 * DAY, 'Asia/Kolkata')).toEqual([{ until: null, offset: 19_800_000 }]);
  });

  it('takes relative ranges in the zone: this week starts on Monday at local midnight', () => {
    // Wednesday 2026-04-01 10:00 in Berlin (CEST).
    const now = Date.parse('2026-04-01T08:00:00Z');
    expect(resolveRange('this_week', now, 'Europe/Berlin')).toEqual({ from: Date.parse('2026-03-29T22:00:00Z'), to: now });
    // Last week straddles the change to summer time: it starts at CET midnight.
    expect(resolveRange('last_week', now, 'Europe/Berlin')).toEqual({ from: Date.parse('2026-03-22T23:00:00Z'), to: Date.parse('2026-03-29T22:00:00Z') - 1 });
    expect(resolveRange('last_month', now, 'Asia/Kolkata')).toEqual({ from: Date.parse('2026-02-28T18:30:00Z'), to: Date.parse('2026-03-31T18:30:00Z') - 1 });
  });
});

describe.each(BACKENDS)('activity report on %s', (backend) => {
  const now = Date.parse('2026-04-01T08:00:00Z');
  const t = withApp({ backend, now, org: false });
  const auth: Record<string, Auth> = {};
  const users: Record<string, string> = {};
  let orgId = '';

  beforeAll(async () => {
    const dir = t.env.rt.services.directory;
    const org = await dir.createOrganisation({ name: 'Berlin', adminEmail: 'admin@berlin.example', adminFirstName: 'Ada', adminLastName: 'Admin',
      timeZone: 'Europe/Berlin' });
    orgId = org.org.id;
    const admin = await dir.actorForUser(orgId, org.admin.id);
    // CEO > Manager > Rep;  CEO > Peer
    const managerRole = (await dir.createRole(admin, { name: 'Team Lead', reporting_to: { id: org.roles.ceo.id } })).id;
    const repRole = (await dir.createRole(admin, { name: 'Trainee', reporting_to: { id: managerRole } })).id;
    const peerRole = (await dir.createRole(admin, { name: 'Other Lead', reporting_to: { id: org.roles.ceo.id } })).id;
    const std = org.profiles.standard.id;
    for (const [key, role] of [['manager', managerRole], ['rep', repRole], ['peer', peerRole]]) {
      users[key] = (await dir.createUser(admin, { first_name: key, last_name: 'User', email: `${key}@berlin.example`, role: { id: role },
        profile: { id: std } })).id;
    }
    users.admin = org.admin.id;
    const actors: Record<string, Actor> = {};
    for (const key of Object.keys(users)) actors[key] = await dir.actorForUser(orgId, users[key], { source: 'crm_ui' });
    const at = async (iso: string, who: string, module = 'Leads') => {
      t.env.setNow(Date.parse(iso));
      const [r] = await t.env.rt.services.records.createRecords(actors[who], module,
        [module === 'Deals' ? { Deal_Name: 'D', Stage: 'Qualification' } : { Last_Name: `At ${iso}` }]);
      if (!r.ok) throw new Error(JSON.stringify(r));
    };
    // Around the change to summer time (2026-03-29 02:00 CET becomes 03:00 CEST).
    await at('2026-03-28T23:30:00Z', 'rep'); // 00:30 CET, Sunday 29th (still Saturday in UTC)
    await at('2026-03-29T00:30:00Z', 'rep'); // 01:30 CET
    await at('2026-03-29T01:30:00Z', 'manager'); // 03:30 CEST
    await at('2026-03-29T21:30:00Z', 'peer'); // 23:30 CEST, Sunday
    await at('2026-03-29T22:30:00Z', 'peer', 'Deals'); // 00:30 CEST, Monday 30th: a new day and a new week
    t.env.setNow(now);
    for (const key of Object.keys(users)) auth[key] = (await tokenFor(t.app, t.env, orgId, { userEmail: `${key === 'admin' ? 'admin' : key}@berlin.example` })).auth;
  });

  const get = async (who: string, qs: string) => t.app.inject({ method: 'GET', url: `/api/v1/reports/activity?${qs}`, headers: auth[who] });
  const added = 'action=added&module=Leads,Deals';

  it('buckets days, weeks, hours and weekdays in the organisation\'s time zone, across daylight saving', async () => {
    const day = await get('admin', `group_by=day&${added}`);
    expect(day.statusCode, day.body).toBe(200);
    expect(day.json().rows).toEqual([{ day: '2026-03-29', count: 4 }, { day: '2026-03-30', count: 1 }]);
    expect(day.json().info).toMatchObject({ time_zone: 'Europe/Berlin', group_by: ['day'], more_rows: false });
    expect((await get('admin', `group_by=hour&${added}`)).json().rows)
      .toEqual([{ hour: 0, count: 2 }, { hour: 1, count: 1 }, { hour: 3, count: 1 }, { hour: 23, count: 1 }]);
    expect((await get('admin', `group_by=week&${added}`)).json().rows).toEqual([{ week: '2026-03-23', count: 4 }, { week: '2026-03-30', count: 1 }]);
    expect((await get('admin', `group_by=weekday,hour&${added}`)).json().rows).toEqual([
      { weekday: 1, hour: 0, count: 1 }, { weekday: 7, hour: 0, count: 1 }, { weekday: 7, hour: 1, count: 1 }, { weekday: 7, hour: 3, count: 1 },
      { weekday: 7, hour: 23, count: 1 }]);
  });

  it('groups by user, module and action with one key per grouping, largest count first', async () => {
    const res = await get('admin', `group_by=done_by,module&${added}`);
    expect(res.json().rows).toEqual([
      { done_by: { id: users.rep, name: 'rep User', type: 'user' }, module: 'Leads', count: 2 },
      { done_by: { id: users.manager, name: 'manager User', type: 'user' }, module: 'Leads', count: 1 },
      { done_by: { id: users.peer, name: 'peer User', type: 'user' }, module: 'Deals', count: 1 },
      { done_by: { id: users.peer, name: 'peer User', type: 'user' }, module: 'Leads', count: 1 },
    ].sort((a, b) => b.count - a.count || a.done_by.id.localeCompare(b.done_by.id) || a.module.localeCompare(b.module)));
    const range = await get('admin', `group_by=action&${added}&from=2026-03-29T03:00:00%2B02:00&to=2026-03-29T23:59:59%2B02:00`);
    expect(range.json().rows).toEqual([{ action: 'added', count: 2 }]);
  });

  it('covers a manager and their subordinates, a subordinate alone, never a peer', async () => {
    const ids = async (who: string) => (await get(who, `group_by=done_by&${added}`)).json().rows.map((r: { done_by: { id: string } }) => r.done_by.id).sort();
    expect(await ids('manager')).toEqual([users.manager, users.rep].sort());
    expect(await ids('rep')).toEqual([users.rep]);
    expect(await ids('peer')).toEqual([users.peer]);
    expect(await ids('admin')).toEqual([users.manager, users.rep, users.peer].sort());
    // Asking for the peer by name gets the manager nothing, not the peer's counts.
    expect((await get('manager', `group_by=action&done_by=${users.peer}`)).json().rows).toEqual([]);
  });

  it('is audited as the audit log read is: audit_log_viewed with the report in its details', async () => {
    await get('manager', 'group_by=module&range=last_7_days');
    const last = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(last).toMatchObject({ action: 'audit_log_viewed', actor_id: users.manager, module: 'audit_log' });
    expect(JSON.parse(last.details).extra).toMatchObject({ report: { kind: 'activity', group_by: ['module'], range: 'last_7_days' } });
  });

  it('refuses bad input with Zoho-shaped errors', async () => {
    const cases: [string, string, string][] = [
      ['group_by=colour', 'INVALID_DATA', 'group_by'],
      ['group_by=done_by,module,action,day', 'INVALID_DATA', 'group_by'],
      ['group_by=day,day', 'INVALID_DATA', 'group_by'],
      ['module=Leads', 'REQUIRED_PARAM_MISSING', 'group_by'],
      ['group_by=day&from=2026-03-30T00:00:00Z&to=2026-03-29T00:00:00Z', 'INVALID_DATA', 'from'],
      ['group_by=day&from=yesterday', 'INVALID_DATA', 'from'],
      ['group_by=day&range=fortnight', 'INVALID_DATA', 'range'],
      ['group_by=day&range=today&from=2026-03-29T00:00:00Z', 'INVALID_DATA', 'range'],
      ['group_by=day&action=teleported', 'INVALID_DATA', 'action'],
      ['group_by=day&page=2', 'INVALID_DATA', 'page'],
      ['group_by=day&limit=0', 'INVALID_DATA', 'limit'],
      ['group_by=day&colour=red', 'INVALID_DATA', 'colour'],
    ];
    for (const [qs, code, param] of cases) {
      const res = await get('admin', qs);
      expect(res.statusCode, qs).toBe(400);
      expect(res.json(), qs).toMatchObject({ code, status: 'error', details: { param_name: param }, message: expect.any(String) });
    }
  });

  it('prints the same report from the CLI as a table, CSV or JSON, as the user named', async () => {
    const flags = { org: orgId, groupBy: 'day', module: 'Leads,Deals', action: 'added' };
    expect(await stdoutOf(() => reportActivityCommand(t.env.rt, { ...flags, format: 'csv' }))).toBe('day,count\r\n2026-03-29,4\r\n2026-03-30,1\r\n');
    expect(JSON.parse(await stdoutOf(() => reportActivityCommand(t.env.rt, { ...flags, format: 'json' }))).rows)
      .toEqual([{ day: '2026-03-29', count: 4 }, { day: '2026-03-30', count: 1 }]);
    expect(await stdoutOf(() => reportActivityCommand(t.env.rt, { ...flags, format: 'table', user: 'rep@berlin.example' })))
      .toBe('day         count\n2026-03-29      2\n');
    await expect(reportActivityCommand(t.env.rt, { ...flags, format: 'xml' })).rejects.toThrow(/table, csv or json/);
    await expect(reportActivityCommand(t.env.rt, { ...flags, groupBy: 'colour', format: 'csv' })).rejects.toMatchObject({ code: 'INVALID_DATA' });
    const created = await stdoutOf(() => reportCreateCommand(t.env.rt, { org: orgId, user: 'manager@berlin.example', template: 'team_activity_this_week',
      name: 'CLI team week' }));
    expect(created).toMatch(/^\d+\tCLI team week\tmanager User\tweekly 17:00\tnext 2026-04-03T17:00:00\+02:00\t\n$/);
  });

  it('needs the audit log permission and scope', async () => {
    const noScope = (await tokenFor(t.app, t.env, orgId, { scopes: ['ZohoCRM.modules.ALL'] })).auth;
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/reports/activity?group_by=day', headers: noScope })).json().code).toBe('OAUTH_SCOPE_MISMATCH');
  });

  describe('saved reports', () => {
    const post = (who: string, body: unknown) => t.app.inject({ method: 'POST', url: '/api/v1/reports', headers: auth[who], payload: body as object });

    it('saves the trainee review from its template in one call, and runs it with the manager\'s team only', async () => {
      const res = await post('manager', { template: 'team_activity_this_week' });
      expect(res.statusCode, res.body).toBe(201);
      const report = res.json().report;
      expect(report).toMatchObject({ name: 'Team activity this week', owner: { id: users.manager },
        query: { group_by: 'done_by,module,action', range: 'this_week', module: 'Calls,Events,Tasks,Deals', action: 'added,updated' },
        schedule: { frequency: 'weekly', time: '17:00', weekday: 5 }, next_run_time: '2026-04-03T17:00:00+02:00' });
      // Monday 30th 00:30 CEST onwards is this week: the peer's deal, which the manager may not see.
      t.env.setNow(Date.parse('2026-04-01T08:00:00Z'));
      const run = await t.app.inject({ method: 'POST', url: `/api/v1/reports/${report.id}/run`, headers: auth.manager });
      expect(run.statusCode, run.body).toBe(200);
      expect(run.json().rows).toEqual([]);
      const asAdmin = await t.app.inject({ method: 'GET', url: '/api/v1/reports/activity?group_by=done_by,module,action&range=this_week&module=Calls,Events,Tasks,Deals&action=added,updated', headers: auth.admin });
      expect(asAdmin.json().rows).toEqual([{ done_by: { id: users.peer, name: 'peer User', type: 'user' }, module: 'Deals', action: 'added', count: 1 }]);
    });

    it('creates, changes and deletes with an audit entry each; another user\'s report looks missing', async () => {
      const created = await post('rep', { name: 'My week', query: { group_by: 'day', range: 'this_week' },
        schedule: { frequency: 'daily', time: '08:30' }, delivery: { emails: ['rep@berlin.example'], webhook_url: 'http://127.0.0.1:9999/hook' } });
      expect(created.statusCode, created.body).toBe(201);
      const r = created.json().report;
      expect(r.webhook_secret).toMatch(/^[\w-]{32}$/);
      expect(r.delivery).toEqual({ emails: ['rep@berlin.example'], webhook_url: 'http://127.0.0.1:9999/hook', webhook_secret_set: true });
      const shown = await t.app.inject({ method: 'GET', url: `/api/v1/reports/${r.id}`, headers: auth.rep });
      expect(shown.json().report.webhook_secret).toBeUndefined();
      for (const who of ['manager', 'peer']) {
        const other = await t.app.inject({ method: 'GET', url: `/api/v1/reports/${r.id}`, headers: auth[who] });
        expect(other.statusCode).toBe(400);
        expect(other.json().code).toBe('INVALID_DATA');
        const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/reports/${r.id}`, headers: auth[who] });
        expect(del.statusCode).toBe(400);
      }
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/reports', headers: auth.peer })).json().reports).toEqual([]);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/reports', headers: auth.admin })).json().reports.map((x: { id: string }) => x.id)).toContain(r.id);
      const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/reports/${r.id}`, headers: auth.rep,
        payload: { name: 'My mornings', schedule: { frequency: 'monthly', time: '07:00', day_of_month: 2 } } });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json().report).toMatchObject({ name: 'My mornings', next_run_time: expect.stringMatching(/T07:00:00\+0[12]:00$/) });
      expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/reports/${r.id}`, headers: auth.rep })).statusCode).toBe(200);
      const entries = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId).where('record_id', '=', r.id)
        .orderBy('seq').execute();
      expect(entries.map((e) => [e.action, e.actor_id, e.module])).toEqual([
        ['report_created', users.rep, 'reports'], ['report_updated', users.rep, 'reports'], ['report_deleted', users.rep, 'reports']]);
      const changes = JSON.parse(entries[1].details).field_history as { api_name: string }[];
      expect(changes.map((c) => c.api_name).sort()).toEqual(['name', 'schedule']);
      expect(JSON.stringify(entries.map((e) => e.details))).not.toContain(r.webhook_secret);
    });

    it('refuses bad saved reports field by field', async () => {
      const bad: [unknown, string, string][] = [
        [{ query: { group_by: 'day' } }, 'MANDATORY_NOT_FOUND', 'name'],
        [{ name: 'x', query: { group_by: 'colour' } }, 'INVALID_DATA', 'query.group_by'],
        [{ name: 'x', query: { group_by: 'day', from: '2026-03-01T00:00:00Z' } }, 'INVALID_DATA', 'query.from'],
        [{ name: 'x', query: { group_by: 'day' }, schedule: { frequency: 'hourly' } }, 'INVALID_DATA', 'schedule.frequency'],
        [{ name: 'x', query: { group_by: 'day' }, schedule: { frequency: 'daily', time: '25:00' } }, 'INVALID_DATA', 'schedule.time'],
        [{ name: 'x', query: { group_by: 'day' }, schedule: { frequency: 'monthly', day_of_month: 31 } }, 'INVALID_DATA', 'schedule.day_of_month'],
        [{ name: 'x', query: { group_by: 'day' }, delivery: { emails: ['not-an-address'] } }, 'INVALID_DATA', 'delivery.emails'],
        [{ name: 'x', query: { group_by: 'day' }, delivery: { webhook_url: 'http://203.0.113.9/hook' } }, 'INVALID_DATA', 'delivery.webhook_url'],
        [{ template: 'world_domination' }, 'INVALID_DATA', 'template'],
      ];
      for (const [body, code, field] of bad) {
        const res = await post('rep', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json(), JSON.stringify(body)).toMatchObject({ code, status: 'error', details: { api_name: field } });
      }
    });
  });
});
