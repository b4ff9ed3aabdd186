import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Command, Help } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../src/main.ts';
import { buildProgram } from '../src/cli/program.ts';
import type { CliCommand, CliContext } from '../src/cli/command.ts';
import { recordsExportCommand, type RecordsExportFlags } from '../src/cli/commands/records.ts';
import { BACKENDS, withApp } from './helpers.ts';

const load = (module: string) => import(/* @vite-ignore */ new URL(`../src/${module}`, import.meta.url).href) as Promise<{ command: CliCommand }>;
const unused = () => { throw new Error('not in this test'); };
const ctx: CliContext = { action: () => async () => {}, config: unused, withRuntime: unused, workerStarter: unused };

describe('the command table in main.ts', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('lists %s as its module defines it', async (_name, entry) => {
    const cmd = new Command(entry.name);
    (await load(entry.module)).command.define(cmd, ctx);
    expect(new Help().subcommandTerm(cmd)).toBe(entry.term);
  });

  it('loads no command for --help, and only the command named otherwise', async () => {
    const loads = async (...args: string[]) => {
      const loaded: string[] = [];
      await buildProgram(COMMANDS, ['node', 'auditrail', ...args], () => ctx, (m) => { loaded.push(m); return load(m); });
      return loaded;
    };
    expect(await loads('--help')).toEqual([]);
    expect(await loads()).toEqual([]);
    expect(await loads('--data-dir', 'verify', 'org', 'list')).toEqual(['cli/commands/org.ts']);
    expect(await loads('verify', '--since', '3')).toEqual(['cli/commands/verify.ts']);
    expect(await loads('help', 'client')).toEqual(['cli/commands/client.ts']);
    expect(await loads('serve', '--port', '0')).toEqual(['entry/serve.ts']);
  });

  it('answers --version, shows help and succeeds when bare, and still refuses an unknown command', async () => {
    const { main } = await import('../src/main.ts');
    const { version } = (await import('../package.json', { with: { type: 'json' } })).default;
    const writes: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => { writes.push(String(chunk)); return true; }) as typeof process.stdout.write;
    try {
      expect(await main(['node', 'auditrail', '--version'])).toBe(0);
      expect(await main(['node', 'auditrail'])).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join('')).toContain(`${version}\n`);
    expect(writes.join('')).toMatch(/Usage: auditrail/);
    expect(await main(['node', 'auditrail', 'nosuch'])).toBe(1);
  });
});

