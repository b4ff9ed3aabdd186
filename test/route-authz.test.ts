import { beforeAll, describe, expect, it } from 'vitest';
import { tokenFor, withApp, type Auth } from './helpers.ts';
import { routesOf, type RouteEntry } from '../src/http/app.ts';

/**
 * The same four checks on every route the router declares (read from the app itself, so a new
 * route is covered the day it is added): no token, a token without the route's scope, a user
 * whose profile grants nothing, and an Administrator of another organisation.
 */

/** Routes any signed-in user of the organisation may read, whatever their profile (as in Zoho). */
const OPEN_TO_EVERY_PROFILE = new Set([
  'GET /users', 'GET /users/:id', 'GET /settings/roles', 'GET /settings/roles/:id', 'GET /settings/profiles',
  'GET /settings/profiles/:id', 'GET /settings/modules', 'GET /settings/modules/:api_name', 'GET /settings/fields', 'GET /org',
]);

/**
 * Routes that answer a user who may not see the item exactly as a missing item (so ids leak
 * nothing), rather than with NO_PERMISSION.
 */
const ANSWERS_AS_MISSING = new Set([
  'GET /settings/recycle_bin', 'DELETE /settings/recycle_bin', 'GET /settings/recycle_bin/actions/count',
  'POST /settings/recycle_bin/actions/restore', 'POST /settings/recycle_bin/actions/empty', 'GET /settings/recycle_bin/jobs/:id',
  'GET /settings/recycle_bin/:id', 'DELETE /settings/recycle_bin/:id', 'POST /settings/recycle_bin/:id/actions/restore',
]);

/** Bodies that an Administrator's call would get through, so the checks above meet the permission check. */
const BODIES: Record<string, unknown> = {
  'POST /:module': { data: [{ Last_Name: 'Intruder' }] },
  'PUT /:module': { data: [{ id: ':lead', Last_Name: 'Intruder' }] },
  'PUT /:module/:id': { data: [{ Last_Name: 'Intruder' }] },
  'POST /:module/:id/:related': { data: [{ Note_Content: 'Intruder' }] },
  'POST /:module/:id/actions/merge': { data: [{ id: ':lead' }] },
  'POST /:module/:id/actions/convert': { data: [{}] },
  'POST /:module/actions/mass_update': { data: [{ Last_Name: 'Intruder' }], ids: [':lead'] },
  'POST /:module/actions/mass_delete': { ids: [':lead'] },
  'POST /users': { users: [{ last_name: 'Intruder', email: 'intruder@acme.example', role: { id: ':role' }, profile: { id: ':profile' } }] },
  'PUT /users': { users: [{ id: ':user', last_name: 'Intruder' }] },
  'PUT /users/:id': { users: [{ last_name: 'Intruder' }] },
  'POST /settings/roles': { roles: [{ name: 'Intruder', reporting_to: { id: ':role' } }] },
  'PUT /settings/roles/:id': { roles: [{ name: 'Intruder' }] },
  'PUT /settings/profiles/:id': { profiles: [{ description: 'Intruder' }] },
  'POST /settings/profiles/:id/actions/clone': { profiles: [{ name: 'Intruder' }] },
  'POST /settings/audit_log_export': {},
  'POST /settings/recycle_bin/actions/restore': { ids: [':binned'] },
  'PUT /settings/audit_log_preferences': { audit_log_preferences: [{ legal_hold: true }] },
  'PATCH /api/console/settings': { legal_hold: true },
  'PUT /api/v1/findings/settings': { settings: { mass_deletion: { min_records: 1 } } },
  'PUT /settings/data_sharing': { data_sharing: [{ module: { api_name: 'Leads' }, type: 'public_read_write_delete' }] },
  'POST /settings/sharing_rules': { sharing_rules: [{ module: { api_name: 'Leads' }, shared_from: { resource: { id: ':role' } },
    shared_to: { resource: { id: ':role' } }, permission_type: 'read_write_delete' }] },
  'PUT /settings/sharing_rules/:id': { sharing_rules: [{ permission_type: 'read_write_delete' }] },
  'POST /api/v1/streams': { name: 'Intruder', type: 'https', destination: { url: 'http://127.0.0.1:9999/intruder' } },
  'PATCH /api/v1/streams/:id': { name: 'Intruder', status: 'paused' },
  'POST /api/v1/streams/:id/rewind': { seq: 1 },
};

