import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as ZohoSdk from '@zohocrm/typescript-sdk-8.0';

/**
 * Drives the real official SDK (@zohocrm/typescript-sdk-8.0, CommonJS) against the server
 * listening on a free local port: token, find-user, users, modules, fields, record
 * create/read/update/delete, and what the audit log recorded for it.
 */
import { firstItem, instance, objectOf, withSdk, Z } from './sdk-harness.ts';

describe('official Zoho CRM TypeScript SDK 3.0.0 against the server', () => {
  /** Every outgoing HTTP request made in this process ("METHOD protocol//host path"). */
  const outgoing: string[] = [];
  const onClientRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    outgoing.push(`${request.method} ${request.protocol}//${String(request.getHeader('host'))}${request.path}`);
  };
  beforeAll(() => diagnosticsChannel.subscribe('http.client.request.start', onClientRequest));
  afterAll(() => { diagnosticsChannel.unsubscribe('http.client.request.start', onClientRequest); });
  const sdk = withSdk();
  const { served, store } = sdk;
  let recordId: string;

  const servedSince = (start: number) => served.slice(start);

  it('initialize() gets an access token with the refresh token and labels it through find-user', async () => {
    expect(served.slice(0, 3)).toEqual([
      'POST /oauth/v2/token 200',
      'GET /crm/v8/users?type=CurrentUser 200',
      'GET /crm/v8/org 200',
    ]);
    const tokens = await store.getTokens();
    expect(tokens).toHaveLength(1);
    const [t] = tokens;
    expect(t.getRefreshToken()).toBe(sdk.client.refresh_token);
    expect(t.getAccessToken()).toEqual(expect.any(String));
    expect(Number(t.getExpiresIn())).toBeGreaterThan(0);
    expect(t.getAPIDomain()).toBe(sdk.base);
    expect(t.getUserSignature()?.getName()).toBe(`${sdk.org.admin.email}:${sdk.org.org.zgid}`);
    const principal = await sdk.env.rt.services.oauth.authenticate(t.getAccessToken()!);
    expect(principal.user.id).toBe(sdk.org.admin.id);
    expect(principal.org.id).toBe(sdk.orgId);
  });

  it('lists users with type AllUsers and CurrentUser', async () => {
    const ops = new Z.Users.UsersOperations();
    for (const type of ['AllUsers', 'CurrentUser']) {
      const params = new Z.ParameterMap();
      await params.add(Z.Users.GetUsersParam.TYPE, type);
      const res = await ops.getUsers(params);
      expect(res.getStatusCode()).toBe(200);
      const wrapper = objectOf(res, Z.Users.ResponseWrapper);
      const users = wrapper.getUsers();
      expect(users).toHaveLength(1);
      const [admin] = users;
      expect(admin.getId()).toBe(BigInt(sdk.org.admin.id));
      expect(admin.getEmail()).toBe(sdk.org.admin.email);
      expect(admin.getFullName()).toBe('Ada Admin');
      expect(admin.getStatus()).toBe('active');
      expect(admin.getProfile().getId()).toEqual(expect.any(BigInt));
      const info = wrapper.getInfo();
      expect(info.getCount()).toBe(1);
      expect(info.getMoreRecords()).toBe(false);
    }
  });

  it('lists modules', async () => {
    const res = await new Z.Modules.ModulesOperations().getModules();
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.Modules.ResponseWrapper);
    const modules = wrapper.getModules();
    const names = modules.map((m) => m.getAPIName());
    expect(names).toEqual(expect.arrayContaining(['Leads', 'Contacts', 'Accounts', 'Deals']));
    const leads = modules.find((m) => m.getAPIName() === 'Leads')!;
    expect(leads.getId()).toEqual(expect.any(BigInt));
    expect(leads.getModuleName()).toBe('Leads');
    expect(leads.getAPISupported()).toBe(true);
    expect(leads.getGeneratedType().getValue()).toBe('default');
  });

  it('gets the fields of a module through FieldsOperations', async () => {
    const params = new Z.ParameterMap();
    await params.add(Z.Fields.GetFieldsParam.MODULE, 'Leads');
    const res = await new Z.Fields.FieldsOperations().getFields(params);
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.Fields.ResponseWrapper);
    const fields = wrapper.getFields();
    const byName = new Map(fields.map((f) => [f.getAPIName(), f]));
    expect(byName.get('Last_Name')?.getDataType()).toBe('text');
    expect(byName.get('Last_Name')?.getSystemMandatory()).toBe(true);
    expect(byName.get('Company')?.getSystemMandatory()).toBe(false);
    expect(byName.get('Email')?.getDataType()).toBe('email');
    expect(byName.get('Owner')?.getDataType()).toBe('ownerlookup');
    for (const f of fields) expect(f.getId()).toEqual(expect.any(BigInt));
  });

  it('creates Leads, with a per-item APIException for the one missing Last_Name', async () => {
    const start = served.length;
    const good = new Z.Record.Record();
    good.addFieldValue(Z.Record.Field.Leads.LAST_NAME, 'Nakamura');
    good.addFieldValue(Z.Record.Field.Leads.FIRST_NAME, 'Yuki');
    good.addFieldValue(Z.Record.Field.Leads.COMPANY, 'Zylker');
    good.addKeyValue('Email', 'yuki@zylker.example');
    const bad = new Z.Record.Record();
    bad.addFieldValue(Z.Record.Field.Leads.COMPANY, 'No Last Name Inc');
    const body = new Z.Record.BodyWrapper();
    body.setData([good, bad]);
    const res = await new Z.Record.RecordOperations('Leads').createRecords(body);
    expect(res.getStatusCode()).toBe(207);
    const wrapper = objectOf(res, Z.Record.ActionWrapper);
    const [ok, failed] = wrapper.getData();

    const success = instance(ok, Z.Record.SuccessResponse);
    expect(success.getStatus().getValue()).toBe('success');
    expect(success.getCode().getValue()).toBe('SUCCESS');
    expect(success.getMessage().getValue()).toBe('record added');
    const details = success.getDetails();
    recordId = details.get('id') as string;
    expect(recordId).toMatch(/^\d+$/);
    // The SDK types the details of a record action: Created_By becomes a MinifiedUser, Created_Time a Date.
    const createdBy = details.get('Created_By') as ZohoSdk.Users.MinifiedUser;
    expect(createdBy).toBeInstanceOf(Z.Users.MinifiedUser);
    expect(createdBy.getId()).toBe(BigInt(sdk.org.admin.id));
    expect(createdBy.getName()).toBe('Ada Admin');
    expect(details.get('Created_Time')).toBeInstanceOf(Date);

    const error = instance(failed, Z.Record.APIException);
    expect(error.getStatus().getValue()).toBe('error');
    expect(error.getCode().getValue()).toBe('MANDATORY_NOT_FOUND');
    expect(error.getDetails().get('api_name')).toBe('Last_Name');

    // The SDK fetched the field metadata of Leads itself before posting, and cached it in the resource directory.
    expect(servedSince(start)).toEqual(['GET /crm/v8/settings/fields?module=Leads 200', 'POST /crm/v8/Leads 207']);
    expect(fs.readdirSync(path.join(sdk.resourceDir, 'resources')).length).toBeGreaterThan(0);
  });

  it('reads the record back', async () => {
    const res = await new Z.Record.RecordOperations('Leads').getRecord(BigInt(recordId));
    expect(res.getStatusCode()).toBe(200);
    const wrapper = objectOf(res, Z.Record.ResponseWrapper);
    const records = wrapper.getData();
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record.getId()).toBe(BigInt(recordId));
    expect(record.getKeyValue('Last_Name')).toBe('Nakamura');
    expect(record.getKeyValue('First_Name')).toBe('Yuki');
    expect(record.getKeyValue('Company')).toBe('Zylker');
    expect(record.getKeyValue('Email')).toBe('yuki@zylker.example');
    expect(record.getCreatedBy().getId()).toBe(BigInt(sdk.org.admin.id));
    expect(record.getCreatedBy().getName()).toBe('Ada Admin');
    expect(record.getCreatedTime()).toBeInstanceOf(Date);
    expect(Number.isNaN(record.getCreatedTime().getTime())).toBe(false);
  });

  it('updates the record', async () => {
    const change = new Z.Record.Record();
    change.addFieldValue(Z.Record.Field.Leads.COMPANY, 'Zylker Corp');
    const body = new Z.Record.BodyWrapper();
    body.setData([change]);
    const ops = new Z.Record.RecordOperations('Leads');
    const res = await ops.updateRecord(BigInt(recordId), body);
    const success = firstItem(res, 200, Z.Record.ActionWrapper, (w) => w.getData(), Z.Record.SuccessResponse);
    expect(success.getCode().getValue()).toBe('SUCCESS');
    expect(success.getMessage().getValue()).toBe('record updated');
    expect(success.getDetails().get('id')).toBe(recordId);

    const read = await ops.getRecord(BigInt(recordId));
    const [record] = (read.getObject() as ZohoSdk.Record.ResponseWrapper).getData();
    expect(record.getKeyValue('Company')).toBe('Zylker Corp');
    expect(record.getKeyValue('Last_Name')).toBe('Nakamura');
  });

  it('deletes the record, after which getRecord yields nothing', async () => {
    const ops = new Z.Record.RecordOperations('Leads');
    const res = await ops.deleteRecord(BigInt(recordId));
    const success = firstItem(res, 200, Z.Record.ActionWrapper, (w) => w.getData(), Z.Record.SuccessResponse);
    expect(success.getCode().getValue()).toBe('SUCCESS');
    expect(success.getMessage().getValue()).toBe('record deleted');
    expect(success.getDetails().get('id')).toBe(recordId);

    const gone = await ops.getRecord(BigInt(recordId));
    expect(gone.getStatusCode()).toBe(204);
    expect(gone.getObject()).toBeNull();
  });

  it('left an added, updated and deleted entry for the record in an intact audit chain', async () => {
    const entries = await sdk.env.store.db.selectFrom('audit_entries').selectAll()
      .where('org_id', '=', sdk.orgId).where('record_id', '=', recordId).orderBy('seq').execute();
    expect(entries.map((e) => e.action)).toEqual(['added', 'updated', 'deleted']);
    for (const e of entries) {
      expect(e).toMatchObject({ module: 'Leads', source: 'api', actor_id: sdk.org.admin.id, actor_name: 'Ada Admin', record_name: 'Yuki Nakamura' });
      expect(e.user_agent).toMatch(/^got /);
    }
    const update = JSON.parse(entries[1].details) as { field_history: { api_name: string; old: unknown; new: unknown }[] };
    expect(update.field_history).toEqual([expect.objectContaining({ api_name: 'Company', old: 'Zylker', new: 'Zylker Corp' })]);
    const failed = await sdk.env.store.db.selectFrom('audit_entries').select('id')
      .where('org_id', '=', sdk.orgId).where('record_name', 'like', '%No Last Name%').execute();
    expect(failed).toEqual([]);
    const verify = await sdk.env.rt.services.audit.verifyChain(sdk.orgId);
    expect(verify.ok).toBe(true);
    expect(verify.firstBreak).toBeNull();
    expect(verify.entries).toBeGreaterThanOrEqual(3);
  });

  it('never left the local server', async () => {
    const initializer = await Z.Initializer.getInitializer();
    expect(initializer.getEnvironment().getUrl()).toBe(sdk.base);
    expect(initializer.getEnvironment().getAccountsUrl()).toBe(`${sdk.base}/oauth/v2/token`);
    expect(outgoing.length).toBeGreaterThanOrEqual(served.length);
    const host = new URL(sdk.base).host;
    for (const r of outgoing) expect(r).toMatch(new RegExp(`^[A-Z]+ http://${host.replace(/\./g, '\\.')}/`));
    expect(served.length).toBeGreaterThan(0);
  });
});
