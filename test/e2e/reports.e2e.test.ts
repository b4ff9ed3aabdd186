import { beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations, CHROMIUM, chromiumInstalled, FLOW_TIMEOUT, h1, PASSWORD, screenshots, startConsoleServer, STEP_TIMEOUT,
  testPages, type ConsoleServer, type ConsoleUser,
} from './harness.ts';

/**
 * The Reports page in Chromium: charts over a seeded week, the hour x weekday table read cell by
 * cell, filters that live in the URL, and the trainee review saved in one click by a manager.
 */

/** Eight more people, one of them with a name longer than a chart's axis has room for. */
const HELPERS = [
  ['Ben', 'Baker'], ['Cleo', 'Carter'], ['Dev', 'Desai'], ['Eli', 'Evans'], ['Fay', 'Fischer'], ['Gus', 'Garcia'], ['Hana', 'Hayashi'],
  ['Maximiliane', 'Oberhauser-Wittgenstein'],
] as const;
/** What the last 7 days' axis must show on Friday 4 December in Kolkata, Sunday 29 November (no entries) too. */
const LAST_7_DAYS = ['28 Nov', '29 Nov', '30 Nov', '1 Dec', '2 Dec', '3 Dec', '4 Dec'];
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const skip = !chromiumInstalled() && process.env.CI !== 'true';

const HOUR = 3_600_000;
/** Friday 4 December 2026, 15:00 in Kolkata. */
const NOW = Date.parse('2026-12-04T09:30:00Z');

