import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, createEnv, createOrg, createEnvWithOrg, type TestEnv } from './helpers.ts';
import { createWorker } from '../src/jobs/worker.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { claimJob, insertJob } from '../src/store/job-store.ts';
import type { BlobStore } from '../src/store/blob-store.ts';
import { newId } from '../src/domain/ids.ts';
import { createExportService } from '../src/services/export-service.ts';
import type { JobContext } from '../src/services/job-queue.ts';

const HOUR = 3600_000;

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function addJobs(env: TestEnv, orgId: string, n: number, kind = 'noop') {
  const now = env.now();
  for (let i = 0; i < n; i++) {
    await insertJob(env.store.db, { id: newId(), org_id: orgId, kind, payload: '{}', status: 'queued', attempts: 0, max_attempts: 3,
      run_after: now, lease_owner: null, lease_expires_at: null, progress_done: 0, progress_total: null, result: null, error: null,
      created_at: now, updated_at: now });
  }
}

describe.each(BACKENDS)('jobs queue on %s', (backend) => {
  it('two workers never run the same job', async () => {
    const a = await createEnv(backend);
    const second = backend === 'postgres' ? await a.second() : null;
    const b = second ?? a;
    const orgId = (await createOrg(a)).org.id;
    await addJobs(a, orgId, 40);
    const runs: Record<string, string[]> = {};
    const handler = (who: string) => async (job: { id: string }) => {
      (runs[job.id] ??= []).push(who);
      await new Promise((r) => setTimeout(r, 2));
    };
    const w1 = createWorker(a.rt.deps, { handlers: { noop: handler('w1') }, id: 'w1' });
    const w2 = createWorker((second?.rt ?? b.rt).deps, { handlers: { noop: handler('w2') }, id: 'w2' });
    const drain = async (w: ReturnType<typeof createWorker>) => { while (await w.runOnce()) { /* next */ } };
    await Promise.all([drain(w1), drain(w2), drain(w1), drain(w2)]);
    expect(Object.keys(runs)).toHaveLength(40);
    for (const who of Object.values(runs)) expect(who).toHaveLength(1);
    const states = await a.store.db.selectFrom('jobs').select('status').distinct().execute();
    expect(states.map((s) => s.status)).toEqual(['done']);
    await second?.close();
    await a.close();
  });

  it('retries a failing job with backoff, then marks it failed', async () => {
    const env = await createEnv(backend);
    const orgId = (await createOrg(env)).org.id;
    await addJobs(env, orgId, 1, 'flaky');
    let calls = 0;
    const w = createWorker(env.rt.deps, { handlers: { flaky: async () => { calls += 1; throw new Error('boom'); } } });
    expect(await w.runOnce()).toBe(true);
    const [job] = await env.store.db.selectFrom('jobs').selectAll().execute();
    expect(job).toMatchObject({ status: 'queued', attempts: 1, error: 'internal error (see the server log)' });
    expect(Number(job.run_after)).toBeGreaterThan(env.now());
    expect(await w.runOnce()).toBe(false);
    env.advance(60_000);
    await w.runOnce();
    env.advance(60_000);
    await w.runOnce();
    const [last] = await env.store.db.selectFrom('jobs').selectAll().execute();
    expect(last).toMatchObject({ status: 'failed', attempts: 3 });
    expect(calls).toBe(3);
    await env.close();
  });

  it('takes over a job whose worker stopped renewing its lease', async () => {
    const env = await createEnv(backend);
    const orgId = (await createOrg(env)).org.id;
    await addJobs(env, orgId, 1, 'slow');
    const { claimJob } = await import('../src/store/job-store.ts');
    const stolen = await claimJob(env.store.db, env.store.dialect, 'dead-worker', env.now(), 1000, ['slow']);
    expect(stolen?.lease_owner).toBe('dead-worker');
    let ran = 0;
    const w = createWorker(env.rt.deps, { handlers: { slow: async () => { ran += 1; } }, leaseMs: 1000 });
    expect(await w.runOnce()).toBe(false);
    env.advance(1500);
    expect(await w.runOnce()).toBe(true);
    expect(ran).toBe(1);
    await env.close();
  });
});

