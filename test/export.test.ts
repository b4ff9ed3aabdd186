import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, tokenFor, unzip, withApp, type Auth } from './helpers.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { verifyExportCsv, verifyExportZip } from '../src/services/export-verify.ts';
import { ZipWriter } from '../src/services/zip.ts';

const DAY = 86_400_000;


describe('Export Audit Log API', () => {
  const t = withApp({ env: { exportLimits: { rowsPerFile: 40, maxEntries: 100 } }, token: false });
  let admin: Auth;
  let manager: Auth;
  const ids: Record<string, string> = {};
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auditrail-export-'));

  beforeAll(async () => {
    const org = t.org;
    const dir = t.env.rt.services.directory;
    const mgrRole = org.roles.manager.id;
    const repRole = (await dir.createRole(t.admin, { name: 'Rep', reporting_to: { id: mgrRole } })).id;
    const m = await dir.createUser(t.admin, { first_name: 'Max', last_name: 'Manager', email: 'max@acme.example', role: { id: mgrRole }, profile: { id: org.profiles.standard.id } });
    const r = await dir.createUser(t.admin, { first_name: 'Rita', last_name: 'Rep', email: 'rita@acme.example', role: { id: repRole }, profile: { id: org.profiles.standard.id } });
    ids.manager = m.id;
    ids.rep = r.id;
    ids.admin = org.admin.id;
    const rita = await dir.actorForUser(t.orgId, r.id, { source: 'crm_ui', ip: '10.9.9.9' });
    await t.env.rt.services.records.createRecords(rita, 'Leads', [{ Last_Name: '=HYPERLINK("http://evil.example","click")', Company: 'Acme, "Quoted" Inc' }]);
    await t.env.rt.services.records.createRecords(t.admin, 'Deals', [{ Deal_Name: 'Admin deal', Stage: 'Qualification' }]);
    admin = await t.authFor();
    manager = await t.authFor({ userEmail: 'max@acme.example' });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const create = (auth: Record<string, string>, body?: unknown) => t.app.inject({ method: 'POST', url: '/crm/v8/settings/audit_log_export',
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, payload: body === undefined ? undefined : JSON.stringify(body) });
  const job = (auth: Record<string, string>, id: string) => t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log_export/${id}`, headers: auth });
  const runJobs = async () => { const w = createAppWorker(t.env.rt, { maintenance: false }); while (await w.runOnce()) { /* drain */ } };
  const download = async (auth: Record<string, string>, link: string) => t.app.inject({ method: 'GET', url: new URL(link).pathname, headers: auth });

  it('schedules without a body, finishes in the worker, and serves a CSV as Zoho documents it', async () => {
    const res = await create(admin);
    expect(res.statusCode).toBe(201);
    const [item] = res.json().audit_log_export;
    expect(item).toMatchObject({ code: 'SCHEDULED', status: 'success', details: { id: expect.stringMatching(/^\d{19}$/) } });
    const scheduled = (await job(admin, item.details.id)).json().audit_log_export[0];
    expect(scheduled).toMatchObject({ status: 'Scheduled', download_links: null, criteria: null, created_by: { id: ids.admin, name: 'Ada Admin' } });
    const again = await create(admin);
    expect(again.statusCode).toBe(400);
    expect(again.json()).toEqual({ audit_log_export: [{ code: 'ALREADY_SCHEDULED', details: { id: item.details.id },
      message: 'an export job is already scheduled or running', status: 'error' }] });
    await runJobs();
    const done = (await job(admin, item.details.id)).json().audit_log_export[0];
    expect(done.status).toBe('Finished');
    expect(done.download_links).toEqual([`http://127.0.0.1:4000/v2/crm/${t.org.org.zgid}/auditlog/${item.details.id}/AuditLog.csv`]);
    expect(Date.parse(done.expiry_date) - Date.parse(done.job_start_time)).toBe(7 * DAY);
    const file = await download(admin, done.download_links[0]);
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^text\/csv/);
    expect(file.headers['content-disposition']).toBe('attachment; filename="AuditLog.csv"');
    const text = file.rawPayload.toString('utf8');
    expect(text.startsWith('\uFEFFAudited Time,Done By,Done By Id,Action,Module,Record Name,Record Id')).toBe(true);
    expect(text).toContain(`'=HYPERLINK(""http://evil.example"",""click"")`);
    expect(text).toContain('Company: (empty) -> Acme, ""Quoted"" Inc');
    expect(text).toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30,Rita Rep/);
    const again2 = await download(admin, done.download_links[0]);
    expect(again2.rawPayload.equals(file.rawPayload)).toBe(true);
    // A CSV has a signed manifest too, beside it: the file's SHA-256 and entry count, signed.
    const m = await t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log_export/${done.id}/manifest`, headers: admin });
    expect(m.statusCode).toBe(200);
    const csvManifest = m.json();
    expect(csvManifest).toMatchObject({ format: 'auditrail-export-manifest/1', job_id: done.id, algorithm: 'Ed25519',
      files: [{ name: 'AuditLog.csv', sha256: createHash('sha256').update(file.rawPayload).digest('hex') }] });
    const keys = (await t.env.rt.services.integrity.listKeys()).map((k) => ({ key_id: k.key_id, public_key: k.public_key }));
    const csvPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'csv-export-')), 'AuditLog.csv');
    writeFileSync(csvPath, file.rawPayload);
    expect((await verifyExportCsv(csvPath, Buffer.from(m.body), keys)).ok).toBe(true);
    const forged = Buffer.from(JSON.stringify({ ...csvManifest, entry_count: csvManifest.entry_count + 1 }));
    expect((await verifyExportCsv(csvPath, forged, keys)).problems.join(' ')).toMatch(/signature does not verify/);
    expect((await t.app.inject({ method: 'GET', url: `/crm/v8/settings/audit_log_export/${done.id}/manifest`, headers: manager })).statusCode).toBe(404);
    const actions = (await t.env.store.db.selectFrom('audit_entries').select('action').where('org_id', '=', t.orgId)
      .where('action', 'in', ['audit_log_exported', 'audit_log_downloaded']).execute()).map((a) => a.action);
    expect(actions).toEqual(['audit_log_exported', 'audit_log_downloaded', 'audit_log_downloaded']);
  });

  it('lists jobs, answers unknown ids with INVALID_URL_PATTERN, and needs ZohoFiles.files.READ to download', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log_export', headers: admin });
    expect(list.json().audit_log_export.length).toBeGreaterThanOrEqual(1);
    const missing = await job(admin, '1000000000000000001');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'INVALID_URL_PATTERN', status: 'error' });
    const link = list.json().audit_log_export[0].download_links[0];
    const { auth: noFiles } = await tokenFor(t.app, t.env, t.orgId, { scopes: ['ZohoCRM.settings.ALL'] });
    expect((await download(noFiles, link)).json().code).toBe('OAUTH_SCOPE_MISMATCH');
    expect((await job(manager, list.json().audit_log_export[0].id)).statusCode).toBe(404);
    const none = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log_export', headers: manager });
    expect(none.statusCode).toBe(204);
  });

  it('answers every documented criteria error with its code, status and details', async () => {
    const c = (criteria: unknown) => ({ audit_log_export: [{ criteria }] });
    const f = (api: string, comparator: string, value: unknown) => ({ field: { api_name: api }, comparator, value });
    const cases: [unknown, number, string, Record<string, unknown>, boolean][] = [
      [{ other: 1 }, 400, 'MANDATORY_NOT_FOUND', { api_name: 'audit_log_export', json_path: '$.audit_log_export' }, false],
      [{ audit_log_export: {} }, 400, 'INVALID_DATA', { expected_data_type: 'jsonarray' }, false],
      [{ audit_log_export: [{}, {}] }, 400, 'LIMIT_EXCEEDED', { api_name: 'audit_log_export', json_path: '$.audit_log_export[1]', limit: '1' }, true],
      [{ audit_log_export: [{}] }, 400, 'MANDATORY_NOT_FOUND', { api_name: 'criteria' }, true],
      [c({ comparator: 'in' }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'field', json_path: '$.audit_log_export[0].criteria.field',
        dependee: { api_name: 'comparator', json_path: '$.audit_log_export[0].criteria.comparator' } }, true],
      [c({ value: ['added'] }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'field', dependee: { api_name: 'value' } }, true],
      [c({ group_operator: 'and' }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'group', dependee: { api_name: 'group_operator' } }, true],
      [c({ ...f('action', 'in', ['added']), group_operator: 'and' }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'group' }, true],
      [c({ field: {}, comparator: 'in', value: ['added'] }), 400, 'MANDATORY_NOT_FOUND', { api_name: 'api_name', json_path: '$.audit_log_export[0].criteria.field.api_name' }, true],
      [c(f('', 'in', ['added'])), 400, 'MANDATORY_NOT_FOUND', { api_name: 'api_name' }, true],
      [c({}), 400, 'EXPECTED_FIELD_MISSING', { expected_fields: [{ api_name: 'group', json_path: '$.audit_log_export[0].criteria.group' }, { api_name: 'field', json_path: '$.audit_log_export[0].criteria.field' }] }, true],
      [c({ ...f('action', 'in', ['added']), group: [] }), 400, 'AMBIGUITY_DURING_PROCESSING', {}, true],
      [c({ field: { api_name: 'action' }, value: ['added'] }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'comparator' }, true],
      [c({ field: { api_name: 'action' }, comparator: 'in' }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'value', dependee: { api_name: 'comparator', json_path: '$.audit_log_export[0].criteria.comparator' } }, true],
      [c(f('colour', 'in', ['red'])), 400, 'NOT_SUPPORTED', { api_name: 'api_name', json_path: '$.audit_log_export[0].criteria.field.api_name' }, true],
      [c(f('action', 'between', ['added'])), 400, 'INVALID_DATA', { api_name: 'comparator', json_path: '$.audit_log_export[0].criteria.comparator' }, true],
      [c(f('audited_time', 'between', '2025-01-01T00:00:00Z')), 400, 'DEPENDENT_MISMATCH', { api_name: 'value', expected_data_type: 'jsonarray' }, true],
      [c(f('audited_time', 'between', ['2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z'])), 400, 'INVALID_DATA', { api_name: 'value', json_path: '$.audit_log_export[0].criteria.value' }, true],
      [c(f('audited_time', 'between', ['yesterday', '2025-12-31T00:00:00Z'])), 400, 'INVALID_DATA', { json_path: '$.audit_log_export[0].criteria.value[0]' }, true],
      [c(f('action', 'in', ['flew'])), 400, 'NOT_SUPPORTED', { api_name: 'value', json_path: '$.audit_log_export[0].criteria.value[0]' }, true],
      [c(f('done_by', 'in', [{ id: '1000000000000000001' }])), 400, 'INVALID_DATA', { api_name: 'id' }, true],
      [c(f('done_by', 'in', [{ name: 'no id' }])), 400, 'MANDATORY_NOT_FOUND', { api_name: 'id', json_path: '$.audit_log_export[0].criteria.value[0].id' }, true],
      [c(f('module', 'in', [{ api_name: 'Leads', id: 'x' }])), 400, 'INVALID_DATA', { api_name: 'id' }, true],
      [c(f('module', 'in', [{ api_name: 'Spaceships' }])), 400, 'INVALID_DATA', { api_name: 'api_name' }, true],
      [c({ group_operator: 'and', group: [f('action', 'in', ['added']), f('action', 'in', ['added']), f('action', 'in', ['added'])] }), 400, 'LIMIT_EXCEEDED', { limit: '2' }, true],
      [c({ group: [f('action', 'in', ['added'])] }), 400, 'DEPENDENT_FIELD_MISSING', { api_name: 'group_operator' }, true],
      [c({ group_operator: 'or', group: [f('action', 'in', ['added'])] }), 400, 'INVALID_DATA', { supported_values: ['and'] }, true],
    ];
    for (const [body, status, code, details, isWrapped] of cases) {
      const res = await create(admin, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      const err = isWrapped ? res.json().audit_log_export?.[0] : res.json();
      expect(err, JSON.stringify(body)).toMatchObject({ code, details, status: 'error' });
    }
    const leads = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/modules', headers: admin })).json().modules.find((m: { api_name: string }) => m.api_name === 'Leads');
    const deals = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/modules', headers: admin })).json().modules.find((m: { api_name: string }) => m.api_name === 'Deals');
    const ambiguous = await create(admin, c(f('module', 'in', [{ api_name: 'Leads', id: deals.id }])));
    expect(ambiguous.json().audit_log_export[0]).toMatchObject({ code: 'AMBIGUITY_DURING_PROCESSING', details: { ambiguity_due_to: expect.any(Array) } });
    void leads;
    const badJson = await t.app.inject({ method: 'POST', url: '/crm/v8/settings/audit_log_export', headers: { ...admin, 'content-type': 'application/json' }, payload: '{"audit_log_export": [' });
    expect(badJson.json()).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
  });

  it('exports only what the criteria select: modules as objects or names, users, actions, a time range', async () => {
    const deals = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/modules', headers: admin })).json().modules.find((m: { api_name: string }) => m.api_name === 'Deals');
    const now = Date.now();
    const body = { audit_log_export: [{ criteria: { group_operator: 'and', group: [
      { field: { api_name: 'module' }, comparator: 'in', value: [{ api_name: 'Leads' }, { id: deals.id }] },
      { group_operator: 'AND', group: [
        { field: { api_name: 'action' }, comparator: 'equal', value: 'added' },
        { field: { api_name: 'audited_time' }, comparator: 'between', value: [new Date(now - DAY).toISOString(), new Date(now + DAY).toISOString()] }] }] } }] };
    const res = await create(admin, body);
    expect(res.statusCode).toBe(201);
    await runJobs();
    const done = (await job(admin, res.json().audit_log_export[0].details.id)).json().audit_log_export[0];
    expect(done.criteria).toEqual(body.audit_log_export[0].criteria);
    const rows = (await download(admin, done.download_links[0])).rawPayload.toString('utf8').trim().split('\r\n').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.includes(',added,'))).toBe(true);
    const byUser = await create(admin, { audit_log_export: [{ criteria: { field: { api_name: 'done_by' }, comparator: 'equal', value: [{ id: ids.rep, name: 'Rita Rep' }] } }] });
    await runJobs();
    const d2 = (await job(admin, byUser.json().audit_log_export[0].details.id)).json().audit_log_export[0];
    const rows2 = (await download(admin, d2.download_links[0])).rawPayload.toString('utf8').trim().split('\r\n').slice(1);
    expect(rows2.length).toBeGreaterThan(0);
    expect(rows2.every((r) => r.includes(`,Rita Rep,${ids.rep},`))).toBe(true);
  });

  it('gives a non-admin only their own and their subordinates\' entries', async () => {
    const res = await create(manager);
    expect(res.statusCode).toBe(201);
    await runJobs();
    const done = (await job(manager, res.json().audit_log_export[0].details.id)).json().audit_log_export[0];
    const rows = (await download(manager, done.download_links[0])).rawPayload.toString('utf8').trim().split('\r\n').slice(1);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.includes(`,${ids.rep},`) || r.includes(`,${ids.manager},`)).toBe(true);
    expect(rows.some((r) => r.includes('Admin deal'))).toBe(false);
  });

  it('splits large exports into a ZIP of CSVs with a signed manifest, capped with a note in the job', async () => {
    await t.env.rt.demo.loadHistory(t.orgId, 150);
    const res = await create(admin);
    await runJobs();
    const done = (await job(admin, res.json().audit_log_export[0].details.id)).json().audit_log_export[0];
    expect(done).toMatchObject({ status: 'Finished', entry_count: 100, truncated: true });
    expect(done.download_links[0]).toMatch(/AuditLog\.zip$/);
    const file = await download(admin, done.download_links[0]);
    expect(file.headers['content-type']).toBe('application/zip');
    expect(file.headers['content-disposition']).toBe('attachment; filename="AuditLog.zip"');
    const files = await unzip(file.rawPayload);
    expect([...files.keys()]).toEqual(['AuditLog_001.csv', 'AuditLog_002.csv', 'AuditLog_003.csv', 'manifest.json']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    expect(manifest).toMatchObject({ entry_count: 100, truncated: true, algorithm: 'Ed25519' });
    expect(manifest.files.map((f: { entries: number }) => f.entries)).toEqual([40, 40, 20]);
    const zipPath = path.join(tmp, 'export.zip');
    writeFileSync(zipPath, file.rawPayload);
    const key = (await t.app.inject({ method: 'GET', url: '/api/integrity/public-key' })).json();
    expect((await verifyExportZip(zipPath, [key])).ok).toBe(true);
    const rezip = async (name: string, change: (files: Map<string, Buffer>) => void, extra: [string, Buffer][] = []) => {
      const copy = new Map(files);
      change(copy);
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const z = new ZipWriter(out);
      for (const [n, b] of [...copy, ...extra]) await z.addBuffer(b, n, new Date());
      await z.finish();
      const p = path.join(tmp, name);
      writeFileSync(p, Buffer.concat(chunks));
      return verifyExportZip(p, [key]);
    };
    expect((await rezip('same.zip', () => {})).ok).toBe(true);
    const forged = await rezip('forged.zip', (f) => f.set('manifest.json', Buffer.from(JSON.stringify({ ...manifest, truncated: false }))));
    expect(forged.problems.join()).toMatch(/signature does not verify/);
    const edited = await rezip('edited.zip', (f) => f.set('AuditLog_002.csv', Buffer.from(f.get('AuditLog_002.csv')!.toString().replace('updated', 'deleted'))));
    expect(edited.problems.join()).toMatch(/AuditLog_002\.csv: SHA-256 differs/);
    const dropped = await rezip('dropped.zip', (f) => f.delete('AuditLog_003.csv'));
    expect(dropped.problems.join()).toMatch(/AuditLog_003\.csv is listed in the manifest but missing/);
    // A second file of the same name would be what a reader that keeps the last copy shows.
    const twice = await rezip('twice.zip', () => {}, [['AuditLog_002.csv', Buffer.from('Audited Time\r\nforged\r\n')]]);
    expect(twice.ok).toBe(false);
    expect(twice.problems.join()).toMatch(/the archive holds AuditLog_002\.csv twice/);
    const twoManifests = await rezip('two-manifests.zip', () => {}, [['manifest.json', files.get('manifest.json')!]]);
    expect(twoManifests.problems.join()).toMatch(/the archive holds manifest\.json twice/);
    const unlisted = await rezip('unlisted.zip', () => {}, [['README.txt', Buffer.from('trust me')]]);
    expect(unlisted.problems.join()).toMatch(/README\.txt is not listed in the manifest/);
    // Every export signs the chain head it exported from.
    const heads = await t.env.store.db.selectFrom('signed_heads').select(['reason', 'seq']).where('org_id', '=', t.orgId).execute();
    expect(heads.filter((h) => h.reason === 'export').length).toBeGreaterThan(0);
  });

  it('refuses downloads after expiry and removes the files', async () => {
    const list = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log_export', headers: admin })).json().audit_log_export;
    const link = list.find((j: { status: string }) => j.status === 'Finished').download_links[0];
    t.env.advance(8 * DAY);
    try {
      const { auth: fresh } = await tokenFor(t.app, t.env, t.orgId);
      const res = await download(fresh, link);
      expect(res.statusCode).toBe(410);
      expect(res.json()).toMatchObject({ code: 'LINK_EXPIRED', status: 'error' });
      expect(await t.env.rt.services.exports.removeExpired()).toBeGreaterThan(0);
      const blobs = await t.env.store.db.selectFrom('blobs').select('key').execute();
      expect(blobs).toHaveLength(0);
    } finally {
      t.env.advance(-8 * DAY);
    }
  });

  it('words the documented errors as Zoho does, and answers a scheduled job with Zoho\'s message', async () => {
    const c = (criteria: unknown) => ({ audit_log_export: [{ criteria }] });
    const f = (api: string, comparator: string, value: unknown) => ({ field: { api_name: api }, comparator, value });
    const message = async (body: unknown) => (await create(admin, body)).json().audit_log_export[0].message as string;
    expect(await message(c(f('audited_time', 'between', ['2025-01-01T00:00:00Z', '2025-12-31T00:00:00Z']))))
      .toMatch(/^The audited time range exceeds the supported limit/);
    expect(await message(c(f('action', 'between', ['added'])))).toBe('Specify valid values to the comparator key');
    expect(await message(c(f('action', 'in', ['flew'])))).toBe('The value given in the value key is not supported');
    expect(await message(c(f('done_by', 'in', [{ name: 'no id' }])))).toBe('The required key ID seems to be missing');
  });

  it('exports at most the last 180 days when filtered without a time range, three years unfiltered', async () => {
    const f = (api: string, comparator: string, value: unknown) => ({ field: { api_name: api }, comparator, value });
    const resolvedFrom = async (body: unknown) => {
      const res = await create(admin, body);
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().audit_log_export[0]).toMatchObject({ code: 'SCHEDULED', message: 'ExportAuditlog scheduled successfully.', status: 'success' });
      const id = res.json().audit_log_export[0].details.id;
      const row = await t.env.store.db.selectFrom('audit_exports').select(['resolved', 'created_at']).where('id', '=', id).executeTakeFirstOrThrow();
      await t.env.store.db.updateTable('audit_exports').set({ status: 'Failed' }).where('id', '=', id).execute();
      return (Number(row.created_at) - JSON.parse(row.resolved).from) / DAY;
    };
    expect(await resolvedFrom({ audit_log_export: [{ criteria: f('action', 'in', ['deleted']) }] })).toBeCloseTo(180, 0);
    expect(await resolvedFrom({ audit_log_export: [{ criteria: f('module', 'in', [{ api_name: 'Leads' }]) }] })).toBeCloseTo(180, 0);
    expect(await resolvedFrom(undefined)).toBeCloseTo(3 * 365, 0);
  });
});

describe.each(BACKENDS)('export files on %s', (backend) => {
  it('are stored in the blob store of the backend, served by any node, and verify', async () => {
    const env = await createEnv(backend, { exportLimits: { rowsPerFile: 50, maxEntries: 1000 } });
    const org = await createOrg(env);
    await env.rt.demo.loadHistory(org.org.id, 120);
    const actor = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    const job = await env.rt.services.exports.create(actor, undefined);
    const w = createAppWorker(env.rt, { maintenance: false });
    expect(await w.runOnce()).toBe(true);
    const second = backend === 'postgres' ? await env.second() : null;
    const node = second?.rt ?? env.rt;
    const otherActor = await node.services.directory.actorForUser(org.org.id, org.admin.id);
    const file = await node.services.exports.download(otherActor, org.org.zgid, job.id, 'AuditLog.zip');
    const chunks: Buffer[] = [];
    for await (const c of file.stream) chunks.push(c as Buffer);
    const buf = Buffer.concat(chunks);
    expect(buf.length).toBe(file.size);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'auditrail-blob-'));
    writeFileSync(path.join(dir, 'e.zip'), buf);
    const keys = (await env.rt.services.integrity.listKeys()).map((k) => ({ key_id: k.key_id, public_key: k.public_key }));
    const v = await verifyExportZip(path.join(dir, 'e.zip'), keys);
    expect(v.ok, v.problems.join()).toBe(true);
    expect(v.files.length).toBeGreaterThanOrEqual(3);
    if (backend === 'postgres') {
      const chunksInDb = await env.store.db.selectFrom('blobs').select('key').distinct().execute();
      expect(chunksInDb.map((c) => c.key)).toEqual([`exports/${org.org.id}/${job.id}`]);
    }
    rmSync(dir, { recursive: true, force: true });
    await second?.close();
    await env.close();
  });

});
