import { beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { BACKENDS, createApp, createEnv, createOrg, tokenFor, withApp, createEnvWithOrg } from './helpers.ts';
import { createAppWorker } from '../src/jobs/index.ts';

function multipart(name: string, content: Buffer, type = 'text/plain') {
  const boundary = '----auditrailupload';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name.replace(/["\\]/g, '\\$&')}"\r\nContent-Type: ${type}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, content, tail]), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

describe('dependents: notes, attachments and activities', () => {
  const t = withApp();
  let leadId: string;

  beforeAll(async () => {
    const res = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: t.auth, payload: JSON.stringify({ data: [{ Last_Name: 'With files' }] }) });
    leadId = res.json().data[0].details.id;
  });

  const blobCount = async () => Number((await t.env.store.db.selectFrom('blobs').select(({ fn }) => fn.countAll().as('n'))
    .where('key', 'like', 'attachments/%').executeTakeFirstOrThrow()).n);

  it('adds notes through the record\'s related list and lists them', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/crm/v8/Leads/${leadId}/Notes`, headers: t.auth,
      payload: JSON.stringify({ data: [{ Note_Title: 'Call', Note_Content: 'Wants a demo' }] }) });
    expect(res.statusCode).toBe(201);
    const list = (await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Notes`, headers: t.auth })).json();
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ Note_Content: 'Wants a demo', Parent_Id: { id: leadId, name: 'With files', module: { api_name: 'Leads' } } });
    await t.app.inject({ method: 'POST', url: '/crm/v8/Calls', headers: t.auth, payload: JSON.stringify({ data: [{ Subject: 'Intro',
      Call_Type: 'Inbound', Call_Start_Time: '2026-01-01T09:00:00Z', What_Id: { id: leadId }, $se_module: 'Leads' }] }) });
    const acts = (await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Activities`, headers: t.auth })).json();
    expect(acts.data.map((a: { $module: string }) => a.$module)).toEqual(['Calls']);
    expect((await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Spaceships`, headers: t.auth })).json())
      .toMatchObject({ code: 'INVALID_DATA', message: 'the relation name given seems to be invalid' });
  });

  it('stores uploaded attachments, serves their bytes, and frees them when deleted for good', async () => {
    const bytes = Buffer.from('hello, attachment\n'.repeat(100));
    const up = await t.app.inject({ method: 'POST', url: `/crm/v8/Leads/${leadId}/Attachments`, headers: { ...t.auth, ...multipart('notes.txt', bytes).headers },
      payload: multipart('notes.txt', bytes).payload });
    expect(up.statusCode).toBe(200);
    expect(up.json().data[0]).toMatchObject({ code: 'SUCCESS', message: 'attachment uploaded successfully', status: 'success' });
    const attId = up.json().data[0].details.id;
    const list = (await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Attachments`, headers: t.auth })).json();
    expect(list.data[0]).toMatchObject({ id: attId, File_Name: 'notes.txt', Size: bytes.length });
    const dl = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Attachments/${attId}`, headers: t.auth });
    expect(dl.headers['content-disposition']).toBe('attachment; filename="notes.txt"');
    expect(dl.rawPayload.equals(bytes)).toBe(true);
    const entry = await t.env.store.db.selectFrom('audit_entries').selectAll().where('record_id', '=', attId).executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ action: 'added', module: 'Attachments', parent_id: leadId });
    expect(await blobCount()).toBe(1);
    // The lead goes to the bin with its attachment; the bytes stay while it can be restored.
    await t.app.inject({ method: 'DELETE', url: `/crm/v8/Leads/${leadId}`, headers: t.auth });
    expect((await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Attachments/${attId}`, headers: t.auth })).statusCode).toBe(400);
    expect(await blobCount()).toBe(1);
    const filters = encodeURIComponent(JSON.stringify({ field: { api_name: 'module' }, comparator: 'equal', value: 'Attachments' }));
    const del = await t.app.inject({ method: 'DELETE', url: `/crm/v8/settings/recycle_bin?filters=${filters}`, headers: t.auth });
    expect(del.statusCode).toBe(202);
    const w = createAppWorker(t.env.rt, { maintenance: false });
    while (await w.runOnce()) { /* drain */ }
    expect(await blobCount()).toBe(0);
    const bin = (await t.app.inject({ method: 'GET', url: '/crm/v8/settings/recycle_bin', headers: t.auth })).json().recycle_bin;
    expect(bin.map((b: { module: { api_name: string } }) => b.module.api_name)).not.toContain('Attachments');
  });

  it('refuses uploads without a file and to missing parents', async () => {
    const noFile = await t.app.inject({ method: 'POST', url: `/crm/v8/Leads/${leadId}/Attachments`, headers: t.auth, payload: '{}' });
    expect(noFile.json()).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'file' } });
    const bytes = Buffer.from('x');
    const gone = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads/1000000000000000001/Attachments', headers: { ...t.auth, ...multipart('x.txt', bytes).headers },
      payload: multipart('x.txt', bytes).payload });
    expect(gone.json()).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 1 } });
    expect(await blobCount()).toBe(0);
  });

  it('serves attachments named in any script, with an RFC 6266 filename* beside an ASCII fallback', async () => {
    const parent = (await t.app.inject({ method: 'POST', url: '/crm/v8/Contacts', headers: t.auth, payload: JSON.stringify({ data: [{ Last_Name: 'Scripts' }] }) }))
      .json().data[0].details.id;
    const names = ['報告€.txt', 'отчёт.pdf', 'تقرير.docx', 'דוח שנתי.txt', 'Αναφορά.txt', 'रिपोर्ट.txt', 'รายงาน.txt', '보고서.hwp',
      'レポート.xlsx', '😀 emoji 🎉.png', 'Café naïve.txt', 'e\u0301t\u00e9.txt', 'quote"semi;comma,.txt', "it's (1) 100%*.txt", 'plain.txt'];
    for (const name of names) {
      const bytes = Buffer.from(`content of ${name}`);
      const up = await t.app.inject({ method: 'POST', url: `/crm/v8/Contacts/${parent}/Attachments`, headers: { ...t.auth, ...multipart(name, bytes).headers },
        payload: multipart(name, bytes).payload });
      const id = up.json().data[0].details.id;
      const dl = await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${parent}/Attachments/${id}`, headers: t.auth });
      expect(dl.statusCode, name).toBe(200);
      expect(dl.rawPayload.equals(bytes), name).toBe(true);
      const disposition = dl.headers['content-disposition'] as string;
      expect(disposition, name).toMatch(/^[\x20-\x7e]+$/);
      const fallback = /^attachment; filename="((?:[^"\\]|\\.)*)"/.exec(disposition)?.[1];
      expect(fallback, name).toMatch(/^[\x20-\x7e]+$/);
      const extended = /; filename\*=UTF-8''([A-Za-z0-9!#$&+.^_`|~%-]+)$/.exec(disposition)?.[1];
      expect(extended ? decodeURIComponent(extended) : fallback, name).toBe(name);
    }
    const list = (await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${parent}/Attachments`, headers: t.auth })).json();
    expect(list.data.map((a: { File_Name: string }) => a.File_Name).sort()).toEqual([...names].sort());
  });

  it('serves an uploaded HTML file as a download the browser may not sniff or run (nosniff, sandboxed)', async () => {
    const page = Buffer.from('<script>parent.document.title = "owned"</script>');
    const made = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: t.auth, payload: JSON.stringify({ data: [{ Last_Name: 'With a page' }] }) });
    const leadId = made.json().data[0].details.id as string;
    const up = await t.app.inject({ method: 'POST', url: `/crm/v8/Leads/${leadId}/Attachments`,
      headers: { ...t.auth, ...multipart('x.html', page, 'text/html').headers }, payload: multipart('x.html', page, 'text/html').payload });
    const attId = up.json().data[0].details.id;
    const dl = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${leadId}/Attachments/${attId}`, headers: t.auth });
    expect(dl.headers).toMatchObject({ 'content-disposition': 'attachment; filename="x.html"', 'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'" });
  });
});

