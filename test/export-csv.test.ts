import { parse } from 'csv-parse/sync';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, type TestEnv } from './helpers.ts';
import type { AuditEntryInput, FieldChange } from '../src/domain/audit.ts';
import { formatDateTime } from '../src/domain/time.ts';
import { appendAuditEntries } from '../src/store/audit-store.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import { EXPORT_COLUMNS } from '../src/services/export-csv-encoding.ts';
import { exportParts, produceParts, type ProducerMessage } from '../src/services/export-producer.ts';
import { nextPageRows } from '../src/services/export-query.ts';

/** Texts that a CSV must quote or a spreadsheet would run, in every text column of an entry. */
const NASTY = ['Ann, "The" Boss', '=HYPERLINK("http://evil.example")', '+1 555', '-2', '@SUM(A1)', '\tTabbed', '\rReturn',
  'two\nlines', 'unit\u001fseparator', 'Zoë 李', 'plain', ''];

/** A producer's parts as CSV text (inflated for a ZIP's), with their summaries, and its end. */
async function partsOf(messages: AsyncIterable<ProducerMessage>, inflate = true) {
  const parts: { csv: string; summary: ProducerMessage }[] = [];
  let bytes: Uint8Array[] = [];
  let end: ProducerMessage | null = null;
  for await (const m of messages) {
    if (m.t === 'chunk') bytes.push(m.data);
    else if (m.t === 'part') {
      const file = Buffer.concat(bytes);
      parts.push({ csv: (inflate ? zlib.inflateRawSync(file) : file).toString('utf8'), summary: m });
      bytes = [];
    } else end = m;
  }
  return { parts, end };
}

/** Entries the encoding tests write. */
const ENTRIES = 63;

