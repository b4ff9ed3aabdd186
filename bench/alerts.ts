import { runIfMain } from './common.ts';
/**
 * Alert delivery benchmark (not a test: it prints figures and ratios and never fails on time).
 *
 * One run, on SQLite in a fresh temp directory: the server (API and worker, as `auditrail serve`
 * runs them, in this process) takes bench:writes-style load, POST /crm/v8/Leads with 100 records
 * a request from 4 concurrent clients, while an alert rule ("added, Leads") sends a signed
 * webhook for every entry to a receiver in a process of its own (bench/alerts-receiver.ts, as a
 * real receiver is another system), which checks each signature.
 *
 * It reports:
 *   - write latency per request (p50, p95) and the write rate (entries/s);
 *   - delivery latency per entry: from the write's response (its commit is just before) to the
 *     webhook's arrival (p50, p95), and the ratio p95 delivery / p95 write (target <= 10);
 *   - the delivery rate (entries delivered per second, from the first delivery to the last)
 *     against the write rate (entries written per second, from the first write to the last):
 *     target >= 1, delivery keeps up. Each rate is taken over its own span, so a constant lag
 *     (which the latency target judges) does not count as falling behind; a backlog that grows
 *     while the writes go on stretches the deliveries' span and lowers the ratio. Also how long
 *     the backlog took to drain once the writes stopped.
 *
 * It runs twice: with the rule's webhook sending one entry a POST (the default), then with
 * `batch_size: 100` (up to 100 entries a POST, for rules that fire on many entries).
 *
 *   npm run bench:alerts                      # 20,000 records
 *   BENCH_RECORDS=5000 npm run bench:alerts
 *   BENCH_WEBHOOK_BATCH=100 npm run bench:alerts   # only the batched run
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.ts';
import { openRuntime } from '../src/entry/runtime.ts';
import { systemActor } from '../src/services/context.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { createAppWorker } from '../src/jobs/index.ts';
import { BATCH, leadRow } from './writes.ts';

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

type Hook = [recordId: string, at: number, signed: boolean];

/** Starts bench/alerts-receiver.ts in a child process and returns its controls. */
async function startReceiver() {
  const child: ChildProcess = fork(fileURLToPath(new URL('./alerts-receiver.ts', import.meta.url)), [],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: { url: string }) => resolve(m.url));
    child.once('exit', (code) => reject(new Error(`the webhook receiver exited (${code})`)));
  });
  return {
    url,
    setSecret: (secret: string) => child.send({ secret }),
    /** The first n hooks, once they have arrived, or null after timeoutMs. */
    collect: (n: number, timeoutMs: number) => new Promise<Hook[] | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      child.once('message', (m: { hooks: Hook[] }) => { clearTimeout(timer); resolve(m.hooks); });
      child.send({ collect: n });
    }),
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.disconnect();
    }),
  };
}

export interface AlertBenchResult {
  records: number; clients: number; batchSize: number;
  write: { p50: number; p95: number; rate: number; seconds: number };
  delivery: { p50: number; p95: number; rate: number; seconds: number; delivered: number; drainSeconds: number; badSignatures: number };
  ratios: { p95DeliveryVsWrite: number; deliveryRateVsWriteRate: number };
}