describe('emails and the email tracking setting', () => {
  it('audits a logged email only when the sender tracks email, and keeps it either way', async () => {
    const env = await createEnv();
    const app = await createApp(env);
    const org = await createOrg(env);
    const { auth } = await tokenFor(app, env, org.org.id);
    const lead = (await app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: auth, payload: JSON.stringify({ data: [{ Last_Name: 'Mailed' }] }) })).json().data[0].details.id;
    const send = (subject: string) => app.inject({ method: 'POST', url: `/crm/v8/Leads/${lead}/Emails`, headers: auth,
      payload: JSON.stringify({ data: [{ Subject: subject, To: 'buyer@example.com', Content: 'Hello' }] }) });
    const first = await send('Untracked');
    expect(first.statusCode).toBe(201);
    const untrackedId = first.json().data[0].details.id;
    const audited = async (id: string) => (await env.store.db.selectFrom('audit_entries').select('id').where('record_id', '=', id).execute()).length;
    expect(await audited(untrackedId)).toBe(0);
    const me = (await app.inject({ method: 'GET', url: '/crm/v8/users?type=CurrentUser', headers: auth })).json().users[0];
    expect(me.email_tracking).toBe(false);
    await app.inject({ method: 'PUT', url: `/crm/v8/users/${me.id}`, headers: auth, payload: JSON.stringify({ users: [{ email_tracking: true }] }) });
    const change = await env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'user_updated').executeTakeFirstOrThrow();
    expect(JSON.parse(change.details).field_history).toEqual([{ api_name: 'email_tracking', field_label: 'Email Tracking', old: false, new: true }]);
    const tracked = (await send('Tracked')).json().data[0].details.id;
    expect(await audited(tracked)).toBe(1);
    const emails = (await app.inject({ method: 'GET', url: `/crm/v8/Leads/${lead}/Emails`, headers: auth })).json().data;
    expect(emails.map((e: { Subject: string }) => e.Subject).sort()).toEqual(['Tracked', 'Untracked']);
    expect(emails[0].From).toBe('admin@acme.example');
    const bad = await app.inject({ method: 'POST', url: `/crm/v8/Leads/${lead}/Emails`, headers: auth, payload: JSON.stringify({ data: [{ Subject: 'x' }] }) });
    expect(bad.json().data[0]).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'To' } });
    await app.close();
    await env.close();
  });
});

