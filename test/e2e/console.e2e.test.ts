import { readFileSync } from 'node:fs';
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../../src/services/export-csv-encoding.ts';
import {
  axeViolations, CHROMIUM, chromiumInstalled, DESKTOP, FLOW_TIMEOUT, h1, label, pageFetch, screenshots, settled, signIn,
  startConsoleServer, STEP_TIMEOUT, testPages, type ConsoleServer,
} from './harness.ts';

/**
 * The console's flows in Debian's Chromium against a real server, found by role and label as a
 * screen-reader user finds them. Without Chromium the file is skipped, except in CI (CI=true),
 * where .ci/run installs it and a skipped browser suite would hide a broken console.
 */

const skip = !chromiumInstalled() && process.env.CI !== 'true';
if (skip) console.warn(`[e2e] skipping the console's browser tests: ${CHROMIUM} is missing (apt-get install chromium)`);

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The server's clock and the browser's Date: the same times on every run, in every screenshot. */
const NOW = Date.parse('2026-12-04T09:30:00Z');
/** When the organisation was set up: a week before, so its setup entries sit below the week's activity. */
const SETUP = NOW - 7 * 24 * 3_600_000;

/** What the seed leaves in the organisation, by the names the pages show. */
const NAMES = {
  grace: 'Grace Hopper',
  alan: 'Alan Turing',
  traineeLead: 'Ravi Kumar',
  account: 'Zylker Traders',
  binnedDeal: 'Difference Engine Upgrade',
  toRestore: 'Katherine Johnson',
  toDelete: 'Charles Babbage',
  toRestoreFromRecord: 'Ada Byron',
  oldProspect: 'Mary Jackson',
} as const;

interface Seeded { ids: Record<keyof typeof NAMES, string> }

/**
 * A week of activity after the organisation's setup: leads, an account and a deal created and
 * changed by the Administrator and the trainee, and five records deleted into the recycle bin;
 * then the clock stops at NOW.
 */
async function seed(s: ConsoleServer): Promise<Seeded> {
  const admin = await s.actor(s.users.admin);
  const trainee = await s.actor(s.users.trainee);
  const records = s.env.rt.services.records;
  const at = (daysAgo: number, hour = 0) => s.env.setNow(NOW - daysAgo * DAY + hour * HOUR);
  const create = async (actor: typeof admin, module: string, data: Record<string, unknown>) => {
    const [r] = await records.createRecords(actor, module, [data]);
    if (!r.ok) throw new Error(`seed: ${module} ${JSON.stringify(r.error)}`);
    return r.row.id;
  };
  const update = async (actor: typeof admin, module: string, id: string, data: Record<string, unknown>) => {
    const [r] = await records.updateRecords(actor, module, [{ id, ...data }]);
    if (!r.ok) throw new Error(`seed: update ${JSON.stringify(r.error)}`);
  };
  const ids = {} as Record<keyof typeof NAMES, string>;
  at(6, 1);
  ids.grace = await create(admin, 'Leads', { First_Name: 'Grace', Last_Name: 'Hopper', Company: 'Eckert-Mauchly', Email: 'grace@eckert.example',
    Lead_Status: 'Not Contacted' });
  at(6, 3);
  ids.alan = await create(admin, 'Leads', { First_Name: 'Alan', Last_Name: 'Turing', Company: 'Bletchley Park', Lead_Source: 'Trade Show' });
  at(5, 2);
  ids.account = await create(admin, 'Accounts', { Account_Name: NAMES.account, Industry: 'Retail', Phone: '+91 80 4000 1234' });
  at(4, 5);
  await update(admin, 'Leads', ids.grace, { Company: 'Remington Rand', Lead_Status: 'Contacted' });
  at(3, 4);
  ids.traineeLead = await create(trainee, 'Leads', { First_Name: 'Ravi', Last_Name: 'Kumar', Company: 'Zylker Traders' });
  await update(trainee, 'Leads', ids.traineeLead, { Lead_Status: 'Attempted to Contact' });
  at(3, 6);
  ids.binnedDeal = await create(admin, 'Deals', { Deal_Name: NAMES.binnedDeal, Stage: 'Qualification', Amount: 120000 });
  at(2, 2);
  for (const [key, first, last] of [['toRestore', 'Katherine', 'Johnson'], ['toDelete', 'Charles', 'Babbage'],
    ['toRestoreFromRecord', 'Ada', 'Byron'], ['oldProspect', 'Mary', 'Jackson']] as const) {
    ids[key] = await create(admin, 'Leads', { First_Name: first, Last_Name: last, Company: 'Langley Research' });
  }
  at(1, 3);
  await records.deleteRecords(admin, 'Deals', [ids.binnedDeal]);
  at(1, 4);
  await records.deleteRecords(admin, 'Leads', [ids.toRestore, ids.toDelete, ids.toRestoreFromRecord, ids.oldProspect]);
  at(0, -2);
  await update(admin, 'Leads', ids.grace, { Email: 'grace.hopper@remington.example' });
  s.env.setNow(NOW);
  return { ids };
}