for (const backend of BACKENDS) describe(`auditrail records export (${backend})`, () => {
  const t = withApp({ backend });
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'auditrail-records-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const exported = () => t.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', t.orgId)
    .where('action', '=', 'exported').orderBy('seq').execute();
  const quiet = <T>(run: () => Promise<T>) => async () => {
    const spies = [vi.spyOn(process.stdout, 'write').mockReturnValue(true), vi.spyOn(process.stderr, 'write').mockReturnValue(true)];
    try { return await run(); } finally { spies.forEach((s) => s.mockRestore()); }
  };
  const run = (flags: RecordsExportFlags, stdout?: Writable) => quiet(() => recordsExportCommand(t.env.rt, flags, stdout))();

  beforeAll(async () => {
    const dir = t.env.rt.services.directory;
    const rows = Array.from({ length: 30 }, (_, i) => ({ Last_Name: `Lead ${String(i).padStart(2, '0')}`,
      Company: i === 3 ? '=cmd|"/c calc"!A1' : i % 3 === 0 ? 'Acme, Inc.' : 'Globex', Lead_Source: i < 10 ? 'Web Download' : 'Cold Call' }));
    await t.env.rt.services.records.createRecords(t.admin, 'Leads', rows);
    const noExport = await dir.cloneProfile(t.admin, t.org.profiles.standard.id, { name: 'No Export', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: false } }, settings: { audit_log: true } } });
    await dir.createUser(t.admin, { last_name: 'Trainee', email: 'trainee@acme.example', role: { id: t.org.roles.manager.id },
      profile: { id: noExport.id } });
  });

  it('writes the visible records to the file and audits who, how many, which fields and which filter, before the first byte', async () => {
    const file = path.join(tmp, 'leads.csv');
    const criteria = path.join(tmp, 'criteria.json');
    writeFileSync(criteria, JSON.stringify({ group_operator: 'and', group: [
      { field: { api_name: 'Lead_Source' }, comparator: 'equal', value: 'web download' },
      { field: { api_name: 'Company' }, comparator: 'not_equal', value: 'Globex' }] }));
    expect(await run({ module: 'leads', fields: 'Company,Last_Name', criteria, output: file })).toBe(0);
    const lines = readFileSync(file, 'utf8').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(lines[0]).toBe('id,Company,Last_Name');
    expect(lines.slice(1).map((l) => l.split(',').at(-1))).toEqual(['Lead 00', 'Lead 03', 'Lead 06', 'Lead 09']);
    expect(lines[1]).toMatch(/^\d{19},"Acme, Inc\.",Lead 00$/);
    expect(lines[2]).toMatch(/^\d{19},"'=cmd\|""\/c calc""!A1",Lead 03$/);
    const [e] = await exported();
    expect(e).toMatchObject({ module: 'Leads', actor_id: t.org.admin.id, source: 'api', record_id: null });
    expect(e.user_agent).toMatch(/^auditrail CLI \(.+@.+\)$/);
    expect(JSON.parse(e.details).extra).toEqual({ count: 4, format: 'csv', fields: ['Company', 'Last_Name'], criteria: {
      group_operator: 'and', group: [{ field: { api_name: 'Lead_Source' }, comparator: 'equal', value: 'web download' },
        { field: { api_name: 'Company' }, comparator: 'not_equal', value: 'Globex' }] } });

    // On standard output, with the criteria inline: the entry is there when the first byte is written.
    const seen: { chunks: string[]; entriesAtFirstByte?: number } = { chunks: [] };
    const sink = new Writable({ write(chunk, _enc, done) {
      if (seen.entriesAtFirstByte === undefined) {
        exported().then((all) => { seen.entriesAtFirstByte = all.length; seen.chunks.push(String(chunk)); done(); }, done);
      } else { seen.chunks.push(String(chunk)); done(); }
    } });
    expect(await run({ module: 'Leads', criteria: '{"field":{"api_name":"Last_Name"},"comparator":"in","value":["lead 01","Lead 02"]}' }, sink)).toBe(0);
    expect(seen.entriesAtFirstByte).toBe(2);
    const csv = seen.chunks.join('').replace(/^\uFEFF/, '').trimEnd().split('\r\n');
    expect(csv).toHaveLength(3);
    expect(csv[0].split(',').slice(0, 3)).toEqual(['id', 'Salutation', 'First_Name']);
    expect(csv[0]).toContain(',Owner,Created_By,Modified_By,Created_Time,Modified_Time');
    expect(JSON.parse((await exported())[1].details).extra).toMatchObject({ count: 2, fields: 'all' });

    // A reader that stops early (`| head`) is no failure; anything else is.
    const closing = (code: string) => new Writable({ write(_c, _e, done) { done(Object.assign(new Error(`write ${code}`), { code })); } });
    expect(await run({ module: 'Leads', fields: 'Last_Name' }, closing('EPIPE'))).toBe(0);
    await expect(run({ module: 'Leads', fields: 'Last_Name' }, closing('EIO'))).rejects.toThrow(/EIO/);
  });

  it('refuses a user without the export permission: no file, no entry', async () => {
    const before = (await exported()).length;
    const file = path.join(tmp, 'refused.csv');
    await expect(run({ module: 'Leads', output: file, user: 'trainee@acme.example' }))
      .rejects.toMatchObject({ code: 'NO_PERMISSION', details: { permissions: ['export'] } });
    expect(existsSync(file)).toBe(false);
    await expect(run({ module: 'Leads', user: 'nobody@acme.example' })).rejects.toThrow(/no active user nobody@acme.example/);
    expect((await exported()).length).toBe(before);
  });

  it('names an unknown module, field or criterion, and writes nothing', async () => {
    const before = (await exported()).length;
    const file = path.join(tmp, 'bad.csv');
    await expect(run({ module: 'Spaceships', output: file })).rejects.toMatchObject({ code: 'INVALID_MODULE' });
    await expect(run({ module: 'Leads', fields: 'Last_Name,Shoe_Size', output: file }))
      .rejects.toMatchObject({ code: 'INVALID_DATA', message: 'the field Shoe_Size is not in Leads', details: { param_name: 'fields' } });
    await expect(run({ module: 'Leads', criteria: '{"field":{"api_name":"Shoe_Size"},"comparator":"equal","value":"9"}', output: file }))
      .rejects.toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'criteria', api_name: 'Shoe_Size', json_path: '$.field.api_name' } });
    await expect(run({ module: 'Leads', criteria: '{"field":{"api_name":"Company"},"comparator":"greater_than","value":"A"}', output: file }))
      .rejects.toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'comparator', json_path: '$.comparator' } });
    await expect(run({ module: 'Leads', criteria: path.join(tmp, 'missing.json'), output: file })).rejects.toThrow(/neither JSON nor a readable file/);
    expect(existsSync(file)).toBe(false);
    expect((await exported()).length).toBe(before);
  });
});
