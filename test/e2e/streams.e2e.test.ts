import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations, chromiumInstalled, CHROMIUM, FLOW_TIMEOUT, label, screenshots, settled, startConsoleServer, testPages, type ConsoleServer,
} from './harness.ts';
import { checkContinuity, ndjsonReceiver } from '../stream-helpers.ts';

/**
 * The Streams page in Debian's Chromium against a real server with its worker, and a real HTTP
 * receiver of the stream: found by role and label, checked by axe. Skipped without Chromium,
 * except in CI.
 */

const skip = !chromiumInstalled() && process.env.CI !== 'true';
if (skip) console.warn(`[e2e] skipping the Streams page's browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(skip)(`the Streams page${skip ? ' (SKIPPED: no Chromium)' : ''}`, () => {
  let server: ConsoleServer;
  let receiver: Awaited<ReturnType<typeof ndjsonReceiver>>;
  const { as } = testPages(() => server);
  beforeAll(async () => {
    server = await startConsoleServer({ worker: true });
    receiver = await ndjsonReceiver();
  }, FLOW_TIMEOUT);
  afterAll(async () => {
    await receiver?.close();
  });

  it('creates an HTTPS stream that delivers the audit log in order, shows its secret once and its lag, then pauses, rewinds and deletes it', async () => {
    const page = await as(server.users.admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Streams' }).click();
    await settled(page, 'Streams');
    await expect.poll(() => page.getByRole('heading', { name: 'No streams yet' }).isVisible()).toBe(true);
    // The pointer off the menu: a hovered link's tint is not what the page shows.
    await page.getByRole('heading', { level: 1, name: 'Streams' }).hover();
    expect(await axeViolations(page)).toEqual([]);

    await page.getByLabel(label('Name')).fill('Corporate SIEM');
    await page.getByLabel(label('Endpoint URL')).fill(receiver.url);
    await page.getByLabel('Start from the first entry of the audit log (otherwise from now on)').check();
    await page.getByRole('button', { name: 'Create stream' }).click();
    const secretBox = page.getByRole('status').filter({ hasText: 'Signing secret of Corporate SIEM' });
    await secretBox.waitFor();
    const row = page.getByRole('row', { name: /Corporate SIEM/ });
    await row.waitFor();
    // The worker beside the server delivers; the page polls until the lag is gone.
    await expect.poll(async () => (await row.textContent()) ?? '', { timeout: 60_000 }).toMatch(/0 entries, 0 s/);
    const got = checkContinuity(receiver.lines, true);
    expect(got[0]).toMatchObject({ seq: 1, action: 'org_created' });
    // The page with a stream caught up, at both widths.
    await screenshots(page, 'streams', { heading: 'Streams', check: async (width) => {
      expect(await axeViolations(page), `axe at ${width}px`).toEqual([]);
    } });

    await secretBox.getByRole('button', { name: 'Dismiss' }).click();
    await row.getByRole('button', { name: 'Pause Corporate SIEM' }).click();
    await expect.poll(async () => (await row.textContent()) ?? '').toMatch(/Paused/);
    await row.getByRole('button', { name: 'Rewind Corporate SIEM' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rewind Corporate SIEM' });
    await dialog.getByLabel(label('From sequence')).fill('2');
    // The modal fades in: axe is asked again until the transition is over (mid-fade, colours blend).
    await expect.poll(() => axeViolations(page), { timeout: 30_000, interval: 250 }).toEqual([]);
    await dialog.getByRole('button', { name: 'Rewind' }).click();
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(async () => (await row.textContent()) ?? '').toMatch(/Delivered to seq|1 of \d+/);
    const before = receiver.lines.length;
    await row.getByRole('button', { name: 'Resume Corporate SIEM' }).click();
    await expect.poll(() => receiver.lines.length, { timeout: 60_000 }).toBeGreaterThan(before);
    expect(receiver.lines[before]).toMatchObject({ seq: 2, prev_seq: null });

    await row.getByRole('button', { name: 'Delete Corporate SIEM' }).click();
    await page.getByRole('dialog', { name: 'Delete Corporate SIEM' }).getByRole('button', { name: 'Delete stream' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'No streams yet' }).isVisible()).toBe(true);
    const actions = (await server.env.store.db.selectFrom('audit_entries').select('action').where('module', '=', 'streams').orderBy('seq').execute())
      .map((e) => e.action);
    expect(actions).toEqual(['stream_created', 'stream_updated', 'stream_rewound', 'stream_updated', 'stream_deleted']);
  }, FLOW_TIMEOUT);

  it('a trainee with the audit log permission sees only their own streams', async () => {
    const admin = await server.actor(server.users.admin);
    await server.env.rt.services.streams.create(admin, { name: 'Admin only', type: 'https', destination: { url: receiver.url }, status: 'paused' });
    const page = await as(server.users.trainee);
    await page.goto('/streams');
    await settled(page, 'Streams');
    await expect.poll(() => page.getByRole('heading', { name: 'No streams yet' }).isVisible()).toBe(true);
    expect(await page.getByText('Admin only').count()).toBe(0);
  }, FLOW_TIMEOUT);
});
