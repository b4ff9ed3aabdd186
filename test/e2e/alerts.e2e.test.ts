import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations, CHROMIUM, chromiumInstalled, FLOW_TIMEOUT, h1, label, screenshots, settled, startConsoleServer,
  STEP_TIMEOUT, testPages, type ConsoleServer,
} from './harness.ts';
import { startWebhookReceiver } from '../alert-peers.ts';

/**
 * The Alerts page in Chromium against a real server with its worker: an administrator builds
 * "Delete, Deals, not Administrator" with a webhook, a trainee deletes a Deal, the signed webhook
 * arrives and the notification shows; then test, dead letter retry, disable and delete, all by
 * role and label, and axe on the page.
 */

const skip = !chromiumInstalled() && process.env.CI !== 'true';

describe.skipIf(skip)(`the Alerts page in Chromium${skip ? ` (skipped: ${CHROMIUM} is missing)` : ''}`, () => {
  let server: ConsoleServer;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const { as } = testPages(() => server);
  const RULE = 'Delete, Deals, not Administrator';

  beforeAll(async () => {
    server = await startConsoleServer({ worker: true });
    hook = await startWebhookReceiver();
  }, FLOW_TIMEOUT);
  afterAll(async () => {
    await hook?.close();
  });
  const eventually = (fn: () => Promise<unknown>) => expect.poll(fn, { timeout: STEP_TIMEOUT, interval: 100 });
  /** Picks `option` in the combobox labelled `name` (Mantine's Select and MultiSelect). */
  async function pick(page: Page, name: string, option: string) {
    await page.getByRole('combobox', { name: label(name) }).click();
    await page.getByRole('option', { name: option, exact: true }).click();
    // A MultiSelect stays open; Escape closes its list (a Select closed itself, and Escape would close the dialog).
    if (await page.getByRole('listbox').isVisible()) await page.keyboard.press('Escape');
  }

  it('creates "Delete, Deals, not Administrator"; a trainee\'s deletion calls the signed webhook and shows a notification', async () => {
    const page = await as(server.users.admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await settled(page, 'Alerts');
    await expect(page.getByRole('heading', { name: 'No alert rules yet' }).isVisible()).resolves.toBe(true);

    await page.getByRole('button', { name: 'New rule' }).click();
    const dialog = page.getByRole('dialog', { name: 'New alert rule' });
    await dialog.getByLabel(label('Name')).fill(RULE);
    await pick(page, 'Condition 1 values', 'Deleted');
    await dialog.getByRole('button', { name: 'Add condition' }).click();
    await pick(page, 'Condition 2 values', 'Deals');
    await dialog.getByRole('button', { name: 'Add condition' }).click();
    await pick(page, 'Condition 3', 'User\'s profile');
    await pick(page, 'Condition 3 operator', 'is not');
    await pick(page, 'Condition 3 values', 'Administrator');
    await dialog.getByLabel('Webhook URLs').fill(hook.url);
    await page.keyboard.press('Enter');
    // A webhook brings its batch size; out of range is said before the server is asked; 1 is one entry a request.
    await dialog.getByLabel('Entries per webhook request').fill('500');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    await expect(dialog.getByText('Between 1 and 100 entries a request.').isVisible()).resolves.toBe(true);
    await dialog.getByLabel('Entries per webhook request').fill('1');
    await dialog.getByRole('button', { name: 'Create rule' }).click();
    const secret = (await page.getByLabel('Webhook secret', { exact: true }).textContent())!.trim();
    expect(secret.length).toBeGreaterThan(30);
    hook.setSecret(secret);
    const row = page.getByRole('table', { name: 'Alert rules' }).getByRole('row').filter({ hasText: RULE });
    await expect(row.textContent()).resolves.toContain('User\'s profile is not Administrator');

    // The trainee deletes a Deal; the worker delivers while the page is open.
    const trainee = await server.actor(server.users.trainee);
    const [deal] = await server.env.rt.services.records.createRecords(trainee, 'Deals', [{ Deal_Name: 'Zylker renewal', Stage: 'Qualification' }]);
    if (!deal.ok) throw new Error('create failed');
    await server.env.rt.services.records.deleteRecords(trainee, 'Deals', [deal.row.id]);
    await eventually(() => Promise.resolve(hook.hooks.length)).toBe(1);
    expect(hook.hooks[0].signed).toBe(true);
    expect(hook.hooks[0].body).toMatchObject({ rule: { name: RULE }, entry: { action: 'deleted', record: { name: 'Zylker renewal' },
      done_by: { name: 'Tia Trainee' } } });

    await page.reload();
    await settled(page, 'Alerts');
    const notes = page.getByRole('list', { name: 'Notifications' });
    await expect(notes.textContent()).resolves.toContain('Tia Trainee deleted Deals "Zylker renewal"');
    await expect(page.getByRole('navigation', { name: 'Main' }).getByLabel('1 unread notifications').isVisible()).resolves.toBe(true);
    await eventually(async () => (await page.getByRole('table', { name: 'Deliveries' }).textContent()) ?? '').toContain('Delivered');
    // The page with a rule, a delivery and a notification, at both widths.
    await screenshots(page, 'alerts', { heading: 'Alerts', check: async (width) => {
      expect(await axeViolations(page), `axe at ${width}px`).toEqual([]);
    } });
    await page.getByRole('button', { name: 'Mark all as read' }).click();
    await eventually(() => page.getByRole('navigation', { name: 'Main' }).getByLabel('1 unread notifications').count()).toBe(0);
    // The link opens the entry in the audit log.
    await notes.getByRole('link', { name: 'Open entry' }).click();
    await h1(page, 'Audit Log').waitFor();
    expect(page.url()).toMatch(/\/audit-log\?action=deleted&module=Deals&record_id=\d+&entry=\d+$/);
  }, FLOW_TIMEOUT);

  it('tests a rule, retries a dead letter, disables and deletes the rule; the trainee sees none of it', async () => {
    const page = await as(server.users.admin);
    await page.goto('/alerts');
    await settled(page, 'Alerts');
    await page.getByRole('button', { name: `Test ${RULE}` }).click();
    await expect(page.getByRole('status').filter({ hasText: `Test of “${RULE}”` }).textContent()).resolves.toContain('webhook to');
    expect(hook.hooks.at(-1)!.body.event).toBe('alert.test');

    // A delivery that failed every attempt is a dead letter; Retry sends it again.
    const [first] = (await server.env.rt.services.alerts.listDeliveries(await server.actor(server.users.admin), { status: 'delivered' })).deliveries;
    await server.env.store.db.updateTable('alert_deliveries').set({ status: 'dead', attempts: 8, last_error: 'the receiver answered HTTP 503' })
      .where('id', '=', first.id).execute();
    const before = hook.hooks.length;
    // Mantine draws the radio's label over its hidden input: the label is what a person clicks.
    await page.getByText('Dead letters', { exact: true }).click();
    const deadRow = page.getByRole('table', { name: 'Deliveries' }).getByRole('row').filter({ hasText: 'Dead letter' });
    await expect(deadRow.textContent()).resolves.toContain('the receiver answered HTTP 503');
    await expect(axeViolations(page)).resolves.toEqual([]);
    await deadRow.getByRole('button', { name: `Retry delivery to ${hook.url}` }).click();
    await eventually(() => Promise.resolve(hook.hooks.length)).toBe(before + 1);
    await eventually(() => page.getByRole('table', { name: 'Deliveries' }).count()).toBe(0);

    const enabled = page.getByRole('switch', { name: `Enabled: ${RULE}` });
    await enabled.dispatchEvent('click');
    await eventually(async () => (await server.env.rt.services.alerts.listRules(await server.actor(server.users.admin)))[0].enabled).toBe(false);

    // The trainee has the audit log (Alerts in the menu) but sees only their own rules: none.
    const traineePage = await as(server.users.trainee);
    await traineePage.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
    await settled(traineePage, 'Alerts');
    await expect(traineePage.getByRole('heading', { name: 'No alert rules yet' }).isVisible()).resolves.toBe(true);
    await expect(traineePage.getByText(RULE).count()).resolves.toBe(0);

    await page.getByRole('button', { name: `Delete ${RULE}` }).click();
    await page.getByRole('dialog', { name: 'Delete this alert rule?' }).getByRole('button', { name: 'Delete rule' }).click();
    await page.getByRole('heading', { name: 'No alert rules yet' }).waitFor();
    const actions = await server.env.store.db.selectFrom('audit_entries').select('action').where('org_id', '=', server.orgId)
      .where('module', '=', 'alert_rules').orderBy('seq').execute();
    expect(actions.map((a) => a.action)).toEqual(['alert_rule_created', 'alert_rule_tested', 'alert_delivery_retried', 'alert_rule_updated',
      'alert_rule_deleted']);
  }, FLOW_TIMEOUT);
});
