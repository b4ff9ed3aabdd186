import { beforeAll, describe, expect, it } from 'vitest';
import { withApp, type Auth } from './helpers.ts';

const ISO_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
const ID = /^\d{19}$/;

describe('records API', () => {
  const t = withApp();
  let otherAuth: Auth;
  beforeAll(async () => { otherAuth = (await t.otherOrg()).auth; });

  const post = (url: string, body: unknown, headers = t.auth) =>
    t.app.inject({ method: 'POST', url, headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  const create = async (module: string, record: Record<string, unknown>) => {
    const res = await post(`/crm/v8/${module}`, { data: [record] });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().data[0].details.id as string;
  };
  const auditFor = (recordId: string) => t.env.store.db.selectFrom('audit_entries').selectAll()
    .where('record_id', '=', recordId).orderBy('seq').execute();

  it('creates records from a body sent without Content-Type, as the SDK does', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/crm/v8/Leads', headers: { ...t.auth },
      payload: Buffer.from(JSON.stringify({ data: [{ Last_Name: 'Nakamura', First_Name: 'Yuki', Company: 'Zylker' }] })) });
    expect(res.statusCode).toBe(201);
    const item = res.json().data[0];
    expect(item).toMatchObject({ code: 'SUCCESS', message: 'record added', status: 'success' });
    expect(item.details.id).toMatch(ID);
    expect(item.details.Created_Time).toMatch(ISO_OFFSET);
    expect(item.details.Created_Time.endsWith('+05:30')).toBe(true);
    expect(item.details.Created_By).toEqual({ name: 'Ada Admin', id: expect.stringMatching(ID) });
    const [entry] = await auditFor(item.details.id);
    expect(entry).toMatchObject({ action: 'added', module: 'Leads', record_name: 'Yuki Nakamura', source: 'api', actor_name: 'Ada Admin' });
  });

  it('answers per item, in input order: 207 for mixed results, 400 when all fail', async () => {
    const res = await post('/crm/v8/Leads', { data: [
      { Last_Name: 'Ok' }, { Company: 'no last name' }, { Last_Name: 'X', Email: 'not-an-email' },
      { Last_Name: 'Y', No_of_Employees: 'many' }, { Last_Name: 'Z', Bogus_Field: 1 }, { Last_Name: 'P', Lead_Status: 'Nope' },
    ] });
    expect(res.statusCode).toBe(207);
    const items = res.json().data;
    expect(items.map((i: { status: string }) => i.status)).toEqual(['success', 'error', 'error', 'error', 'error', 'error']);
    expect(items[1]).toEqual({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'Last_Name', json_path: '$.data[1].Last_Name' },
      message: 'required field not found', status: 'error' });
    expect(items[2].details).toMatchObject({ api_name: 'Email', expected_data_type: 'email' });
    expect(items[3].details).toMatchObject({ api_name: 'No_of_Employees', expected_data_type: 'integer' });
    expect(items[4]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Bogus_Field' } });
    expect(items[5].details.supported_values).toContain('Contacted');
    const allBad = await post('/crm/v8/Leads', { data: [{ Company: 'a' }, { Company: 'b' }] });
    expect(allBad.statusCode).toBe(400);
  });

  it('refuses more than 100 records, an empty or missing data array, bad JSON and a body too large', async () => {
    const tooMany = await post('/crm/v8/Leads', { data: Array.from({ length: 101 }, (_, i) => ({ Last_Name: `L${i}` })) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 100 }, status: 'error' });
    expect((await post('/crm/v8/Leads', { data: [] })).json().code).toBe('MANDATORY_NOT_FOUND');
    expect((await post('/crm/v8/Leads', { nodata: [] })).json().code).toBe('MANDATORY_NOT_FOUND');
    const bad = await post('/crm/v8/Leads', '{"data": [');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
    const huge = await post('/crm/v8/Leads', JSON.stringify({ data: [{ Last_Name: 'x'.repeat(9 * 1024 * 1024) }] }));
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ code: 'REQUEST_ENTITY_TOO_LARGE', status: 'error' });
    const count = await t.env.store.db.selectFrom('records').select(({ fn }) => fn.countAll().as('n'))
      .where('name', 'like', 'L%').where('org_id', '=', t.orgId).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('reads one record with every field, ids as strings and times with the org offset', async () => {
    const accountId = await create('Accounts', { Account_Name: 'Zylker Corp' });
    const id = await create('Contacts', { Last_Name: 'Patel', First_Name: 'Priya', Account_Name: { id: accountId },
      Date_of_Birth: '1990-02-28', Email: 'priya@zylker.example' });
    const res = await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${id}`, headers: t.auth });
    expect(res.statusCode).toBe(200);
    const [rec] = res.json().data;
    expect(rec).toMatchObject({ id, Last_Name: 'Patel', Full_Name: 'Priya Patel', Account_Name: { id: accountId, name: 'Zylker Corp' },
      Date_of_Birth: '1990-02-28', Mailing_City: null });
    expect(rec.Owner).toMatchObject({ name: 'Ada Admin', id: expect.stringMatching(ID), email: 'admin@acme.example' });
    expect(rec.Modified_Time).toMatch(ISO_OFFSET);
    const only = await t.app.inject({ method: 'GET', url: `/crm/v8/Contacts/${id}?fields=Last_Name`, headers: t.auth });
    expect(only.json().data[0]).toEqual({ id, Last_Name: 'Patel' });
  });

  it('answers a missing, deleted or foreign record the same way (204)', async () => {
    const id = await create('Leads', { Last_Name: 'Soon gone' });
    const foreign = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${id}`, headers: otherAuth });
    expect(foreign.statusCode).toBe(204);
    expect(foreign.body).toBe('');
    await t.app.inject({ method: 'DELETE', url: `/crm/v8/Leads/${id}`, headers: t.auth });
    const deleted = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${id}`, headers: t.auth });
    expect(deleted.statusCode).toBe(204);
    const missing = await t.app.inject({ method: 'GET', url: '/crm/v8/Leads/1234567890123456789', headers: t.auth });
    expect(missing.statusCode).toBe(204);
    const notDigits = await t.app.inject({ method: 'GET', url: '/crm/v8/Leads/abc', headers: t.auth });
    expect(notDigits.json()).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 1 } });
  });

  it('updates only what changed, audits old and new values, and writes nothing for identical values', async () => {
    const id = await create('Deals', { Deal_Name: 'Pilot', Stage: 'Qualification', Amount: 1000 });
    const res = await t.app.inject({ method: 'PUT', url: `/crm/v8/Deals/${id}`, headers: t.auth,
      payload: JSON.stringify({ data: [{ Stage: 'Needs Analysis', Amount: 1000, Deal_Name: 'Pilot' }] }) });
    expect(res.statusCode).toBe(200);
    expect(res.json().data[0]).toMatchObject({ code: 'SUCCESS', message: 'record updated', details: { id } });
    let entries = await auditFor(id);
    expect(entries.map((e) => e.action)).toEqual(['added', 'updated']);
    expect(JSON.parse(entries[1].details).field_history).toEqual([
      { api_name: 'Stage', field_label: 'Stage', old: 'Qualification', new: 'Needs Analysis' }]);
    const same = await t.app.inject({ method: 'PUT', url: `/crm/v8/Deals/${id}`, headers: t.auth,
      payload: JSON.stringify({ data: [{ Stage: 'Needs Analysis' }] }) });
    expect(same.statusCode).toBe(200);
    entries = await auditFor(id);
    expect(entries).toHaveLength(2);
  });

  it('updates in bulk with per-item errors for unknown, foreign and deleted ids', async () => {
    const a = await create('Leads', { Last_Name: 'A' });
    const gone = await create('Leads', { Last_Name: 'Gone' });
    await t.app.inject({ method: 'DELETE', url: `/crm/v8/Leads?ids=${gone}`, headers: t.auth });
    const foreignId = (await (await post('/crm/v8/Leads', { data: [{ Last_Name: 'Theirs' }] }, otherAuth)).json()).data[0].details.id;
    const res = await t.app.inject({ method: 'PUT', url: '/crm/v8/Leads', headers: t.auth, payload: JSON.stringify({ data: [
      { id: a, Company: 'New Co' }, { id: '1111111111111111111', Company: 'x' }, { id: foreignId, Company: 'x' },
      { id: gone, Company: 'x' }, { Company: 'no id' }] }) });
    expect(res.statusCode).toBe(207);
    const items = res.json().data;
    expect(items.map((i: { code: string }) => i.code)).toEqual(['SUCCESS', 'INVALID_DATA', 'INVALID_DATA', 'INVALID_DATA', 'MANDATORY_NOT_FOUND']);
    expect({ ...items[1], details: { ...items[1].details, json_path: '$.data[2].id' } }).toEqual(items[2]);
    const theirs = await t.app.inject({ method: 'GET', url: `/crm/v8/Leads/${foreignId}?fields=Company`, headers: otherAuth });
    expect(theirs.json().data[0].Company).toBeNull();
  });

  it('deletes to the recycle bin with dependents, in one batch, audited per record', async () => {
    const lead = await create('Leads', { Last_Name: 'Parent' });
    const note = await create('Notes', { Note_Content: 'hello', Parent_Id: { module: { api_name: 'Leads' }, id: lead } });
    const call = await create('Calls', { Subject: 'Intro', Call_Type: 'Outbound', Call_Start_Time: '2026-01-05T10:00:00Z',
      What_Id: { id: lead }, $se_module: 'Leads' });
    const res = await t.app.inject({ method: 'DELETE', url: `/crm/v8/Leads?ids=${lead}%2C999`, headers: t.auth });
    expect(res.statusCode).toBe(207);
    expect(res.json().data).toEqual([
      { code: 'SUCCESS', details: { id: lead }, message: 'record deleted', status: 'success' },
      { code: 'INVALID_DATA', details: { id: '999' }, message: 'record not deleted', status: 'error' }]);
    for (const [m, id] of [['Notes', note], ['Calls', call]]) {
      expect((await t.app.inject({ method: 'GET', url: `/crm/v8/${m}/${id}`, headers: t.auth })).statusCode).toBe(204);
    }
    const entries = await t.env.store.db.selectFrom('audit_entries').selectAll().where('record_id', 'in', [lead, note, call])
      .where('action', '=', 'deleted').execute();
    expect(entries).toHaveLength(3);
    expect(new Set(entries.map((e) => e.batch_id)).size).toBe(1);
    expect(entries.find((e) => e.record_id === note)).toMatchObject({ parent_module: 'Leads', parent_id: lead });
    const noIds = await t.app.inject({ method: 'DELETE', url: '/crm/v8/Leads', headers: t.auth });
    expect(noIds.json()).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'ids' } });
  });

  it('pages with page_token through every record and rejects tampered, foreign and mismatched tokens', async () => {
    for (let i = 0; i < 3; i++) {
      await post('/crm/v8/Products', { data: Array.from({ length: 10 }, (_, j) => ({ Product_Name: `P${i}-${j}` })) });
    }
    const seen: string[] = [];
    let url = '/crm/v8/Products?fields=Product_Name&per_page=7&sort_by=Created_Time&sort_order=asc';
    let token: string | null = null;
    let firstToken = '';
    do {
      const pageUrl: string = token ? `${url}&page_token=${token}` : url;
      const res = await t.app.inject({ method: 'GET', url: pageUrl, headers: t.auth });
      expect(res.statusCode).toBe(200);
      const body: { data: { Product_Name: string }[]; info: { next_page_token: string | null; more_records: boolean } } = res.json();
      seen.push(...body.data.map((r: { Product_Name: string }) => r.Product_Name));
      token = body.info.next_page_token;
      if (token && !firstToken) firstToken = token;
      expect(body.info.more_records).toBe(token !== null);
    } while (token);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    const tampered = firstToken.slice(0, -2) + (firstToken.endsWith('AA') ? 'BB' : 'AA');
    expect((await t.app.inject({ method: 'GET', url: `${url}&page_token=${tampered}`, headers: t.auth })).json())
      .toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'page_token' } });
    expect((await t.app.inject({ method: 'GET', url: `${url}&page_token=${firstToken}`, headers: otherAuth })).json())
      .toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'page_token' } });
    url = '/crm/v8/Products?fields=Product_Name&per_page=8&sort_by=Created_Time&sort_order=asc';
    expect((await t.app.inject({ method: 'GET', url: `${url}&page_token=${firstToken}`, headers: t.auth })).json())
      .toMatchObject({ code: 'TOKEN_BOUND_DATA_MISMATCH', details: { param_name: 'page_token' } });
  });

  it('validates list parameters the Zoho way', async () => {
    const get = (q: string) => t.app.inject({ method: 'GET', url: `/crm/v8/Leads${q}`, headers: t.auth }).then((r) => r.json());
    expect(await get('')).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'fields' } });
    expect(await get('?fields=Last_Name&per_page=201')).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'per_page' } });
    expect(await get(`?fields=${Array.from({ length: 51 }, (_, i) => `F${i}`).join(',')}`)).toMatchObject({ code: 'LIMIT_EXCEEDED', details: { limit: 50 } });
    expect(await get('?fields=Nope')).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'fields' } });
    expect(await get('?fields=Last_Name&page=11&per_page=200')).toMatchObject({ code: 'DISCRETE_PAGINATION_LIMIT_EXCEEDED', details: { limit: 2000 } });
    expect(await get('?fields=Last_Name&sort_by=Last_Name')).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'sort_by' } });
    const empty = await t.app.inject({ method: 'GET', url: '/crm/v8/Solutions?fields=Solution_Title', headers: t.auth });
    expect(empty.statusCode).toBe(204);
    expect(empty.headers['content-type']).toBeUndefined();
  });

  it('checks references: lookups, parents and owners must be live records and users of the same org', async () => {
    const foreignAccount = (await (await post('/crm/v8/Accounts', { data: [{ Account_Name: 'Theirs' }] }, otherAuth)).json()).data[0].details.id;
    const res = await post('/crm/v8/Contacts', { data: [
      { Last_Name: 'A', Account_Name: { id: foreignAccount } }, { Last_Name: 'B', Owner: { id: '1234567890123456789' } },
      { Last_Name: 'C', Account_Name: 'not-an-id' }] });
    expect(res.statusCode).toBe(400);
    expect(res.json().data.map((i: { details: { api_name: string } }) => i.details.api_name)).toEqual(['Account_Name', 'Owner', 'Account_Name']);
    const note = await post('/crm/v8/Notes', { data: [{ Note_Content: 'x', Parent_Id: { module: { api_name: 'Accounts' }, id: foreignAccount } }] });
    expect(note.json().data[0]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Parent_Id' } });
    const orphan = await post('/crm/v8/Tasks', { data: [{ Subject: 'x', What_Id: { id: foreignAccount } }] });
    expect(orphan.json().data[0]).toMatchObject({ code: 'DEPENDENT_FIELD_MISSING', details: { api_name: '$se_module' } });
  });

  it('speaks the v7 paths as aliases', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/crm/v7/Leads', headers: t.auth, payload: JSON.stringify({ data: [{ Last_Name: 'v7' }] }) });
    expect(res.statusCode).toBe(201);
  });
});
