import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppWorker } from '../src/jobs/index.ts';
import { createEnvWithOrg, type TestEnv, type TestOrg } from './helpers.ts';
import type { Actor } from '../src/services/context.ts';
import { GENESIS_HASH } from '../src/domain/audit.ts';
import { checkContinuity, drain, ndjsonReceiver } from './stream-helpers.ts';
import * as cli from '../src/cli/commands/stream.ts';

/** What a CLI command printed on stdout. */
async function stdoutOf(run: () => Promise<number>) {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => { lines.push(String(chunk)); return true; }) as typeof process.stdout.write;
  try {
    expect(await run()).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  return lines.join('');
}

describe('SIEM streams: HTTPS (JSON lines) against a real local receiver', () => {
  let env: TestEnv;
  let org: TestOrg;
  let admin: Actor;
  let receiver: Awaited<ReturnType<typeof ndjsonReceiver>>;
  let worker: ReturnType<typeof createAppWorker>;
  beforeAll(async () => {
    ({ env, org, admin } = await createEnvWithOrg());
    receiver = await ndjsonReceiver();
    worker = createAppWorker(env.rt, { maintenance: false });
  });
  afterAll(async () => { await receiver.close(); await env.close(); });

  const leads = (n: number, who: Actor = admin) => env.rt.services.records.createRecords(who, 'Leads',
    Array.from({ length: n }, (_, i) => ({ Last_Name: `Lead ${i}` })));

  it('delivers every entry from seq 1 in chain order, signed, as JSON lines in the audit log API\'s shape', async () => {
    await leads(5);
    const { stream, secret } = await env.rt.services.streams.create(admin, { name: 'SIEM', type: 'https',
      destination: { url: receiver.url, batch_size: 4 }, from_seq: 1 } as never);
    expect(secret).toMatch(/^[\w-]{20,}$/);
    expect(stream.secrets).toEqual(['hmac_secret']);
    expect(JSON.stringify(stream)).not.toContain(secret!);
    await drain(env, worker, 5);
    const got = checkContinuity(receiver.lines, true);
    expect(got[0]).toMatchObject({ seq: 1, prev_hash: GENESIS_HASH, prev_seq: null, action: 'org_created' });
    const head = Number((await env.store.repos.audit.head(org.org.id))!.last_seq);
    expect(got.at(-1)!.seq).toBe(head);
    expect(got.length).toBe(head);
    const lead = got.find((l) => l.action === 'added')!;
    expect(lead).toMatchObject({ module: { api_name: 'Leads' }, done_by: { id: admin.userId }, source: 'api', sequence: lead.seq });
    expect(lead.audited_time).toMatch(/\+05:30$/);
    // Batches of at most 4, each signed over its raw bytes.
    for (const r of receiver.requests) {
      expect(r.headers['content-type']).toBe('application/x-ndjson');
      expect(r.raw.trim().split('\n').length).toBeLessThanOrEqual(4);
      expect(r.headers['x-auditrail-signature']).toBe(`sha256=${createHmac('sha256', secret!).update(r.raw).digest('hex')}`);
    }
    const status = await env.rt.services.streams.get(admin, stream.id);
    expect(status.progress).toMatchObject({ cursor_seq: head, head_seq: head, lag_entries: 0, lag_seconds: 0, delivered: head });
  });

  it('a receiver that fails then recovers gets everything in order with no gap; the error and backoff show meanwhile', async () => {
    const [s] = await env.rt.services.streams.list(admin);
    receiver.failTimes(3);
    await leads(6);
    env.advance(2000);
    await worker.runOnce();
    const failing = await env.rt.services.streams.get(admin, s.id);
    expect(failing.error).toMatchObject({ message: 'the receiver answered HTTP 503', failures: 1 });
    expect(failing.progress.lag_entries).toBeGreaterThan(0);
    await drain(env, worker, 10);
    const got = checkContinuity(receiver.lines, true);
    const head = Number((await env.store.repos.audit.head(org.org.id))!.last_seq);
    expect(got.at(-1)!.seq).toBe(head);
    expect(got.map((l) => l.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect((await env.rt.services.streams.get(admin, s.id)).error).toBeNull();
  });

  it('rewinding to a sequence replays history from there, and the rewind is audited', async () => {
    const [s] = await env.rt.services.streams.list(admin);
    const before = receiver.lines.length;
    await env.rt.services.streams.rewind(admin, s.id, { seq: 3 });
    await drain(env, worker, 5);
    const replay = receiver.lines.slice(before);
    expect(replay[0]).toMatchObject({ seq: 3, prev_seq: null });
    checkContinuity(replay, true);
    const head = Number((await env.store.repos.audit.head(org.org.id))!.last_seq);
    expect(replay.at(-1)!.seq).toBe(head);
    const rewound = replay.find((l) => l.action === 'stream_rewound');
    expect(rewound).toMatchObject({ record: { id: s.id, name: 'SIEM' }, details: { seq: 3 } });
  });

  it('paused, rewound, then resumed: delivers again from the rewind', async () => {
    const [s] = await env.rt.services.streams.list(admin);
    await env.rt.services.streams.update(admin, s.id, { status: 'paused' });
    await drain(env, worker, 2);
    await env.rt.services.streams.rewind(admin, s.id, { seq: 2 });
    await drain(env, worker, 2);
    const before = receiver.lines.length;
    await env.rt.services.streams.update(admin, s.id, { status: 'active' });
    await drain(env, worker, 3);
    expect(receiver.lines[before]).toMatchObject({ seq: 2, prev_seq: null });
  });

  it('a manager\'s stream carries only their own and their subordinates\' entries', async () => {
    const dir = env.rt.services.directory;
    const profile = await dir.cloneProfile(admin, org.profiles.standard.id, { name: 'Auditor', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: { audit_log: true } } });
    const rep = await dir.createRole(admin, { name: 'Rep', reporting_to: { id: org.roles.manager.id } } as never);
    const m = await dir.createUser(admin, { last_name: 'Manager', email: 'm@acme.example', role: { id: org.roles.manager.id }, profile: { id: profile.id } });
    const r = await dir.createUser(admin, { last_name: 'Rep', email: 'r@acme.example', role: { id: rep.id }, profile: { id: profile.id } });
    const peer = await dir.createUser(admin, { last_name: 'Peer', email: 'p@acme.example', role: { id: org.roles.manager.id }, profile: { id: profile.id } });
    const manager = await dir.actorForUser(org.org.id, m.id);
    const own = await ndjsonReceiver();
    try {
      await env.rt.services.streams.create(manager, { name: 'Mine', type: 'https', destination: { url: own.url } });
      await leads(2, manager);
      await leads(2, await dir.actorForUser(org.org.id, r.id));
      await leads(2, await dir.actorForUser(org.org.id, peer.id));
      await leads(2);
      await drain(env, worker, 5);
      const got = checkContinuity(own.lines, false);
      expect(got.length).toBeGreaterThanOrEqual(4);
      expect(new Set(got.map((l) => (l.done_by as { id: string }).id))).toEqual(new Set([m.id, r.id]));
      // The manager sees only their own stream; the Administrator sees both.
      expect((await env.rt.services.streams.list(manager)).map((s) => s.name)).toEqual(['Mine']);
      expect((await env.rt.services.streams.list(admin)).map((s) => s.name)).toEqual(['SIEM', 'Mine']);
      const adminStream = (await env.rt.services.streams.list(admin))[0];
      await expect(env.rt.services.streams.rewind(manager, adminStream.id, { seq: 1 })).rejects.toThrow(/invalid/);
      // Demoted to no audit log access: the stream delivers nothing more, and says why.
      const blind = await dir.cloneProfile(admin, org.profiles.standard.id, { name: 'No audit log', permissions: {
        modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: {} } });
      await dir.updateUser(admin, m.id, { profile: { id: blind.id } });
      const before = own.lines.length;
      await leads(2, manager);
      await drain(env, worker, 3);
      expect(own.lines.length).toBe(before);
      const mine = (await env.rt.services.streams.list(admin)).find((s) => s.name === 'Mine')!;
      expect(mine.error?.message).toMatch(/may no longer read the audit log/);
    } finally {
      await own.close();
    }
  });

  it('lets only Administrators point a stream at a syslog or NATS host (any host and port, unlike an HTTPS URL)', async () => {
    const dir = env.rt.services.directory;
    const u = await dir.createUser(admin, { last_name: 'Reader', email: 'reader@acme.example', role: { id: org.roles.manager.id },
      profile: { id: org.profiles.standard.id } });
    const manager = await dir.actorForUser(org.org.id, u.id);
    for (const [type, destination] of [['syslog', { host: '10.0.0.5', port: 514 }], ['nats', {}]] as const) {
      await expect(env.rt.services.streams.create(manager, { name: `Mine over ${type}`, type, destination }))
        .rejects.toMatchObject({ code: 'NO_PERMISSION' });
    }
    expect((await env.rt.services.streams.list(manager)).map((s) => s.name)).not.toContain('Mine over syslog');
  });

  it('refuses plain http off loopback, and hides secrets after creation', async () => {
    await expect(env.rt.services.streams.create(admin, { name: 'x', type: 'https', destination: { url: 'http://siem.example.com/in' } }))
      .rejects.toThrow(/https/);
    const { stream } = await env.rt.services.streams.create(admin, { name: 'Given', type: 'https',
      destination: { url: receiver.url, secret: 'a-long-enough-secret' }, status: 'paused' });
    expect(JSON.stringify(await env.rt.services.streams.get(admin, stream.id))).not.toContain('a-long-enough-secret');
    const entries = await env.store.db.selectFrom('audit_entries').select('details').where('action', '=', 'stream_created').execute();
    expect(JSON.stringify(entries)).not.toContain('a-long-enough-secret');
    await env.rt.services.streams.remove(admin, stream.id);
    await expect(env.rt.services.streams.get(admin, stream.id)).rejects.toThrow(/invalid/);
  });

  it('the CLI creates a stream owned by an Administrator, lists it with its lag, rewinds, pauses and deletes it', async () => {
    const id = (await stdoutOf(() => cli.streamCreateCommand(env.rt, { org: org.org.id, type: 'https', name: 'From the CLI', url: receiver.url,
      fromSeq: '2', batchSize: '50' }))).trim();
    const made = await env.rt.services.streams.get(admin, id);
    expect(made).toMatchObject({ name: 'From the CLI', owner: { id: org.admin.id }, progress: { cursor_seq: 1 } });
    const listed = await stdoutOf(() => cli.streamListCommand(env.rt, { org: org.org.id }));
    expect(listed).toMatch(new RegExp(`${id}\tFrom the CLI\thttps\tactive\t1\t\\d+\t\\d+ \\(\\d+s\\)`));
    expect(await stdoutOf(() => cli.streamRewindCommand(env.rt, id, { org: org.org.id, time: '2000-01-01T00:00:00Z' })))
      .toContain('delivers again after seq 0');
    expect(await stdoutOf(() => cli.streamStatusCommand(env.rt, id, 'paused', { org: org.org.id }))).toContain('paused');
    await expect(cli.streamRewindCommand(env.rt, id, { org: org.org.id })).rejects.toThrow(/--seq N or --time T/);
    expect(await stdoutOf(() => cli.streamDeleteCommand(env.rt, id, { org: org.org.id }))).toContain(`deleted ${id}`);
    const [e] = await env.store.db.selectFrom('audit_entries').selectAll().where('action', '=', 'stream_deleted').where('record_id', '=', id).execute();
    expect(e.actor_name).toMatch(/^auditrail CLI/);
  });
});
