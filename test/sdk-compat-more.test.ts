import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';
import { createAppWorker } from '../src/jobs/index.ts';
import { EXPORT_COLUMNS } from '../src/services/export-service.ts';
import { verifyExportZip } from '../src/services/export-verify.ts';
import { unzip } from './helpers.ts';

/**
 * Drives the real official SDK (@zohocrm/typescript-sdk-8.0 3.0.0, CommonJS) against the server
 * on a free local port, through the parts test/sdk-compat.test.ts leaves out: record timelines,
 * the Export Audit Log API with its downloads (CSV and ZIP), and the recycle bin (list, get,
 * restore through CommonAPIHandler, permanent deletion). Every assertion is on the model objects
 * the SDK built from our answers.
 */
import { firstItem, instance, objectOf, withSdk, Z } from './sdk-harness.ts';

const DAY = 86_400_000;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);


/** The rows of an export CSV (BOM and header checked, then dropped), as objects keyed by column. */
function csvRecords(bytes: Buffer): Record<string, string>[] {
  expect(bytes.subarray(0, 3).equals(BOM)).toBe(true);
  const text = bytes.subarray(3).toString('utf8');
  expect(text.startsWith(`${EXPORT_COLUMNS.join(',')}\r\n`)).toBe(true);
  return parseCsv(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
}

describe('official Zoho CRM TypeScript SDK 3.0.0: timeline, audit-log export, recycle bin', () => {
  const sdk = withSdk({ env: { exportLimits: { rowsPerFile: 50 } } });
  const { served } = sdk;
  /** The lead whose history the timeline and the first export show, and the note added on it. */
  let leadId: string;
  let noteId: string;

  // ---- helpers over the SDK ---------------------------------------------------------------

  /** Creates one Lead through RecordOperations; returns its id. */
  async function createLead(lastName: string, company: string): Promise<string> {
    const r = new Z.Record.Record();
    r.addFieldValue(Z.Record.Field.Leads.LAST_NAME, lastName);
    r.addFieldValue(Z.Record.Field.Leads.COMPANY, company);
    const body = new Z.Record.BodyWrapper();
    body.setData([r]);
    const res = await new Z.Record.RecordOperations('Leads').createRecords(body);
    const [item] = (res.getObject() as ZohoSdk.Record.ActionWrapper).getData();
    expect(item).toBeInstanceOf(Z.Record.SuccessResponse);
    const id = (item as ZohoSdk.Record.SuccessResponse).getDetails().get('id') as string;
    expect(id).toMatch(/^\d+$/);
    return id;
  }

  /** Adds a Note to a Lead through NotesOperations.createNotes; returns its id. */
  async function addNote(parentLeadId: string, content: string): Promise<string> {
    const module = new Z.Modules.MinifiedModule();
    module.setAPIName('Leads');
    const parent = new Z.Notes.ParentId();
    parent.setModule(module);
    parent.setId(BigInt(parentLeadId));
    const note = new Z.Notes.Note();
    note.setNoteContent(content);
    note.setParentId(parent);
    const body = new Z.Notes.BodyWrapper();
    body.setData([note]);
    const res = await new Z.Notes.NotesOperations().createNotes(body);
    const wrapper = objectOf(res, Z.Notes.ActionWrapper);
    const [item] = wrapper.getData();
    expect(item).toBeInstanceOf(Z.Notes.SuccessResponse);
    const details = (item as ZohoSdk.Notes.SuccessResponse).getDetails();
    const id = String(details.get('id'));
    expect(id).toMatch(/^\d+$/);
    return id;
  }

  async function deleteLead(id: string) {
    const res = await new Z.Record.RecordOperations('Leads').deleteRecord(BigInt(id));
    const [item] = (res.getObject() as ZohoSdk.Record.ActionWrapper).getData();
    expect(item).toBeInstanceOf(Z.Record.SuccessResponse);
    expect((item as ZohoSdk.Record.SuccessResponse).getMessage().getValue()).toBe('record deleted');
  }

  /** The whole recycle bin through getRecyclebinRecords (one page of 200), or null for an empty bin (204). */
  async function binItems(): Promise<ZohoSdk.RecycleBin.RecycleBin[] | null> {
    const params = new Z.ParameterMap();
    await params.add(Z.RecycleBin.GetRecycleBinRecordsParam.PER_PAGE, 200);
    await params.add(Z.RecycleBin.GetRecycleBinRecordsParam.PAGE, 1);
    const res = await new Z.RecycleBin.RecycleBinOperations().getRecyclebinRecords(params);
    if (res.getStatusCode() === 204) {
      expect(res.getObject()).toBeNull();
      return null;
    }
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.RecycleBin.ResponseWrapper);
    const w = wrapper as ZohoSdk.RecycleBin.ResponseWrapper;
    expect(w.getInfo().getMoreRecords()).toBe(false);
    expect(w.getInfo().getCount()).toBe(w.getRecycleBin().length);
    return w.getRecycleBin();
  }

  /** The items of a recycle-bin action answer (`recycle_bin[]`), each checked to be a SuccessResponse for one id. */
  function binSuccesses(res: ZohoSdk.APIResponse<unknown>, message: string): bigint[] {
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.RecycleBin.ActionWrapper);
    return wrapper.getRecycleBin().map((item) => {
      const s = instance(item, Z.RecycleBin.SuccessResponse);
      expect(s.getStatus().getValue()).toBe('success');
      expect(s.getCode().getValue()).toBe('SUCCESS');
      expect(s.getMessage()).toBe(message);
      const id = s.getDetails().get('id') as bigint;
      expect(typeof id).toBe('bigint');
      return id;
    });
  }

  async function getExport(id: bigint): Promise<ZohoSdk.AuditLogExport.AuditLogExport> {
    const res = await new Z.AuditLogExport.AuditLogExportOperations().getExportedAuditlog(id);
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.AuditLogExport.ResponseWrapper);
    const jobs = wrapper.getAuditLogExport();
    expect(jobs).toHaveLength(1);
    expect(jobs[0].getId()).toBe(id);
    return jobs[0];
  }

  /** Asks for an export of the entries matching `criteria` through createAuditlogExport. */
  async function requestExport(criteria: ZohoSdk.AuditLogExport.Criteria) {
    const job = new Z.AuditLogExport.AuditLogExport();
    job.setCriteria(criteria);
    const body = new Z.AuditLogExport.BodyWrapper();
    body.setAuditLogExport([job]);
    return new Z.AuditLogExport.AuditLogExportOperations().createAuditlogExport(body);
  }

  /** Schedules an export through createAuditlogExport; returns the job id the SDK parsed. */
  async function scheduleExport(criteria: ZohoSdk.AuditLogExport.Criteria): Promise<bigint> {
    const s = firstItem(await requestExport(criteria), 201, Z.AuditLogExport.ActionWrapper, (w) => w.getAuditLogExport(),
      Z.AuditLogExport.SuccessResponse);
    expect(s.getStatus().getValue()).toBe('success');
    expect(s.getCode().getValue()).toBe('SCHEDULED');
    const id = s.getDetails().get('id') as bigint;
    expect(typeof id).toBe('bigint');
    return id;
  }

  function condition(field: string, comparator: string, value: unknown) {
    const f = new Z.AuditLogExport.Field();
    f.setAPIName(field);
    const c = new Z.AuditLogExport.Criteria();
    c.setField(f);
    c.setComparator(comparator);
    c.setValue(value);
    return c;
  }

  function group(...conditions: ZohoSdk.AuditLogExport.Criteria[]) {
    const g = new Z.AuditLogExport.Criteria();
    g.setGroupOperator('and');
    g.setGroup(conditions);
    return g;
  }

  /** A Date `days` away from the test clock, off any local midnight (the SDK would send a bare date). */
  const dayFromNow = (days: number) => {
    const d = new Date(sdk.env.now() + days * DAY);
    d.setSeconds(17);
    return d;
  };

  async function download(link: string) {
    const res = await new Z.AuditLogExport.AuditLogExportOperations().downloadExportAuditLogResult(link);
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.AuditLogExport.FileBodyWrapper);
    const file = wrapper.getFile();
    const bytes = file.getStream() as unknown;
    expect(Buffer.isBuffer(bytes)).toBe(true);
    return { name: file.getName(), bytes: bytes as Buffer };
  }

  // ---- timeline ---------------------------------------------------------------------------

  it('builds a lead history through the SDK: created, updated, a note added on it', async () => {
    leadId = await createLead('Okafor', 'Initech');
    sdk.env.advance(1000);
    const change = new Z.Record.Record();
    change.addFieldValue(Z.Record.Field.Leads.COMPANY, 'Initrode');
    const body = new Z.Record.BodyWrapper();
    body.setData([change]);
    const res = await new Z.Record.RecordOperations('Leads').updateRecord(BigInt(leadId), body);
    const [item] = (res.getObject() as ZohoSdk.Record.ActionWrapper).getData();
    expect((item as ZohoSdk.Record.SuccessResponse).getMessage().getValue()).toBe('record updated');
    sdk.env.advance(1000);
    noteId = await addNote(leadId, 'Called about the renewal');
    const row = await sdk.env.store.db.selectFrom('records').select(['module', 'parent_module', 'parent_id'])
      .where('id', '=', noteId).executeTakeFirstOrThrow();
    expect(row).toEqual({ module: 'Notes', parent_module: 'Leads', parent_id: leadId });
  });

  it('TimelinesOperations.getTimelines returns the record history with done_by, field_history and the related note', async () => {
    const params = new Z.ParameterMap();
    await params.add(Z.Timelines.GetTimelinesParam.SORT_BY, 'audited_time');
    await params.add(Z.Timelines.GetTimelinesParam.SORT_ORDER, new Z.Choice('asc'));
    await params.add(Z.Timelines.GetTimelinesParam.PER_PAGE, '20');
    const start = served.length;
    const res = await new Z.Timelines.TimelinesOperations().getTimelines('Leads', leadId, params);
    expect(served.slice(start)).toEqual([`GET /crm/v8/Leads/${leadId}/__timeline?sort_by=audited_time&sort_order=asc&per_page=20 200`]);
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.Timelines.ResponseWrapper);
    const w = wrapper as ZohoSdk.Timelines.ResponseWrapper;
    const info = w.getInfo();
    expect(info.getCount()).toBe(3);
    expect(info.getPerPage()).toBe(20);
    expect(info.getPage()).toBe(1);
    expect(info.getMoreRecords()).toBe(false);
    const entries = w.getTimeline();
    expect(entries.map((e) => e.getAction())).toEqual(['added', 'updated', 'added']);

    const times = entries.map((e) => e.getAuditedTime());
    for (const t of times) expect(t).toBeInstanceOf(Date);
    expect(times.map((t) => t.getTime())).toEqual([...times.map((t) => t.getTime())].sort((a, b) => a - b));
    expect(times[1].getTime() - times[0].getTime()).toBe(1000);

    for (const e of entries) {
      expect(typeof e.getId()).toBe('bigint');
      expect(e.getSource()).toBe('crm_api');
      // done_by.id is typed String by the SDK.
      expect(e.getDoneBy().getId()).toBe(sdk.org.admin.id);
      expect(e.getDoneBy().getName()).toBe('Ada Admin');
    }
    expect(new Set(entries.map((e) => e.getId())).size).toBe(3);

    const [added, updated, note] = entries;
    for (const e of [added, updated]) {
      expect(e.getRecord().getId()).toBe(BigInt(leadId));
      expect(e.getRecord().getName()).toBe('Okafor');
      expect(e.getRecord().getModule().getAPIName()).toBe('Leads');
      expect(typeof e.getRecord().getModule().getId()).toBe('bigint');
      expect(e.getRelatedRecord()).toBeFalsy();
    }
    // The creation lists the values set, each with no old value (null on the wire, so absent in the model).
    expect(added.getFieldHistory().map((h) => [h.getAPIName(), h.getValue().getOld(), h.getValue().getNew()]))
      .toEqual([['Last_Name', undefined, 'Okafor'], ['Company', undefined, 'Initech'], ['Owner', undefined, 'Ada Admin']]);
    const history = updated.getFieldHistory();
    expect(history).toHaveLength(1);
    const [company] = history;
    expect(company).toBeInstanceOf(Z.Timelines.FieldHistory);
    expect(company.getAPIName()).toBe('Company');
    expect(company.getFieldLabel()).toBe('Company');
    expect(company.getDataType()).toBe('text');
    expect(typeof company.getId()).toBe('bigint');
    expect(company.getValue()).toBeInstanceOf(Z.Timelines.FieldHistoryValue);
    expect(company.getValue().getOld()).toBe('Initech');
    expect(company.getValue().getNew()).toBe('Initrode');

    // The note added on the lead: its own record, the lead as related_record.
    expect(note.getRecord().getId()).toBe(BigInt(noteId));
    expect(note.getRecord().getModule().getAPIName()).toBe('Notes');
    expect(note.getRecord().getName()).toBe('Called about the renewal');
    const related = note.getRelatedRecord();
    expect(related).toBeInstanceOf(Z.Timelines.RelatedRecord);
    expect(related.getId()).toBe(BigInt(leadId));
    expect(related.getName()).toBe('Okafor');
    // The related module is a NameIdStructure whose id the SDK types as String.
    expect(related.getModule()).toBeInstanceOf(Z.Timelines.NameIdStructure);
    expect(related.getModule().getId()).toMatch(/^\d+$/);
  });

  it('pages the timeline through the SDK (per_page, page_token)', async () => {
    const first = new Z.ParameterMap();
    await first.add(Z.Timelines.GetTimelinesParam.PER_PAGE, '2');
    const page1 = (await new Z.Timelines.TimelinesOperations().getTimelines('Leads', leadId, first)).getObject() as ZohoSdk.Timelines.ResponseWrapper;
    // Newest first by default.
    expect(page1.getTimeline().map((e) => e.getAction())).toEqual(['added', 'updated']);
    expect(page1.getTimeline()[0].getRecord().getModule().getAPIName()).toBe('Notes');
    expect(page1.getInfo().getMoreRecords()).toBe(true);
    const token = page1.getInfo().getNextPageToken();
    expect(token).toEqual(expect.any(String));
    const next = new Z.ParameterMap();
    await next.add(Z.Timelines.GetTimelinesParam.PER_PAGE, '2');
    await next.add(Z.Timelines.GetTimelinesParam.PAGE_TOKEN, token);
    const page2 = (await new Z.Timelines.TimelinesOperations().getTimelines('Leads', leadId, next)).getObject() as ZohoSdk.Timelines.ResponseWrapper;
    expect(page2.getTimeline().map((e) => [e.getAction(), e.getRecord().getModule().getAPIName()])).toEqual([['added', 'Leads']]);
    expect(page2.getInfo().getMoreRecords()).toBe(false);
  });

  // ---- audit-log export -------------------------------------------------------------------

  it('a criteria range over 180 days comes back as an APIException INVALID_DATA, as Zoho documents', async () => {
    const criteria = group(condition('action', 'in', ['added', 'updated']),
      condition('audited_time', 'between', [dayFromNow(-200), dayFromNow(-1)]));
    const error = firstItem(await requestExport(criteria), 400, Z.AuditLogExport.ActionWrapper, (w) => w.getAuditLogExport(),
      Z.AuditLogExport.APIException);
    expect(error.getStatus().getValue()).toBe('error');
    expect(error.getCode().getValue()).toBe('INVALID_DATA');
    // Typed Choice<string> in the .d.ts, but json_details types it String: the SDK hands over a plain string.
    expect(error.getMessage() as unknown).toMatch(/The audited time range exceeds the supported limit/);
    expect(error.getDetails().get('api_name')).toBe('value');
    expect(error.getDetails().get('json_path')).toBe('$.audit_log_export[0].criteria.group[1].value');
    expect(await sdk.env.store.db.selectFrom('audit_exports').select('id').where('org_id', '=', sdk.orgId).execute()).toEqual([]);
  });

  let csvJob: bigint;

  it('createAuditlogExport with a criteria tree schedules a job the SDK reads back while Scheduled', async () => {
    const from = dayFromNow(-30);
    const to = dayFromNow(1);
    const start = served.length;
    csvJob = await scheduleExport(group(
      group(condition('action', 'in', ['added', 'updated']), condition('module', 'in', [{ api_name: 'Leads' }])),
      condition('audited_time', 'between', [from, to]),
    ));
    expect(served.slice(start)).toEqual(['POST /crm/v8/settings/audit_log_export 201']);
    // The SDK sent the Dates as UTC to the second; the server stored the criteria as received.
    const stored = await sdk.env.store.db.selectFrom('audit_exports').select(['criteria', 'status']).where('id', '=', String(csvJob))
      .executeTakeFirstOrThrow();
    expect(stored.status).toBe('Scheduled');
    const sent = JSON.parse(stored.criteria!) as { group: { group: { value: unknown }[]; value: unknown }[] };
    expect(sent.group[0].group[1].value).toEqual([{ api_name: 'Leads' }]);
    expect(sent.group[1].value).toEqual([from.toISOString().replace(/\.\d{3}Z$/, 'Z'), to.toISOString().replace(/\.\d{3}Z$/, 'Z')]);

    const listed = await new Z.AuditLogExport.AuditLogExportOperations().getExportedAuditlogs();
    expect(listed.getStatusCode()).toBe(200);
    const all = (listed.getObject() as ZohoSdk.AuditLogExport.ResponseWrapper).getAuditLogExport();
    expect(all.map((j) => j.getId())).toEqual([csvJob]);
    expect(all[0].getStatus()).toBe('Scheduled');

    const job = await getExport(csvJob);
    expect(job.getStatus()).toBe('Scheduled');
    expect(job.getDownloadLinks() ?? null).toBeNull();
    expect(job.getCreatedBy().getId()).toBe(BigInt(sdk.org.admin.id));
    expect(job.getCreatedBy().getName()).toBe('Ada Admin');
    expect(job.getJobStartTime()).toBeInstanceOf(Date);
    // The criteria echo parses back into the SDK's Criteria tree.
    const criteria = job.getCriteria();
    expect(criteria).toBeInstanceOf(Z.AuditLogExport.Criteria);
    expect(criteria.getGroupOperator()).toBe('and');
    const [inner, range] = criteria.getGroup();
    expect(inner.getGroup().map((c) => [c.getField().getAPIName(), c.getComparator()])).toEqual([['action', 'in'], ['module', 'in']]);
    expect(inner.getGroup()[0].getValue()).toEqual(['added', 'updated']);
    expect(range.getField().getAPIName()).toBe('audited_time');
    expect(range.getComparator()).toBe('between');
  });

  it('after the worker runs it, the job is Finished and downloadExportAuditLogResult returns AuditLog.csv', async () => {
    expect(await createAppWorker(sdk.env.rt, { maintenance: false }).runOnce()).toBe(true);
    const job = await getExport(csvJob);
    expect(job.getStatus()).toBe('Finished');
    expect(job.getJobEndTime()).toBeInstanceOf(Date);
    expect(job.getExpiryDate().getTime()).toBeGreaterThan(sdk.env.now());
    const links = job.getDownloadLinks();
    expect(links).toEqual([`${sdk.base}/v2/crm/${sdk.org.org.zgid}/auditlog/${csvJob}/AuditLog.csv`]);

    const start = served.length;
    const file = await download(links[0]);
    expect(served.slice(start)).toEqual([`GET /v2/crm/${sdk.org.org.zgid}/auditlog/${csvJob}/AuditLog.csv 200`]);
    expect(file.name).toBe('AuditLog.csv');
    const rows = csvRecords(file.bytes);
    // Only the lead's added and updated entries: not the note (Notes), not the export itself.
    expect(rows.map((r) => [r.Action, r.Module, r['Record Id']])).toEqual([['added', 'Leads', leadId], ['updated', 'Leads', leadId]]);
    for (const r of rows) {
      expect(r).toMatchObject({ 'Done By': 'Ada Admin', 'Done By Id': sdk.org.admin.id, 'Record Name': 'Okafor', Source: 'api' });
      expect(r['User Agent']).toMatch(/^got /);
      expect(r['Audited Time']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:30$/);
    }
    expect(rows[0].Changes).toBe('Last Name: (empty) -> Okafor; Company: (empty) -> Initech; Owner: (empty) -> Ada Admin');
    expect(rows[1].Changes).toBe('Company: Initech -> Initrode');
    expect(Number(rows[1].Sequence)).toBeGreaterThan(Number(rows[0].Sequence));

    const downloaded = await sdk.env.store.db.selectFrom('audit_entries').select(['action', 'record_name'])
      .where('org_id', '=', sdk.orgId).where('action', '=', 'audit_log_downloaded').execute();
    expect(downloaded).toEqual([{ action: 'audit_log_downloaded', record_name: 'AuditLog.csv' }]);
  });

  it('an export of more than rowsPerFile entries downloads as AuditLog.zip through the SDK', async () => {
    // Filtered by action alone, an export reaches back 180 days (Zoho's limit with filters): enough history lands there.
    await sdk.env.rt.demo.loadHistory(sdk.orgId, 900);
    const actions = ['added', 'updated', 'deleted'];
    const zipJob = await scheduleExport(condition('action', 'in', actions));
    expect((await getExport(zipJob)).getStatus()).toBe('Scheduled');
    const all = (await new Z.AuditLogExport.AuditLogExportOperations().getExportedAuditlogs()).getObject() as ZohoSdk.AuditLogExport.ResponseWrapper;
    expect(all.getAuditLogExport().map((j) => [j.getId(), j.getStatus()])).toEqual(expect.arrayContaining([[zipJob, 'Scheduled'], [csvJob, 'Finished']]));

    expect(await createAppWorker(sdk.env.rt, { maintenance: false }).runOnce()).toBe(true);
    const job = await getExport(zipJob);
    expect(job.getStatus()).toBe('Finished');
    expect(job.getDownloadLinks()).toEqual([`${sdk.base}/v2/crm/${sdk.org.org.zgid}/auditlog/${zipJob}/AuditLog.zip`]);
    const file = await download(job.getDownloadLinks()[0]);
    expect(file.name).toBe('AuditLog.zip');
    expect(file.bytes.subarray(0, 2).toString('latin1')).toBe('PK');

    const expected = await sdk.env.store.db.selectFrom('audit_entries').select(({ fn }) => fn.countAll<number>().as('n'))
      .where('org_id', '=', sdk.orgId).where('action', 'in', actions).where('audited_at', '>=', Date.now() - 180 * 24 * 3600_000 + 60_000)
      .executeTakeFirstOrThrow();
    const total = Number(expected.n);
    expect(total).toBeGreaterThan(50);
    const files = await unzip(file.bytes);
    const parts = [...files.keys()].filter((n) => n.endsWith('.csv')).sort();
    expect(parts).toEqual(Array.from({ length: Math.ceil(total / 50) }, (_, i) => `AuditLog_${String(i + 1).padStart(3, '0')}.csv`));
    expect(files.has('manifest.json')).toBe(true);
    const rows = parts.flatMap((p) => {
      const r = csvRecords(files.get(p)!);
      expect(r.length).toBeLessThanOrEqual(50);
      return r;
    });
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.Action))).toEqual(new Set(actions));
    expect(rows.filter((r) => r['Record Id'] === leadId).map((r) => r.Action)).toEqual(['added', 'updated']);
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as { entry_count: number; job_id: string };
    expect(manifest).toMatchObject({ entry_count: total, job_id: String(zipJob) });

    // The bytes the SDK handed over are the signed file itself.
    const zipPath = path.join(sdk.resourceDir, 'AuditLog.zip');
    fs.writeFileSync(zipPath, file.bytes);
    const keys = (await sdk.env.rt.services.integrity.listKeys()).map((k) => ({ key_id: k.key_id, public_key: k.public_key }));
    const verified = await verifyExportZip(zipPath, keys);
    expect(verified.problems).toEqual([]);
    expect(verified.ok).toBe(true);
  });

  // ---- recycle bin ------------------------------------------------------------------------

  let binLead: string;
  let binNote: string;

  it('getRecyclebinRecords lists a deleted lead and its note with deleted_by; getRecyclebinRecord returns one', async () => {
    expect(await binItems()).toBeNull();
    binLead = await createLead('Lindqvist', 'Globex');
    binNote = await addNote(binLead, 'Asked for a quote');
    sdk.env.advance(1000);
    await deleteLead(binLead);

    const items = await binItems();
    expect(items).toHaveLength(2);
    const byId = new Map(items!.map((i) => [i.getId(), i]));
    expect([...byId.keys()].sort()).toEqual([BigInt(binLead), BigInt(binNote)].sort());
    const lead = byId.get(BigInt(binLead))!;
    const note = byId.get(BigInt(binNote))!;
    expect(lead).toBeInstanceOf(Z.RecycleBin.RecycleBin);
    expect(lead.getDisplayName()).toBe('Lindqvist');
    expect(lead.getModule().getAPIName()).toBe('Leads');
    expect(typeof lead.getModule().getId()).toBe('bigint');
    expect(note.getDisplayName()).toBe('Asked for a quote');
    expect(note.getModule().getAPIName()).toBe('Notes');
    for (const i of [lead, note]) {
      expect(i.getDeletedBy()).toBeInstanceOf(Z.Users.MinifiedUser);
      expect(i.getDeletedBy().getId()).toBe(BigInt(sdk.org.admin.id));
      expect(i.getDeletedBy().getName()).toBe('Ada Admin');
      expect(i.getOwner().getId()).toBe(BigInt(sdk.org.admin.id));
      expect(i.getDeletedTime()).toBeInstanceOf(Date);
      expect(Math.floor(i.getDeletedTime().getTime() / 1000)).toBe(Math.floor(sdk.env.now() / 1000));
    }

    const one = await new Z.RecycleBin.RecycleBinOperations().getRecyclebinRecord(BigInt(binLead));
    expect(one.getStatusCode()).toBe(200);
    const [item] = (one.getObject() as ZohoSdk.RecycleBin.ResponseWrapper).getRecycleBin();
    expect(item.getId()).toBe(BigInt(binLead));
    expect(item.getDisplayName()).toBe('Lindqvist');
    expect(item.getDeletedBy().getId()).toBe(BigInt(sdk.org.admin.id));
  });

  it('restores the lead, and its note with it, through CommonAPIHandler (no restore method in 3.0.0)', async () => {
    const h = new Z.CommonAPIHandler();
    h.setAPIPath(`/crm/v8/settings/recycle_bin/${binLead}/actions/restore`);
    h.setHttpMethod('POST');
    h.setCategoryMethod('ACTION');
    const start = served.length;
    const res = await h.apiCall<ZohoSdk.RecycleBin.ActionHandler.ActionHandler>(
      require.resolve('@zohocrm/typescript-sdk-8.0/dist/core/com/zoho/crm/api/recycle_bin/action_handler.js'), 'application/json');
    expect(served.slice(start)).toEqual([`POST /crm/v8/settings/recycle_bin/${binLead}/actions/restore 200`]);
    expect(binSuccesses(res, 'record restored')).toEqual([BigInt(binLead)]);

    expect(await binItems()).toBeNull();
    const read = await new Z.Record.RecordOperations('Leads').getRecord(BigInt(binLead));
    expect(read.getStatusCode()).toBe(200);
    expect((read.getObject() as ZohoSdk.Record.ResponseWrapper).getData()[0].getKeyValue('Last_Name')).toBe('Lindqvist');
    const note = await new Z.Notes.NotesOperations().getNote(BigInt(binNote));
    expect(note.getStatusCode()).toBe(200);
    const [n] = (note.getObject() as ZohoSdk.Notes.ResponseWrapper).getData();
    expect(n.getId()).toBe(BigInt(binNote));
    expect(n.getNoteContent()).toBe('Asked for a quote');
    expect(n.getParentId().getId()).toBe(BigInt(binLead));
  });

  it('deleteRecyclebinRecord and deleteRecyclebinRecords delete permanently', async () => {
    await deleteLead(binLead);
    const other1 = await createLead('Moreau', 'Umbrella');
    const other2 = await createLead('Sato', 'Hooli');
    await deleteLead(other1);
    await deleteLead(other2);
    expect((await binItems())!.map((i) => i.getId()).sort()).toEqual([binLead, binNote, other1, other2].map(BigInt).sort());

    const ops = new Z.RecycleBin.RecycleBinOperations();
    let start = served.length;
    expect(binSuccesses(await ops.deleteRecyclebinRecord(BigInt(binLead)), 'record deleted')).toEqual([BigInt(binLead)]);
    expect(served.slice(start)).toEqual([`DELETE /crm/v8/settings/recycle_bin/${binLead} 200`]);
    // The lead's note left with it.
    expect((await binItems())!.map((i) => i.getId()).sort()).toEqual([other1, other2].map(BigInt).sort());

    const params = new Z.ParameterMap();
    await params.add(Z.RecycleBin.DeleteRecycleBinRecordsParam.IDS, `${other1},${other2}`);
    start = served.length;
    expect(binSuccesses(await ops.deleteRecyclebinRecords(params), 'record deleted')).toEqual([BigInt(other1), BigInt(other2)]);
    expect(served.slice(start)).toEqual([`DELETE /crm/v8/settings/recycle_bin?ids=${other1}%2C${other2} 200`]);
    expect(await binItems()).toBeNull();

    // Gone for good: the bin no longer knows the id, and the SDK reads the error as an APIException.
    const gone = await ops.getRecyclebinRecord(BigInt(binLead));
    expect(gone.getObject()).toBeInstanceOf(Z.RecycleBin.APIException);
    const error = gone.getObject() as ZohoSdk.RecycleBin.APIException;
    expect(error.getCode().getValue()).toBe('INVALID_DATA');
    expect(error.getStatus().getValue()).toBe('error');
    const permanently = await sdk.env.store.db.selectFrom('audit_entries').select(['record_id', 'module'])
      .where('org_id', '=', sdk.orgId).where('action', '=', 'permanently_deleted').orderBy('seq').execute();
    expect(permanently.map((e) => e.record_id).sort()).toEqual([binLead, binNote, other1, other2].sort());
    expect((await sdk.env.rt.services.audit.verifyChain(sdk.orgId)).ok).toBe(true);
  });
});