describe.each(BACKENDS)('an attachment racing its parent\'s deletion on %s', (backend) => {
  it('never lands live under a parent already in the bin', async () => {
    const { env, org, admin } = await createEnvWithOrg(backend);
    const [lead] = await env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: 'Going' }]);
    if (!lead.ok) throw new Error('create failed');
    // The parent is deleted while the file's bytes are still arriving: after the upload checked it.
    let sent = false;
    const stream = new Readable({
      read() {
        if (sent) return;
        sent = true;
        env.rt.services.records.deleteRecords(admin, 'Leads', [lead.row.id])
          .then(() => { this.push(Buffer.from('late bytes')); this.push(null); }, (e) => this.destroy(e));
      },
    });
    await expect(env.rt.services.attachments.upload(admin, 'Leads', lead.row.id, { name: 'late.txt', contentType: 'text/plain', stream }))
      .rejects.toMatchObject({ code: 'INVALID_DATA' });
    const attachments = await env.store.db.selectFrom('records').select('id').where('org_id', '=', org.org.id)
      .where('module', '=', 'Attachments').execute();
    expect(attachments).toEqual([]);
    expect(await env.store.db.selectFrom('blobs').select('key').where('key', 'like', 'attachments/%').execute()).toEqual([]);
    await env.close();
  });
});
