import { createZoneFormatter } from './time.ts';
import {
  type DetectedFinding, type DetectorContext, type DetectorEvent, type FindingKind, type FindingSettings, type Severity,
  DEFAULT_FINDING_SETTINGS, severityRank,
} from './findings.ts';

/**
 * The six detectors of docs/findings.md, pure and deterministic. `runDetectors(state, events)`
 * reads a batch of new entries (in chain order) with what earlier batches left (per-user
 * baselines and the episodes still open) and returns the findings the batch created or extended,
 * with the next state: a job runs it from a durable cursor, a batch at a time; `detectAll` runs it
 * over a whole history in one go. The same entries give the same findings however they are cut
 * into batches.
 */

/** At most this many entry ids are kept on a finding (its explanation still counts them all). */
export const MAX_ENTRY_IDS = 1000;
const MINUTE = 60_000;

/** Daily totals of one measure over the last days, oldest first; `x` marks days a finding counted (left out of baselines). */
interface Daily { d: number[]; n: number[]; x: number[] }

interface Episode {
  key: string;
  start: number;
  last: number;
  ids: string[];
  reported: boolean;
}

interface DeletionEpisode extends Episode { records: string[]; count: number; modules: Record<string, number>; threshold: number; usual: number | null }
interface LeavingEpisode extends Episode { records: number; exports: number; modules: Record<string, number>; recThreshold: number;
  opsThreshold: number; usual: number | null }
interface PermissionEpisode extends Episode { severity: Severity; what: string[] }
interface OffHoursEpisode extends Episode { count: number; actions: number; batches: string[]; sensitive: number; days: number; activeDays: number; lo: number; hi: number }
interface BurstEpisode extends Episode { actions: number; peak: number; threshold: number; usual: number | null }
interface LoginEpisode extends Episode { attempts: number; users: [string, string][]; ips: string[]; clients: string[]; success: boolean }

interface UserState {
  name: string;
  /** Local day number of the user's last entry, and how many distinct days they have been active. */
  lastDay: number;
  activeDays: number;
  deletions: Daily;
  deletion: DeletionEpisode | null;
  leftRecords: Daily;
  leftExports: Daily;
  leaving: LeavingEpisode | null;
  permission: PermissionEpisode | null;
  /** Hours of the day (bits of a 24-bit mask) the user was active on each of their recent days. */
  hours: { d: number[]; m: number[] };
  offHours: OffHoursEpisode | null;
  /** Each day's busiest minute (actions). */
  peaks: Daily;
  minute: { m: number; n: number; batches: string[]; ids: string[] };
  burst: BurstEpisode | null;
}

export interface DetectorState {
  v: 1;
  users: Record<string, UserState>;
  logins: LoginEpisode[];
  /** Profile ids learnt from the entries to be the Administrator profile. */
  adminProfiles: string[];
}

export const emptyDetectorState = (): DetectorState => ({ v: 1, users: {}, logins: [], adminProfiles: [] });

const DELETIONS = new Set(['deleted', 'permanently_deleted']);
const DELETION_SUMMARIES = new Set(['mass_deleted', 'recycle_bin_emptied']);
const isLeaving = (a: string) => a === 'exported' || a === 'downloaded' || a.endsWith('_exported') || a.endsWith('_downloaded');
const SENSITIVE = (a: string) => DELETIONS.has(a) || DELETION_SUMMARIES.has(a) || isLeaving(a) || PERMISSION_ACTIONS.has(a);
const PERMISSION_ACTIONS = new Set(['user_added', 'user_updated', 'profile_added', 'profile_updated', 'profile_deleted', 'role_added',
  'role_updated', 'role_deleted', 'sharing_updated']);

const num = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, one: string, many = `${one}s`) => `${num(n)} ${n === 1 ? one : many}`;
const minutesBetween = (a: number, b: number) => Math.max(1, Math.round((b - a) / MINUTE));
const span = (a: number, b: number) => plural(minutesBetween(a, b), 'minute');
const pushId = (ids: string[], id: string) => { if (ids.length < MAX_ENTRY_IDS) ids.push(id); };
/** "312 Leads" or "312 records (300 Leads, 12 Deals)". */
function byModule(total: number, modules: Record<string, number>, noun = 'records') {
  const names = Object.entries(modules).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (names.length === 1) return `${num(total)} ${names[0][0]}`;
  return `${num(total)} ${noun} (${names.slice(0, 3).map(([m, n]) => `${num(n)} ${m}`).join(', ')}${names.length > 3 ? ', ...' : ''})`;
}