describe.skipIf(skip)(`the console in Chromium${skip ? ` (skipped: ${CHROMIUM} is missing)` : ''}`, () => {
  let server: ConsoleServer;
  let data: Seeded;
  const { fresh, as } = testPages(() => server, { now: NOW });

  beforeAll(async () => {
    server = await startConsoleServer({ now: SETUP, worker: true });
    data = await seed(server);
  }, FLOW_TIMEOUT);



  const count = async (module?: string) => {
    let q = server.env.store.db.selectFrom('records').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', server.orgId);
    if (module) q = q.where('module', '=', module);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  const record = (id: string) => server.env.store.db.selectFrom('records').select(['id', 'deleted_at']).where('id', '=', id).executeTakeFirst();
  /** Retries `fn` until it passes (the page or the server catching up), within a step's time. */
  const eventually = (fn: () => Promise<unknown>) => expect.poll(fn, { timeout: STEP_TIMEOUT, interval: 100 });

  /** A table's data rows (the rows that hold cells, not the header row). */
  const dataRows = (scope: Page | Locator) => scope.getByRole('row').filter({ has: scope.getByRole('cell') });

  // ---- every page: axe and the docs' screenshots (the pages' own parts land with the pages) --

  it('every page passes axe at 1280 and 390 pixels and is photographed for the docs', async () => {
    // The first flow of the file: the pictures show the seeded week, not what the other flows did.
    const page = await as(server.users.admin);
    const pages: [string, string, string][] = [
      ['audit-log', '/audit-log', 'Audit Log'],
      ['record', `/crm/tab/Leads/${data.ids.grace}`, NAMES.grace],
      ['record-in-bin', `/crm/tab/Deals/${data.ids.binnedDeal}`, NAMES.binnedDeal],
      ['recycle-bin', '/recycle-bin', 'Recycle Bin'],
      ['exports', '/exports', 'Exports'],
      ['users', '/users', 'Users'],
      ['settings', '/settings', 'Settings'],
    ];
    const found: Record<string, unknown> = {};
    for (const [name, path, heading] of pages) {
      await page.goto(path);
      await screenshots(page, name, { heading, check: async (width) => {
        const v = await axeViolations(page);
        if (v.length) found[`${name} at ${width}px`] = v;
      } });
    }
    expect(found).toEqual({});
  }, FLOW_TIMEOUT);

  // ---- what the shell on main already does ------------------------------------------------

  it('signs in: a wrong password is refused in words; the right one opens the audit log under the Main navigation', async () => {
    const page = await fresh();
    const cspErrors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
    await page.goto('/');
    await signIn(page, server.users.admin.email, 'not the password at all');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('The email or password is incorrect.');
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);

    await signIn(page, server.users.admin.email, server.users.admin.password);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.waitFor();
    await h1(page, 'Audit Log').waitFor();
    expect(new URL(page.url()).pathname).toBe('/audit-log');
    for (const name of ['Audit Log', 'Recycle Bin', 'Exports', 'Users', 'Settings']) {
      expect(await nav.getByRole('link', { name }).count(), name).toBe(1);
    }
    expect(await nav.getByRole('link', { name: 'Audit Log' }).getAttribute('aria-current')).toBe('page');
    // The console runs under its own Content-Security-Policy without tripping it.
    expect(cspErrors).toEqual([]);
  }, FLOW_TIMEOUT);

  it('signs out: the sign-in form comes back and the old session cookie opens nothing', async () => {
    const page = await as(server.users.admin);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'auditrail_session');
    expect(cookie).toBeDefined();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(0);
    expect((await pageFetch(page, '/api/console/session')).status).toBe(401);
    // Replayed from elsewhere, the cookie is worth nothing: the session ended on the server.
    const replay = await fetch(`${server.baseUrl}/crm/v8/settings/audit_log?per_page=5`, { headers: { cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(replay.status).toBe(401);
    // And reloading does not bring the console back.
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
  }, FLOW_TIMEOUT);

  it('a trainee\'s navigation has no Users or Settings, and /users says No permission under the page\'s h1', async () => {
    const page = await as(server.users.trainee);
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Audit Log' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Users' }).count()).toBe(0);
    expect(await nav.getByRole('link', { name: 'Settings' }).count()).toBe(0);
    for (const [path, name] of [['/users', 'Users'], ['/settings', 'Settings']]) {
      await page.goto(path);
      await h1(page, name).waitFor();
      const alert = page.getByRole('alert').filter({ hasText: 'No permission' });
      await alert.waitFor();
      expect(await alert.textContent()).toContain('You do not have permission to view this page');
    }
  }, FLOW_TIMEOUT);

  it('refuses a change from the signed-in page without the CSRF token, and accepts it with the session\'s', async () => {
    const page = await as(server.users.admin);
    const before = await count('Leads');
    const forged = await pageFetch(page, '/crm/v8/Leads', { method: 'POST', body: { data: [{ Last_Name: 'Forged From The Page' }] } });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    expect(await count('Leads')).toBe(before);

    const session = await pageFetch(page, '/api/console/session');
    const csrf = (session.body as { csrf_token: string }).csrf_token;
    expect(csrf).toMatch(/\S{20,}/);
    const ok = await pageFetch(page, '/crm/v8/Leads', { method: 'POST', headers: { 'X-CSRF-Token': csrf },
      body: { data: [{ Last_Name: 'Created From The Page' }] } });
    expect(ok.status).toBe(201);
    expect(await count('Leads')).toBe(before + 1);
    const added = await server.env.store.db.selectFrom('audit_entries').select(['source', 'actor_id']).where('org_id', '=', server.orgId)
      .where('record_name', '=', 'Created From The Page').executeTakeFirstOrThrow();
    expect(added).toEqual({ source: 'crm_ui', actor_id: server.users.admin.id });
  }, FLOW_TIMEOUT);

  it('keeps the session cookie from the page\'s scripts (HttpOnly, SameSite=Strict)', async () => {
    const page = await as(server.users.admin);
    const visible = await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie);
    expect(visible).not.toContain('auditrail_session');
    const cookie = (await page.context().cookies()).find((c) => c.name === 'auditrail_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  }, FLOW_TIMEOUT);

  it('the sign-in page passes axe (WCAG 2.0 and 2.1, A and AA) at both widths', async () => {
    const page = await fresh();
    await page.goto('/');
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    const found: Record<string, unknown> = {};
    await screenshots(page, 'sign-in', { check: async (width) => {
      const v = await axeViolations(page);
      if (v.length) found[`at ${width}px`] = v;
    } });
    // With an error showing too.
    await page.setViewportSize(DESKTOP);
    await signIn(page, server.users.admin.email, 'not the password at all');
    await page.getByRole('alert').waitFor();
    const withError = await axeViolations(page);
    if (withError.length) found['with the error, at 1280px'] = withError;
    expect(found).toEqual({});
  }, FLOW_TIMEOUT);

  // ---- flows of the pages being built (web/src/pages): they pass once the pages land ------


  it('audit log: filters from the URL and from the controls, in the Time, User, Action, Module, Record, Changes columns', async () => {
    const page = await as(server.users.admin);
    await page.goto('/audit-log?action=deleted&module=Leads');
    await settled(page, 'Audit Log');
    for (const name of ['Time', 'User', 'Action', 'Module', 'Record', 'Changes']) await page.getByRole('columnheader', { name, exact: true }).waitFor();
    const rows = dataRows(page);
    await rows.filter({ hasText: NAMES.toRestore }).waitFor();
    const deletedLeads = await rows.allTextContents();
    expect(deletedLeads).toHaveLength(4);
    for (const text of deletedLeads) expect(text).toMatch(/Deleted.*Leads/);
    expect(deletedLeads.join('\n')).not.toContain(NAMES.binnedDeal);

    // From the controls: the Module filter, and the URL follows (shareable).
    await page.goto('/audit-log');
    await settled(page, 'Audit Log');
    await page.getByRole('combobox', { name: 'Module', exact: true }).click();
    await page.getByRole('option', { name: 'Deals', exact: true }).click();
    await page.keyboard.press('Escape');
    await page.waitForURL(/[?&]module=Deals(&|$)/);
    await rows.filter({ hasText: NAMES.binnedDeal }).first().waitFor();
    await eventually(async () => (await rows.allTextContents()).every((t) => t.includes('Deal'))).toBe(true);

    // The User filter: only the trainee's entries.
    await page.goto('/audit-log');
    await settled(page, 'Audit Log');
    await page.getByRole('combobox', { name: 'User', exact: true }).click();
    await page.getByRole('option', { name: /Tia Trainee/ }).click();
    await page.keyboard.press('Escape');
    await page.waitForURL(/[?&]done_by=/);
    await eventually(async () => {
      const texts = await rows.allTextContents();
      return texts.length > 0 && texts.every((t) => t.includes('Tia Trainee'));
    }).toBe(true);

    // From and To: the days before the deletions hold none of them.
    await page.goto('/audit-log?action=deleted');
    await settled(page, 'Audit Log');
    await rows.first().waitFor();
    await page.getByLabel(label('From')).fill('2026-11-25');
    await page.getByLabel(label('To')).fill('2026-12-01');
    await page.waitForURL(/[?&]to=/);
    await page.getByText(/No entries match these filters/).waitFor();

    // The search box: a record's name.
    await page.goto('/audit-log');
    await settled(page, 'Audit Log');
    await page.getByLabel(label('Search')).fill('record:"Grace"');
    await page.getByLabel(label('Search')).press('Enter');
    await page.waitForURL(/[?&]q=/);
    await eventually(async () => {
      const texts = await rows.allTextContents();
      return texts.length === 3 && texts.every((t) => t.includes(NAMES.grace));
    }).toBe(true);

    // Export and Live are there for an administrator.
    await page.getByRole('button', { name: 'Export' }).waitFor();
    await page.getByRole('switch', { name: 'Live' }).waitFor();
  }, FLOW_TIMEOUT);

  it('dates: typed digit by digit a date applies once whole; a date alone in a link is that day; a date that is not one is said in words', async () => {
    const page = await as(server.users.admin);
    const asked: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname === '/crm/v8/settings/audit_log' && u.searchParams.has('from')) asked.push(u.searchParams.get('from')!);
    });
    const param = (k: string) => new URL(page.url()).searchParams.get(k);
    await page.goto('/audit-log?action=deleted');
    await settled(page, 'Audit Log');
    await dataRows(page).first().waitFor();
    // From the keyboard, as a person types into the browser's date field (month, day, year here).
    const from = page.getByLabel(label('From'));
    const asking = page.waitForRequest((r) => new URL(r.url()).searchParams.get('from')?.startsWith('2026-11-25T00:00:00') ?? false);
    await from.focus();
    await from.pressSequentially('11252026');
    await page.waitForURL((u) => u.searchParams.get('from')?.startsWith('2026-11-25T00:00:00') ?? false);
    await asking;
    await dataRows(page).first().waitFor();
    expect(await page.getByText('The audit log could not be loaded').count()).toBe(0);
    // The year's first digits ("0002", "0020", "0202") were never asked for.
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((f) => !f.startsWith('2026-11-25'))).toEqual([]);
    // Retyping the month ("1", then "10"): only the date the typing ends on applies, not 01/25 on the way.
    const retyped = page.waitForRequest((r) => new URL(r.url()).searchParams.get('from')?.startsWith('2026-10-25T00:00:00') ?? false);
    await from.blur();
    await from.focus();
    await from.pressSequentially('10');
    await retyped;
    expect(asked.filter((f) => !f.startsWith('2026-11-25') && !f.startsWith('2026-10-25'))).toEqual([]);

    // A date alone in a link: that day in the organisation's zone, shown as such (not the day before).
    await page.goto('/audit-log?action=deleted&from=2026-11-25&to=2026-12-01');
    await settled(page, 'Audit Log');
    await page.getByText(/No entries match these filters/).waitFor();
    expect(await page.getByLabel(label('From')).inputValue()).toBe('2026-11-25');
    expect(await page.getByLabel(label('To')).inputValue()).toBe('2026-12-01');

    // A date that is not one: said in words, nothing asked; choosing a date mends the address.
    const before = asked.length;
    await page.goto('/audit-log?from=2026-13-45');
    await settled(page, 'Audit Log');
    await page.getByText('From (“2026-13-45”) is not a date.', { exact: false }).waitFor();
    expect(asked.length).toBe(before);
    // Nor does Export take it for "any time" (it would cover the last 3 years).
    const exports = () => server.env.store.db.selectFrom('audit_exports').select('id').execute();
    const exportsBefore = (await exports()).length;
    await page.getByRole('button', { name: 'Export' }).click();
    await page.getByText('From (“2026-13-45”) is not a date: choose a date under From and To first.').waitFor();
    expect(await exports()).toHaveLength(exportsBefore);
    await page.getByLabel(label('From')).fill('2026-11-25');
    await page.waitForURL((u) => u.searchParams.get('from')?.startsWith('2026-11-25T') ?? false);
    await dataRows(page).first().waitFor();

    // The recycle bin: a bad date in a link is no filter (it used to end the page), and typing works there too.
    await page.goto('/recycle-bin?from=2026-13-01&to=x');
    await settled(page, 'Recycle Bin');
    await dataRows(page).filter({ hasText: NAMES.binnedDeal }).waitFor();
    const binFrom = page.getByLabel(label('From'));
    await binFrom.focus();
    await binFrom.pressSequentially('12052026');
    await page.waitForURL(() => param('from') === '2026-12-05');
    await page.getByText(/Nothing matches these filters/).waitFor();
  }, FLOW_TIMEOUT);

  it('audit log: Live shows new entries at the top without reloading', async () => {
    const page = await as(server.users.admin);
    await page.goto('/audit-log?module=Leads');
    await settled(page, 'Audit Log');
    await dataRows(page).first().waitFor();
    // From the keyboard: Mantine draws its own track over the switch's input, which takes the pointer.
    const live = page.getByRole('switch', { name: 'Live' });
    await live.focus();
    await page.keyboard.press('Space');
    expect(await live.isChecked()).toBe(true);
    const admin = await server.actor(server.users.admin);
    // The stream may still be connecting: a new lead each round until one arrives.
    let n = 0;
    await eventually(async () => {
      n += 1;
      await server.env.rt.services.records.createRecords(admin, 'Leads', [{ Last_Name: `Live Lead ${n}` }]);
      return (await dataRows(page).first().textContent()) ?? '';
    }).toMatch(/Live Lead \d+/);
  }, FLOW_TIMEOUT);

  it('a record\'s deep link /crm/tab/Leads/<id> shows its name as h1 and its Timeline', async () => {
    const page = await as(server.users.admin);
    await page.goto(`/crm/tab/Leads/${data.ids.grace}`);
    await settled(page, NAMES.grace);
    const timeline = page.getByRole('region', { name: 'Timeline' });
    await timeline.waitFor();
    await timeline.getByText('Remington Rand').first().waitFor();
    const text = await timeline.textContent();
    expect(text).toMatch(/Added/);
    expect(text).toMatch(/Updated/);
    expect(text).toContain('grace.hopper@remington.example');
  }, FLOW_TIMEOUT);

  it('a record in the recycle bin opens with a Restore banner; Restore brings it back', async () => {
    const page = await as(server.users.admin);
    const id = data.ids.toRestoreFromRecord;
    await page.goto(`/crm/tab/Leads/${id}`);
    await settled(page, NAMES.toRestoreFromRecord);
    await page.getByRole('region', { name: 'Timeline' }).getByText(/Deleted/).first().waitFor();
    await page.getByRole('button', { name: 'Restore' }).click();
    await eventually(async () => (await record(id))?.deleted_at).toBeNull();
    await page.getByRole('button', { name: 'Restore' }).waitFor({ state: 'detached' });
  }, FLOW_TIMEOUT);

  it('recycle bin: the columns, the Type and Deleted By filters, and Restore of a selected item', async () => {
    const page = await as(server.users.admin);
    await page.goto('/recycle-bin');
    await settled(page, 'Recycle Bin');
    for (const name of ['Name', 'Type', 'Deleted By', 'Deleted Time', 'Owner']) await page.getByRole('columnheader', { name, exact: true }).waitFor();
    const rows = dataRows(page);
    await rows.filter({ hasText: NAMES.toRestore }).waitFor();
    expect((await rows.allTextContents()).join('\n')).toContain(NAMES.binnedDeal);

    await page.getByRole('combobox', { name: 'Type', exact: true }).click();
    await page.getByRole('option', { name: 'Deals', exact: true }).click();
    await eventually(async () => (await rows.allTextContents()).join('|')).toMatch(new RegExp(`^[^|]*${NAMES.binnedDeal}[^|]*$`));
    await page.getByRole('combobox', { name: 'Type', exact: true }).click();
    await page.getByRole('option', { name: 'Leads', exact: true }).click();
    await rows.filter({ hasText: NAMES.toRestore }).waitFor();
    await page.getByRole('combobox', { name: 'Deleted By', exact: true }).click();
    await page.getByRole('option', { name: /Tia Trainee/ }).click();
    await page.getByText(/Nothing matches these filters/).waitFor();

    await page.goto('/recycle-bin');
    await settled(page, 'Recycle Bin');
    const row = rows.filter({ hasText: NAMES.toRestore });
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await row.waitFor({ state: 'detached' });
    expect((await record(data.ids.toRestore))?.deleted_at).toBeNull();
  }, FLOW_TIMEOUT);

  it('recycle bin: Delete Permanently asks first, and Escape leaves the item as it was', async () => {
    const page = await as(server.users.admin);
    await page.goto('/recycle-bin');
    await settled(page, 'Recycle Bin');
    const row = dataRows(page).filter({ hasText: NAMES.toDelete });
    await row.getByRole('checkbox').check();
    await page.getByRole('button', { name: 'Delete Permanently' }).click();
    let dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(NAMES.toDelete);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await record(data.ids.toDelete)).toBeDefined();

    await page.getByRole('button', { name: 'Delete Permanently' }).click();
    dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Delete Permanently' }).click();
    await row.waitFor({ state: 'detached' });
    await eventually(async () => (await record(data.ids.toDelete)) ?? 'gone').toBe('gone');
  }, FLOW_TIMEOUT);

  it('recycle bin: Select all, and Empty Recycle Bin for administrators only', async () => {
    const trainee = await as(server.users.trainee);
    await trainee.goto('/recycle-bin');
    await settled(trainee, 'Recycle Bin');
    await trainee.getByRole('button', { name: 'Restore', exact: true }).waitFor();
    expect(await trainee.getByRole('button', { name: 'Empty Recycle Bin' }).count()).toBe(0);

    const admin = await as(server.users.admin);
    await admin.goto('/recycle-bin');
    await settled(admin, 'Recycle Bin');
    await dataRows(admin).first().waitFor();
    await admin.getByRole('button', { name: 'Empty Recycle Bin' }).waitFor();
    await admin.getByRole('checkbox', { name: 'Select all' }).check();
    const rows = await dataRows(admin).count();
    expect(await dataRows(admin).getByRole('checkbox', { checked: true }).count()).toBe(rows);
  }, FLOW_TIMEOUT);

  it('exports: Create export, follow the job to Finished, download its file', async () => {
    const page = await as(server.users.admin);
    await page.goto('/exports');
    await settled(page, 'Exports');
    await page.getByRole('button', { name: 'Create export' }).click();
    const link = page.getByRole('link', { name: /^Download / }).first();
    await link.waitFor();
    await page.getByText('Finished').first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = await download.path();
    const csv = readFileSync(file, 'utf8');
    expect(csv.split(/\r?\n/)[0]).toContain(EXPORT_COLUMNS.join(','));
    expect(csv).toContain(NAMES.grace);
    expect(csv).toContain(NAMES.binnedDeal);
    // The browser checks the CSV against its signed manifest with the installation's public key.
    await page.getByRole('button', { name: 'Verify signature' }).first().click();
    await page.getByText('Verified', { exact: true }).first().waitFor();
  }, FLOW_TIMEOUT);

  it('settings: Data sharing makes Leads private, which hides the Administrator\'s leads from the trainee, and a rule shares them back', async () => {
    const page = await as(server.users.admin);
    await page.goto('/settings');
    await settled(page, 'Settings');
    const sharing = page.getByRole('region', { name: 'Data sharing' });
    await sharing.getByRole('combobox', { name: 'Default access for Leads' }).click();
    await page.getByRole('option', { name: 'Private', exact: true }).click();
    await sharing.getByText('Saved. The change is in the audit log.').waitFor();
    const trainee = await server.actor(server.users.trainee);
    const visible = async () => (await server.env.rt.services.records.listRecords(trainee, 'Leads', { sort: 'id', desc: true, limit: 100 })).rows.map((r) => r.name);
    expect(await visible()).not.toContain(NAMES.grace);

    await sharing.getByLabel('Rule name').fill('Admins to the team');
    await sharing.getByRole('combobox', { name: 'Module' }).click();
    await page.getByRole('option', { name: 'Leads', exact: true }).click();
    await sharing.getByRole('combobox', { name: 'Records owned by' }).click();
    await page.getByRole('option', { name: 'CEO', exact: true }).click();
    await sharing.getByRole('combobox', { name: 'Are shared with' }).click();
    await page.getByRole('option', { name: 'Sales Team', exact: true }).click();
    await sharing.getByRole('button', { name: 'Add rule' }).click();
    const rule = sharing.getByRole('table', { name: 'Sharing rules' }).getByRole('row', { name: /Admins to the team/ });
    await rule.waitFor();
    expect(await rule.textContent()).toContain('Read Only');
    expect(await visible()).toContain(NAMES.grace);

    await rule.getByRole('button', { name: 'Delete sharing rule Admins to the team' }).click();
    await rule.waitFor({ state: 'detached' });
    await sharing.getByRole('combobox', { name: 'Default access for Leads' }).click();
    await page.getByRole('option', { name: 'Public Read/Write/Delete', exact: true }).click();
    await eventually(visible).toContain(NAMES.grace);
    const log = await server.env.store.db.selectFrom('audit_entries').select(['action', 'source']).where('org_id', '=', server.orgId)
      .where('action', '=', 'sharing_updated').execute();
    expect(log.length).toBe(4);
    expect(log.every((e) => e.source === 'crm_ui')).toBe(true);
  }, FLOW_TIMEOUT);
  it('a note whose deal is in the recycle bin too says so on its page, Restore waiting until the deal is back', async () => {
    const admin = await server.actor(server.users.admin);
    const records = server.env.rt.services.records;
    const [deal] = await records.createRecords(admin, 'Deals', [{ Deal_Name: 'Analytical Engine', Stage: 'Qualification' }]);
    if (!deal.ok) throw new Error('create failed');
    const [note] = await records.createRecords(admin, 'Notes', [{ Note_Content: 'Needs a mill and a store',
      Parent_Id: { module: { api_name: 'Deals' }, id: deal.row.id } }]);
    if (!note.ok) throw new Error('create failed');
    await records.deleteRecords(admin, 'Notes', [note.row.id]);
    await records.deleteRecords(admin, 'Deals', [deal.row.id]);

    const page = await as(server.users.admin);
    await page.goto(`/crm/tab/Notes/${note.row.id}`);
    const banner = page.getByRole('region', { name: 'Recycle bin' });
    await banner.getByText(/cannot be restored while its parent record, Analytical Engine, is in the recycle bin too/).waitFor();
    expect(await banner.getByRole('button', { name: 'Restore' }).isDisabled()).toBe(true);
    await banner.getByRole('link', { name: 'Analytical Engine' }).click();
    await h1(page, 'Analytical Engine').waitFor();
    await page.getByRole('region', { name: 'Recycle bin' }).getByRole('button', { name: 'Restore' }).click();
    await page.getByRole('status').filter({ hasText: 'Restored' }).first().waitFor();
    await page.goBack();
    await eventually(() => page.getByRole('region', { name: 'Recycle bin' }).getByRole('button', { name: 'Restore' }).isEnabled()).toBe(true);
    expect(await page.getByText(/cannot be restored while its parent record/).count()).toBe(0);
  }, FLOW_TIMEOUT);
});