describe.each(BACKENDS)('jobs that must not strand work on %s', (backend) => {
  it('fails a job whose worker died on its last attempt, and its export with it', async () => {
    const { env, admin: actor } = await createEnvWithOrg(backend);
    const job = await env.rt.services.exports.create(actor, undefined);
    await env.store.db.updateTable('jobs').set({ attempts: 4 }).where('id', '=', job.id).execute();
    const dead = await claimJob(env.store.db, env.store.dialect, 'dead-worker', env.now(), 1000, ['audit_log_export']);
    expect(dead).toMatchObject({ attempts: 5, max_attempts: 5 });
    await env.store.db.updateTable('audit_exports').set({ status: 'Progress', started_at: env.now() }).where('id', '=', job.id).execute();
    const w = createAppWorker(env.rt, { maintenance: false, leaseMs: 1000 });
    expect(await w.runOnce()).toBe(false);
    expect((await env.rt.services.exports.get(actor, job.id)).status).toBe('Progress');
    env.advance(1500);
    expect(await w.runOnce()).toBe(false);
    const row = await env.store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'failed', lease_owner: null });
    expect((await env.rt.services.exports.get(actor, job.id)).status).toBe('Failed');
    // and its user may schedule another
    expect(await env.rt.services.exports.create(actor, undefined)).toMatchObject({ status: 'Scheduled' });
    await env.close();
  });

  it.each([
    ['in the middle of its file', (done: number, total: number | null) => done > 0 && done < total!],
    ['with its file complete, before its finishing write', (_done: number, _total: number | null, ended: boolean) => ended],
  ])('a worker paused %s and taken over writes nothing more once it resumes', async (_, pauseAt) => {
    const env = await createEnv(backend);
    const org = await createOrg(env);
    await env.rt.demo.loadHistory(org.org.id, 5000);
    const actor = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    const job = await env.rt.services.exports.create(actor, undefined);
    const leaseMs = 60_000;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let pausedNow!: () => void;
    const paused = new Promise<void>((r) => { pausedNow = r; });
    let resumed = false;
    let writesAfter = 0;
    let ended = false;
    // Worker A's blob writes, counted once it resumes.
    const blobs: BlobStore = { ...env.rt.blobs, writer: async (key) => {
      const w = await env.rt.blobs.writer(key);
      w.stream.once('finish', () => { ended = true; });
      const write = w.stream.write.bind(w.stream);
      w.stream.write = ((...args: Parameters<typeof write>) => { if (resumed) writesAfter += 1; return write(...args); }) as typeof w.stream.write;
      return w;
    } };
    const exportsA = createExportService(env.rt.deps, blobs, env.rt.services.integrity, env.rt.services.heads);
    let hit = false;
    const a = createWorker(env.rt.deps, { id: 'A', leaseMs, handlers: {
      audit_log_export: (j, ctx) => exportsA.run(j, { ...ctx, progress: async (done, total) => {
        await ctx.progress(done, total);
        if (hit || !pauseAt(done, total, ended)) return;
        hit = true;
        pausedNow();
        await gate;
        resumed = true;
      } } satisfies JobContext),
    } });
    const running = a.runOnce();
    await paused;
    env.advance(leaseMs + 1);
    const b = createAppWorker(env.rt, { maintenance: false, leaseMs, id: 'B' });
    expect(await b.runOnce()).toBe(true);
    const jobRow = () => env.store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    const expRow = () => env.store.db.selectFrom('audit_exports').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
    const byB = { job: await jobRow(), exp: await expRow() };
    expect(byB.job).toMatchObject({ status: 'done', attempts: 2 });
    expect(byB.exp.status).toBe('Finished');
    env.advance(1000);
    release();
    expect(await running).toBe(true);
    expect(writesAfter).toBe(0);
    expect(await jobRow()).toEqual(byB.job);
    expect(await expRow()).toEqual(byB.exp);
    const partials = await env.store.db.selectFrom('blobs').select('key').where('key', 'like', '%.partial-%').execute();
    expect(partials).toEqual([]);
    await env.close();
  });

  it('removes the partial files writers killed in the middle leave behind', async () => {
    const dataDir = backend === 'sqlite' ? mkdtempSync(path.join(os.tmpdir(), 'auditrail-partial-')) : undefined;
    if (dataDir) dirs.push(dataDir);
    const env = await createEnv(backend, { dataDir });
    const partials = async () => [
      ...(dataDir ? readdirSync(dataDir, { recursive: true, encoding: 'utf8' }) : []),
      ...(await env.store.db.selectFrom('blobs').select('key').distinct().execute()).map((b) => b.key),
    ].filter((name) => name.includes('.partial-')).length;
    const killed = async (key: string) => {
      const w = await env.rt.blobs.writer(key);
      await new Promise((r) => w.stream.write(Buffer.alloc(2 * 1024 * 1024), r));
    };
    // An export retried after its worker was killed: the new attempt clears the dead one's file.
    await killed('exports/1/2');
    expect(await partials()).toBe(1);
    const retry = await env.rt.blobs.writer('exports/1/2');
    retry.stream.end('done');
    await retry.commit();
    expect(await partials()).toBe(0);
    // One never retried: the periodic clean-up removes it once it is a day old, not before.
    await killed('exports/1/3');
    await env.rt.services.exports.removeExpired();
    expect(await partials()).toBe(1);
    env.advance(2 * 86_400_000);
    await env.rt.services.exports.removeExpired();
    expect(await partials()).toBe(0);
    await env.close();
  });

  it('runs periodic work once per cluster, not once per worker at boot', async () => {
    const env = await createEnv(backend);
    const second = backend === 'postgres' ? await env.second() : null;
    const runs: string[] = [];
    const worker = (deps: typeof env.rt.deps, id: string) => createWorker(deps, { id, handlers: {}, pollMs: 0,
      periodic: [{ name: 'tick', everyMs: HOUR, run: async () => { runs.push(id); } }] });
    const w1 = worker(env.rt.deps, 'w1');
    const w2 = worker((second?.rt ?? env.rt).deps, 'w2');
    const boot = async () => {
      w1.start();
      w2.start();
      await Promise.all([w1.stop(), w2.stop()]);
      while ((await w1.runOnce()) || (await w2.runOnce())) { /* drain */ }
    };
    await boot();
    expect(runs).toHaveLength(1);
    await boot();
    expect(runs).toHaveLength(1);
    env.advance(HOUR);
    await boot();
    expect(runs).toHaveLength(2);
    const ticks = await env.store.db.selectFrom('jobs').select(['id', 'status']).where('kind', '=', 'tick').execute();
    expect(ticks.map((t) => t.status)).toEqual(['done', 'done']);
    // A month on, the runs older than a month are gone: each period's row does not stay for ever.
    env.advance(31 * 24 * HOUR);
    await boot();
    const kept = await env.store.db.selectFrom('jobs').select('status').where('kind', '=', 'tick').execute();
    expect(kept).toEqual([{ status: 'done' }]);
    expect(runs).toHaveLength(3);
    await second?.close();
    await env.close();
  });
});

