/**
 * Console benchmark: how long the audit log takes to show its first entries in Chromium, against
 * the API request that brings them, on SQLite, over the demo organisation loaded with
 * `auditrail demo --history N` (N = BENCH_HISTORY, default 5,000,000).
 *
 *   console  page.goto('/audit-log') until the table's first data row is visible: the page
 *            (no-store), its cached scripts, the session, the audit log's first page, rendering
 *   API      the request the page makes for that first page (captured from the page itself:
 *            GET /crm/v8/settings/audit_log with its default query and per_page), sent by fetch in
 *            Node on a kept-alive connection with the same session cookie
 *
 * Both are timed round-robin, one after the other, after a warm-up. Target: console p50 <= 2 x
 * API p50 + 200 ms. Also prints the console's initial JavaScript, gzipped (bench/bundle-size.ts),
 * against 300 kB. Prints figures only; never fails on timing.
 *
 * The database is the one bench:read caches (bench/.cache/read-sqlite, built when absent or
 * smaller than N), copied for the run: every audit log read adds an audit_log_viewed entry.
 * Env: BENCH_HISTORY, BENCH_WARMUP (5), BENCH_ITERATIONS (40), BENCH_CACHE_DIR.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.ts';
import { createHttpApp } from '../src/http/create-http-app.ts';
import { ensureConsoleBuilt } from '../src/entry/console-build.ts';
import { openRuntime } from '../src/entry/runtime.ts';
import { systemActor } from '../src/services/context.ts';
import { DEMO_ADMIN_EMAIL } from '../src/services/demo-service.ts';
import { chromiumInstalled, CHROMIUM, launchChromium, openPage, signedIn } from '../test/e2e/browser.ts';
import { bundleSize, printBundleSize } from './bundle-size.ts';
import { ensureDemoDatabase, intEnv, percentile, ROOT } from './common.ts';

const HISTORY = intEnv('BENCH_HISTORY', 5_000_000);
const WARMUP = intEnv('BENCH_WARMUP', 5);
const ITERATIONS = Math.max(1, intEnv('BENCH_ITERATIONS', 40));
const dataDir = path.resolve(process.env.BENCH_CACHE_DIR ?? path.join(ROOT, 'bench', '.cache', 'read-sqlite'));
const runDir = `${dataDir}-console-run`;
const AUDIT_LOG = '/crm/v8/settings/audit_log';
/** The console's allowance over the API: the page, its scripts and the session cost something. */
const OVERHEAD_MS = 200;

const log = (s: string) => console.log(s);
const ms = (v: number) => `${v.toFixed(1)} ms`;

/** What readMarks reports, in the order of a load. */
const MARKS = {
  navigationStart: 'the navigation starts',
  domContentLoaded: 'the document and its scripts run (DOMContentLoaded)',
  sessionEnd: 'GET /api/console/session answered',
  chunkEnd: 'the Audit Log page\'s chunk loaded',
  entriesStart: 'GET .../audit_log sent',
  entriesEnd: 'GET .../audit_log answered',
  firstRow: 'first data row in the DOM',
  firstRowPainted: 'the frame showing it painted (the figure above)',
  seen: 'Playwright notices (its polling adds its own delay)',
} as const;

/**
 * Runs in the page: the load's milestones from its Resource and Navigation Timing entries. No
 * named function inside: tsx would wrap it in a helper the page does not have.
 */
function readMarks(auditLog: string) {
  const g = globalThis as unknown as { __firstRowAt?: number; __firstRowPaintedAt?: number; performance: { timeOrigin: number;
    getEntriesByType(t: string): { name: string; startTime: number; responseEnd: number; domContentLoadedEventEnd?: number }[] } };
  let session = null;
  let chunk = null;
  let entries = null;
  for (const r of g.performance.getEntriesByType('resource')) {
    const p = new URL(r.name).pathname;
    if (p === '/api/console/session') session ??= r;
    else if (/\/assets\/AuditLogPage-[^/]*\.js$/.test(p)) chunk ??= r;
    else if (p === auditLog) entries ??= r;
  }
  return {
    timeOrigin: g.performance.timeOrigin,
    domContentLoaded: g.performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? null,
    sessionEnd: session?.responseEnd ?? null,
    chunkEnd: chunk?.responseEnd ?? null,
    entriesStart: entries?.startTime ?? null,
    entriesEnd: entries?.responseEnd ?? null,
    firstRow: g.__firstRowAt ?? null,
    firstRowPainted: g.__firstRowPaintedAt ?? null,
  };
}

interface Timing { p50: number; p95: number; n: number }
const summary = (values: number[]): Timing => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p95: percentile(s, 95), n: s.length };
};

