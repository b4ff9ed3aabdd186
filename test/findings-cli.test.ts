import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDirs } from './cli-runner.ts';
import { createEnv, createOrg } from './helpers.ts';

const tempDir = tempDirs('findings');

/** Runs the CLI in `cwd` (no --data-dir unless given). */
const run = (cwd: string, ...args: string[]) => runCli(args, { cwd, env: { AUDITRAIL_DATA_DIR: '' } });

const entry = (id: number, at: string, action: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  id: String(4_000_000_000_000_000_000 + id), audited_time: at, action, done_by: { id: '111', name: 'Priya Patel' },
  module: { api_name: 'Users', id: null }, record: null, source: 'api', ip_address: '203.0.113.9', ...extra });

describe('auditrail findings evaluate', () => {
  it('runs the detectors over a JSON-lines file, prints the API\'s shape, and writes nothing', async () => {
    const files = tempDir();
    const cwd = tempDir();
    const lines = Array.from({ length: 12 }, (_, i) => entry(i, `2026-03-02T03:${String(10 + i).padStart(2, '0')}:00+00:00`, 'login_failed',
      { details: { client_id: '1000.ABC', reason: 'invalid_client_secret' } }));
    // The audit log API answers newest first: the file may come in either order.
    writeFileSync(path.join(files, 'entries.jsonl'), `${lines.reverse().join('\n')}\n\n`);
    writeFileSync(path.join(files, 'users.json'), JSON.stringify({ users: [{ id: '111', full_name: 'Priya Patel (Sales)',
      profile: { id: '9', name: 'Standard' } }] }));
    const r = await run(cwd, 'findings', 'evaluate', '--entries', path.join(files, 'entries.jsonl'), '--users', path.join(files, 'users.json'),
      '--time-zone', 'Asia/Kolkata');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { findings } = JSON.parse(r.stdout);
    expect(findings).toEqual([{
      id: '4000000000000000000', kind: 'failed_login_burst', severity: 'medium', user: { id: '111', name: 'Priya Patel (Sales)' },
      started_at: '2026-03-02T08:40:00+05:30', ended_at: '2026-03-02T08:51:00+05:30',
      explanation: '12 failed sign-ins in 11 minutes for Priya Patel from 203.0.113.9 (client 1000.ABC); threshold: 10 within 10 minutes',
      entry_ids: Array.from({ length: 12 }, (_, i) => String(4_000_000_000_000_000_000 + i)),
    }]);
    // No database, no key files, no data directory: the current directory stays empty.
    expect(readdirSync(cwd)).toEqual([]);
    // Thresholds from a file, as the settings API takes them.
    writeFileSync(path.join(files, 'settings.json'), JSON.stringify({ settings: { failed_login_burst: { min_failures: 20 } } }));
    const tuned = await run(cwd, 'findings', 'evaluate', '--entries', path.join(files, 'entries.jsonl'), '--settings', path.join(files, 'settings.json'));
    expect(JSON.parse(tuned.stdout)).toEqual({ findings: [] });
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a line that is not an entry, naming the line, and a bad zone', async () => {
    const files = tempDir();
    writeFileSync(path.join(files, 'bad.jsonl'), `${entry(1, '2026-03-02T03:10:00+00:00', 'login')}\n{"id":"2","action":"login"}\n`);
    const r = await run(files, 'findings', 'evaluate', '--entries', path.join(files, 'bad.jsonl'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.jsonl:2: entry 2: audited_time must be ISO 8601/);
    const tz = await run(files, 'findings', 'evaluate', '--entries', path.join(files, 'bad.jsonl'), '--time-zone', 'Mars/Olympus');
    expect(tz.code).toBe(2);
    expect(tz.stderr).toMatch(/unknown time zone Mars\/Olympus/);
  });
});

describe('auditrail findings, scan and ack', () => {
  it('scans, lists and acknowledges, audited under the operator', async () => {
    const dir = tempDir();
    const env = await createEnv('sqlite', { dataDir: dir });
    const org = await createOrg(env);
    const admin = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    const made = await env.rt.services.records.createRecords(admin, 'Leads', Array.from({ length: 55 }, (_, i) => ({ Last_Name: `L${i}` })));
    await env.rt.services.records.deleteRecords(admin, 'Leads', made.map((m) => (m.ok ? m.row.id : '')));
    await env.close();
    const scan = await run(dir, '--data-dir', dir, 'findings', 'scan');
    expect(scan.stdout).toMatch(/^Acme: scanned \d+ entries, [1-9]\d* findings made or extended$/m);
    const list = await run(dir, '--data-dir', dir, 'findings', '--json', '--kind', 'mass_deletion');
    const [f] = JSON.parse(list.stdout).findings;
    expect(f).toMatchObject({ kind: 'mass_deletion', user: { id: org.admin.id }, explanation: 'deleted 55 Leads in 1 minute; no baseline yet, threshold: 50' });
    const table = await run(dir, '--data-dir', dir, 'findings', '--kind', 'mass_deletion');
    expect(table.stdout).toContain(`${f.id}  `);
    expect((await run(dir, '--data-dir', dir, 'findings', '--kind', 'nope')).stderr).toMatch(/unknown finding kind nope/);
    const ack = await run(dir, '--data-dir', dir, 'findings', 'ack', f.id, '--note', 'spring cleaning');
    expect(ack.code).toBe(0);
    expect(ack.stdout).toMatch(/^acknowledged \d+ \(mass_deletion: Ada Admin\)/);
    expect((await run(dir, '--data-dir', dir, 'findings', '--kind', 'mass_deletion')).stdout).toMatch(/\[acknowledged\]/);
    const again = await run(dir, '--data-dir', dir, 'findings', 'ack', f.id);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/NOT_ALLOWED: the finding was already acknowledged by auditrail CLI/);
  });
});
