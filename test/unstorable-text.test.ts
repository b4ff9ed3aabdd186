import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BACKENDS, withApp } from './helpers.ts';
import { isStorableText } from '../src/domain/text.ts';
import { recomputeHash } from '../src/services/audit-service.ts';
import { systemActor } from '../src/services/context.ts';

describe.each(BACKENDS)('text that cannot be stored exactly on %s', (backend) => {
  const t = withApp({ backend });

  const post = (url: string, payload: string) =>
    t.app.inject({ method: 'POST', url, headers: { ...t.auth, 'content-type': 'application/json' }, payload });

  it('refuses a lone surrogate in a record field per item, and the chain stays intact', async () => {
    const res = await post('/crm/v8/Leads', '{"data":[{"Last_Name":"\\ud800"}]}');
    expect(res.statusCode).toBe(400);
    expect(res.json().data[0]).toMatchObject({ code: 'INVALID_DATA', status: 'error',
      details: { api_name: 'Last_Name', json_path: '$.data[0].Last_Name' } });
    const v = await t.env.rt.services.audit.verifyChain(t.orgId);
    expect(v.ok).toBe(true);
  });

  it('refuses a NUL in item 58 of 100 alone and writes the other 99', async () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ Last_Name: i === 57 ? 'Nul\u0000Byte' : `Lead ${i}`, Company: 'Batch' }));
    const res = await post('/crm/v8/Leads', JSON.stringify({ data: items }));
    expect(res.statusCode).toBe(207);
    const data = res.json().data as { status: string; code: string; details: Record<string, unknown> }[];
    expect(data.filter((d) => d.status === 'success')).toHaveLength(99);
    expect(data[57]).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'Last_Name', json_path: '$.data[57].Last_Name' } });
    const stored = await t.env.store.db.selectFrom('records').select('id').where('org_id', '=', t.orgId)
      .where('name', 'like', 'Lead %').execute();
    expect(stored).toHaveLength(99);
    expect((await t.env.rt.services.audit.verifyChain(t.orgId)).ok).toBe(true);
  });

  it('refuses a lone surrogate in an object key, a note, a filter value and a user name', async () => {
    const key = await post('/crm/v8/Leads', '{"data":[{"Last_Name":"K","\\udc00x":"y"}]}');
    expect(key.json().data[0]).toMatchObject({ code: 'INVALID_DATA' });
    const lead = (await post('/crm/v8/Leads', '{"data":[{"Last_Name":"Parent"}]}')).json().data[0].details.id as string;
    const note = await post(`/crm/v8/Leads/${lead}/Notes`, '{"data":[{"Note_Content":"x\\ud83d"}]}');
    expect(note.json().data[0]).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.data[0].Note_Content' } });
    const filter = await t.app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log?action=dele%00ted', headers: t.auth });
    expect(filter.statusCode).toBe(400);
    expect(filter.json()).toMatchObject({ code: 'INVALID_DATA', status: 'error', details: { param_name: 'action' } });
    const user = await post('/crm/v8/users', '{"users":[{"last_name":"\\ud800","email":"s@acme.example","role":"x","profile":"y"}]}');
    expect(user.statusCode).toBe(400);
    expect(user.json()).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.users[0].last_name' } });
    expect((await t.env.rt.services.audit.verifyChain(t.orgId)).ok).toBe(true);
  });

  it('refuses the text even where no check at the door ran (the audit store itself)', async () => {
    await expect(t.env.rt.services.records.createRecords({ ...systemActor(t.orgId), userAgent: 'bad\u0000agent' }, 'Leads',
      [{ Last_Name: 'Fine' }])).rejects.toMatchObject({ code: 'INVALID_DATA' });
    const fine = await t.env.store.db.selectFrom('records').select('id').where('org_id', '=', t.orgId).where('name', '=', 'Fine').execute();
    expect(fine).toHaveLength(0);
  });

  // Invariant 3: what is hashed is exactly what is stored and read back, for any text that is
  // accepted; anything else is refused before it is written.
  it('hashes exactly what it stores and reads back, for arbitrary Unicode', async () => {
    const actor = systemActor(t.orgId);
    await fc.assert(fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }),
      async (name, agent) => {
        const who = { ...actor, name: agent || 'System', userAgent: agent };
        const r = await t.env.rt.services.records.createRecords(who, 'Leads', [{ Last_Name: name || 'x', Description: name }])
          .then((res) => res[0], (e: unknown) => ({ ok: false as const, error: e }));
        if (!isStorableText(name)) {
          expect(r.ok).toBe(false);
          return;
        }
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const row = await t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
          .where('record_id', '=', r.row.id).executeTakeFirstOrThrow();
        expect(row.record_name).toBe(name || 'x');
        expect(row.user_agent).toBe(agent);
        const history = JSON.parse(row.details).field_history as { api_name: string; new: unknown }[];
        expect(history.find((f) => f.api_name === 'Description')?.new).toBe(name);
        expect(recomputeHash(row)).toBe(row.hash);
      }), { numRuns: 150 });
    expect((await t.env.rt.services.audit.verifyChain(t.orgId)).ok).toBe(true);
  });
});
