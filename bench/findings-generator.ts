/**
 * A labelled organisation for the anomaly detectors (bench:findings, docs/findings.md): several
 * months of ordinary work per user, with planted incidents of every finding kind, written as the
 * audit log API renders entries (one JSON object a line), with the users as GET /crm/v8/users
 * answers them and the labels of what was planted.
 *
 * Ordinary work, per user: a start hour of their own (07:00 to 10:00 in the organisation's zone)
 * and an eight-hour day with a lunch dip, weekdays only (Fridays lighter, a rare Saturday
 * morning), a sign-in each morning and now and then a mistyped password; volumes by role (sales
 * reps create and update leads, contacts, deals, calls and tasks; support works cases; managers
 * review, clean up a few records a day and export a weekly report; the administrator adds users
 * and profiles). Mass updates and imports come as batches. Now and then someone stays late.
 * Near misses are ordinary too: a manager's month-end cleanup just under the deletion floor, a
 * rep's monthly export of several hundred contacts, a minute of fast data entry now and then.
 *
 * Planted, three of each kind (labels hold kind, user or IP, and the time span): bursts of
 * failed sign-ins (one user, a tally summary, a spray from one IP across users), mass deletions,
 * data leaving, permission changes (Administrator grants, a widened profile, a role moved), work
 * at hours the user never works, and bursts of activity. An incident that is truly of another kind
 * as well (a scripted deletion at 3 a.m. is also off-hours) says so in `also`. Routine permission
 * changes of ordinary work (a promotion) are labelled too, as `routine`: the rule reports every
 * permission change by design.
 */
import { formatDateTime } from '../src/domain/time.ts';
import type { FindingKind } from '../src/domain/findings.ts';

const DAY = 86_400_000;
const MIN = 60_000;

export interface Label {
  kind: FindingKind;
  /** Whom it is about (null for a spray across users: matched by IP). */
  userId: string | null;
  ip?: string;
  start: number;
  end: number;
  name: string;
  also?: FindingKind[];
  routine?: boolean;
}

export interface GeneratedOrg {
  timeZone: string;
  users: { id: string; full_name: string; role: { id: string; name: string }; profile: { id: string; name: string } }[];
  /** API-shaped entries in time order. */
  entries: Record<string, unknown>[];
  labels: Label[];
}

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)], chance: (p: number) => next() < p };
}

/** The offset (minutes) of a zone at an instant, read from the ISO rendering. */
function offsetAt(ms: number, tz: string) {
  const m = /([+-])(\d\d):(\d\d)$/.exec(formatDateTime(ms, tz))!;
  return (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]);
}
/** UTC ms of a local wall-clock time in the zone. */
function localTime(dayUtc: number, hour: number, minute: number, tz: string) {
  const guess = dayUtc + hour * 3600_000 + minute * MIN;
  return guess - offsetAt(guess - offsetAt(guess, tz) * MIN, tz) * MIN;
}

type Role = 'admin' | 'manager' | 'rep' | 'support';

