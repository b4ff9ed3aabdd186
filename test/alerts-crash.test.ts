import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startSmtp, startWebhookReceiver } from './alert-peers.ts';
import { openStore } from '../src/store/db.ts';
import { BIN, runCli } from './cli-runner.ts';

/**
 * The seed's example end to end, in real processes killed with SIGKILL: a trainee deletes a
 * Deal through the API of `auditrail serve --no-worker`, which is killed right after; then an
 * `auditrail worker` commits the rule's deliveries and is killed while the webhook is in
 * flight; a second worker delivers it again. The administrator's mailbox (a real SMTP server)
 * and the webhook receiver (which checks the signature) get the alert: repeated maybe, lost never.
 */

const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const cli = (dataDir: string, env: Record<string, string>, ...args: string[]) => runCli(['--data-dir', dataDir, ...args], { env });

/** Starts a long-running command (or, with `script`, a script) and resolves once its standard output shows `ready`. */
function start(dataDir: string, env: Record<string, string>, ready: RegExp, ...args: string[]) {
  const argv = args[0].endsWith('.ts') ? ['--import', 'tsx', ...args] : [BIN, '--data-dir', dataDir, ...args];
  const child = spawn(process.execPath, argv, { env: { ...process.env, DATABASE_URL: '', AUDITRAIL_DATA_DIR: dataDir, ...env } });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  return new Promise<ChildProcessWithoutNullStreams>((resolve, reject) => {
    child.on('exit', (code, signal) => reject(new Error(`${args[0]} exited (${code ?? signal}): ${out}\n${err}`)));
    const poll = setInterval(() => { if (ready.test(out)) { clearInterval(poll); resolve(child); } }, 25);
  });
}

const killed = (child: ChildProcessWithoutNullStreams) => new Promise<void>((resolve) => {
  child.removeAllListeners('exit');
  child.on('exit', () => resolve());
  child.kill('SIGKILL');
});

