import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, silentLogger, type TestEnv } from './helpers.ts';
import { createRuntime, type Runtime } from '../src/services/runtime.ts';
import { createMailer } from '../src/services/mailer.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import type { Actor } from '../src/services/context.ts';

interface Mail { to: string[]; data: string }
interface Hook { body: string; signature: string; key: string }

/** The decoded attachments of a raw MIME message, by file name. */
function attachments(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of raw.split(/\r\n--[^\r\n]+/)) {
    const name = /filename="?([^"\r\n;]+)"?/.exec(part)?.[1];
    if (!name) continue;
    const [head, ...rest] = part.split('\r\n\r\n');
    const body = rest.join('\r\n\r\n');
    out.set(name, /base64/i.test(head) ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8') : body);
  }
  return out;
}

describe.each(BACKENDS)('scheduled reports on %s', (backend) => {
  let env: TestEnv;
  let smtp: SMTPServer;
  let hooks: Server;
  const mails: Mail[] = [];
  const hookCalls: Hook[] = [];
  let runtimes: Runtime[] = [];
  let closeSecond: (() => Promise<void>) | undefined;
  const actors: Record<string, Actor> = {};
  const ids: Record<string, string> = {};
  let reportId = '';
  let secret = '';

  beforeAll(async () => {
    smtp = new SMTPServer({ authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
      onData(stream, session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => { data += c.toString('utf8'); });
        stream.on('end', () => { mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data }); done(); });
      } });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    hooks = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
      req.on('end', () => {
        hookCalls.push({ body, signature: String(req.headers['x-auditrail-signature']), key: String(req.headers['idempotency-key']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));

    env = await createEnv(backend);
    env.setNow(Date.parse('2026-03-30T06:00:00Z'));
    const mailer = () => createMailer(`smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`, 'auditrail <reports@acme.test>');
    runtimes = [createRuntime(env.store, silentLogger, { clock: env.now, mailer: mailer() })];
    // A second worker: on PostgreSQL its own connection pool, as another node would have.
    if (backend === 'postgres') {
      const second = await env.second();
      closeSecond = second.close;
      runtimes.push(createRuntime(second.rt.store, silentLogger, { clock: env.now, mailer: mailer() }));
    } else {
      runtimes.push(createRuntime(env.store, silentLogger, { clock: env.now, mailer: mailer() }));
    }
    const org = await createOrg(env); // Asia/Kolkata
    const dir = env.rt.services.directory;
    const admin = await dir.actorForUser(org.org.id, org.admin.id);
    const lead = (await dir.createRole(admin, { name: 'Lead', reporting_to: { id: org.roles.ceo.id } })).id;
    const trainee = (await dir.createRole(admin, { name: 'Trainee', reporting_to: { id: lead } })).id;
    const other = (await dir.createRole(admin, { name: 'Other', reporting_to: { id: org.roles.ceo.id } })).id;
    for (const [key, role] of [['manager', lead], ['trainee', trainee], ['peer', other]]) {
      ids[key] = (await dir.createUser(admin, { first_name: key, last_name: 'X', email: `${key}@acme.example`, role: { id: role },
        profile: { id: org.profiles.standard.id } })).id;
      actors[key] = await dir.actorForUser(org.org.id, ids[key]);
    }
    actors.admin = admin;
    // 31 March in Kolkata: the trainee adds two leads, the manager one, the peer one.
    env.setNow(Date.parse('2026-03-31T06:00:00Z'));
    for (const who of ['trainee', 'trainee', 'manager', 'peer']) await env.rt.services.records.createRecords(actors[who], 'Leads', [{ Last_Name: who }]);
    env.setNow(Date.parse('2026-03-31T20:00:00Z'));
    const created = await env.rt.services.reports.create(actors.manager, {
      name: 'Yesterday by person', query: { group_by: 'done_by,action', range: 'yesterday', action: 'added', module: 'Leads' },
      schedule: { frequency: 'daily', time: '08:00' },
      delivery: { emails: ['manager@acme.example'], webhook_url: `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook` },
    });
    reportId = created.row.id;
    secret = created.webhookSecret!;
  });

  afterAll(async () => {
    await closeSecond?.();
    await env?.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    await new Promise<void>((resolve) => hooks.close(() => resolve()));
  });

  const runs = () => env.store.db.selectFrom('report_runs').selectAll().where('report_id', '=', reportId).orderBy('period_start').execute();

  /** Runs both workers until `done` holds (a bounded number of polls, no clock involved). */
  async function workUntil(done: () => Promise<boolean>) {
    const workers = runtimes.map((rt, i) => createAppWorker(rt, { id: `w${i}`, pollMs: 20 }));
    for (const w of workers) w.start();
    try {
      for (let i = 0; i < 500 && !(await done()); i++) await new Promise((r) => setTimeout(r, 20));
      // And more turns of both, in which nothing more may happen.
      for (let i = 0; i < 5; i++) await Promise.all(workers.map((w) => w.runOnce()));
      await Promise.all(runtimes.map((rt) => rt.services.reports.queueDueRuns()));
      for (let i = 0; i < 5; i++) await Promise.all(workers.map((w) => w.runOnce()));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  }

  it('runs once per period across two workers, emails the CSV and calls the signed webhook, with the owner\'s visibility', async () => {
    // Nothing fired yet: the schedule was set after 08:00 on the 31st.
    expect(await runtimes[0].services.reports.queueDueRuns()).toBe(0);
    env.setNow(Date.parse('2026-04-01T03:00:00Z')); // 08:30 in Kolkata: today's 08:00 has fired
    await workUntil(async () => (await runs()).some((r) => r.status === 'delivered') && mails.length > 0 && hookCalls.length > 0);
    const [run, ...more] = await runs();
    expect(more).toEqual([]);
    expect(run).toMatchObject({ status: 'delivered', period_start: Date.parse('2026-04-01T02:30:00Z'),
      range_from: Date.parse('2026-03-30T18:30:00Z'), range_to: Date.parse('2026-03-31T18:30:00Z') - 1 });
    expect(Number(run.row_count)).toBe(2);
    const jobs = await env.store.db.selectFrom('jobs').selectAll().where('kind', '=', 'report_run').execute();
    expect(jobs.map((j) => [j.id, j.status])).toEqual([[`report_run:${reportId}@2026-04-01T02:30:00.000Z`, 'done']]);

    expect(mails).toHaveLength(1);
    expect(mails[0].to).toEqual(['manager@acme.example']);
    expect(mails[0].data).toMatch(/Subject: auditrail report: Yesterday by person/);
    expect(mails[0].data).toContain('text/html');
    const files = attachments(mails[0].data);
    const csv = files.get('Yesterday-by-person-2026-04-01.csv')!;
    expect(csv.replace(/^\uFEFF/, '').trim().split(/\r?\n/)).toEqual([
      'done_by_id,done_by_name,action,count', `${ids.trainee},trainee X,added,2`, `${ids.manager},manager X,added,1`]);

    expect(hookCalls).toHaveLength(1);
    const hook = hookCalls[0];
    expect(hook.signature).toBe(`sha256=${createHmac('sha256', secret).update(hook.body).digest('hex')}`);
    expect(hook.key).toBe(run.id);
    const body = JSON.parse(hook.body);
    expect(body).toMatchObject({ event: 'report.run', report: { id: reportId }, rows: [
      { done_by: { id: ids.trainee }, action: 'added', count: 2 }, { done_by: { id: ids.manager }, action: 'added', count: 1 }] });
    expect(JSON.stringify(body)).not.toContain(ids.peer);

    // The run is audited as a read of the audit log, on the owner's behalf.
    const entry = await env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'audit_log_viewed')
      .where('record_id', '=', reportId).executeTakeFirstOrThrow();
    expect(entry.actor_type).toBe('system');
    expect(JSON.parse(entry.details).extra).toMatchObject({ report: { scheduled: true, owner_id: ids.manager, run_id: run.id },
      delivered_to: { emails: ['manager@acme.example'] } });
    // And visible through the API's service.
    expect((await env.rt.services.reports.runs(actors.manager, reportId)).map((r) => r.status)).toEqual(['delivered']);
  });

  it('gives an owner who lost the audit log permission nothing more: the next run is skipped and nothing is sent', async () => {
    const dir = env.rt.services.directory;
    const org = await dir.getOrg(actors.admin.orgId);
    const profiles = await env.store.db.selectFrom('profiles').selectAll().where('org_id', '=', org!.id).execute();
    const standard = profiles.find((p) => p.name === 'Standard')!;
    const blind = await dir.cloneProfile(actors.admin, standard.id, { name: 'No audit', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: {} } });
    await dir.updateUser(actors.admin, ids.manager, { profile: { id: blind.id } });
    env.setNow(Date.parse('2026-04-02T03:00:00Z'));
    await workUntil(async () => (await runs()).length === 2 && (await runs())[1].status !== 'running');
    const [, second] = await runs();
    expect(second).toMatchObject({ status: 'skipped', error: 'the report\'s owner no longer has the audit log permission' });
    expect(mails).toHaveLength(1);
    expect(hookCalls).toHaveLength(1);
  });
});
