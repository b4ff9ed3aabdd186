import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BIN, runCli, tempDirs } from './cli-runner.ts';

const tempDir = tempDirs('cli');

/** Runs the CLI over the data directory. */
const run = (dataDir: string, ...args: string[]) => runCli(['--data-dir', dataDir, ...args]);

/** As run, with `input` written to the command's standard input (then closed). */
const runWithInput = (dataDir: string, input: string | null, ...args: string[]) => runCli(['--data-dir', dataDir, ...args], { input });

describe('auditrail CLI', () => {
  it('migrates, creates an organisation, prints client credentials as one JSON object, and verifies', async () => {
    const dir = tempDir();
    expect((await run(dir, 'migrate')).stderr).toMatch(/applied: 0001_foundation/);
    expect((await run(dir, 'migrate')).stderr).toMatch(/up to date/);
    const org = await run(dir, 'org', 'create', '--name', 'Initech', '--admin-email', 'bill@initech.example', '--json');
    expect(org.code).toBe(0);
    const { org_id: orgId, admin_password: password } = JSON.parse(org.stdout);
    expect(orgId).toMatch(/^\d{19}$/);
    expect(password.length).toBeGreaterThanOrEqual(12);
    const client = await run(dir, 'client', 'create', '--json');
    expect(client.code).toBe(0);
    const parsed = JSON.parse(client.stdout);
    expect(Object.keys(parsed).sort()).toEqual(['client_id', 'client_secret', 'refresh_token']);
    expect(client.stdout.trim().split('\n')).toHaveLength(1);
    const scoped = await run(dir, 'client', 'create', '--json', '--scopes', 'ZohoCRM.modules.leads.READ,Bogus');
    expect(scoped.code).toBe(1);
    expect(scoped.stderr).toMatch(/invalid scope Bogus/);
    expect((await run(dir, 'role', 'create', '--name', 'Ops', '--reports-to', 'CEO')).code).toBe(0);
    expect((await run(dir, 'profile', 'clone', '--from', 'Standard', '--name', 'Ops Staff')).code).toBe(0);
    expect((await run(dir, 'user', 'create', '--email', 'peter@initech.example', '--last-name', 'Gibbons', '--role', 'Ops', '--profile', 'Ops Staff')).code).toBe(0);
    expect((await run(dir, 'user', 'update', '--email', 'peter@initech.example', '--status', 'disabled')).code).toBe(0);
    const verify = await run(dir, 'verify');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/Initech .*chain intact/);
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    const actions = db.prepare('select action from audit_entries order by seq').all().map((r) => (r as { action: string }).action);
    expect(actions).toEqual(expect.arrayContaining(['org_created', 'oauth_client_created', 'role_added', 'profile_added', 'user_added', 'user_updated']));
    db.close();
  });

  it('shows and changes organisation settings, audited, and runs retention on demand', async () => {
    const dir = tempDir();
    await run(dir, 'org', 'create', '--name', 'Keeper', '--admin-email', 'k@keeper.example');
    expect(JSON.parse((await run(dir, 'org', 'settings')).stdout)).toEqual({ audit_log_window_days: 60, retention_years: 3, legal_hold: false, recycle_bin_days: 60,
      api_requests_per_minute: 6000, audit_record_views: [] });
    expect(JSON.parse((await run(dir, 'org', 'settings', '--api-requests-per-minute', '120')).stdout)).toMatchObject({ api_requests_per_minute: 120 });
    expect((await run(dir, 'org', 'settings', '--api-requests-per-minute', '0')).stderr).toMatch(/api_requests_per_minute must be an integer from 1 to 1000000/);
    const bad = await run(dir, 'org', 'settings', '--retention-years', '11');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/retention_years must be an integer from 1 to 10/);
    expect(JSON.parse((await run(dir, 'org', 'settings', '--legal-hold', 'on', '--retention-years', '7')).stdout)).toMatchObject({ legal_hold: true, retention_years: 7 });
    expect((await run(dir, 'retention', 'run')).stdout).toMatch(/Keeper: legal hold, nothing purged/);
    await run(dir, 'org', 'settings', '--legal-hold', 'off');
    // Nothing to purge says why.
    expect((await run(dir, 'retention', 'run')).stdout).toMatch(/Keeper: purged 0 entries: the oldest entry is 0 days old, and entries are kept 7 years/);
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    expect((db.prepare("select count(*) n from audit_entries where action = 'org_updated'").get() as { n: number }).n).toBe(3);
    // Who changed it: the operating-system user and host that ran the command, not only "the CLI".
    const who = db.prepare("select distinct actor_name from audit_entries where action = 'org_updated'").all() as { actor_name: string }[];
    expect(who).toEqual([{ actor_name: `auditrail CLI (${os.userInfo().username}@${os.hostname()})` }]);
    db.close();
    expect((await run(dir, 'verify')).code).toBe(0);
  });

  it('sets a console password read from standard input, never from the command line, and signs in with it', async () => {
    const dir = tempDir();
    await run(dir, 'org', 'create', '--name', 'Pw', '--admin-email', 'p@pw.example');
    const short = await runWithInput(dir, 'short\n', 'user', 'set-password', '--email', 'p@pw.example');
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/at least 10 characters/);
    const set = await runWithInput(dir, 'a long enough passphrase\n', 'user', 'set-password', '--email', 'p@pw.example');
    expect(set.code, set.stderr).toBe(0);
    expect(set.stderr).toMatch(/password set for p@pw.example/);
    const unknown = await runWithInput(dir, 'a long enough passphrase\n', 'user', 'set-password', '--email', 'nobody@pw.example');
    expect(unknown.code).toBe(1);
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    const e = db.prepare("select actor_name, details from audit_entries where action = 'user_updated' order by seq desc").get() as { actor_name: string; details: string };
    db.close();
    expect(e.actor_name).toMatch(/^auditrail CLI \(.+@.+\)$/);
    expect(e.details).not.toContain('passphrase');
    expect((await run(dir, 'verify')).code).toBe(0);
    // The lists say what their columns are, and who holds what.
    const users = (await run(dir, 'user', 'list')).stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(users[0]).toEqual(['ID', 'EMAIL', 'NAME', 'STATUS', 'ROLE', 'PROFILE']);
    expect(users[1].slice(1)).toEqual(['p@pw.example', 'Administrator', 'active', 'CEO', 'Administrator']);
    await run(dir, 'client', 'create', '--json');
    const clients = (await run(dir, 'client', 'list')).stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(clients[0]).toEqual(['CLIENT ID', 'NAME', 'USER', 'STATUS', 'SCOPES']);
    expect(clients[1].slice(1, 4)).toEqual(['Self Client', 'p@pw.example', 'active']);
  });

  it('verify-export creates nothing and asks which key, when given none', async () => {
    const cwd = tempDir();
    const zip = path.join(cwd, 'AuditLog.zip');
    writeFileSync(zip, Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(26)]));
    const noKey = spawnSync(process.execPath, [BIN, 'verify-export', zip], { cwd, encoding: 'utf8', env: { ...process.env, AUDITRAIL_DATA_DIR: '' } });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/Pass --public-key <file>.* or --server <url>/);
    const unreachable = spawnSync(process.execPath, [BIN, 'verify-export', zip, '--server', 'http://127.0.0.1:9'], { cwd, encoding: 'utf8' });
    expect(unreachable.status).toBe(2);
    expect(unreachable.stderr).toMatch(/cannot reach http:\/\/127.0.0.1:9/);
    // No database, no key, no data directory appeared where it ran.
    expect(readdirSync(cwd)).toEqual(['AuditLog.zip']);
  });

  it('exports the audit log from the command line and checks a ZIP offline', async () => {
    const dir = tempDir();
    await run(dir, 'org', 'create', '--name', 'Exporter', '--admin-email', 'e@exporter.example');
    const criteria = path.join(dir, 'criteria.json');
    // {"criteria": ...} as Zoho's request item has it; the criteria alone and the whole body work too.
    writeFileSync(criteria, JSON.stringify({ criteria: { field: { api_name: 'action' }, comparator: 'in', value: ['user_added', 'role_added'] } }));
    const res = await run(dir, 'export', '--criteria', criteria, '--out', path.join(dir, 'out'));
    expect(res.code, res.stderr).toBe(0);
    const file = res.stdout.trim();
    expect(file).toMatch(/AuditLog-\d{19}\.csv$/);
    const rows = readFileSync(file, 'utf8').trimEnd().split('\r\n');
    expect(rows[0].startsWith('\uFEFFAudited Time,')).toBe(true);
    expect(rows.slice(1).map((r) => r.split(',')[3]).sort()).toEqual(['role_added', 'role_added', 'user_added']);
    // A CSV's signed manifest is saved beside it, and verify-export checks the pair offline.
    expect(res.stderr).toMatch(/verified: manifest signature good, 1 file, 3 entries/);
    const manifest = file.replace(/\.csv$/, '.manifest.json');
    const key = path.join(dir, 'key.json');
    const { createPublicKey } = await import('node:crypto');
    const publicPem = createPublicKey(readFileSync(path.join(dir, 'integrity', 'ed25519-private.pem'), 'utf8')).export({ type: 'spki', format: 'pem' });
    writeFileSync(key, JSON.stringify({ keys: [{ key_id: JSON.parse(readFileSync(manifest, 'utf8')).key_id, public_key: publicPem }] }));
    const good = await run(dir, 'verify-export', file, '--public-key', key);
    expect(good.code, good.stdout + good.stderr).toBe(0);
    expect(good.stdout).toMatch(/OK: signature verified, 1 file, 3 entries/);
    writeFileSync(file, readFileSync(file, 'utf8').replace('role_added', 'role_deleted'));
    const altered = await run(dir, 'verify-export', file, '--public-key', key);
    expect(altered.code).toBe(1);
    expect(altered.stdout).toMatch(/SHA-256 differs from the manifest/);
    const bad = await run(dir, 'export', '--criteria', path.join(dir, 'missing.json'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot read/);
  });

  it('commands that only read never migrate: a schema behind or ahead is refused with exit code 2 until `migrate`', async () => {
    const dir = tempDir();
    const empty = await run(dir, 'org', 'list');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/the database schema is older than this version .*from 0001_foundation.*: run `auditrail migrate`/);
    const fresh = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    expect(fresh.prepare("select count(*) n from sqlite_master where type = 'table'").get()).toEqual({ n: 0 });
    fresh.close();
    await run(dir, 'org', 'create', '--name', 'Behind', '--admin-email', 'b@behind.example');
    // The database of the version before 0008_tombstone_names: its columns and its row gone.
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    db.exec("ALTER TABLE tombstones DROP COLUMN name; ALTER TABLE tombstones DROP COLUMN deleted_by; ALTER TABLE tombstones DROP COLUMN created_by; "
      + "DELETE FROM auditrail_migrations WHERE name = '0008_tombstone_names'");
    db.close();
    for (const args of [['verify'], ['org', 'list'], ['org', 'settings'], ['user', 'list'], ['client', 'list']]) {
      const r = await run(dir, ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe('error: the database schema is older than this version (1 migration to apply, from 0008_tombstone_names): run `auditrail migrate`\n');
      expect(r.stdout).toBe('');
    }
    expect((await run(dir, 'migrate')).stderr).toMatch(/applied: 0008_tombstone_names/);
    expect((await run(dir, 'verify')).code).toBe(0);
    expect((await run(dir, 'org', 'list')).stdout).toMatch(/\tBehind\t/);
    const ahead = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    ahead.prepare('insert into auditrail_migrations (name, timestamp) values (?, ?)').run('9999_future', new Date().toISOString());
    ahead.close();
    const newer = await run(dir, 'user', 'list');
    expect(newer.code).toBe(2);
    expect(newer.stderr).toMatch(/the database schema is newer than this version of auditrail \(it has 9999_future\): upgrade auditrail/);
  });

  it('verify exits 1 and names the entry when the log was tampered with', async () => {
    const dir = tempDir();
    await run(dir, 'org', 'create', '--name', 'Victim', '--admin-email', 'v@victim.example');
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    db.exec('DROP TRIGGER audit_entries_no_update');
    const victim = db.prepare('select id, seq from audit_entries order by seq limit 1 offset 2').get() as { id: string; seq: number };
    db.prepare("update audit_entries set actor_name = 'Nobody' where id = ?").run(victim.id);
    db.close();
    const verify = await run(dir, 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain('CHAIN BROKEN, 1 problem');
    expect(verify.stdout).toContain(`entry ${victim.seq} (id ${victim.id}): its content no longer matches its hash`);
  });

  it('verify names a truncation against a heads log shipped elsewhere, after the local one was removed', async () => {
    const dir = tempDir();
    await run(dir, 'org', 'create', '--name', 'Victim', '--admin-email', 'v@victim.example');
    await run(dir, 'user', 'create', '--email', 'a@victim.example', '--last-name', 'A', '--role', 'CEO', '--profile', 'Standard');
    const first = await run(dir, 'verify');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/chain intact, \d+ entries, head \d+ \w+, no signed head yet/);
    const log = path.join(dir, 'integrity', 'heads.log');
    const signed = JSON.parse(readFileSync(log, 'utf8').trim().split('\n').at(-1)!) as { seq: number; reason: string };
    expect(signed.reason).toBe('verify');
    expect((await run(dir, 'verify')).stdout).toContain(`matches the head signed at`);
    const shipped = path.join(dir, 'shipped.log');
    writeFileSync(shipped, readFileSync(log));
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    for (const t of ['audit_entries', 'signed_heads']) db.exec(`DROP TRIGGER ${t}_no_delete`);
    db.prepare('delete from audit_entries where seq > ?').run(signed.seq - 1);
    db.prepare('delete from signed_heads').run();
    const end = db.prepare('select seq, hash from audit_entries order by seq desc limit 1').get() as { seq: number; hash: string };
    db.prepare('update audit_heads set last_seq = ?, last_hash = ?').run(end.seq, end.hash);
    db.close();
    rmSync(log);
    expect((await run(dir, 'verify')).code).toBe(0);
    const caught = await run(dir, 'verify', '--heads', shipped);
    expect(caught.code).toBe(1);
    expect(caught.stdout).toContain(`the chain ends at ${end.seq} but head ${signed.seq} was signed`);
    const since = await run(dir, 'verify', '--since', 'yesterday');
    expect(since.code).toBe(2);
    expect(since.stderr).toMatch(/--since must be a sequence number/);
  });

  it('seeds the Zylker demo with a role tree and six months of audited activity, then bulk-loads history', async () => {
    const dir = tempDir();
    const demo = await run(dir, 'demo');
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/administrator: amelia\.burrows@zylker\.com {2}password: \S+/);
    const db = new BetterSqlite3(path.join(dir, 'auditrail.db'));
    const users = db.prepare('select u.email, r.name role, p.name profile from users u join roles r on r.id = u.role_id join profiles p on p.id = u.profile_id').all() as { role: string; profile: string }[];
    expect(users).toHaveLength(13);
    expect(users.filter((u) => u.role === 'CEO' && u.profile === 'Administrator')).toHaveLength(1);
    expect(users.filter((u) => u.role.startsWith('Sales Manager'))).toHaveLength(2);
    expect(users.filter((u) => u.role.startsWith('Sales Trainee'))).toHaveLength(10);
    const modules = new Set((db.prepare('select distinct module from records').all() as { module: string }[]).map((r) => r.module));
    for (const m of ['Leads', 'Contacts', 'Accounts', 'Deals', 'Calls', 'Events', 'Tasks', 'Notes']) expect(modules.has(m)).toBe(true);
    const span = db.prepare("select min(audited_at) lo, max(audited_at) hi from audit_entries where action = 'added'").get() as { lo: number; hi: number };
    expect((span.hi - span.lo) / 86_400_000).toBeGreaterThan(150);
    const before = (db.prepare('select count(*) n from audit_entries').get() as { n: number }).n;
    db.close();
    expect((await run(dir, 'demo')).stderr).toMatch(/already present/);
    // History cannot be back-dated behind activity already in the chain...
    const late = await run(dir, 'demo', '--history', '3000');
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/cannot be back-dated/);
    // ...so it comes with a new demo, before its six months of activity, in time order.
    const fresh = tempDir();
    const history = await run(fresh, 'demo', '--history', '3000');
    expect(history.code, history.stderr).toBe(0);
    const db2 = new BetterSqlite3(path.join(fresh, 'auditrail.db'));
    const after = db2.prepare('select count(*) n, min(audited_at) lo from audit_entries').get() as { n: number; lo: number };
    const outOfOrder = db2.prepare('select count(*) n from audit_entries a join audit_entries b on b.org_id = a.org_id and b.seq = a.seq + 1 '
      + 'where b.audited_at < a.audited_at').get() as { n: number };
    db2.close();
    expect(after.n).toBe(before + 3000);
    expect((Date.now() - after.lo) / 86_400_000).toBeGreaterThan(3 * 365 - 30);
    expect(outOfOrder.n).toBe(0);
    expect((await run(fresh, 'verify')).code).toBe(0);
    // With three-year retention, retention now reaches the oldest history.
    const purge = await run(fresh, 'org', 'settings', '--retention-years', '1');
    expect(purge.code).toBe(0);
    expect((await run(fresh, 'retention', 'run')).stdout).toMatch(/Zylker: purged [1-9]\d* entries/);
  });

  it('serve on an empty database creates one Administrator, prints the login once, and answers HTTP', async () => {
    const dir = tempDir();
    const port = 40000 + Math.floor(Math.random() * 20000);
    const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), '--data-dir', dir],
      { env: { ...process.env, DATABASE_URL: '', AUDITRAIL_LOG_LEVEL: 'warn' } });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    try {
      await new Promise<void>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
        const poll = setInterval(() => { if (out.includes('listening')) { clearInterval(poll); resolve(); } }, 50);
      });
      expect(out).toMatch(/administrator login: admin@example\.com {2}password: \S+/);
      // The next steps name this server's address and data directory, so they work as printed.
      expect(out).toContain(`sign in to the console at http://127.0.0.1:${port}; create API credentials with: AUDITRAIL_DATA_DIR=${dir} npx auditrail client create`);
      const res = await fetch(`http://127.0.0.1:${port}/crm/v8/org`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'AUTHENTICATION_FAILURE', status: 'error' });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
