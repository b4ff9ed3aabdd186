import type { AuditEntryInput, AuditSource } from '../domain/audit.ts';
import { newId } from '../domain/ids.ts';
import { STANDARD_PERMISSIONS, type ProfilePermissions } from '../domain/permissions.ts';
import type { UserTable } from '../store/schema.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps } from './context.ts';
import { fullName } from '../domain/display.ts';
import { createDirectoryService } from './directory-service.ts';
import { createRecordService, type ItemResult } from './record-service.ts';

export const DEMO_ORG_NAME = 'Zylker';
export const DEMO_ADMIN_EMAIL = 'amelia.burrows@zylker.com';
const DAY = 24 * 3600 * 1000;

/** A small deterministic PRNG (mulberry32), so every demo organisation tells the same story. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}

const FIRST = ['Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'Mateo', 'Isabella', 'Lucas', 'Mia', 'Levi',
  'Amelia', 'Ezra', 'Harper', 'Luca', 'Aarav', 'Priya', 'Kenji', 'Yuki', 'Fatima', 'Omar', 'Chloe', 'Diego', 'Ines', 'Tomas'];
const LAST = ['Smith', 'Johnson', 'Williams', 'Brown', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Lopez', 'Gonzalez',
  'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee', 'Perez', 'Patel', 'Nakamura', 'Haddad', 'Novak'];
const COMPANIES = ['Acme Logistics', 'Bluebird Health', 'Cobalt Systems', 'Dunmore Foods', 'Everest Finance', 'Fjord Maritime',
  'Granite Builders', 'Harbor Retail', 'Ironwood Energy', 'Juniper Labs', 'Kestrel Aviation', 'Lumen Media', 'Meridian Bank',
  'Northwind Traders', 'Orchid Pharma', 'Pinnacle Insurance', 'Quartz Analytics', 'Redwood Realty', 'Summit Telecom',
  'Tidewater Shipping', 'Umber Textiles', 'Vantage Motors', 'Willow Education', 'Xenon Robotics', 'Yellowstone Outdoors'];
const CALL_SUBJECTS = ['Discovery call', 'Follow-up on proposal', 'Pricing discussion', 'Demo scheduling', 'Renewal check-in',
  'Onboarding call', 'Contract questions', 'Quarterly review'];
const MEETINGS = ['Product demo', 'On-site visit', 'Executive briefing', 'Negotiation meeting', 'Kick-off meeting', 'Workshop'];
const TASKS = ['Send proposal', 'Prepare quote', 'Update contract draft', 'Email case study', 'Schedule demo', 'Collect requirements',
  'Send follow-up email', 'Review pricing'];
const NOTES = ['Customer asked about volume discounts.', 'Decision expected after budget review next month.',
  'Champion is the head of operations; CFO must sign off.', 'Competitor pricing is 10% lower; stress support quality.',
  'Requested references from the healthcare sector.', 'Wants integration with their ERP before rollout.'];
const STAGES = ['Qualification', 'Needs Analysis', 'Value Proposition', 'Identify Decision Makers', 'Proposal/Price Quote',
  'Negotiation/Review', 'Closed Won', 'Closed Lost'];

export interface DemoResult { created: boolean; orgId: string; adminEmail: string; password: string | null }

/** Seeds the demo organisation and bulk-loads historic audit entries for trials and benchmarks. */
export function createDemoService(deps: ServiceDeps) {
  async function findDemoOrg() {
    return (await deps.store.repos.directory.listOrgs()).find((o) => o.name === DEMO_ORG_NAME);
  }

  /**
   * Creates "Zylker" unless it exists: a CEO (Administrator), two sales managers, ten trainees
   * in a role tree under them, and six months of CRM activity made through the services, so
   * every record change is in the audit log with its real (back-dated) time.
   */
  async function seedDemo(opts: { now?: number; history?: number; onHistory?: (done: number) => void } = {}): Promise<DemoResult> {
    const existing = await findDemoOrg();
    if (existing) return { created: false, orgId: existing.id, adminEmail: DEMO_ADMIN_EMAIL, password: null };
    const end = opts.now ?? deps.clock();
    const activityStart = end - 183 * DAY;
    // With history, the organisation dates from three years back and the history fills the time
    // before the six months of activity: the chain stays in time order.
    let clock = opts.history ? end - (3 * 365 + 2) * DAY : activityStart;
    const timed: ServiceDeps = { ...deps, clock: () => clock };
    const dirSvc = createDirectoryService(timed);
    const records = createRecordService(timed);
    const rnd = prng(20261122);

    const { org, admin, password, profiles, roles } = await dirSvc.createOrganisation({
      name: DEMO_ORG_NAME, adminEmail: DEMO_ADMIN_EMAIL, adminFirstName: 'Amelia', adminLastName: 'Burrows',
      timeZone: 'America/New_York', currency: 'USD', countryCode: 'US',
    });
    const asAdmin = await dirSvc.actorForUser(org.id, admin.id, { source: 'crm_ui', ip: '10.0.0.10', userAgent: 'Mozilla/5.0 (Macintosh)' });
    clock += 3600_000;
    const traineePerms: ProfilePermissions = { ...STANDARD_PERMISSIONS,
      modules: { '*': { view: true, create: true, edit: true, delete: false } } };
    const traineeProfile = await dirSvc.cloneProfile(asAdmin, profiles.standard.id, {
      name: 'Sales Trainee', description: 'Standard access without deleting records', permissions: traineePerms });
    await dirSvc.updateRole(asAdmin, roles.manager.id, { name: 'Sales Director', description: 'Heads the sales teams' });
    const teams: { manager: UserTable; trainees: UserTable[] }[] = [];
    const managerNames = [['Daniel', 'Okafor', 'North'], ['Sofia', 'Lindqvist', 'South']];
    let n = 0;
    for (const [first, last, region] of managerNames) {
      clock += 600_000;
      const mRole = await dirSvc.createRole(asAdmin, { name: `Sales Manager ${region}`, reporting_to: { id: roles.manager.id } });
      const tRole = await dirSvc.createRole(asAdmin, { name: `Sales Trainee ${region}`, reporting_to: { id: mRole.id } });
      const manager = await dirSvc.createUser(asAdmin, { first_name: first, last_name: last,
        email: `${first}.${last}@zylker.com`.toLowerCase(), role: { id: mRole.id }, profile: { id: profiles.standard.id } });
      const trainees: UserTable[] = [];
      for (let i = 0; i < 5; i++) {
        const tf = FIRST[(n * 7 + 3) % FIRST.length];
        const tl = LAST[(n * 5 + 1) % LAST.length];
        n += 1;
        trainees.push(await dirSvc.createUser(asAdmin, { first_name: tf, last_name: tl,
          email: `${tf}.${tl}${n}@zylker.com`.toLowerCase(), role: { id: tRole.id }, profile: { id: traineeProfile.id } }));
      }
      teams.push({ manager, trainees });
    }
    const people = [admin, ...teams.flatMap((t) => [t.manager, ...t.trainees])];
    const actors = new Map<string, Actor>();
    for (const u of people) {
      actors.set(u.id, await dirSvc.actorForUser(org.id, u.id, {
        source: 'crm_ui', ip: `10.0.${1 + people.indexOf(u)}.${20 + people.indexOf(u)}`,
        userAgent: rnd.chance(0.7) ? 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0' : 'ZohoCRM iOS/5.2',
      }));
    }
    const sellers = teams.flatMap((t) => [t.manager, ...t.trainees]);
    if (opts.history) {
      await appendHistory(org.id, opts.history, clock + 3600_000, activityStart - DAY, opts.onHistory);
      clock = activityStart;
    }

    const ok = (rs: ItemResult[]) => rs.flatMap((r) => (r.ok ? [r.row] : []));
    const accounts: { id: string; owner: string }[] = [];
    const contacts: { id: string; owner: string }[] = [];
    const leads: { id: string; owner: string }[] = [];
    const deals: { id: string; owner: string; stage: number }[] = [];
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

    // Six months, day by day: each seller works a few records a day, in time order.
    for (let day = 0; day < 180; day++) {
      const dayStart = end - (180 - day) * DAY;
      const weekday = new Date(dayStart).getUTCDay();
      if (weekday === 0 || weekday === 6) continue;
      // The sellers' days start at random hours, taken in order: the chain stays in time order.
      const starts = sellers.map(() => rnd.int(0, 8 * 3600_000)).sort((a, b) => a - b);
      for (const [i, seller] of sellers.entries()) {
        const actor = actors.get(seller.id)!;
        clock = Math.max(clock + 1000, dayStart + 13 * 3600_000 + starts[i]);
        const act = rnd.next();
        if (act < 0.18 || accounts.length < 5) {
          const company = `${rnd.pick(COMPANIES)} ${rnd.pick(['Inc', 'LLC', 'Group', 'Ltd', 'Co'])}`;
          const [acc] = ok(await records.createRecords(actor, 'Accounts', [{ Account_Name: company,
            Industry: rnd.pick(['Technology', 'Healthcare', 'Retail', 'Manufacturing', 'Financial Services', 'Education']),
            Phone: `+1 555 ${rnd.int(100, 999)} ${rnd.int(1000, 9999)}`, Billing_City: rnd.pick(['Boston', 'Austin', 'Denver', 'Seattle', 'Chicago']),
            Annual_Revenue: rnd.int(5, 500) * 100_000 }]));
          if (acc) accounts.push({ id: acc.id, owner: seller.id });
          clock += 600_000;
          if (acc) {
            const fn = rnd.pick(FIRST);
            const ln = rnd.pick(LAST);
            const [c] = ok(await records.createRecords(actor, 'Contacts', [{ First_Name: fn, Last_Name: ln,
              Email: `${fn}.${ln}@${company.split(' ')[0].toLowerCase()}.example`.toLowerCase(), Account_Name: { id: acc.id },
              Designation: rnd.pick(['CTO', 'Head of Operations', 'Procurement Lead', 'CFO', 'IT Manager']) }]));
            if (c) contacts.push({ id: c.id, owner: seller.id });
          }
        } else if (act < 0.40) {
          const batch = Array.from({ length: rnd.int(1, 3) }, () => {
            const fn = rnd.pick(FIRST);
            const ln = rnd.pick(LAST);
            return { First_Name: fn, Last_Name: ln, Company: rnd.pick(COMPANIES), Email: `${fn}.${ln}${rnd.int(1, 999)}@example.com`.toLowerCase(),
              Lead_Source: rnd.pick(['Cold Call', 'Web Download', 'Trade Show', 'Partner', 'Advertisement']), Lead_Status: 'Not Contacted' };
          });
          for (const l of ok(await records.createRecords(actor, 'Leads', batch))) leads.push({ id: l.id, owner: seller.id });
        } else if (act < 0.55 && leads.length) {
          const lead = rnd.pick(leads);
          await records.updateRecords(actor, 'Leads', [{ Lead_Status: rnd.pick(['Attempted to Contact', 'Contacted', 'Pre-Qualified', 'Junk Lead']) }], lead.id);
        } else if (act < 0.68 && accounts.length) {
          const acc = rnd.pick(accounts);
          const [d] = ok(await records.createRecords(actor, 'Deals', [{ Deal_Name: `${rnd.pick(['Expansion', 'Renewal', 'Pilot', 'Platform'])} ${rnd.int(2026, 2027)}`,
            Stage: 'Qualification', Amount: rnd.int(5, 250) * 1000, Closing_Date: date(clock + rnd.int(20, 120) * DAY), Account_Name: { id: acc.id } }]));
          if (d) deals.push({ id: d.id, owner: seller.id, stage: 0 });
        } else if (act < 0.80 && deals.length) {
          const d = rnd.pick(deals);
          if (d.stage < 6) {
            d.stage = rnd.chance(0.15) ? 7 : Math.min(d.stage + 1, 6);
            await records.updateRecords(actor, 'Deals', [{ Stage: STAGES[d.stage], Probability: [10, 20, 40, 60, 75, 90, 100, 0][d.stage] }], d.id);
          }
        }
        // Activities: calls, meetings and tasks on the seller's deals and leads; notes now and then.
        const target = rnd.chance(0.5) && deals.length ? { module: 'Deals', ...rnd.pick(deals) }
          : leads.length ? { module: 'Leads', ...rnd.pick(leads) } : null;
        if (!target) continue;
        clock += rnd.int(5, 60) * 60_000;
        const kind = rnd.next();
        if (kind < 0.45) {
          await records.createRecords(actor, 'Calls', [{ Subject: rnd.pick(CALL_SUBJECTS), Call_Type: rnd.pick(['Outbound', 'Outbound', 'Inbound', 'Missed']),
            Call_Start_Time: iso(clock - 30 * 60_000), Call_Duration: `${rnd.int(2, 45)}:${String(rnd.int(0, 59)).padStart(2, '0')}`,
            Call_Purpose: rnd.pick(['Prospecting', 'Negotiation', 'Demo']), Call_Result: rnd.pick(['Interested', 'No response', 'Requested more info']),
            What_Id: { id: target.id }, $se_module: target.module }]);
        } else if (kind < 0.65) {
          const start = clock + rnd.int(1, 10) * DAY;
          await records.createRecords(actor, 'Events', [{ Event_Title: rnd.pick(MEETINGS), Start_DateTime: iso(start),
            End_DateTime: iso(start + 3600_000), Venue: rnd.pick(['Zoom', 'Customer office', 'Zylker HQ']), What_Id: { id: target.id }, $se_module: target.module }]);
        } else if (kind < 0.85) {
          const [task] = ok(await records.createRecords(actor, 'Tasks', [{ Subject: rnd.pick(TASKS), Due_Date: date(clock + rnd.int(1, 14) * DAY),
            Status: 'Not Started', Priority: rnd.pick(['High', 'Normal', 'Low']), What_Id: { id: target.id }, $se_module: target.module }]));
          if (task && rnd.chance(0.6)) {
            clock += rnd.int(1, 4) * 3600_000;
            await records.updateRecords(actor, 'Tasks', [{ Status: 'Completed' }], task.id);
          }
        } else {
          await records.createRecords(actor, 'Notes', [{ Note_Title: 'Call notes', Note_Content: rnd.pick(NOTES),
            Parent_Id: { module: { api_name: target.module }, id: target.id } }]);
        }
      }
      // The managers clean up now and then: junk leads go to the recycle bin.
      if (day % 30 === 29 && leads.length > 10) {
        const team = teams[day % 2];
        clock = Math.max(clock + 1000, dayStart + 22 * 3600_000);
        const doomed = leads.filter((l) => team.trainees.some((t) => t.id === l.owner)).slice(0, 3);
        if (doomed.length) {
          await records.deleteRecords(actors.get(team.manager.id)!, 'Leads', doomed.map((l) => l.id));
          for (const d of doomed) leads.splice(leads.indexOf(d), 1);
        }
      }
    }
    return { created: true, orgId: org.id, adminEmail: admin.email, password };
  }

  /**
   * Appends `count` historic entries spread over the last three years, hash-chained like any
   * other, in transactions of 10,000. Bypasses the record services on purpose: these describe
   * activity on records that predate this server.
   */
  /**
   * Appends `count` historic entries after the organisation's newest entry, up to now (at most
   * three years back): the chain stays in time order, so on an organisation with recent activity
   * the history is recent too. `seedDemo({ history })` places it before the seeded activity.
   */
  async function loadHistory(orgId: string, count: number, onProgress?: (done: number) => void) {
    const last = await deps.store.repos.integrity.lastChainEntry(orgId);
    const end = deps.clock();
    return appendHistory(orgId, count, Math.max(end - 3 * 365 * DAY, last ? Number(last.audited_at) + 1 : 0), end, onProgress);
  }

  async function appendHistory(orgId: string, count: number, start: number, end: number, onProgress?: (done: number) => void) {
    const org = await deps.store.repos.directory.getOrg(orgId);
    if (!org) throw new Error(`no organisation ${orgId}`);
    const users = (await deps.store.repos.directory.listUsers(orgId)).filter((u) => u.status !== 'deleted');
    const rnd = prng(count);
    const modules = ['Leads', 'Contacts', 'Accounts', 'Deals', 'Calls', 'Events', 'Tasks', 'Notes', 'Campaigns', 'Cases', 'Quotes'];
    const recordActions = ['added', 'updated', 'updated', 'updated', 'deleted'] as const;
    const fieldsFor: Record<string, [string, string, () => unknown][]> = {
      Deals: [['Stage', 'Stage', () => rnd.pick(STAGES)], ['Amount', 'Amount', () => rnd.int(1, 500) * 1000]],
      Leads: [['Lead_Status', 'Lead Status', () => rnd.pick(['Contacted', 'Junk Lead', 'Pre-Qualified'])]],
      Tasks: [['Status', 'Status', () => rnd.pick(['In Progress', 'Completed', 'Deferred'])]],
    };
    const CHUNK = 10_000;
    let done = 0;
    while (done < count) {
      const size = Math.min(CHUNK, count - done);
      const entries: AuditEntryInput[] = new Array(size);
      for (let i = 0; i < size; i++) {
        const u = rnd.pick(users);
        const at = Math.floor(start + ((done + i + rnd.next()) / count) * (end - start));
        const module = rnd.pick(modules);
        const action = rnd.chance(0.01) ? 'login' : rnd.pick(recordActions);
        const fields = fieldsFor[module] ?? [['Description', 'Description', () => `Revision ${rnd.int(1, 99)}`]];
        const [api, label, gen] = rnd.pick(fields);
        entries[i] = {
          auditedAt: at, actorType: 'user', actorId: u.id, actorName: fullName(u), action,
          module: action === 'login' ? 'users' : module, recordId: action === 'login' ? u.id : newId(at),
          recordName: action === 'login' ? fullName(u) : `${module.slice(0, -1)} ${rnd.int(1000, 99999)}`,
          parentModule: null, parentId: null, source: rnd.pick<AuditSource>(['crm_ui', 'crm_ui', 'api', 'workflow', 'import']),
          ip: `10.${rnd.int(0, 255)}.${rnd.int(0, 255)}.${rnd.int(1, 254)}`, userAgent: 'Mozilla/5.0', batchId: null,
          fieldHistory: action === 'updated' ? [{ api_name: api, field_label: label, old: gen(), new: gen() }] : null,
          extra: null,
        };
      }
      // Seeded history: each entry carries its own user and time.
      await inTransaction(deps, systemActor(orgId), async (tx) => { for (const e of entries) tx.auditAs(e); });
      done += size;
      onProgress?.(done);
    }
    return done;
  }

  return { seedDemo, loadHistory, findDemoOrg };
}