describe.each(BACKENDS)('export CSV encoding (%s)', (backend) => {
  let env: TestEnv;
  let orgId: string;
  const t0 = Date.UTC(2026, 2, 8, 6, 59, 58); // around New York's change to daylight saving time

  beforeAll(async () => {
    env = await createEnv(backend);
    orgId = (await createOrg(env)).org.id;
    const inputs: AuditEntryInput[] = [];
    const changes: FieldChange[][] = [[{ api_name: 'Stage', field_label: 'Stage, "quoted"', old: null, new: '=1+1' }],
      [{ api_name: 'Tags', field_label: 'Tags', old: ['a', 'b'], new: [] },
        { api_name: 'Amount', field_label: 'Amount', old: 0.1 + 0.2, new: 1e21 },
        { api_name: 'Account_Name', field_label: 'Account', old: { id: '1', name: 'Acme' }, new: { id: '2' } },
        { api_name: 'Flag', field_label: 'Flag', old: true, new: { x: 1 } }]];
    for (let i = 0; i < 60; i++) {
      const nasty = (k: number) => NASTY[(i + k) % NASTY.length];
      const nullable = (k: number) => (i % 5 === k ? null : nasty(k));
      inputs.push({
        auditedAt: t0 + i * 1000, actorType: i % 7 === 0 ? 'system' : 'user', actorId: i % 7 === 0 ? null : nasty(1),
        actorName: nasty(2), action: 'updated', module: nullable(3), recordId: nullable(4), recordName: nullable(0),
        parentModule: nullable(1), parentId: nullable(2), source: 'api', ip: nullable(3), userAgent: nullable(4),
        batchId: nullable(0), fieldHistory: i % 3 === 0 ? null : changes[i % 2], extra: i % 4 === 0 ? { note: nasty(5) } : null,
      });
    }
    // A record name longer than a chunk's buffer: its bytes take the path that allocates their own.
    inputs.push({ ...inputs[59], auditedAt: t0 + 60_000, recordName: `Huge, ${'x'.repeat(200_000)}` });
    // Bigger than a part's whole buffer, clean (its group is written on its own), and a Changes
    // cell longer than the text written in place.
    inputs.push({ ...inputs[58], auditedAt: t0 + 61_000, recordName: `Zoë ${'y'.repeat(600_000)}`, userAgent: 'plain' });
    inputs.push({ ...inputs[57], auditedAt: t0 + 62_000, fieldHistory: [{ api_name: 'Description', field_label: 'Description',
      old: null, new: `"${'z'.repeat(100_000)}"` }] });
    await env.store.db.transaction().execute((tx) => appendAuditEntries(tx, env.store.dialect, orgId, inputs));
  });
  afterAll(async () => { await env?.close(); });

  it('writes every cell as its value, quoted where needed and neutralised where a spreadsheet would run it', async () => {
    const rows = await env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId)
      .where('audited_at', '>=', t0).where('audited_at', '<=', t0 + 3_600_000).orderBy('audited_at').orderBy('seq').execute();
    expect(rows.length).toBe(ENTRIES);
    const bytes: Uint8Array[] = [];
    const parts: ProducerMessage[] = [];
    for await (const m of produceParts(env.store.rows.exportRows, { orgId, entries: ENTRIES, rowsPerFile: 100, resolved: { from: t0, to: t0 + 3_600_000,
      maxSeq: Number(rows[rows.length - 1].seq), actorIds: null, actions: null, modules: null, timeZone: 'America/New_York' } })) {
      if (m.t === 'chunk') bytes.push(m.data);
      else parts.push(m);
    }
    const file = Buffer.concat(bytes);
    const text = file.toString('utf8');
    expect(parts).toEqual([{ t: 'part', part: 0, entries: ENTRIES, first_seq: Number(rows[0].seq), last_seq: Number(rows[ENTRIES - 1].seq),
      size: file.length, sha256: createHash('sha256').update(file).digest('hex'), crc: zlib.crc32(file) },
    { t: 'end', lastSeq: Number(rows[ENTRIES - 1].seq) }]);
    expect(text.startsWith(`\uFEFF${EXPORT_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"")"`);

    const cells = parse(text.slice(1), { relax_column_count: false }) as string[][];
    expect(cells[0]).toEqual(EXPORT_COLUMNS);
    const shown = (v: string | null) => (v === null ? '' : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v);
    const display = (v: unknown): string => (v === null ? '(empty)' : Array.isArray(v) ? v.map(display).join(', ')
      : typeof v === 'object' ? ((v as { name?: string }).name ?? (v as { id?: string }).id ?? JSON.stringify(v)) : String(v));
    rows.forEach((r, i) => {
      const history = (JSON.parse(r.details) as { field_history: FieldChange[] | null }).field_history;
      const changes = history?.map((c) => `${c.field_label}: ${display(c.old)} -> ${display(c.new)}`).join('; ') ?? '';
      expect(cells[i + 1]).toEqual([formatDateTime(Number(r.audited_at), 'America/New_York'), shown(r.actor_name), shown(r.actor_id),
        r.action, shown(r.module), shown(r.record_name), shown(r.record_id), shown(r.parent_module), shown(r.parent_id), r.source,
        shown(r.ip), shown(r.user_agent), shown(r.batch_id), shown(changes), r.id, String(r.seq)]);
    });
    // The change to daylight saving time falls between two entries.
    expect(cells[2][0]).toBe('2026-03-08T01:59:59-05:00');
    expect(cells[3][0]).toBe('2026-03-08T03:00:00-04:00');
  });

  it('holds only the header for a caller whose visibility names nobody', async () => {
    const head = await env.store.db.selectFrom('audit_heads').selectAll().where('org_id', '=', orgId).executeTakeFirstOrThrow();
    const none = await partsOf(produceParts(env.store.rows.exportRows, { orgId, entries: ENTRIES, rowsPerFile: 100, resolved: { from: t0,
      to: t0 + 3_600_000, maxSeq: Number(head.last_seq), actorIds: [], actions: null, modules: null, timeZone: 'UTC' } }), false);
    expect(none.parts.map((p) => [p.csv, p.summary])).toEqual([[`\uFEFF${EXPORT_COLUMNS.join(',')}\r\n`,
      expect.objectContaining({ entries: 0, first_seq: null, last_seq: null })]]);
  });

  it('gives the same parts from two producers taking turns as from one making them all', async () => {
    const head = await env.store.db.selectFrom('audit_heads').selectAll().where('org_id', '=', orgId).executeTakeFirstOrThrow();
    const req = { orgId, entries: ENTRIES, rowsPerFile: 8, resolved: { from: t0, to: t0 + 3_600_000, maxSeq: Number(head.last_seq),
      actorIds: null, actions: null, modules: null, timeZone: 'UTC' } };
    const collect = partsOf;
    const one = await collect(produceParts(env.store.rows.exportRows, req));
    const two = await collect(exportParts(env.store, { ...req, entries: Promise.resolve(req.entries) }, true));
    expect(one.parts.length).toBe(8);
    expect(two).toEqual(one);
    const rows = one.parts.map((p) => p.csv.split('\r\n').filter(Boolean).length - 1);
    expect(rows).toEqual([8, 8, 8, 8, 8, 8, 8, 7]);
    for (const p of one.parts) {
      const file = Buffer.from(p.csv, 'utf8');
      expect(p.summary).toMatchObject({ size: file.length, sha256: createHash('sha256').update(file).digest('hex'), crc: zlib.crc32(file) });
    }
  });
});

