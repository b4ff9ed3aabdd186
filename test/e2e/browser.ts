/**
 * The browser side of the console's tests and benchmark: Debian's Chromium driven by
 * playwright-core, signing in, and the checks every page gets (axe, screenshots). Elements are
 * found by role and label only, as a screen-reader user finds them. Imports nothing of vitest, so
 * that bench/console.ts can use it too.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Where the pages' pictures go: the committed ones in docs/screenshots when asked
 * (`AUDITRAIL_SCREENSHOTS=docs npm run test:e2e`), else a scratch folder, so that a test run
 * leaves the working tree as it found it.
 */
export const SCREENSHOT_DIR = process.env.AUDITRAIL_SCREENSHOTS === 'docs' ? path.join(ROOT, 'docs', 'screenshots')
  : path.join(os.tmpdir(), 'auditrail-screenshots');

/**
 * How long one browser step may wait (an element to appear, a navigation). Generous on purpose:
 * the machines are shared and noisy, and these are limits against hanging, not assertions.
 */
export const STEP_TIMEOUT = 60_000;

/** Whether this machine can run the browser tests. */
export const chromiumInstalled = () => existsSync(CHROMIUM);

/** Who signs in: an email and a password. */
export interface Credentials {
  email: string;
  password: string;
}

/**
 * A label's text, whether or not it is marked required: Mantine appends an aria-hidden " *" to a
 * required field's label, which a screen reader does not read but getByLabel's text match sees.
 */
export const label = (text: string) => new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?: \\*)?$`);

/** Debian's Chromium, headless, with nothing of its own talking to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
      '--disable-component-update', '--no-first-run'],
  });
}

export const DESKTOP = { width: 1280, height: 900 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface PageOptions {
  viewport?: { width: number; height: number };
  /** The browser's Date.now() (timers still run), to agree with a fixed server clock. */
  now?: number;
  acceptDownloads?: boolean;
}

/** A new browser context (its own cookies) and page, on the server's origin. */
export async function openPage(browser: Browser, server: { baseUrl: string }, opts: PageOptions = {}):
  Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    baseURL: server.baseUrl, viewport: opts.viewport ?? DESKTOP, locale: 'en-GB', timezoneId: 'UTC',
    reducedMotion: 'reduce', acceptDownloads: opts.acceptDownloads ?? true,
  });
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  if (opts.now !== undefined) await context.clock.setFixedTime(opts.now);
  const page = await context.newPage();
  return { context, page };
}

/** Fills in the sign-in form and submits it; the caller checks what came of it. */
export async function signIn(page: Page, email: string, password: string) {
  if (!(await page.getByRole('button', { name: 'Sign in' }).isVisible())) await page.goto('/');
  await page.getByLabel(label('Email')).fill(email);
  await page.getByLabel(label('Password')).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Signs in and waits for the console's frame (the Main navigation landmark). */
export async function signedIn(page: Page, user: Credentials) {
  await page.goto('/');
  await signIn(page, user.email, user.password);
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** The page's only h1, by role. */
export const h1 = (page: Page, name?: string | RegExp) => page.getByRole('heading', { level: 1, ...(name === undefined ? {} : { name }) });

/**
 * Waits until the page has said what it is (its h1) and finished loading (no "Loading…" status
 * left), so that axe and screenshots see the page, not its spinner.
 */
export async function settled(page: Page, heading?: string | RegExp) {
  await h1(page, heading).first().waitFor();
  await page.getByRole('status').filter({ hasText: /Loading/ }).first().waitFor({ state: 'detached' });
  // Two frames: the last data's layout has been painted.
  await page.evaluate(() => new Promise<void>((resolve) => {
    const raf = (globalThis as unknown as { requestAnimationFrame(cb: () => void): void }).requestAnimationFrame;
    raf(() => raf(() => resolve()));
  }));
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  /** Each offending element (the first eight): its CSS selector, and what axe found wrong with it. */
  nodes: string[];
}

interface AxeResult {
  violations: { id: string; impact?: string | null; help: string;
    nodes: { target: unknown[]; any: { message: string }[]; all: { message: string }[]; none: { message: string }[] }[] }[];
}

const AXE_SOURCE = path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js');
const AXE_URL = '/__e2e__/axe.min.js';

/**
 * axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now; [] when it passes. axe is
 * served from the page's own origin through a route of this page only (never by the server): the
 * console's Content-Security-Policy allows scripts from 'self' alone, and an inline script tag
 * (addScriptTag with a path) would be refused.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => 'axe' in globalThis);
  if (!loaded) {
    await page.route(AXE_URL, (route) => route.fulfill({ contentType: 'text/javascript', body: readFileSync(AXE_SOURCE, 'utf8') }));
    await page.addScriptTag({ url: AXE_URL });
  }
  const result = await page.evaluate(async () => {
    const { axe, document } = globalThis as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<AxeResult> }; document: unknown };
    const r = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help,
      nodes: v.nodes.slice(0, 8).map((n) => [n.target.join(' '), ...[...n.any, ...n.all, ...n.none].slice(0, 1).map((c) => c.message)].join(': '))
        .concat(v.nodes.length > 8 ? [`...and ${v.nodes.length - 8} more`] : []) }));
  });
  return result;
}

/**
 * Screenshots of the page at a desktop width (1280 x 900) and a phone's (390 x 844), written to
 * docs/screenshots/<name>-<width>.png, with `check` (axe, say) run at each width after its
 * screenshot. The page is left at its first viewport.
 */
export async function screenshots(page: Page, name: string, opts: { heading?: string | RegExp; check?: (width: number) => Promise<void> } = {}) {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const original = page.viewportSize();
  const files: string[] = [];
  for (const size of [DESKTOP, PHONE]) {
    await page.setViewportSize(size);
    await settled(page, opts.heading);
    // The page from its top, h1 first, whatever the test scrolled to before.
    await page.evaluate(() => (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, 0));
    const file = path.join(SCREENSHOT_DIR, `${name}-${size.width}.png`);
    await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' });
    files.push(file);
    // After the picture: a page that fails its check is still shown as it is.
    await opts.check?.(size.width);
  }
  if (original) await page.setViewportSize(original);
  return files;
}

/** Same-origin fetch from inside the page, carrying its cookie: what a script on the page could do. */
export async function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  return page.evaluate(async ({ url, init }) => {
    const res = await fetch(url, { method: init.method ?? 'GET', headers: { 'content-type': 'application/json', ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body), credentials: 'same-origin' });
    const text = await res.text();
    let body: unknown = text;
    try { body = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
    return { status: res.status, body: body as Record<string, unknown> | null };
  }, { url, init });
}