describe.skipIf(skip)(`the Reports page in Chromium${skip ? ` (skipped: ${CHROMIUM} is missing)` : ''}`, () => {
  let server: ConsoleServer;
  let manager: ConsoleUser;
  const { as } = testPages(() => server, { now: NOW });

  beforeAll(async () => {
    server = await startConsoleServer({ now: NOW - 10 * 24 * HOUR });
    const dir = server.env.rt.services.directory;
    const admin = await server.actor(server.users.admin);
    const m = await dir.createUser(admin, { first_name: 'Maya', last_name: 'Manager', email: 'manager@acme.example',
      role: { id: server.org.roles.manager.id }, profile: { id: server.org.profiles.standard.id } });
    await server.env.rt.services.sessions.setPassword(server.orgId, 'manager@acme.example', PASSWORD, 'e2e');
    manager = { id: m.id, email: 'manager@acme.example', password: PASSWORD, name: 'Maya Manager' };
    const trainee = await server.actor(server.users.trainee);
    const records = server.env.rt.services.records;
    // This week (from Monday 30 November, Kolkata): the trainee's calls and tasks, the Administrator's deals.
    const at = async (iso: string, who: typeof admin, module: string, data: Record<string, unknown>) => {
      server.env.setNow(Date.parse(iso));
      const [r] = await records.createRecords(who, module, [data]);
      if (!r.ok) throw new Error(`seed: ${JSON.stringify(r.error)}`);
    };
    await at('2026-11-30T04:30:00Z', trainee, 'Tasks', { Subject: 'Call the Traders back' }); // Monday 10:00
    await at('2026-11-30T04:40:00Z', trainee, 'Tasks', { Subject: 'Send the brochure' }); // Monday 10:10
    await at('2026-12-01T08:30:00Z', trainee, 'Calls', { Subject: 'Intro call', Call_Type: 'Outbound', Call_Start_Time: '2026-12-01T14:00:00+05:30' });
    await at('2026-12-02T06:30:00Z', admin, 'Deals', { Deal_Name: 'Traders renewal', Stage: 'Qualification' }); // Wednesday 12:00
    await at('2026-12-03T12:30:00Z', admin, 'Leads', { Last_Name: 'Hopper', Company: 'Remington' }); // Thursday 18:00
    // Saturday 28 November, 11:00 in Kolkata: eight more people add leads, the i-th of them i + 1, so
    // that Top users has ten bars; Sunday 29 November stays empty.
    server.env.setNow(NOW - 10 * 24 * HOUR);
    const support = await dir.createRole(admin, { name: 'Support', reporting_to: { id: server.org.roles.ceo.id } });
    const helpers = [];
    for (const [first, last] of HELPERS) {
      const email = `${first.toLowerCase()}@acme.example`;
      const u = await dir.createUser(admin, { first_name: first, last_name: last, email, role: { id: support.id },
        profile: { id: server.org.profiles.standard.id } });
      helpers.push(await dir.actorForUser(server.orgId, u.id));
    }
    for (const [i, who] of helpers.entries()) {
      for (let n = 0; n <= i; n++) await at(`2026-11-28T05:30:${String(n).padStart(2, '0')}Z`, who, 'Leads', { Last_Name: `${HELPERS[i][1]} ${n}`, Company: 'Acme' });
    }
    server.env.setNow(NOW);
  }, FLOW_TIMEOUT);

  const eventually = (fn: () => unknown) => expect.poll(fn, { timeout: STEP_TIMEOUT, interval: 100 });

  it('shows activity over time, top users and modules, and an hour x weekday table whose cells say their numbers; passes axe', async () => {
    const page = await as(server.users.admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Reports' }).click();
    await h1(page, 'Reports').waitFor();
    expect(new URL(page.url()).pathname).toBe('/reports');
    for (const name of ['Activity over time by action', 'Top users', 'Top modules', 'Activity by hour and weekday', 'Saved reports']) {
      await page.getByRole('heading', { name, level: 2, exact: true }).waitFor();
    }
    // The heat map: Monday 10:00 in the organisation's zone (04:30 UTC) holds the trainee's two tasks.
    await page.getByRole('cell', { name: 'Monday 10:00: 2 entries' }).waitFor();
    await page.getByRole('cell', { name: 'Wednesday 12:00: 1 entry' }).waitFor();
    expect(await page.getByRole('cell', { name: 'Monday 04:00: 0 entries' }).count()).toBe(1);
    // Every chart's numbers as a table.
    const users = page.getByRole('region', { name: 'Top users' });
    await users.getByText('Show the numbers as a table').click();
    const table = users.getByRole('table', { name: 'Entries per user' });
    const everyone = ['Ada Admin', 'Tia Trainee', ...HELPERS.map((n) => n.join(' '))].sort();
    await eventually(async () => (await table.getByRole('rowheader').allTextContents()).sort()).toEqual(everyone);
    // Closed again: the chart's labels are what is checked below.
    await users.getByText('Show the numbers as a table').click();

    await screenshots(page, 'reports', { heading: 'Reports', check: async (width) => {
      // Every bar of Top users is labelled with its person's name, or its beginning cut short by an ellipsis.
      for (const name of everyone) {
        const shown = users.getByText(new RegExp(`^(?:${escape(name)}|${escape(name.slice(0, 8))}.*…)$`)).filter({ visible: true });
        expect(await shown.count(), `${name} at ${width}px`).toBe(1);
        const text = (await shown.textContent())!;
        expect(name.startsWith(text.replace(/…$/, '')), `${name} shown as ${text} at ${width}px`).toBe(true);
      }
      // Every day of the range is on the time axis, those without entries too.
      const overTime = page.getByRole('region', { name: 'Activity over time by action' });
      for (const day of LAST_7_DAYS) {
        expect(await overTime.getByText(day, { exact: true }).filter({ visible: true }).count(), `${day} at ${width}px`).toBe(1);
      }
      expect(await axeViolations(page), `axe at ${width}px`).toEqual([]);
    } });
  }, FLOW_TIMEOUT);

  it('keeps its filters in the URL: a shared address opens the same report', async () => {
    const page = await as(server.users.admin);
    await page.goto('/reports');
    await h1(page, 'Reports').waitFor();
    await page.getByRole('combobox', { name: 'Time range', exact: true }).click();
    await page.getByRole('option', { name: 'Last 30 days' }).click();
    await eventually(() => new URL(page.url()).searchParams.get('range')).toBe('last_30_days');
    await page.goto('/reports?range=this_week&module=Tasks');
    await page.getByRole('cell', { name: 'Monday 10:00: 2 entries' }).waitFor();
    expect(await page.getByRole('cell', { name: 'Wednesday 12:00: 0 entries' }).count()).toBe(1);
    // The select names its value once the module list has come.
    await eventually(() => page.getByRole('combobox', { name: 'Module', exact: true }).inputValue()).toBe('Tasks');
  }, FLOW_TIMEOUT);

  it('lets a manager save the trainee review in one click, and shows them their team only', async () => {
    const page = await as(manager);
    await page.goto('/reports?range=this_week');
    await h1(page, 'Reports').waitFor();
    await page.getByRole('button', { name: 'Add “Team activity this week”' }).click();
    const card = page.getByRole('article', { name: 'Team activity this week' });
    await card.waitFor();
    expect(await card.textContent()).toContain('Weekly on Friday at 17:00');
    const saved = await server.env.store.db.selectFrom('saved_reports').selectAll().where('org_id', '=', server.orgId).execute();
    expect(saved.map((r) => [r.name, r.owner_id])).toEqual([['Team activity this week', manager.id]]);
    const users = page.getByRole('region', { name: 'Top users' });
    await users.getByText('Show the numbers as a table').click();
    await eventually(async () => (await users.getByRole('table', { name: 'Entries per user' }).getByRole('rowheader').allTextContents()).sort())
      .toEqual(['Maya Manager', 'Tia Trainee']);
    expect(await axeViolations(page)).toEqual([]);
  }, FLOW_TIMEOUT);
});