describe.runIf(BACKENDS.includes('postgres'))('export rows through COPY (postgres)', () => {
  let env: TestEnv;
  let orgId: string;
  const t0 = Date.UTC(2026, 9, 25, 0, 30, 0); // around Europe's change back from summer time

  beforeAll(async () => {
    env = await createEnv('postgres');
    orgId = (await createOrg(env)).org.id;
    const inputs: AuditEntryInput[] = [];
    for (let i = 0; i < 90; i++) {
      const nasty = (k: number) => NASTY[(i * 7 + k) % NASTY.length];
      inputs.push({
        auditedAt: t0 + i * 60_000, actorType: 'user', actorId: String(1000 + (i % 4)), actorName: i % 3 ? 'Zoë 李' : nasty(1),
        action: 'updated', module: 'Deals', recordId: String(5000 + i), recordName: i % 5 ? `Deal ${i}` : nasty(2), parentModule: null,
        parentId: null, source: 'api', ip: '10.0.0.1', userAgent: i % 4 ? 'Mozilla/5.0' : nasty(3), batchId: null,
        fieldHistory: i % 2 ? [{ api_name: 'Stage', field_label: 'Stage', old: nasty(4), new: i % 3 ? 'Closed Won' : ['a', null, { name: 'n' }] }] : null,
        extra: null,
      });
    }
    inputs.push({ ...inputs[10], auditedAt: t0 + 95 * 60_000, recordName: 'x'.repeat(700_000) });
    await env.store.db.transaction().execute((tx) => appendAuditEntries(tx, env.store.dialect, orgId, inputs));
  });
  afterAll(async () => { await env?.close(); });

  it('gives the bytes the paged reading gives, for a single CSV and for a ZIP\'s parts', async () => {
    expect(env.store.copyOut).toBeDefined();
    const head = await env.store.db.selectFrom('audit_heads').selectAll().where('org_id', '=', orgId).executeTakeFirstOrThrow();
    for (const rowsPerFile of [1000, 16]) {
      const req = { orgId, entries: 91, rowsPerFile, resolved: { from: t0, to: t0 + 86_400_000, maxSeq: Number(head.last_seq),
        actorIds: null, actions: null, modules: null, timeZone: 'Europe/Berlin' } };
      const zip = rowsPerFile < 91;
      const copied = await partsOf(produceParts(env.store.rows.exportRows, req, { index: 0, of: 1 }, 'copy'), zip);
      const paged = await partsOf(produceParts(env.store.rows.exportRows, req, { index: 0, of: 1 }, 'pages'), zip);
      expect(copied.parts.length).toBe(zip ? 6 : 1);
      expect(copied).toEqual(paged);
      const all = copied.parts.map((p) => p.csv).join('');
      expect(all).toContain('2026-10-25T02:59:00+02:00');
      expect(all).toContain('2026-10-25T02:00:00+01:00');
      expect(all).toContain(`,${'x'.repeat(700_000)},`);
    }
  });
});

describe('an export whose entries cannot be counted', () => {
  it('fails its attempt and keeps the process up; the next attempt, with the table back, finishes', async () => {
    const env = await createEnv('sqlite');
    try {
      const org = await createOrg(env);
      const actor = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
      const job = await env.rt.services.exports.create(actor, undefined);
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        await sql`alter table audit_entries rename to audit_entries_away`.execute(env.store.db);
        const worker = createAppWorker(env.rt, { maintenance: false });
        expect(await worker.runOnce()).toBe(true);
        await new Promise((r) => setTimeout(r, 50));
        await sql`alter table audit_entries_away rename to audit_entries`.execute(env.store.db);
        expect(unhandled).toEqual([]);
        const row = await env.store.db.selectFrom('jobs').select(['status', 'attempts']).where('id', '=', job.id).executeTakeFirstOrThrow();
        expect(row).toMatchObject({ status: 'queued', attempts: 1 });
        env.advance(60_000);
        expect(await worker.runOnce()).toBe(true);
        expect((await env.rt.services.exports.get(actor, job.id)).status).toBe('Finished');
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    } finally {
      await env.close();
    }
  });
});

describe('export pages', () => {
  it('hold fewer entries the more each weighs, so a producer thread keeps to its heap', () => {
    expect(nextPageRows(0, 0)).toBe(100);
    // Typical entries (a few hundred characters): pages grow to 2,000 rows, four times a page at most.
    expect(nextPageRows(100, 100 * 400)).toBe(400);
    expect(nextPageRows(2000, 2000 * 400)).toBe(2000);
    // 100 KB of field history an entry: 83 a page (8 MB of text), not 2,000 (200 MB).
    expect(nextPageRows(2000, 2000 * 100_000)).toBe(83);
    // One entry heavier than a page's budget: one at a time, never none.
    expect(nextPageRows(1, 20_000_000)).toBe(1);
  });
});
