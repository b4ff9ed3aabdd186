import { beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations, CHROMIUM, chromiumInstalled, FLOW_TIMEOUT, h1, label, PASSWORD, screenshots, settled, startConsoleServer,
  testPages, type ConsoleServer, type ConsoleUser,
} from './harness.ts';

/**
 * The Findings page in Chromium against a real server, found by role and label: the table with
 * its filters in the URL, the entries behind a finding, acknowledging one, and who may not.
 */

const skip = !chromiumInstalled() && process.env.CI !== 'true';

const NOW = Date.parse('2026-12-04T09:30:00Z');

describe.skipIf(skip)(`the Findings page in Chromium${skip ? ` (skipped: ${CHROMIUM} is missing)` : ''}`, () => {
  let server: ConsoleServer;
  let outsider: ConsoleUser;
  const { as } = testPages(() => server, { now: NOW });

  beforeAll(async () => {
    server = await startConsoleServer({ now: NOW - 3_600_000 });
    const admin = await server.actor(server.users.admin);
    const trainee = await server.actor(server.users.trainee);
    const dir = server.env.rt.services.directory;
    // The trainee deletes 60 Leads at once; the Administrator moves a user's role.
    const made = await server.env.rt.services.records.createRecords(trainee, 'Leads', Array.from({ length: 60 }, (_, i) => ({ Last_Name: `Lead ${i}` })));
    server.env.advance(60_000);
    await server.env.rt.services.records.deleteRecords(trainee, 'Leads', made.map((r) => (r.ok ? r.row.id : '')));
    // Someone whose profile does not grant the audit log.
    const profile = await dir.cloneProfile(admin, server.org.profiles.standard.id, { name: 'No Audit', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: false } }, settings: {} } });
    const user = await dir.createUser(admin, { first_name: 'Otto', last_name: 'Outsider', email: 'otto@acme.example',
      role: { id: server.org.roles.manager.id }, profile: { id: profile.id } });
    await server.env.rt.services.sessions.setPassword(server.orgId, 'otto@acme.example', PASSWORD, 'e2e');
    outsider = { id: user.id, email: 'otto@acme.example', password: PASSWORD, name: 'Otto Outsider' };
    await server.env.rt.services.findings.scanOrganisation(server.orgId);
    server.env.setNow(NOW);
  }, FLOW_TIMEOUT);



  it('lists findings with their explanation, passes axe, filters in the URL, and links to the entries behind one', async () => {
    const page = await as(server.users.admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Findings' }).click();
    await settled(page, 'Findings');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Findings' }).getAttribute('aria-current')).toBe('page');
    // The pointer leaves the menu: axe judges the page as it rests, not a hovered link.
    await page.mouse.move(900, 10);
    const table = page.getByRole('table', { name: 'Findings' });
    await table.getByRole('cell', { name: 'deleted 60 Leads in 1 minute; no baseline yet, threshold: 50', exact: false }).first().waitFor();
    expect(await table.getByRole('cell', { name: /gave|added the role|changed/ }).count()).toBeGreaterThan(0);
    const found: Record<string, unknown> = {};
    await screenshots(page, 'findings', { heading: 'Findings', check: async (width) => {
      const v = await axeViolations(page);
      if (v.length) found[`findings at ${width}px`] = v;
    } });
    expect(found).toEqual({});

    await page.getByRole('combobox', { name: 'Kind', exact: true }).click();
    await page.getByRole('option', { name: 'Mass deletion', exact: true }).click();
    await page.waitForURL(/kind=mass_deletion/);
    // The header and the one mass deletion, once the filtered answer has come.
    await expect.poll(() => table.getByRole('row').count()).toBe(2);
    expect(await table.getByRole('cell', { name: 'Mass deletion', exact: true }).count()).toBe(1);
    // The filter survives a reload: it lives in the address.
    await page.reload();
    await settled(page, 'Findings');
    expect(await page.getByRole('combobox', { name: 'Kind', exact: true }).inputValue()).toBe('Mass deletion');
    await page.getByRole('link', { name: /^Show the 60 entries/ }).click();
    await h1(page, 'Audit Log').waitFor();
    const url = new URL(page.url());
    expect(url.pathname).toBe('/audit-log');
    expect(url.searchParams.get('done_by')).toBe(server.users.trainee.id);
    expect(url.searchParams.get('from')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+05:30$/);
    await page.getByRole('cell', { name: 'Tia Trainee' }).first().waitFor();
  }, FLOW_TIMEOUT);

  it('acknowledges a finding with a note, and the acknowledgement is audited', async () => {
    const page = await as(server.users.admin);
    await page.goto('/findings?kind=mass_deletion');
    await settled(page, 'Findings');
    await page.getByRole('button', { name: /^Acknowledge: Tia Trainee, deleted 60 Leads/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Acknowledge finding' });
    await dialog.getByLabel(label('Note (optional)')).fill('Junk leads from the trade show, agreed');
    await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    await page.getByRole('cell', { name: 'Acknowledged by Ada Admin: Junk leads from the trade show, agreed' }).waitFor();
    expect(await page.getByRole('button', { name: /^Acknowledge: Tia Trainee/ }).count()).toBe(0);
    const entries = await server.env.store.db.selectFrom('audit_entries').selectAll().where('org_id', '=', server.orgId)
      .where('action', '=', 'finding_acknowledged').execute();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_id: server.users.admin.id, source: 'crm_ui' });
  }, FLOW_TIMEOUT);

  it('shows a trainee only findings about themselves, and refuses their own acknowledgement in words', async () => {
    // A fresh finding about the trainee, not yet acknowledged.
    const trainee = await server.actor(server.users.trainee);
    server.env.advance(3 * 3_600_000);
    const made = await server.env.rt.services.records.createRecords(trainee, 'Leads', Array.from({ length: 55 }, (_, i) => ({ Last_Name: `More ${i}` })));
    await server.env.rt.services.records.deleteRecords(trainee, 'Leads', made.map((r) => (r.ok ? r.row.id : '')));
    await server.env.rt.services.findings.scanOrganisation(server.orgId);
    server.env.setNow(NOW);
    const page = await as(server.users.trainee);
    await page.goto('/findings');
    await settled(page, 'Findings');
    const table = page.getByRole('table', { name: 'Findings' });
    expect(await table.getByRole('cell', { name: 'Ada Admin', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: /^Acknowledge: Tia Trainee, deleted 55 Leads/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Acknowledge finding' });
    await dialog.getByRole('button', { name: 'Acknowledge', exact: true }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('A finding about yourself is for someone else to acknowledge.');
  }, FLOW_TIMEOUT);

  it('is not offered to a user whose profile does not grant the audit log', async () => {
    const page = await as(outsider);
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Findings' }).count()).toBe(0);
    await page.goto('/findings');
    await h1(page, 'Findings').waitFor();
    await page.getByRole('alert').filter({ hasText: 'You do not have permission to view this page.' }).waitFor();
  }, FLOW_TIMEOUT);
});