function newDaily(): Daily { return { d: [], n: [], x: [] }; }
/** Adds to a day's total, dropping days older than `keep` days. */
function addDaily(b: Daily, day: number, value: number, keep: number) {
  const last = b.d.length - 1;
  if (last >= 0 && b.d[last] === day) b.n[last] += value;
  else { b.d.push(day); b.n.push(value); b.x.push(0); }
  while (b.d.length && b.d[0] < day - keep) { b.d.shift(); b.n.shift(); b.x.shift(); }
}
/** The day's total set to at least `value` (a day's peak). */
function maxDaily(b: Daily, day: number, value: number, keep: number) {
  const last = b.d.length - 1;
  if (last >= 0 && b.d[last] === day) b.n[last] = Math.max(b.n[last], value);
  else addDaily(b, day, value, keep);
}
/** The largest total of the days before `day` within `keep` days, findings' days left out; 0 for none. */
function usualMax(b: Daily, day: number, keep: number) {
  let max = 0;
  for (let i = 0; i < b.d.length; i++) if (b.d[i] < day && b.d[i] >= day - keep && !b.x[i]) max = Math.max(max, b.n[i]);
  return max;
}
function markDay(b: Daily, day: number) {
  const last = b.d.length - 1;
  if (last >= 0 && b.d[last] === day) b.x[last] = 1;
}

/** Local day number and hour of an instant in a zone (formatters cached per zone). */
const zoneFormatters = new Map<string, (ms: number) => string>();
function local(ms: number, tz: string) {
  let f = zoneFormatters.get(tz);
  if (!f) { f = createZoneFormatter(tz); zoneFormatters.set(tz, f); }
  const s = f(ms);
  return { day: Math.floor(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 86_400_000), hour: +s.slice(11, 13),
    clock: s.slice(11, 16) };
}

function newUser(name: string): UserState {
  return { name, lastDay: -1, activeDays: 0, deletions: newDaily(), deletion: null, leftRecords: newDaily(), leftExports: newDaily(),
    leaving: null, permission: null, hours: { d: [], m: [] }, offHours: null, peaks: newDaily(),
    minute: { m: -1, n: 0, batches: [], ids: [] }, burst: null };
}

/** A permission change as the detector weighs it: how serious and in words; null when the entry is none. */
function permissionChange(e: DetectorEvent, admins: ReadonlySet<string>, names: ReadonlyMap<string, string> | undefined):
  { severity: Severity; what: string } | null {
  const subject = e.recordName ?? e.recordId ?? 'a user';
  const field = (name: string) => e.fields.find((f) => f.api_name === name);
  const idOf = (v: unknown) => (typeof v === 'string' ? v : v && typeof v === 'object' && 'id' in v ? String((v as { id: unknown }).id) : null);
  switch (e.action) {
    case 'user_added': {
      const profile = idOf(e.details?.profile_id);
      return profile && admins.has(profile) ? { severity: 'high', what: `added ${subject} with the Administrator profile` }
        : { severity: 'low', what: `added the user ${subject}` };
    }
    case 'user_updated': {
      const profile = field('profile');
      const role = field('role');
      if (profile) {
        const to = idOf(profile.new);
        if (to && admins.has(to)) return { severity: 'high', what: `gave ${subject} the Administrator profile` };
        return { severity: 'medium', what: `changed ${subject}'s profile${to && names?.get(to) ? ` to ${names.get(to)}` : ''}` };
      }
      if (role) return { severity: 'medium', what: `changed ${subject}'s role${idOf(role.new) && names?.get(idOf(role.new)!) ? ` to ${names.get(idOf(role.new)!)}` : ''}` };
      return null;
    }
    case 'profile_updated': {
      const p = field('permissions');
      if (!p) return null;
      const parse = (v: unknown) => (typeof v === 'string' ? (() => { try { return JSON.parse(v) as unknown; } catch { return null; } })() : v);
      const before = (parse(p.old) as { settings?: Record<string, boolean> } | null)?.settings ?? {};
      const after = (parse(p.new) as { settings?: Record<string, boolean> } | null)?.settings ?? {};
      const granted = Object.keys(after).filter((k) => after[k] && !before[k]).sort();
      const admin = granted.filter((k) => k.startsWith('manage_') || k === 'audit_log' || k === 'export_audit_log');
      return admin.length ? { severity: 'high', what: `granted ${admin.join(', ')} to the profile ${subject}` }
        : { severity: 'medium', what: `changed the permissions of the profile ${subject}` };
    }
    case 'profile_deleted': return { severity: 'medium', what: `deleted the profile ${subject}` };
    case 'profile_added': return { severity: 'low', what: `added the profile ${subject}` };
    case 'role_added': return { severity: 'low', what: `added the role ${subject}` };
    case 'role_updated':
      return field('reporting_to') || field('share_with_peers') ? { severity: 'medium', what: `moved the role ${subject} in the hierarchy` } : null;
    case 'role_deleted': return { severity: 'medium', what: `deleted the role ${subject}` };
    case 'sharing_updated': {
      const said = e.fields.map((f) => (f.api_name.startsWith('sharing_rule:')
        ? `${f.old === null || f.old === undefined ? 'added' : f.new === null || f.new === undefined ? 'removed' : 'changed'} a sharing rule`
        : `set the default access to ${f.api_name} to ${typeof f.new === 'string' ? f.new : 'another level'}`));
      return { severity: 'medium', what: said.length ? said.slice(0, 2).join(', ') + (said.length > 2 ? ', ...' : '') : 'changed the data sharing settings' };
    }
    default: return null;
  }
}