/** Query strings a route needs to get as far as its permission check. */
const QUERIES: Record<string, string> = {
  'GET /:module': '?fields=Last_Name', 'GET /settings/fields': '?module=Leads', 'DELETE /:module': '?ids=:lead',
  'DELETE /settings/recycle_bin': '?ids=:binned',
};

/** Streams never end by themselves: test/console-api.test.ts reads them over a real socket. */
const STREAMS = new Set(['GET /api/console/audit-log/stream']);

const key = (r: RouteEntry) => `${r.method} ${r.url.replace(/^\/crm\/v[78]/, '')}`;

describe('every route: no token, wrong scope, wrong profile, other organisation', () => {
  const t = withApp({ org: 'Victim', token: false });
  let routes: RouteEntry[];
  const ids: Record<string, string> = {};
  const auth: Record<string, Auth> = {};

  beforeAll(async () => {
    routes = routesOf(t.app).filter((r) => !r.public && !STREAMS.has(key(r)));
    const dir = t.env.rt.services.directory;
    const a = t.org;
    const admin = t.admin;
    Object.assign(ids, { zgid: a.org.zgid, user: a.admin.id, role: a.roles.manager.id, profile: a.profiles.standard.id });
    const [lead, binned] = await t.env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: 'Victim lead' }, { Last_Name: 'Victim binned' }]);
    if (!lead.ok || !binned.ok) throw new Error('create failed');
    ids.lead = lead.row.id;
    ids.binned = binned.row.id;
    await t.env.rt.services.records.deleteRecords(admin, 'Leads', [ids.binned]);
    const job = await t.env.rt.services.recycleBin.restore(admin, { filters: [{ field: 'module', comparator: 'equal', value: 'Contacts' }] });
    if (!job.scheduled) throw new Error('not scheduled');
    ids.job = job.jobId;
    ids.export = (await t.env.rt.services.exports.create(admin, {})).id;
    // An alert rule of the victim's, with a delivery (to a port nobody listens on) and a notification.
    const rule = await t.env.rt.services.alerts.createRule(admin, { name: 'Victim rule', conditions: [{ type: 'action', values: ['deleted'] }],
      actions: [{ type: 'webhook', url: 'http://127.0.0.1:9999/hook' }, { type: 'notification' }] });
    ids.rule = rule.rule.id;
    ids.delivery = (await t.env.rt.services.alerts.testRule(admin, ids.rule)).deliveries[0].id;
    ids.stream = (await t.env.rt.services.streams.create(admin, { name: 'Victim stream', type: 'https',
      destination: { url: 'http://127.0.0.1:9999/victim' }, status: 'paused' })).stream.id;
    auth.victimAdmin = await t.authFor();
    // A user whose profile grants nothing, holding a token issued while they were an Administrator.
    const nothing = await dir.cloneProfile(admin, ids.profile, { name: 'Nothing', permissions: {
      modules: { '*': { view: false, create: false, edit: false, delete: false } }, settings: {} } });
    const nobody = await dir.createUser(admin, { last_name: 'Nobody', email: 'nobody@victim.example', role: { id: ids.role }, profile: { id: a.profiles.admin.id } });
    auth.nobody = await t.authFor({ userEmail: 'nobody@victim.example' });
    await dir.updateUser(admin, nobody.id, { profile: { id: nothing.id } });
    t.env.rt.services.oauth.clearCache();
    auth.otherAdmin = (await t.otherOrg('Other')).auth;
  });

  /** The route's URL with the victim organisation's ids in its parameters. */
  function urlOf(r: RouteEntry, module = 'Leads') {
    const kind = /\/users\//.test(r.url) ? 'user' : /\/roles\//.test(r.url) ? 'role' : /\/profiles\//.test(r.url) ? 'profile'
      : /\/jobs\//.test(r.url) ? 'job' : /alert-rules\//.test(r.url) ? 'rule' : /alert-deliveries\//.test(r.url) ? 'delivery'
        : /\/streams\//.test(r.url) ? 'stream' : /audit_?log(_export)?\//.test(r.url) ? 'export' : /recycle_bin\//.test(r.url) ? 'binned' : 'lead';
    return r.url.replace(':module', module).replace(':api_name', 'Leads').replace(':related', 'Notes').replace(':zgid', ids.zgid)
      .replace(':file', 'AuditLog.csv').replace(':att', ids.lead).replace(':id', ids[kind])
      + (QUERIES[key(r)] ?? '').replace(/:(lead|binned)/, (_m, k: string) => ids[k]);
  }
  const call = (r: RouteEntry, headers: Record<string, string>, module?: string) => {
    const body = BODIES[key(r)];
    const payload = body === undefined ? (r.method === 'POST' || r.method === 'PUT' ? '{}' : undefined)
      : JSON.stringify(body).replace(/":(lead|binned|user|role|profile)"/g, (_m, k: string) => `"${ids[k]}"`);
    return t.app.inject({ method: r.method as 'GET', url: urlOf(r, module), headers, payload });
  };
  const victimEntries = async () => Number((await t.env.store.db.selectFrom('audit_entries').select(({ fn }) => fn.countAll().as('n'))
    .where('org_id', '=', t.orgId).executeTakeFirstOrThrow()).n);

  it('reads the route list from the router, and every special case names a real route', () => {
    expect(routes.length).toBeGreaterThan(40);
    const known = new Set(routes.map(key));
    for (const k of [...OPEN_TO_EVERY_PROFILE, ...ANSWERS_AS_MISSING, ...Object.keys(BODIES), ...Object.keys(QUERIES)]) expect(known, k).toContain(k);
  });

  it('no token: AUTHENTICATION_FAILURE, before any lookup', async () => {
    for (const r of routes) {
      for (const module of ['Leads', 'NoSuchModule']) {
        const res = await call(r, {}, module);
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json(), `${r.method} ${r.url}`).toEqual({ code: 'AUTHENTICATION_FAILURE', details: {}, message: 'Authentication failed', status: 'error' });
      }
    }
  });

  it('a token without the route\'s scope: OAUTH_SCOPE_MISMATCH, before any lookup', async () => {
    const { auth: unrelated } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.org.UPDATE'] });
    for (const r of routes) {
      for (const module of ['Leads', 'NoSuchModule']) {
        const res = await call(r, unrelated, module);
        expect(res.statusCode, `${r.method} ${r.url}`).toBe(401);
        expect(res.json(), `${r.method} ${r.url}`).toEqual({ code: 'OAUTH_SCOPE_MISMATCH', details: {}, message: 'Unauthorized', status: 'error' });
      }
    }
  });

  it('a user whose profile grants nothing: NO_PERMISSION (or nothing to see), and nothing changes', async () => {
    const before = await victimEntries();
    for (const r of routes) {
      const k = key(r);
      const res = await call(r, auth.nobody);
      if (OPEN_TO_EVERY_PROFILE.has(k)) {
        expect(res.statusCode, k).toBe(200);
      } else if (ANSWERS_AS_MISSING.has(k)) {
        expect(res.statusCode, `${k}: ${res.body}`).toBeLessThan(500);
        expect(res.body, k).not.toMatch(/Victim binned|"count":[1-9]|"status":"success"/);
        if (res.statusCode < 300) expect(res.body, k).not.toContain(ids.binned);
      } else {
        expect(res.statusCode, `${k}: ${res.body}`).toBe(403);
        expect(res.json().code, k).toBe('NO_PERMISSION');
      }
    }
    expect(await victimEntries()).toBe(before);
  });

  it('an Administrator of another organisation sees and changes nothing of this one', async () => {
    const before = await victimEntries();
    for (const r of routes) {
      const res = await call(r, auth.otherAdmin);
      expect(res.statusCode, `${key(r)}: ${res.body}`).toBeLessThan(500);
      expect(res.body, key(r)).not.toMatch(/Victim|victim\.example/);
      for (const k of ['lead', 'binned', 'job', 'export', 'rule', 'delivery', 'stream']) {
        if (res.statusCode < 300) expect(res.body, `${key(r)} shows the victim's ${k}`).not.toContain(ids[k]);
      }
    }
    expect(await victimEntries()).toBe(before);
  });
});