async function main() {
  log(`auditrail console benchmark (SQLite, Chromium): history ${HISTORY.toLocaleString('en-US')}, warm-up ${WARMUP}, iterations ${ITERATIONS}`);
  if (!chromiumInstalled()) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  ensureDemoDatabase(dataDir, HISTORY, log);
  if (await ensureConsoleBuilt({ log })) log('');
  rmSync(runDir, { recursive: true, force: true });
  cpSync(dataDir, runDir, { recursive: true });

  const config = loadConfig({ dataDir: runDir }, { ...process.env, AUDITRAIL_LOG_LEVEL: 'warn' });
  const rt = await openRuntime(config);
  const org = await rt.demo.findDemoOrg();
  if (!org) throw new Error('the cached database has no demo organisation');
  await rt.services.directory.updateOrgSettings(systemActor(org.id, 'Benchmark', org.time_zone), { api_requests_per_minute: 1_000_000 });
  log('set api_requests_per_minute to 1000000 on the run\'s copy, so the figures are the server\'s, not its rate limit');
  const password = randomBytes(18).toString('base64url');
  await rt.services.sessions.setPassword(org.id, DEMO_ADMIN_EMAIL, password, 'bench:console');

  const app = await createHttpApp(rt);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (!addr || typeof addr === 'string') throw new Error('no listening address');
  const baseUrl = `http://127.0.0.1:${addr.port}`;
  log(`server: ${baseUrl}`);

  const browser = await launchChromium();
  try {
    const { context, page } = await openPage(browser, { baseUrl });
    await signedIn(page, { email: DEMO_ADMIN_EMAIL, password });
    const cookie = (await context.cookies()).find((c) => c.name === 'auditrail_session');
    if (!cookie) throw new Error('no session cookie after signing in');

    // The first audit log request of each load, as the page sends it.
    let apiPath: string | null = null;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === AUDIT_LOG && apiPath === null) apiPath = `${u.pathname}${u.search}`;
    });
    // The page's own clock: when the first data row entered the DOM (set by a script of the browser, not of the page).
    await context.addInitScript(() => {
      const g = globalThis as unknown as { __firstRowAt?: number; __firstRowPaintedAt?: number;
        document: { querySelector(s: string): unknown; documentElement: unknown };
        MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void }; performance: { now(): number };
        requestAnimationFrame(cb: () => void): number };
      const observer = new g.MutationObserver(() => {
        if (g.__firstRowAt === undefined && g.document.querySelector('tr td')) {
          g.__firstRowAt = g.performance.now();
          observer.disconnect();
          // Visible: the frame that paints it has run (the second animation frame starts after it).
          g.requestAnimationFrame(() => g.requestAnimationFrame(() => { g.__firstRowPaintedAt = g.performance.now(); }));
        }
      });
      observer.observe(g.document, { childList: true, subtree: true });
    });
    const firstRow = page.getByRole('row').nth(1);
    const loadConsole = async () => {
      const wall0 = Date.now();
      const t0 = performance.now();
      await page.goto('/audit-log', { waitUntil: 'commit' });
      await firstRow.waitFor({ state: 'visible' }).catch((e: Error) => {
        throw new Error(`no table row on /audit-log (${e.message.split('\n')[0]}): is the page built (not the placeholder), and does it show entries?`);
      });
      const seen = performance.now() - t0;
      await page.waitForFunction(() => (globalThis as unknown as { __firstRowPaintedAt?: number }).__firstRowPaintedAt !== undefined);
      const { timeOrigin, ...marks } = await page.evaluate(readMarks, AUDIT_LOG);
      // The page's clock starts at its navigation: shifted to start when page.goto was called.
      const shift = timeOrigin - wall0;
      const fromGoto = Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, v === null ? null : v + shift]));
      // The figure: from the call to page.goto to the frame that shows the first row, by the
      // page's own clock; Playwright's noticing it later is its polling, not the console.
      const t = (marks.firstRowPainted ?? seen - shift) + shift;
      return { t, marks: { ...fromGoto, navigationStart: shift, seen } };
    };
    await loadConsole();
    if (!apiPath) throw new Error('the audit log page made no request to GET /crm/v8/settings/audit_log');
    log(`the page's first-page request: GET ${apiPath}`);

    const headers = { cookie: `${cookie.name}=${cookie.value}`, accept: 'application/json' };
    let entries = 0;
    const callApi = async () => {
      const t0 = performance.now();
      const res = await fetch(`${baseUrl}${apiPath}`, { headers });
      const text = await res.text();
      const t = performance.now() - t0;
      if (res.status !== 200) throw new Error(`GET ${apiPath}: ${res.status} ${text.slice(0, 300)}`);
      entries = (JSON.parse(text) as { audit_log: unknown[] }).audit_log.length;
      return t;
    };

    for (let i = 0; i < WARMUP; i++) {
      await loadConsole();
      await callApi();
    }
    const consoleTimes: number[] = [];
    const apiTimes: number[] = [];
    const marks = new Map<string, number[]>();
    for (let i = 0; i < ITERATIONS; i++) {
      const c = await loadConsole();
      consoleTimes.push(c.t);
      for (const [k, v] of Object.entries(c.marks)) if (v !== null) marks.set(k, [...(marks.get(k) ?? []), v]);
      apiTimes.push(await callApi());
    }
    await context.close();

    const con = summary(consoleTimes);
    const api = summary(apiTimes);
    const target = 2 * api.p50 + OVERHEAD_MS;
    const ratio = con.p50 / target;
    log('');
    log(`API page: ${entries} entries`);
    log('                       p50          p95');
    log(`console (first row shown) ${ms(con.p50).padEnd(12)} ${ms(con.p95)}`);
    log(`API (fetch, Node)      ${ms(api.p50).padEnd(12)} ${ms(api.p95)}`);
    log('  where a load\'s time goes (p50 of each milestone, from the call to page.goto; the page\'s own clock where it can tell):');
    for (const [k, label] of Object.entries(MARKS)) {
      const v = marks.get(k);
      if (v?.length) log(`    ${label.padEnd(52)} ${ms(summary(v).p50)}`);
    }
    log('');
    log(`target: console p50 <= 2 x API p50 + ${OVERHEAD_MS} ms = ${ms(target)}; ratio ${ratio.toFixed(2)} ${ratio <= 1 ? 'PASS' : 'FAIL'}`);
    log('(ratio = console p50 / (2 x API p50 + 200 ms); PASS when <= 1; informational, never an exit code)');
  } finally {
    await browser.close();
    await app.close();
    await rt.store.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  log('');
  printBundleSize(bundleSize(), log);
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(`bench:console failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