/**
 * Runs every enabled detector over a batch of entries (chain order) from `state` (null: no
 * history yet). Returns the findings this batch created or extended, each once, in its latest
 * form (a finding extended by a later batch comes back with the same key), and the next state.
 */
export function runDetectors(state: DetectorState | null, events: readonly DetectorEvent[], ctx: DetectorContext,
  settings: FindingSettings = DEFAULT_FINDING_SETTINGS): { findings: DetectedFinding[]; state: DetectorState } {
  const s: DetectorState = state ? structuredClone(state) : emptyDetectorState();
  const admins = new Set([...ctx.adminProfileIds, ...s.adminProfiles]);
  const tz = ctx.timeZone;
  const touched = new Map<string, () => DetectedFinding>();
  const report = (key: string, build: () => DetectedFinding) => touched.set(key, build);

  for (const e of events) {
    if ((e.module === 'profiles') && e.recordName === 'Administrator' && e.recordId && !admins.has(e.recordId)) {
      admins.add(e.recordId);
      s.adminProfiles.push(e.recordId);
    }
    const when = local(e.at, tz);
    if (e.action === 'login_failed') failedLogin(e);
    else if (e.action === 'login') successfulLogin(e);
    if (!e.userId) continue;
    const u = (s.users[e.userId] ??= newUser(e.userName));
    u.name = e.userName;
    if (when.day !== u.lastDay) {
      u.lastDay = when.day;
      u.activeDays += 1;
    }
    if (e.action === 'login_failed') continue;
    if (settings.mass_deletion.enabled) deletion(e, u, when.day);
    if (settings.data_leaving.enabled) leaving(e, u, when.day);
    if (settings.permission_change.enabled) permission(e, u);
    if (settings.off_hours.enabled) offHours(e, u, when);
    if (settings.activity_burst.enabled) burst(e, u, when.day);
  }
  return { findings: [...touched.values()].map((build) => build()), state: s };

  function failedLogin(e: DetectorEvent) {
    const c = settings.failed_login_burst;
    if (!c.enabled) return;
    const window = c.window_minutes * MINUTE;
    s.logins = s.logins.filter((ep) => e.at - ep.last <= window);
    const client = typeof e.details?.client_id === 'string' ? e.details.client_id : null;
    let ep = s.logins.find((x) => (e.userId && x.users.some(([id]) => id === e.userId)) || (e.ip && x.ips.includes(e.ip))
      || (client && x.clients.includes(client)));
    if (!ep) {
      ep = { key: `failed_login_burst:${e.id}`, start: e.at, last: e.at, ids: [], reported: false, attempts: 0, users: [], ips: [], clients: [],
        success: false };
      s.logins.push(ep);
    }
    ep.last = e.at;
    pushId(ep.ids, e.id);
    const attempts = typeof e.details?.attempts === 'number' && e.details.attempts > 0 ? e.details.attempts : 1;
    ep.attempts += attempts;
    if (e.userId && !ep.users.some(([id]) => id === e.userId)) ep.users.push([e.userId, e.userName]);
    if (e.ip && !ep.ips.includes(e.ip)) ep.ips.push(e.ip);
    if (client && !ep.clients.includes(client)) ep.clients.push(client);
    if (ep.attempts >= c.min_failures) loginFinding(ep);
  }

  function successfulLogin(e: DetectorEvent) {
    const c = settings.failed_login_burst;
    if (!c.enabled) return;
    for (const ep of s.logins) {
      if (!ep.reported || ep.success || e.at - ep.last > c.window_minutes * MINUTE) continue;
      if ((e.userId && ep.users.some(([id]) => id === e.userId)) || (e.ip && ep.ips.includes(e.ip))) {
        ep.success = true;
        ep.last = e.at;
        pushId(ep.ids, e.id);
        loginFinding(ep);
      }
    }
  }

  function loginFinding(ep: LoginEpisode) {
    const c = settings.failed_login_burst;
    ep.reported = true;
    const snap = ep;
    report(ep.key, () => {
      const who = snap.users.length === 1 ? `for ${snap.users[0][1]}` : snap.users.length ? `for ${snap.users.length} users` : '';
      const from = [snap.ips.length === 1 ? `from ${snap.ips[0]}` : snap.ips.length ? `from ${snap.ips.length} addresses` : '',
        snap.clients.length === 1 ? `(client ${snap.clients[0]})` : snap.clients.length ? `(${snap.clients.length} clients)` : ''].filter(Boolean).join(' ');
      return {
        key: snap.key, kind: 'failed_login_burst', severity: snap.success || snap.attempts >= c.high_failures ? 'high' : 'medium',
        userId: snap.users.length === 1 ? snap.users[0][0] : null,
        userName: snap.users.length === 1 ? snap.users[0][1] : snap.users.length ? `${snap.users.length} users` : snap.ips[0] ?? 'unknown',
        startedAt: snap.start, endedAt: snap.last, entryIds: [...snap.ids],
        explanation: `${plural(snap.attempts, 'failed sign-in')} in ${span(snap.start, snap.last)} ${[who, from].filter(Boolean).join(' ')}`.trim()
          + `; threshold: ${num(c.min_failures)} within ${plural(c.window_minutes, 'minute')}${snap.success ? '; then a successful sign-in' : ''}`,
      };
    });
  }

  function deletion(e: DetectorEvent, u: UserState, day: number) {
    const c = settings.mass_deletion;
    const counted = DELETIONS.has(e.action);
    if (!counted && !DELETION_SUMMARIES.has(e.action)) return;
    let ep = u.deletion;
    if (!ep || e.at - ep.last > c.gap_minutes * MINUTE) {
      const usual = u.activeDays - 1 >= c.min_baseline_days ? usualMax(u.deletions, day, c.baseline_days) : null;
      ep = u.deletion = { key: `mass_deletion:${e.id}`, start: e.at, last: e.at, ids: [], reported: false, records: [], count: 0, modules: {},
        usual, threshold: Math.max(c.min_records, c.baseline_multiplier * (usual ?? 0)) };
    }
    ep.last = e.at;
    pushId(ep.ids, e.id);
    if (counted) {
      const rid = e.recordId ?? e.id;
      if (!ep.records.includes(rid)) {
        ep.records.push(rid);
        ep.count += 1;
        ep.modules[e.module ?? 'records'] = (ep.modules[e.module ?? 'records'] ?? 0) + 1;
        addDaily(u.deletions, day, 1, c.baseline_days);
      }
    }
    if (ep.count < ep.threshold) return;
    ep.reported = true;
    markDay(u.deletions, day);
    const snap = ep;
    const userId = e.userId!;
    report(ep.key, () => ({
      key: snap.key, kind: 'mass_deletion', severity: snap.count >= c.high_multiplier * snap.threshold ? 'high' : 'medium',
      userId, userName: u.name, startedAt: snap.start, endedAt: snap.last, entryIds: [...snap.ids],
      explanation: `deleted ${byModule(snap.count, snap.modules)} in ${span(snap.start, snap.last)}; `
        + (snap.usual === null ? `no baseline yet, threshold: ${num(snap.threshold)}` : `usual: at most ${num(snap.usual)} a day`),
    }));
  }

  function leaving(e: DetectorEvent, u: UserState, day: number) {
    const c = settings.data_leaving;
    if (!isLeaving(e.action)) return;
    const raw = e.details?.count ?? e.details?.records ?? e.details?.entries;
    const records = typeof raw === 'number' && raw >= 0 ? raw : 1;
    let ep = u.leaving;
    if (!ep || e.at - ep.last > c.gap_minutes * MINUTE) {
      const baseline = u.activeDays - 1 >= c.min_baseline_days;
      const usual = baseline ? usualMax(u.leftRecords, day, c.baseline_days) : null;
      const usualOps = baseline ? usualMax(u.leftExports, day, c.baseline_days) : 0;
      ep = u.leaving = { key: `data_leaving:${e.id}`, start: e.at, last: e.at, ids: [], reported: false, records: 0, exports: 0, modules: {},
        usual, recThreshold: Math.max(c.min_records, c.baseline_multiplier * (usual ?? 0)),
        opsThreshold: Math.max(c.min_exports, c.baseline_multiplier * usualOps) };
    }
    ep.last = e.at;
    pushId(ep.ids, e.id);
    ep.records += records;
    ep.exports += 1;
    const m = e.module === 'audit_log' ? 'audit log entries' : e.module ?? 'records';
    ep.modules[m] = (ep.modules[m] ?? 0) + records;
    addDaily(u.leftRecords, day, records, c.baseline_days);
    addDaily(u.leftExports, day, 1, c.baseline_days);
    if (ep.records < ep.recThreshold && ep.exports < ep.opsThreshold) return;
    ep.reported = true;
    markDay(u.leftRecords, day);
    markDay(u.leftExports, day);
    const snap = ep;
    const userId = e.userId!;
    report(ep.key, () => ({
      key: snap.key, kind: 'data_leaving',
      severity: snap.records >= c.high_multiplier * snap.recThreshold || snap.exports >= c.high_multiplier * snap.opsThreshold ? 'high' : 'medium',
      userId, userName: u.name, startedAt: snap.start, endedAt: snap.last, entryIds: [...snap.ids],
      explanation: `exported ${byModule(snap.records, snap.modules)} in ${plural(snap.exports, 'export')} within ${span(snap.start, snap.last)}; `
        + (snap.usual === null ? `no baseline yet, threshold: ${num(snap.recThreshold)} records or ${num(snap.opsThreshold)} exports`
          : `usual: at most ${num(snap.usual)} records a day`),
    }));
  }

  function permission(e: DetectorEvent, u: UserState) {
    const c = settings.permission_change;
    if (!PERMISSION_ACTIONS.has(e.action)) return;
    const change = permissionChange(e, admins, ctx.names);
    if (!change) return;
    let ep = u.permission;
    if (!ep || e.at - ep.last > c.gap_minutes * MINUTE) {
      ep = u.permission = { key: `permission_change:${e.id}`, start: e.at, last: e.at, ids: [], reported: true, severity: 'low', what: [] };
    }
    ep.last = e.at;
    pushId(ep.ids, e.id);
    if (severityRank(change.severity) > severityRank(ep.severity)) ep.severity = change.severity;
    ep.what.push(change.what);
    const snap = ep;
    const userId = e.userId!;
    report(ep.key, () => {
      const first = snap.what.slice(0, 3).join('; ');
      const rest = snap.what.length > 3 ? `; and ${plural(snap.what.length - 3, 'more change')}` : '';
      return {
        key: snap.key, kind: 'permission_change', severity: snap.severity, userId, userName: u.name, startedAt: snap.start, endedAt: snap.last,
        entryIds: [...snap.ids],
        explanation: snap.what.length === 1 ? first : `${plural(snap.what.length, 'permission change')} in ${span(snap.start, snap.last)}: ${first}${rest}`,
      };
    });
  }

  function offHours(e: DetectorEvent, u: UserState, when: { day: number; hour: number; clock: string }) {
    const c = settings.off_hours;
    const h = u.hours;
    if (h.d[h.d.length - 1] !== when.day) {
      h.d.push(when.day);
      h.m.push(0);
      while (h.d.length && h.d[0] < when.day - c.baseline_days) { h.d.shift(); h.m.shift(); }
    }
    const history = h.d.length - 1;
    const near = (1 << when.hour) | (1 << ((when.hour + 23) % 24)) | (1 << ((when.hour + 1) % 24));
    let usual = 0;
    for (let i = 0; i < history; i++) if (h.m[i] & near) usual += 1;
    h.m[history] |= 1 << when.hour;
    if (history < c.min_history_days || usual * 100 >= c.rare_percent * history) return;
    let ep = u.offHours;
    if (!ep || e.at - ep.last > c.gap_minutes * MINUTE) {
      ep = u.offHours = { key: `off_hours:${e.id}`, start: e.at, last: e.at, ids: [], reported: false, count: 0, actions: 0, batches: [],
        sensitive: 0, days: usual, activeDays: history, lo: (when.hour + 23) % 24, hi: (when.hour + 2) % 24 };
    }
    ep.last = e.at;
    pushId(ep.ids, e.id);
    ep.count += 1;
    // One mass action or cascade (one batch) is one action of the person, however many entries it writes.
    if (!e.batchId || !ep.batches.includes(e.batchId)) {
      if (e.batchId && ep.batches.length < MAX_ENTRY_IDS) ep.batches.push(e.batchId);
      ep.actions += 1;
      if (SENSITIVE(e.action)) ep.sensitive += 1;
    }
    if (ep.actions < c.min_actions) return;
    ep.reported = true;
    const snap = ep;
    report(ep.key, () => {
      const from = local(snap.start, tz).clock;
      const to = local(snap.last, tz).clock;
      const pad = (n: number) => `${String(n).padStart(2, '0')}:00`;
      const sensitive = snap.sensitive >= c.sensitive_actions;
      const severity: Severity = sensitive && snap.actions >= c.medium_actions ? 'high'
        : sensitive || snap.actions >= c.medium_actions ? 'medium' : 'low';
      return {
        key: snap.key, kind: 'off_hours', severity, userId: e.userId!, userName: u.name, startedAt: snap.start, endedAt: snap.last,
        entryIds: [...snap.ids],
        explanation: `worked from ${from} to ${to} (${plural(snap.actions, 'action')}`
          + `${snap.sensitive ? `, ${num(snap.sensitive)} of them deletions, exports or permission changes` : ''}); `
          + `usual: active between ${pad(snap.lo)} and ${pad(snap.hi)} on ${num(snap.days)} of their last ${plural(snap.activeDays, 'active day')}`,
      };
    });
  }

  function burst(e: DetectorEvent, u: UserState, day: number) {
    const c = settings.activity_burst;
    const m = Math.floor(e.at / MINUTE);
    const cur = u.minute;
    if (cur.m !== m) { cur.m = m; cur.n = 0; cur.batches = []; cur.ids = []; }
    // One mass action, import or cascade is one action of the person, however many entries it writes.
    const batch = e.batchId;
    const isNew = !batch || !cur.batches.includes(batch);
    if (batch && isNew) cur.batches.push(batch);
    if (isNew) cur.n += 1;
    if (cur.ids.length < MAX_ENTRY_IDS) cur.ids.push(e.id);
    const usual = u.activeDays - 1 >= c.min_baseline_days ? usualMax(u.peaks, day, c.baseline_days) : null;
    maxDaily(u.peaks, day, cur.n, c.baseline_days);
    const threshold = Math.max(c.min_per_minute, c.baseline_multiplier * (usual ?? 0));
    if (cur.n < threshold) return;
    let ep = u.burst;
    const minuteStart = m * MINUTE;
    if (!ep || minuteStart - ep.last > c.gap_minutes * MINUTE) {
      ep = u.burst = { key: `activity_burst:${cur.ids[0]}`, start: e.at, last: e.at, ids: [], reported: true, actions: 0, peak: 0, threshold,
        usual };
    }
    // The minute turned hot: its earlier entries belong to the burst too.
    if (ep.last < minuteStart || ep.ids.length === 0) {
      for (const id of cur.ids.slice(0, -1)) pushId(ep.ids, id);
      ep.actions += cur.n - (isNew ? 1 : 0);
      ep.start = Math.min(ep.start, minuteStart);
    }
    pushId(ep.ids, e.id);
    if (isNew) ep.actions += 1;
    ep.last = e.at;
    ep.peak = Math.max(ep.peak, cur.n);
    markDay(u.peaks, day);
    const snap = ep;
    const userId = e.userId!;
    report(ep.key, () => ({
      key: snap.key, kind: 'activity_burst', severity: snap.peak >= c.high_multiplier * snap.threshold ? 'high' : 'medium',
      userId, userName: u.name, startedAt: snap.start, endedAt: snap.last, entryIds: [...snap.ids],
      explanation: `made ${plural(snap.actions, 'change')} in ${span(snap.start, snap.last)} (at most ${num(snap.peak)} a minute); `
        + (snap.usual === null ? `no baseline yet, threshold: ${num(snap.threshold)} a minute` : `usual: at most ${num(snap.usual)} a minute`),
    }));
  }
}

/** Every finding over a whole history (entries in chain order), each in its final form. */
export function detectAll(events: readonly DetectorEvent[], ctx: DetectorContext, settings: FindingSettings = DEFAULT_FINDING_SETTINGS) {
  return runDetectors(null, events, ctx, settings).findings.sort((a, b) => a.startedAt - b.startedAt || a.key.localeCompare(b.key));
}

export type { FindingKind };
