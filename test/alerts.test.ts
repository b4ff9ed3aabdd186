import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createEnv, createOrg, tokenFor, BACKENDS, type Auth, type TestEnv, type TestOrg } from './helpers.ts';
import { startSmtp, startWebhookReceiver } from './alert-peers.ts';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../src/services/context.ts';
import { retryDelay } from '../src/services/alert-service.ts';

/**
 * Alerts through the services and the HTTP API, with the real peers: an SMTP server and a
 * webhook receiver that checks signatures. The worker's pump is called directly here; the
 * kill -9 test (alerts-crash.test.ts) runs it in real processes.
 */
describe.each(BACKENDS)('alerts (%s)', (backend) => {
  let env: TestEnv;
  let app: FastifyInstance;
  let org: TestOrg;
  let admin: Actor;
  let trainee: Actor;
  let manager: Actor;
  let peer: Actor;
  let adminAuth: Auth;
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const pump = () => env.rt.services.alerts.pump();

  beforeAll(async () => {
    smtp = await startSmtp();
    hook = await startWebhookReceiver();
    env = await createEnv(backend, { alerts: { smtpUrl: smtp.url, smtpFrom: 'auditrail <alerts@acme.test>', claimMs: 5000 } });
    app = await createApp(env);
    org = await createOrg(env);
    const dir = env.rt.services.directory;
    admin = await dir.actorForUser(org.org.id, org.admin.id);
    // Manager (role Manager) and, below them, a trainee; a peer of the manager's role sits beside.
    const below = await dir.createRole(admin, { name: 'Trainees', reporting_to: { id: org.roles.manager.id } });
    const u = await dir.createUser(admin, { last_name: 'Trainee', first_name: 'Tom', email: 'tom@acme.test', role: { id: below.id },
      profile: { id: org.profiles.standard.id } });
    const m = await dir.createUser(admin, { last_name: 'Manager', first_name: 'Mia', email: 'mia@acme.test', role: { id: org.roles.manager.id },
      profile: { id: org.profiles.standard.id } });
    const p = await dir.createUser(admin, { last_name: 'Peer', first_name: 'Pat', email: 'pat@acme.test', role: { id: org.roles.manager.id },
      profile: { id: org.profiles.standard.id } });
    trainee = await dir.actorForUser(org.org.id, u.id);
    manager = await dir.actorForUser(org.org.id, m.id);
    peer = await dir.actorForUser(org.org.id, p.id);
    adminAuth = (await tokenFor(app, env, org.org.id)).auth;
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
    await hook?.close();
    await smtp?.close();
  });

  const createDeal = async (actor: Actor, name: string) => {
    const [r] = await env.rt.services.records.createRecords(actor, 'Deals', [{ Deal_Name: name, Stage: 'Qualification' }]);
    if (!r.ok) throw new Error(JSON.stringify(r));
    return r.row.id;
  };
  const deleteDeal = (actor: Actor, id: string) => env.rt.services.records.deleteRecords(actor, 'Deals', [id]);
  const post = (url: string, payload: unknown, auth: Auth = adminAuth) => app.inject({ method: 'POST', url, headers: auth, payload: payload as object });

  it('the seed\'s example: a trainee deletes a Deal, "Delete, Deals, not Administrator" emails the administrator and calls the signed webhook', async () => {
    const early = await createDeal(trainee, 'Deleted before the rule');
    await deleteDeal(trainee, early);
    const res = await post('/api/v1/alert-rules', {
      name: 'Delete, Deals, not Administrator',
      conditions: [{ type: 'action', operator: 'is', values: ['deleted'] }, { type: 'module', operator: 'is', values: ['Deals'] },
        { type: 'profile', operator: 'is_not', values: [org.profiles.admin.id] }],
      actions: [{ type: 'email', to: ['admin@acme.example'] }, { type: 'webhook', url: hook.url }, { type: 'notification' }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const { alert_rule: rule, webhook_secret: secret } = res.json();
    expect(secret).toMatch(/^[\w-]{40,}$/);
    hook.setSecret(secret);
    // The secret is answered once: never in a read.
    const read = await app.inject({ method: 'GET', url: `/api/v1/alert-rules/${rule.id}`, headers: adminAuth });
    expect(read.body).not.toContain(secret);
    expect(read.json().alert_rule.has_webhook_secret).toBe(true);

    const deal = await createDeal(trainee, 'Big Deal');
    const byAdmin = await createDeal(admin, 'Admin deal');
    await deleteDeal(admin, byAdmin);
    await deleteDeal(trainee, deal);
    const before = hook.hooks.length;
    const out = await pump();
    expect(out.sent).toBe(2);
    // One webhook: the trainee's deletion; neither the admin's nor the one before the rule existed.
    expect(hook.hooks.length - before).toBe(1);
    const h = hook.hooks.at(-1)!;
    expect(h.signed).toBe(true);
    const entry = h.body.entry as { id: string; action: string; record: { id: string; name: string }; done_by: { name: string } };
    expect(entry).toMatchObject({ action: 'deleted', record: { id: deal, name: 'Big Deal' }, done_by: { name: 'Tom Trainee' } });
    expect(h.headers['idempotency-key']).toBe(`${entry.id}-${rule.id}`);
    expect(h.body).toMatchObject({ event: 'alert.triggered', rule: { id: rule.id, name: 'Delete, Deals, not Administrator' },
      idempotency_key: `${entry.id}-${rule.id}` });
    expect(Date.parse(h.body.delivered_at as string)).toBeGreaterThan(0);
    // The entry in the audit log API's own shape.
    const api = await app.inject({ method: 'GET', url: '/crm/v8/settings/audit_log?per_page=50', headers: adminAuth });
    expect(entry).toEqual((api.json().audit_log as { id: string }[]).find((e) => e.id === entry.id));
    const mail = smtp.mails.at(-1)!;
    expect(mail.to).toEqual(['admin@acme.example']);
    expect(mail.data).toContain('Tom Trainee');
    expect(mail.data).toContain('Big Deal');
    expect(mail.data.replace(/=\r?\n/g, '')).toContain(`entry=3D${entry.id}`);
    // The in-console notification, for the rule's owner (the admin).
    const notes = await app.inject({ method: 'GET', url: '/api/v1/alert-notifications', headers: adminAuth });
    expect(notes.json().unread).toBe(1);
    expect(notes.json().notifications[0].title).toContain('Tom Trainee deleted Deals "Big Deal"');
    const marked = await post('/api/v1/alert-notifications/read', { all: true });
    expect(marked.json()).toEqual({ marked: 1 });
    // Run again: nothing new, nothing repeated.
    expect(await pump()).toEqual({ entries: expect.any(Number), sent: 0 });
    expect(hook.hooks.length - before).toBe(1);
  });

  it('a sixth action is refused with Zoho\'s LIMIT_EXCEEDED, and bad rules with the field\'s path', async () => {
    const six = Array.from({ length: 6 }, () => ({ type: 'notification' }));
    const res = await post('/api/v1/alert-rules', { name: 'Too many', conditions: [{ type: 'action', values: ['deleted'] }], actions: six });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ code: 'LIMIT_EXCEEDED', details: { api_name: 'actions', json_path: '$.actions[5]', limit: 5 },
      message: 'a rule has at most 5 actions', status: 'error' });
    const plain = await post('/api/v1/alert-rules', { name: 'Plain http', conditions: [{ type: 'action', values: ['deleted'] }],
      actions: [{ type: 'webhook', url: 'http://example.com/hook' }] });
    expect(plain.json()).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.actions[0].url' }, status: 'error' });
    const action = await post('/api/v1/alert-rules', { name: 'Bad action', conditions: [{ type: 'action', values: ['exploded'] }],
      actions: [{ type: 'notification' }] });
    expect(action.json()).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.conditions[0].values[0]' } });
    const foreign = await post('/api/v1/alert-rules', { name: 'Foreign', conditions: [{ type: 'user', values: ['1234567890123456789'] }],
      actions: [{ type: 'notification' }] });
    expect(foreign.json()).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.conditions[0].values[0]' } });
    const dup = await post('/api/v1/alert-rules', { name: 'Delete, Deals, not Administrator', conditions: [{ type: 'action', values: ['deleted'] }],
      actions: [{ type: 'notification' }] });
    expect(dup.json()).toMatchObject({ code: 'DUPLICATE_DATA', details: { api_name: 'name' } });
  });

  it('a batching webhook carries up to batch_size entries a POST, each with its own delivery id and idempotency key, signed as one body', async () => {
    const bad = await Promise.all([0, 101, 2.5, '3'].map((batch_size) => post('/api/v1/alert-rules', { name: `Bad batch ${String(batch_size)}`,
      conditions: [{ type: 'action', values: ['added'] }], actions: [{ type: 'webhook', url: hook.url, batch_size }] })));
    for (const r of bad) {
      expect(r.json()).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'batch_size', json_path: '$.actions[0].batch_size' }, status: 'error' });
    }
    const res = await post('/api/v1/alert-rules', { name: 'New Deals in threes', conditions: [{ type: 'action', values: ['added'] },
      { type: 'module', values: ['Deals'] }], actions: [{ type: 'webhook', url: hook.url, batch_size: 3 }] });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().alert_rule.actions).toEqual([{ type: 'webhook', url: hook.url, batch_size: 3 }]);
    hook.setSecret(res.json().webhook_secret);
    const before = hook.hooks.length;
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push(await createDeal(trainee, `Batched deal ${i}`));
    await pump();
    // The POSTs go out together and may arrive in any order; each lists its entries in chain order.
    const firstIndex = (h: { body: Record<string, unknown> }) => ids.indexOf((h.body.deliveries as { entry: { record: { id: string } } }[])[0].entry.record.id);
    const posts = hook.hooks.slice(before).filter((h) => h.body.event === 'alert.batch').sort((a, b) => firstIndex(a) - firstIndex(b));
    expect(posts.map((h) => (h.body.deliveries as unknown[]).length)).toEqual([3, 3, 1]);
    expect(posts.every((h) => h.signed)).toBe(true);
    const items = posts.flatMap((h) => h.body.deliveries as { delivery_id: string; idempotency_key: string; attempt: number;
      rule: { id: string }; entry: { record: { id: string }; action: string } }[]);
    // In chain order, each entry once, with the single webhook's keys.
    expect(items.map((d) => d.entry.record.id)).toEqual(ids);
    expect(new Set(items.map((d) => d.idempotency_key)).size).toBe(7);
    expect(items[0]).toMatchObject({ attempt: 1, rule: { id: res.json().alert_rule.id }, entry: { action: 'added' } });
    expect(posts[0].headers['idempotency-key']).toMatch(/^batch-[0-9a-f]{32}$/);
    const delivered = await env.rt.services.alerts.listDeliveries(admin, { ruleId: res.json().alert_rule.id });
    expect(delivered.deliveries.map((d) => d.status)).toEqual(Array(7).fill('delivered'));
    await env.rt.services.alerts.updateRule(admin, res.json().alert_rule.id, { enabled: false });
  });

  it('a burst of alert emails opens at most five SMTP sessions at once (mail relays refuse more)', async () => {
    const r = await env.rt.services.alerts.createRule(admin, { name: 'Every new Deal by email',
      conditions: [{ type: 'action', values: ['added'] }, { type: 'module', values: ['Deals'] }], actions: [{ type: 'email', to: ['ops@acme.example'] }] });
    const before = smtp.mails.length;
    smtp.sessions.most = smtp.sessions.open;
    for (let i = 0; i < 12; i++) await createDeal(trainee, `Mailed deal ${i}`);
    await pump();
    expect(smtp.mails.length - before).toBe(12);
    expect(smtp.sessions.most).toBeGreaterThan(1);
    expect(smtp.sessions.most).toBeLessThanOrEqual(5);
    await env.rt.services.alerts.updateRule(admin, r.rule.id, { enabled: false });
  });

  it('fires only on entries the rule\'s owner may see: a manager\'s rule sees their trainee, not their peer', async () => {
    const r = await env.rt.services.alerts.createRule(manager, { name: 'Manager watches deletions',
      conditions: [{ type: 'action', values: ['deleted'] }, { type: 'module', values: ['Deals'] }], actions: [{ type: 'notification' }] });
    expect(r.rule.owner?.id).toBe(manager.userId);
    const a = await createDeal(peer, 'Peer deal');
    const b = await createDeal(trainee, 'Trainee deal');
    await deleteDeal(peer, a);
    await deleteDeal(trainee, b);
    await pump();
    const notes = await env.rt.services.alerts.listNotifications(manager, {});
    expect(notes.notifications.map((n) => n.title)).toEqual(['Manager watches deletions: Tom Trainee deleted Deals "Trainee deal"']);
    // The manager sees their own rules only; the administrator sees every rule.
    expect((await env.rt.services.alerts.listRules(manager)).map((x) => x.name)).toEqual(['Manager watches deletions']);
    expect((await env.rt.services.alerts.listRules(admin)).length).toBeGreaterThan(1);
    // Another user's rule id answers as a missing one.
    const adminRule = (await env.rt.services.alerts.listRules(admin)).find((x) => x.owner?.id === admin.userId)!;
    await expect(env.rt.services.alerts.getRule(manager, adminRule.id)).rejects.toMatchObject({ code: 'INVALID_URL_PATTERN' });
    await expect(env.rt.services.alerts.deleteRule(peer, r.rule.id)).rejects.toMatchObject({ code: 'INVALID_URL_PATTERN' });
    await env.rt.services.alerts.deleteRule(manager, r.rule.id);
  });

  it('a quiet period does not repeat within N minutes per user and rule; a changed field is a condition', async () => {
    const r = await env.rt.services.alerts.createRule(admin, { name: 'Stage changes', quiet_minutes: 10,
      conditions: [{ type: 'field', values: ['Stage'] }], actions: [{ type: 'notification' }] });
    const id = await createDeal(trainee, 'Quiet deal');
    const update = (stage: string) => env.rt.services.records.updateRecords(trainee, 'Deals', [{ id, Stage: stage }]);
    await update('Needs Analysis');
    await update('Value Proposition');
    await env.rt.services.records.updateRecords(trainee, 'Deals', [{ id, Deal_Name: 'Renamed, no stage change' }]);
    await pump();
    const titles = async () => (await env.rt.services.alerts.listNotifications(admin, {})).notifications
      .filter((n) => n.rule.id === r.rule.id);
    expect(await titles()).toHaveLength(1);
    env.advance(11 * 60_000);
    await update('Proposal/Price Quote');
    await pump();
    expect(await titles()).toHaveLength(2);
    await env.rt.services.alerts.updateRule(admin, r.rule.id, { enabled: false });
  });

  it('retries with exponential backoff, then dead-letters; a dead letter retried from the API is delivered', async () => {
    const failing = await startWebhookReceiver({ behaviour: () => 503 });
    try {
      const res = await post('/api/v1/alert-rules', { name: 'Failing hook', conditions: [{ type: 'action', values: ['deleted'] },
        { type: 'module', values: ['Deals'] }], actions: [{ type: 'webhook', url: failing.url }], webhook_secret: 'a-secret-of-sixteen+' });
      expect(res.json().webhook_secret).toBeUndefined();
      failing.setSecret('a-secret-of-sixteen+');
      const ruleId = res.json().alert_rule.id as string;
      await deleteDeal(trainee, await createDeal(trainee, 'Doomed'));
      await pump();
      expect(failing.hooks).toHaveLength(1);
      for (let attempt = 1; attempt < 8; attempt++) {
        await pump();
        expect(failing.hooks, 'not retried before its backoff').toHaveLength(attempt);
        env.advance(retryDelay(attempt));
        await pump();
        expect(failing.hooks).toHaveLength(attempt + 1);
      }
      const dead = await app.inject({ method: 'GET', url: `/api/v1/alert-deliveries?status=dead&rule_id=${ruleId}`, headers: adminAuth });
      const [letter] = dead.json().alert_deliveries;
      expect(letter).toMatchObject({ status: 'dead', attempts: 8, last_error: 'the receiver answered HTTP 503', channel: 'webhook' });
      expect(failing.hooks.every((h) => h.signed && h.headers['idempotency-key'] === letter.idempotency_key)).toBe(true);
      failing.setBehaviour(() => 200);
      const retried = await post(`/api/v1/alert-deliveries/${letter.id}/retry`, {});
      expect(retried.json().alert_delivery).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(failing.hooks).toHaveLength(9);
      const again = await post(`/api/v1/alert-deliveries/${letter.id}/retry`, {});
      expect(again.json()).toMatchObject({ code: 'NOT_ALLOWED' });
      await post(`/api/v1/alert-rules/${ruleId}`, {});
      await app.inject({ method: 'DELETE', url: `/api/v1/alert-rules/${ruleId}`, headers: adminAuth });
    } finally {
      await failing.close();
    }
  });

  it('testing a rule sends its actions now, marked as a test; creating, changing, testing and deleting are audited', async () => {
    const res = await post('/api/v1/alert-rules', { name: 'To test', conditions: [{ type: 'action', values: ['deleted'] }],
      actions: [{ type: 'webhook', url: hook.url }, { type: 'email', to: ['cso@acme.example'] }] });
    const { alert_rule: rule, webhook_secret: secret } = res.json();
    hook.setSecret(secret);
    const tested = await post(`/api/v1/alert-rules/${rule.id}/test`, {});
    expect(tested.statusCode, tested.body).toBe(200);
    expect(tested.json().alert_deliveries.map((d: { status: string; test: boolean }) => [d.status, d.test])).toEqual([['delivered', true], ['delivered', true]]);
    expect(hook.hooks.at(-1)!.body.event).toBe('alert.test');
    expect(hook.hooks.at(-1)!.signed).toBe(true);
    expect(smtp.mails.at(-1)!.data).toContain('This is a test of the alert rule "To test"');
    const patched = await app.inject({ method: 'PATCH', url: `/api/v1/alert-rules/${rule.id}`, headers: adminAuth, payload: { enabled: false } });
    expect(patched.json().alert_rule.enabled).toBe(false);
    const del = await app.inject({ method: 'DELETE', url: `/api/v1/alert-rules/${rule.id}`, headers: adminAuth });
    expect(del.json()).toEqual({ alert_rule: { id: rule.id }, status: 'deleted' });
    const entries = await env.store.db.selectFrom('audit_entries').select(['action', 'details']).where('org_id', '=', org.org.id)
      .where('record_id', '=', rule.id).orderBy('seq').execute();
    expect(entries.map((e) => e.action)).toEqual(['alert_rule_created', 'alert_rule_tested', 'alert_rule_updated', 'alert_rule_deleted']);
    expect(entries.map((e) => e.details).join()).not.toContain(secret);
    expect(JSON.parse(entries[2].details).field_history).toEqual([{ api_name: 'enabled', field_label: 'enabled', old: true, new: false }]);
  });

  it('another organisation sees none of the rules, deliveries or notifications', async () => {
    const other = await createOrg(env, 'Globex');
    const { auth } = await tokenFor(app, env, other.org.id);
    for (const url of ['/api/v1/alert-rules', '/api/v1/alert-deliveries', '/api/v1/alert-notifications']) {
      const res = await app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/Deals|Trainee|acme/i);
    }
    const [d] = (await env.rt.services.alerts.listDeliveries(admin, {})).deliveries;
    const retry = await post(`/api/v1/alert-deliveries/${d.id}/retry`, {}, auth);
    expect(retry.json().code).toBe('INVALID_URL_PATTERN');
  });
});