describe('a worker killed in the middle of an export', () => {
  let child: ChildProcess | null = null;
  afterAll(() => { child?.kill('SIGKILL'); });

  it('leaves a job another worker finishes, with the same bytes as an uninterrupted run', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'auditrail-kill-'));
    dirs.push(dataDir);
    const env = await createEnv('sqlite', { dataDir });
    const org = await createOrg(env);
    await env.rt.demo.loadHistory(org.org.id, 150_000);
    const actor = await env.rt.services.directory.actorForUser(org.org.id, org.admin.id);
    const job = await env.rt.services.exports.create(actor, undefined);
    child = spawn(process.execPath, ['bin/auditrail.js', '--data-dir', dataDir, 'worker'], {
      env: { ...process.env, DATABASE_URL: '', AUDITRAIL_LOG_LEVEL: 'silent', AUDITRAIL_WORKER_LEASE_MS: '1500' }, stdio: 'ignore' });
    const progress = async () => (await env.store.db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow());
    for (let i = 0; i < 600; i++) {
      const p = await progress();
      if (p.status === 'running' && Number(p.progress_done) > 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const mid = await progress();
    expect(mid.status).toBe('running');
    expect(Number(mid.progress_done)).toBeLessThan(Number(mid.progress_total));
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    child = null;
    expect((await env.rt.services.exports.get(actor, job.id)).status).toBe('Progress');
    env.setNow(Date.now() + 2000);
    const w = createAppWorker(env.rt, { maintenance: false, leaseMs: 1500 });
    expect(await w.runOnce()).toBe(true);
    const finished = await env.rt.services.exports.get(actor, job.id);
    expect(finished).toMatchObject({ status: 'Finished', entry_count: expect.anything() });
    // the killed worker's partial file went when the new attempt started writing
    expect(readdirSync(path.join(dataDir, 'exports'), { recursive: true, encoding: 'utf8' }).filter((n) => n.includes('.partial-'))).toEqual([]);
    const read = async () => {
      const s = (await env.rt.blobs.read(`exports/${org.org.id}/${job.id}`))!;
      const chunks: Buffer[] = [];
      for await (const c of s) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const first = await read();
    expect(first.readUInt32LE(0)).toBe(0x04034b50);
    // run the same job again from scratch: byte for byte the same file
    await env.store.db.updateTable('audit_exports').set({ status: 'Scheduled' }).where('id', '=', job.id).execute();
    await env.store.db.updateTable('jobs').set({ status: 'queued', attempts: 0 }).where('id', '=', job.id).execute();
    expect(await w.runOnce()).toBe(true);
    expect((await read()).equals(first)).toBe(true);
    await env.close();
  });
});
