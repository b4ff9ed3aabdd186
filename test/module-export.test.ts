import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, withApp, type Auth } from './helpers.ts';

/** Data leaving: a module's records as CSV, allowed by the profile's export permission, and never without a trace. */
for (const backend of BACKENDS) {
  describe(`module data export (${backend})`, () => {
    const t = withApp({ backend });
    let noExport: Auth;

    beforeAll(async () => {
      const dir = t.env.rt.services.directory;
      for (const start of [0, 100]) {
        await t.env.rt.services.records.createRecords(t.admin, 'Leads', Array.from({ length: start ? 20 : 100 }, (_, j) => start + j).map((i) => ({
          Last_Name: `Lead ${String(i).padStart(3, '0')}`, Company: i === 7 ? '=HYPERLINK("http://evil.example")' : `Co, "${i}"` })));
      }
      const profile = await dir.cloneProfile(t.admin, t.org.profiles.standard.id, { name: 'No Export', permissions: {
        modules: { '*': { view: true, create: true, edit: true, delete: false } }, settings: { audit_log: true } } });
      const role = (await dir.createRole(t.admin, { name: 'Trainees', reporting_to: { id: t.org.roles.manager.id } })).id;
      await dir.createUser(t.admin, { last_name: 'Trainee', email: 'trainee@acme.example', role: { id: role }, profile: { id: profile.id } });
      noExport = await t.authFor({ userEmail: 'trainee@acme.example' });
    });

    const exported = () => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
      .where('action', '=', 'exported').orderBy('seq').execute();

    it('streams every live record as CSV, spreadsheet-safe, and audits it with the count before the first byte', async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/modules/Leads/export?fields=Last_Name,Company', headers: t.auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      expect(res.headers['content-disposition']).toBe('attachment; filename="Leads.csv"');
      const lines = res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n');
      expect(lines[0]).toBe('id,Last_Name,Company');
      expect(lines).toHaveLength(121);
      expect(lines[1]).toMatch(/^\d{19},Lead 000,"Co, ""0"""$/);
      expect(res.body).toContain(`,"'=HYPERLINK(""http://evil.example"")"`);
      const [e] = await exported();
      expect(e).toMatchObject({ module: 'Leads', actor_id: t.org.admin.id, source: 'api' });
      expect(JSON.parse(e.details).extra).toEqual({ count: 120, format: 'csv', fields: ['Last_Name', 'Company'] });
    });

    it('sends only the records that meet the criteria, and records the criteria in the entry', async () => {
      const criteria = JSON.stringify({ group_operator: 'or', group: [
        { field: { api_name: 'Last_Name' }, comparator: 'in', value: ['lead 005', 'Lead 110'] },
        { field: { api_name: 'Company' }, comparator: 'starts_with', value: '=hyper' }] });
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/modules/Leads/export?fields=Last_Name&criteria=${encodeURIComponent(criteria)}`,
        headers: t.auth });
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-record-count']).toBe('3');
      expect(res.body.replace(/^\uFEFF/, '').trimEnd().split('\r\n').map((l) => l.split(',')[1])).toEqual(['Last_Name', 'Lead 005', 'Lead 007', 'Lead 110']);
      expect(JSON.parse((await exported()).at(-1)!.details).extra).toEqual({ count: 3, format: 'csv', fields: ['Last_Name'],
        criteria: JSON.parse(criteria) });
      const bad = await t.app.inject({ method: 'GET', url: '/api/v1/modules/Leads/export?criteria=%7B%22field%22%3A1%7D', headers: t.auth });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { param_name: 'criteria', json_path: '$.field.api_name' } });
    });

    it('needs the profile\'s export permission; refused, nothing leaves and nothing is written', async () => {
      const before = (await exported()).length;
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/modules/Leads/export', headers: noExport });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'NO_PERMISSION', details: { permissions: ['export'] } });
      expect((await exported()).length).toBe(before);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/modules/Spaceships/export', headers: t.auth })).json().code).toBe('INVALID_MODULE');
      const badField = await t.app.inject({ method: 'GET', url: '/api/v1/modules/Leads/export?fields=Last_Name,Shoe_Size', headers: t.auth });
      expect(badField.statusCode).toBe(400);
      expect(badField.json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'fields' } });
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/modules/Leads/export' })).json().code).toBe('AUTHENTICATION_FAILURE');
    });

    it('audits record reads as viewed, one entry per request, only in the modules the organisation chose', async () => {
      const viewed = () => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
        .where('action', '=', 'viewed').orderBy('seq').execute();
      await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name&per_page=5', headers: t.auth });
      expect(await viewed()).toEqual([]);
      const bad = await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: t.auth,
        payload: { audit_log_preferences: [{ audit_record_views: ['Spaceships'] }] } });
      expect(bad.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'audit_record_views' } });
      const on = await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: t.auth,
        payload: { audit_log_preferences: [{ audit_record_views: ['leads'] }] } });
      expect(on.json().audit_log_preferences[0].details.audit_record_views).toEqual(['Leads']);
      const list = (await t.app.inject({ method: 'GET', url: '/crm/v8/Leads?fields=Last_Name&per_page=5', headers: noExport })).json().data;
      const one = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${list[0].id}`, headers: noExport });
      expect(one.statusCode).toBe(200);
      await t.app.inject({ method: 'GET', url: '/crm/v8/Contacts?fields=Last_Name', headers: noExport });
      const entries = await viewed();
      expect(entries).toHaveLength(2);
      expect(JSON.parse(entries[0].details).extra).toEqual({ count: 5, ids: list.map((r: { id: string }) => r.id) });
      expect(entries[1]).toMatchObject({ module: 'Leads', record_id: list[0].id, record_name: list[0].Last_Name });
      await t.app.inject({ method: 'PUT', url: '/crm/v8/settings/audit_log_preferences', headers: t.auth,
        payload: { audit_log_preferences: [{ audit_record_views: [] }] } });
    });
  });
}