export async function measureAlerts(opts: { records?: number; clients?: number; batchSize?: number; log?: (s: string) => void } = {}): Promise<AlertBenchResult> {
  const batchSize = opts.batchSize ?? 1;
  const records = opts.records ?? Number(process.env.BENCH_RECORDS ?? 20_000);
  const clients = opts.clients ?? 4;
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(path.join(tmpdir(), 'auditrail-bench-alerts-'));
  const config = loadConfig({ dataDir: dir, port: 0 }, { AUDITRAIL_LOG_LEVEL: 'silent' });
  const rt = await openRuntime(config);
  const app = await createHttpApp(rt, { logLevel: 'silent', console: false });
  const worker = createAppWorker(rt, { maintenance: false });
  const hook = await startReceiver();
  try {
    const { org, admin } = await rt.services.directory.createOrganisation({ name: 'Bench', adminEmail: 'admin@bench.example' });
    const system = systemActor(org.id, 'Benchmark');
    await rt.services.directory.updateOrgSettings(system, { api_requests_per_minute: 1_000_000 });
    const adminActor = await rt.services.directory.actorForUser(org.id, admin.id);
    const rule = await rt.services.alerts.createRule(adminActor, { name: 'Every new Lead',
      conditions: [{ type: 'action', values: ['added'] }, { type: 'module', values: ['Leads'] }], actions: [{ type: 'webhook', url: hook.url, ...(batchSize > 1 ? { batch_size: batchSize } : {}) }] });
    hook.setSecret(rule.secret!);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const client = await rt.services.oauth.createClient(org.id);
    const token = (await (await fetch(`${base}/oauth/v2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret, grant_type: 'refresh_token',
        refresh_token: client.refresh_token }).toString() })).json() as { access_token: string }).access_token;
    const headers = { authorization: `Zoho-oauthtoken ${token}`, 'content-type': 'application/json' };
    worker.start();

    /** Record id -> when its write's response arrived. */
    const committedAt = new Map<string, number>();
    const writeLatencies: number[] = [];
    const send = async (from: number, timed: boolean) => {
      const t0 = performance.now();
      const res = await fetch(`${base}/crm/v8/Leads`, { method: 'POST', headers,
        body: JSON.stringify({ data: Array.from({ length: BATCH }, (_, k) => leadRow(from + k)) }) });
      const body = await res.json() as { data?: { status: string; details: { id: string } }[] };
      const t1 = performance.now();
      if (res.status !== 201 || !body.data) throw new Error(`POST /crm/v8/Leads answered ${res.status}`);
      if (!timed) return;
      writeLatencies.push(t1 - t0);
      const at = performance.timeOrigin + t1;
      for (const d of body.data) committedAt.set(d.details.id, at);
    };

    // Warm-up (its deliveries are drained before timing starts).
    log('warming up...');
    for (let i = 0; i < 5; i++) await send(1_000_000 + i * BATCH, false);
    if (!await hook.collect(5 * BATCH, 60_000)) throw new Error('the warm-up\'s webhooks did not arrive');
    const warm = 5 * BATCH;

    log(`writing ${records} leads, ${clients} clients, ${BATCH} a request...`);
    const batches = Array.from({ length: Math.ceil(records / BATCH) }, (_, i) => i * BATCH);
    const start = performance.timeOrigin + performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < batches.length) await send(batches[next++], true);
    }));
    const writesEnd = performance.timeOrigin + performance.now();
    log('writes done; waiting for the deliveries...');
    const all = await hook.collect(warm + batches.length * BATCH, 300_000);
    if (!all) throw new Error('not every webhook arrived within 5 minutes');
    const timedHooks = all.slice(warm);
    const lastAt = Math.max(...timedHooks.map(([, at]) => at));
    const firstAt = Math.min(...timedHooks.map(([, at]) => at));
    const deliveryLatencies: number[] = [];
    for (const [id, arrived] of timedHooks) {
      const at = committedAt.get(id);
      if (at !== undefined) deliveryLatencies.push(arrived - at);
    }
    const seconds = (writesEnd - start) / 1000;
    const writeRate = committedAt.size / seconds;
    const deliveryRate = timedHooks.length / ((lastAt - firstAt) / 1000);
    const w95 = pct(writeLatencies, 95);
    const d95 = pct(deliveryLatencies, 95);
    return {
      records: committedAt.size, clients, batchSize,
      write: { p50: pct(writeLatencies, 50), p95: w95, rate: writeRate, seconds },
      delivery: { p50: pct(deliveryLatencies, 50), p95: d95, rate: deliveryRate, seconds: (lastAt - firstAt) / 1000, delivered: timedHooks.length,
        drainSeconds: Math.max(0, (lastAt - writesEnd) / 1000), badSignatures: timedHooks.filter(([, , signed]) => !signed).length },
      ratios: { p95DeliveryVsWrite: d95 / w95, deliveryRateVsWriteRate: deliveryRate / writeRate },
    };
  } finally {
    await worker.stop();
    await app.close();
    await hook.close();
    await rt.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

runIfMain(import.meta.url, async () => {
  const sizes = process.env.BENCH_WEBHOOK_BATCH ? [Number(process.env.BENCH_WEBHOOK_BATCH)] : [1, 100];
  for (const batchSize of sizes) {
    const r = await measureAlerts({ batchSize, log: (s) => console.error(s) });
    console.log(`bench:alerts  SQLite, ${r.records} leads by HTTP (${BATCH} a request, ${r.clients} clients), `
      + `${r.batchSize === 1 ? 'one webhook POST per entry' : `webhook batch_size ${r.batchSize} (up to ${r.batchSize} entries a POST)`}`);
    console.log(`  writes:     p50 ${ms(r.write.p50)}  p95 ${ms(r.write.p95)} per request   ${r.write.rate.toFixed(0)} entries/s over ${r.write.seconds.toFixed(1)} s`);
    console.log(`  deliveries: p50 ${ms(r.delivery.p50)}  p95 ${ms(r.delivery.p95)} from the write's response to the webhook   `
      + `${r.delivery.rate.toFixed(0)} entries/s over ${r.delivery.seconds.toFixed(1)} s (${r.delivery.delivered} delivered, ${r.delivery.badSignatures} bad signatures)`);
    console.log(`  backlog drained ${r.delivery.drainSeconds.toFixed(2)} s after the last write`);
    console.log(`  ratio p95 delivery / p95 write:   ${r.ratios.p95DeliveryVsWrite.toFixed(2)}  (target <= 10)`);
    console.log(`  ratio delivery rate / write rate: ${r.ratios.deliveryRateVsWriteRate.toFixed(2)}  (target >= 1: delivery keeps up)`);
  }
});