describe('alerts survive kill -9 between commit and delivery', () => {
  // Six processes start one after another on a shared machine: a generous limit, no timing asserted.
  it('a trainee deletes a Deal; "Delete, Deals, not Administrator" emails the administrator and calls the webhook, after two SIGKILLs', { timeout: 240_000 }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'auditrail-alerts-'));
    dirs.push(dir);
    const smtp = await startSmtp();
    // While the first worker runs, no webhook request gets an answer: it is killed meanwhile. (On a
    // loaded machine it may outlive its 1-second claim and send again before the kill: that one
    // hangs too, so the delivery is still pending when it dies.)
    let answering = false;
    const hook = await startWebhookReceiver({ behaviour: () => (answering ? 200 : 'hang') });
    const env = { AUDITRAIL_SMTP_URL: smtp.url, AUDITRAIL_SMTP_FROM: 'auditrail <alerts@zylker.test>', AUDITRAIL_LOG_LEVEL: 'silent',
      AUDITRAIL_WORKER_LEASE_MS: '1000' };
    try {
      const org = await cli(dir, env, 'org', 'create', '--name', 'Zylker', '--admin-email', 'admin@zylker.test', '--json');
      expect(org.code, org.stderr).toBe(0);
      expect((await cli(dir, env, 'user', 'create', '--email', 'tim@zylker.test', '--first-name', 'Tim', '--last-name', 'Trainee',
        '--role', 'Manager', '--profile', 'Standard')).code).toBe(0);
      const client = await cli(dir, env, 'client', 'create', '--user', 'tim@zylker.test', '--json');
      expect(client.code, client.stderr).toBe(0);
      const creds = JSON.parse(client.stdout) as { client_id: string; client_secret: string; refresh_token: string };
      const rule = await cli(dir, env, 'alert', 'create', '--name', 'Delete, Deals, not Administrator', '--action', 'deleted',
        '--module', 'Deals', '--not-profile', 'Administrator', '--email', 'admin@zylker.test', '--webhook', hook.url, '--json');
      expect(rule.code, rule.stderr).toBe(0);
      const { alert_rule: created, webhook_secret: secret } = JSON.parse(rule.stdout) as { alert_rule: { id: string }; webhook_secret: string };
      expect(secret).toBeTruthy();
      hook.setSecret(secret);
      // A batching webhook from the CLI (disabled: it only shows the option's round trip), and a batch size out of range.
      const batched = await cli(dir, env, 'alert', 'create', '--name', 'New Leads in tens', '--action', 'added', '--module', 'Leads',
        '--webhook', hook.url, '--webhook-batch', '10', '--disabled', '--json');
      expect(batched.code, batched.stderr).toBe(0);
      expect(JSON.parse(batched.stdout).alert_rule.actions).toEqual([{ type: 'webhook', url: hook.url, batch_size: 10 }]);
      const listed = await cli(dir, env, 'alert', 'list');
      expect(listed.stdout).toContain('profile != Administrator');
      expect(listed.stdout).toContain(`webhook ${hook.url} (up to 10 entries a POST)`);
      const tooBig = await cli(dir, env, 'alert', 'create', '--name', 'Too big', '--action', 'added', '--webhook', hook.url, '--webhook-batch', '101');
      expect(tooBig.code).not.toBe(0);
      expect(tooBig.stderr).toMatch(/batch_size must be a whole number from 1 to 100/);

      // 1. The API alone (no worker, as `serve --no-worker`): the trainee's deletion commits, then the server is killed.
      const port = 40000 + Math.floor(Math.random() * 20000);
      const serve = await start(dir, { ...env, AUDITRAIL_PORT: String(port) }, /listening/, 'test/fixtures/api-only.ts');
      const base = `http://127.0.0.1:${port}`;
      const token = await (await fetch(`${base}/oauth/v2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', ...creds }).toString() })).json() as { access_token: string };
      const auth = { authorization: `Zoho-oauthtoken ${token.access_token}`, 'content-type': 'application/json' };
      const made = await (await fetch(`${base}/crm/v8/Deals`, { method: 'POST', headers: auth,
        body: JSON.stringify({ data: [{ Deal_Name: 'Umbrella renewal', Stage: 'Qualification' }] }) })).json() as { data: { details: { id: string } }[] };
      const dealId = made.data[0].details.id;
      const del = await fetch(`${base}/crm/v8/Deals?ids=${dealId}`, { method: 'DELETE', headers: { authorization: auth.authorization } });
      expect(del.status).toBe(200);
      await killed(serve);
      expect(hook.hooks).toHaveLength(0);

      // 2. A worker commits the deliveries and sends them; it is killed while the webhook is in flight.
      const first = await start(dir, env, /worker .* running/, 'worker');
      await hook.waitFor(1);
      await killed(first);
      const store = await openStore({ dataDir: dir, migrate: false });
      const pending = await store.db.selectFrom('alert_deliveries').select(['channel', 'status']).where('channel', '=', 'webhook').execute();
      await store.close();
      expect(pending).toEqual([{ channel: 'webhook', status: 'pending' }]);

      // 3. A new worker takes the lapsed claim over and delivers again: same key, valid signature.
      answering = true;
      const lostCount = hook.hooks.length;
      const second = await start(dir, env, /worker .* running/, 'worker');
      await hook.waitFor(lostCount + 1);
      while (smtp.mails.length === 0) await new Promise((r) => setTimeout(r, 50));
      second.kill('SIGTERM');
      const [lost, delivered] = [hook.hooks[0], hook.hooks[lostCount]];
      for (const h of [lost, delivered]) {
        expect(h.signed).toBe(true);
        expect(h.body).toMatchObject({ event: 'alert.triggered', rule: { id: created.id, name: 'Delete, Deals, not Administrator' },
          entry: { action: 'deleted', module: { api_name: 'Deals' }, record: { id: dealId, name: 'Umbrella renewal' }, done_by: { name: 'Tim Trainee' } } });
      }
      expect(delivered.headers['idempotency-key']).toBe(lost.headers['idempotency-key']);
      expect(delivered.body.attempt).toBeGreaterThan(1);
      // The administrator's email arrived (at least once), naming who did what.
      expect(smtp.mails.length).toBeGreaterThanOrEqual(1);
      expect(smtp.mails[0].to).toEqual(['admin@zylker.test']);
      expect(smtp.mails[0].data).toContain('Tim Trainee');
      expect(smtp.mails[0].data).toContain('Umbrella renewal');
      const dead = await cli(dir, env, 'alert', 'deliveries', '--json');
      const rows = (JSON.parse(dead.stdout) as { alert_deliveries: { channel: string; status: string }[] }).alert_deliveries;
      expect(rows.map((r) => [r.channel, r.status]).sort()).toEqual([['email', 'delivered'], ['webhook', 'delivered']]);
    } finally {
      await hook.close();
      await smtp.close();
    }
  });
});