export function generateOrg(opts: { days?: number; seed?: number; timeZone?: string } = {}): GeneratedOrg {
  const days = opts.days ?? 120;
  const tz = opts.timeZone ?? 'America/Chicago';
  const rnd = prng(opts.seed ?? 15);
  let idSeq = 0;
  const nextId = () => String(3_000_000_000_000_000_000n + BigInt(idSeq++));
  const profiles = { admin: { id: '2000000000000000001', name: 'Administrator' }, standard: { id: '2000000000000000002', name: 'Standard' },
    support: { id: '2000000000000000003', name: 'Support' } };
  const roles = { ceo: { id: '2100000000000000001', name: 'CEO' }, manager: { id: '2100000000000000002', name: 'Sales Manager' },
    rep: { id: '2100000000000000003', name: 'Sales Rep' }, support: { id: '2100000000000000004', name: 'Support Agent' } };
  const FIRST = ['Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Elijah', 'Sophia', 'Mateo', 'Isabella', 'Lucas', 'Mia', 'Levi', 'Amelia', 'Ezra',
    'Harper', 'Luca', 'Aarav', 'Priya', 'Kenji', 'Yuki', 'Fatima', 'Omar', 'Chloe', 'Diego'];
  const LAST = ['Smith', 'Johnson', 'Garcia', 'Miller', 'Davis', 'Lopez', 'Wilson', 'Anderson', 'Taylor', 'Moore', 'Lee', 'Patel'];
  const layout: Role[] = ['admin', 'manager', 'manager', 'manager', ...Array<Role>(14).fill('rep'), ...Array<Role>(6).fill('support')];
  const people = layout.map((role, i) => ({
    id: String(1_000_000_000_000_000_000n + BigInt(i + 1)), name: `${FIRST[i % FIRST.length]} ${LAST[(i * 5) % LAST.length]}`, role,
    ip: `10.20.${i + 1}.${10 + i}`, startHour: rnd.int(7, 10), pace: 0.6 + rnd.next() * 0.8,
  }));
  const users = people.map((p) => ({ id: p.id, full_name: p.name,
    role: p.role === 'admin' ? roles.ceo : p.role === 'manager' ? roles.manager : p.role === 'rep' ? roles.rep : roles.support,
    profile: p.role === 'admin' ? profiles.admin : p.role === 'support' ? profiles.support : profiles.standard }));
  type Person = (typeof people)[number];
  const entries: { at: number; e: Record<string, unknown> }[] = [];
  const labels: Label[] = [];

  function add(p: Person | null, at: number, action: string, module: string | null, o: { record?: string; recordId?: string; batch?: string | null;
    ip?: string; fields?: { api_name: string; old: unknown; new: unknown }[]; details?: Record<string, unknown>; source?: string; userOverride?: Person } = {}) {
    const id = nextId();
    const who = o.userOverride ?? p;
    entries.push({ at, e: {
      id, audited_time: formatDateTime(at, tz), action, done_by: who ? { id: who.id, name: who.name } : { id: null, name: 'System', type: 'system' },
      module: module ? { api_name: module, id: null } : null, record: o.record || o.recordId ? { id: o.recordId ?? nextId(), name: o.record ?? null } : null,
      source: o.source ?? 'crm_ui', ip_address: o.ip ?? who?.ip ?? null, user_agent: 'Mozilla/5.0', batch_id: o.batch ?? null,
      field_history: o.fields?.map((f) => ({ api_name: f.api_name, field_label: f.api_name, _value: { old: f.old, new: f.new } })) ?? null,
      details: o.details ?? null,
    } });
    return id;
  }

  const MODULES: Record<Role, string[]> = { admin: ['Accounts', 'Contacts'], manager: ['Deals', 'Accounts', 'Leads', 'Contacts'],
    rep: ['Leads', 'Leads', 'Contacts', 'Deals', 'Calls', 'Tasks', 'Accounts'], support: ['Cases', 'Cases', 'Contacts', 'Solutions'] };
  const PER_HOUR: Record<Role, number> = { admin: 2, manager: 4, rep: 8, support: 7 };
  const start = Date.UTC(2026, 0, 5);

  // Ordinary work, day by day.
  for (let d = 0; d < days; d++) {
    const dayUtc = start + d * DAY;
    const weekday = new Date(dayUtc).getUTCDay();
    for (const p of people) {
      if (weekday === 0) continue;
      if (weekday === 6 && !rnd.chance(0.04)) continue;
      if (rnd.chance(0.05)) continue; // a day off
      const hours = weekday === 6 ? 3 : weekday === 5 ? 6 : 8;
      const late = weekday !== 6 && rnd.chance(0.03) ? rnd.int(1, 2) : 0;
      const dayStart = localTime(dayUtc, p.startHour, rnd.int(0, 40), tz);
      if (rnd.chance(0.04)) {
        for (let k = rnd.int(1, 3); k > 0; k--) add(p, dayStart - k * 20_000, 'login_failed', 'users', { record: p.name, recordId: p.id,
          details: { method: 'password', reason: 'wrong_password' } });
      }
      add(p, dayStart, 'login', 'users', { record: p.name, recordId: p.id, details: { method: 'password' } });
      for (let h = 0; h < hours + late; h++) {
        const lunch = h === 4 ? 0.3 : 1;
        const n = Math.round(PER_HOUR[p.role] * p.pace * lunch * (0.5 + rnd.next()));
        for (let k = 0; k < n; k++) {
          const at = dayStart + h * 3600_000 + rnd.int(0, 3599) * 1000;
          const module = rnd.pick(MODULES[p.role]);
          const r = rnd.next();
          if (r < 0.35) add(p, at, 'added', module, { record: `${module} ${rnd.int(1000, 99999)}` });
          else add(p, at, 'updated', module, { record: `${module} ${rnd.int(1000, 99999)}`, fields: [{ api_name: 'Status', old: 'Open', new: 'Working' }] });
        }
      }
      // Managers clean up a few records a day, and export a weekly report on Mondays.
      if (p.role === 'manager') {
        const at = dayStart + rnd.int(2, 6) * 3600_000;
        for (let k = rnd.int(0, 12); k > 0; k--) add(p, at + k * rnd.int(20, 90) * 1000, 'deleted', rnd.pick(MODULES.manager), { record: 'Junk' });
        if (weekday === 1) add(p, dayStart + 3600_000, 'exported', 'Deals', { details: { count: rnd.int(80, 600), format: 'csv' } });
      }
      if (p.role === 'rep' && rnd.chance(0.15)) {
        const at = dayStart + rnd.int(1, 6) * 3600_000;
        for (let k = rnd.int(1, 4); k > 0; k--) add(p, at + k * 30_000, 'deleted', 'Leads', { record: 'Duplicate lead' });
      }
      // Mass updates and imports: many entries, one action.
      if (p.role !== 'admin' && rnd.chance(0.05)) {
        const batch = nextId();
        const at = dayStart + rnd.int(1, 6) * 3600_000;
        const count = rnd.int(20, 180);
        for (let k = 0; k < count; k++) add(p, at + k * 15, 'updated', 'Leads', { record: 'Lead', batch, source: 'mass_action' });
        add(p, at + count * 15, 'mass_updated', 'Leads', { batch, details: { count }, source: 'mass_action' });
      }
      if (p.role === 'support' && rnd.chance(0.1)) add(p, dayStart + 2 * 3600_000, 'exported', 'Cases', { details: { count: rnd.int(10, 200) } });
      // Near misses that are ordinary all the same: a month-end cleanup just under the floor, a
      // large but usual export, a minute of fast data entry.
      if (p.role === 'manager' && new Date(dayUtc).getUTCDate() === 28) {
        const at = dayStart + 5 * 3600_000;
        for (let k = rnd.int(30, 45); k > 0; k--) add(p, at + k * 40_000, 'deleted', 'Leads', { record: 'Stale lead' });
      }
      if (p.role === 'rep' && new Date(dayUtc).getUTCDate() === 1) add(p, dayStart + 2 * 3600_000, 'exported', 'Contacts',
        { details: { count: rnd.int(300, 900) } });
      if (p.role !== 'admin' && rnd.chance(0.2)) {
        const at = dayStart + rnd.int(1, 6) * 3600_000;
        for (let k = rnd.int(8, 12); k > 0; k--) add(p, at + k * 5000, 'updated', rnd.pick(MODULES[p.role]), { record: 'Quick edit' });
      }
      // The administrator adds a user or a profile now and then (low findings).
      if (p.role === 'admin' && rnd.chance(0.05)) add(p, dayStart + 3600_000, 'user_added', 'users', { record: `New hire ${d}`,
        details: { profile_id: profiles.standard.id, role_id: roles.rep.id } });
    }
    // Routine promotions, labelled: a permission change by definition.
    if (d === 40 || d === 85) {
      const admin = people[0];
      const at = localTime(dayUtc, admin.startHour + 2, 5, tz);
      const rep = people[4 + (d % 7)];
      add(admin, at, 'user_updated', 'users', { record: rep.name, recordId: rep.id, fields: [{ api_name: 'role', old: roles.rep.id, new: roles.manager.id }] });
      labels.push({ kind: 'permission_change', userId: admin.id, start: at, end: at, name: `promotion of ${rep.name}`, routine: true });
    }
  }

  // Planted incidents, in the last weeks (baselines have formed by then).
  const incidentDay = (k: number) => start + (days - 25 + k * 2) * DAY + (new Date(start + (days - 25 + k * 2) * DAY).getUTCDay() % 6 === 0 ? DAY * 2 : 0);
  const workAt = (p: Person, k: number, hour = p.startHour + 3) => localTime(incidentDay(k), hour, rnd.int(0, 30), tz);
  const plant = (label: Omit<Label, 'start' | 'end'>, run: () => number[]) => {
    const times = run();
    labels.push({ ...label, start: Math.min(...times), end: Math.max(...times) });
  };
  const reps = people.filter((p) => p.role === 'rep');
  const managers = people.filter((p) => p.role === 'manager');
  const support = people.filter((p) => p.role === 'support');
  const admin = people[0];

  // failed_login_burst: one user's password guessed; a tally summary; a spray from one IP.
  plant({ kind: 'failed_login_burst', userId: reps[0].id, name: 'password guessing' }, () => {
    const t0 = workAt(reps[0], 0, 13);
    return Array.from({ length: 25 }, (_, i) => { const at = t0 + i * 12_000; add(reps[0], at, 'login_failed', 'users', { ip: '198.51.100.23',
      record: reps[0].name, recordId: reps[0].id, details: { method: 'password', reason: 'wrong_password' } }); return at; });
  });
  plant({ kind: 'failed_login_burst', userId: support[0].id, name: 'token grant flood (tally summary)' }, () => {
    const at = workAt(support[0], 1, 15);
    add(support[0], at, 'login_failed', 'users', { ip: '198.51.100.77', source: 'api', record: support[0].name, recordId: support[0].id,
      details: { client_id: '1000.FLOOD', reason: 'too_many_requests', attempts: 64 } });
    return [at];
  });
  plant({ kind: 'failed_login_burst', userId: null, ip: '203.0.113.66', name: 'password spray' }, () => {
    const t0 = workAt(admin, 2, 12);
    const out: number[] = [];
    people.slice(4, 12).forEach((p, i) => { for (let k = 0; k < 2; k++) { const at = t0 + (i * 2 + k) * 20_000; out.push(at);
      add(p, at, 'login_failed', 'users', { ip: '203.0.113.66', record: p.name, recordId: p.id, details: { method: 'password', reason: 'wrong_password' } }); } });
    return out;
  });

  // mass_deletion: 312 Leads in three mass deletions; a manager far above their own cleanups; Cases one by one, slowly.
  plant({ kind: 'mass_deletion', userId: reps[1].id, name: '312 Leads by mass delete' }, () => {
    const t0 = workAt(reps[1], 3);
    const out: number[] = [];
    for (const [b, count] of [[0, 100], [1, 112], [2, 100]] as const) {
      const batch = nextId();
      const at = t0 + b * 100_000;
      for (let k = 0; k < count; k++) add(reps[1], at + k * 10, 'deleted', 'Leads', { record: 'Lead', batch, source: 'mass_action' });
      add(reps[1], at + count * 10, 'mass_deleted', 'Leads', { batch, details: { count }, source: 'mass_action' });
      out.push(at, at + count * 10);
    }
    return out;
  });
  plant({ kind: 'mass_deletion', userId: managers[0].id, name: 'manager deletes 80 Deals' }, () => {
    const t0 = workAt(managers[0], 4);
    return Array.from({ length: 80 }, (_, i) => { const at = t0 + i * 15_000; add(managers[0], at, 'deleted', 'Deals', { record: 'Deal' }); return at; });
  });
  plant({ kind: 'mass_deletion', userId: support[1].id, name: '150 Cases over 25 minutes' }, () => {
    const t0 = workAt(support[1], 5);
    return Array.from({ length: 150 }, (_, i) => { const at = t0 + i * 10_000; add(support[1], at, 'deleted', 'Cases', { record: 'Case' }); return at; });
  });

  // data_leaving: a rep exports every Contact; a manager six modules; eight exports in forty minutes.
  plant({ kind: 'data_leaving', userId: reps[2].id, name: 'all Contacts exported' }, () => {
    const at = workAt(reps[2], 6);
    add(reps[2], at, 'exported', 'Contacts', { source: 'api', details: { count: 20_000, format: 'csv' } });
    return [at];
  });
  plant({ kind: 'data_leaving', userId: managers[1].id, name: 'six modules exported' }, () => {
    const t0 = workAt(managers[1], 7);
    return ['Leads', 'Contacts', 'Accounts', 'Deals', 'Quotes', 'Invoices'].map((m, i) => {
      const at = t0 + i * 4 * MIN; add(managers[1], at, 'exported', m, { details: { count: 2_000 } }); return at; });
  });
  plant({ kind: 'data_leaving', userId: reps[3].id, name: 'eight exports in forty minutes' }, () => {
    const t0 = workAt(reps[3], 8);
    return Array.from({ length: 8 }, (_, i) => { const at = t0 + i * 5 * MIN; add(reps[3], at, 'exported', rnd.pick(MODULES.rep), { details: { count: 150 } }); return at; });
  });

  // permission_change: Administrator grants; a widened profile; a role moved and users' roles changed.
  plant({ kind: 'permission_change', userId: admin.id, name: 'rep given the Administrator profile' }, () => {
    const at = workAt(admin, 9);
    add(admin, at, 'user_updated', 'users', { record: reps[4].name, recordId: reps[4].id,
      fields: [{ api_name: 'profile', old: profiles.standard.id, new: profiles.admin.id }] });
    return [at];
  });
  plant({ kind: 'permission_change', userId: admin.id, name: 'Support profile may manage users' }, () => {
    const at = workAt(admin, 10);
    add(admin, at, 'profile_updated', 'profiles', { record: 'Support', recordId: profiles.support.id, fields: [{ api_name: 'permissions',
      old: JSON.stringify({ modules: {}, settings: { audit_log: false } }), new: JSON.stringify({ modules: {}, settings: { manage_users: true } }) }] });
    return [at];
  });
  plant({ kind: 'permission_change', userId: managers[2].id, name: 'role moved, users moved' }, () => {
    const t0 = workAt(managers[2], 11);
    add(managers[2], t0, 'role_updated', 'roles', { record: 'Support Agent', recordId: roles.support.id,
      fields: [{ api_name: 'reporting_to', old: roles.ceo.id, new: roles.manager.id }] });
    add(managers[2], t0 + 2 * MIN, 'user_updated', 'users', { record: support[2].name, recordId: support[2].id,
      fields: [{ api_name: 'role', old: roles.support.id, new: roles.rep.id }] });
    return [t0, t0 + 2 * MIN];
  });

  // off_hours: at night, in the organisation's zone.
  plant({ kind: 'off_hours', userId: reps[5].id, name: 'a rep at 2 a.m. with an export' }, () => {
    const t0 = localTime(incidentDay(3), 2, 5, tz);
    const out = Array.from({ length: 24 }, (_, i) => { const at = t0 + i * 90_000; add(reps[5], at, 'updated', 'Deals', { record: 'Deal', ip: '198.51.100.5' }); return at; });
    add(reps[5], t0 + 40 * MIN, 'exported', 'Deals', { ip: '198.51.100.5', details: { count: 120 } });
    return [...out, t0 + 40 * MIN];
  });
  plant({ kind: 'off_hours', userId: managers[0].id, name: 'a manager deleting at 23:00' }, () => {
    const t0 = localTime(incidentDay(6), 23, 10, tz);
    return Array.from({ length: 6 }, (_, i) => { const at = t0 + i * 2 * MIN; add(managers[0], at, 'deleted', 'Accounts', { record: 'Account' }); return at; });
  });
  plant({ kind: 'off_hours', userId: support[3].id, name: 'support busy at 4:30' }, () => {
    const t0 = localTime(incidentDay(9), 4, 30, tz);
    return Array.from({ length: 22 }, (_, i) => { const at = t0 + i * 2 * MIN; add(support[3], at, 'updated', 'Cases', { record: 'Case' }); return at; });
  });

  // activity_burst: scripts making changes one by one.
  for (const [k, p, count, every] of [[1, reps[6], 200, 500], [5, reps[7], 150, 800], [10, support[4], 90, 600]] as const) {
    plant({ kind: 'activity_burst', userId: p.id, name: `${count} changes by script` }, () => {
      const t0 = workAt(p, k, p.startHour + 5);
      return Array.from({ length: count }, (_, i) => { const at = t0 + i * every; add(p, at, 'updated', 'Contacts', { record: 'Contact', source: 'api' }); return at; });
    });
  }

  entries.sort((a, b) => a.at - b.at);
  return { timeZone: tz, users, entries: entries.map((x) => x.e), labels };
}
