import { Cron } from 'croner';
import { AppError } from './errors.ts';
import { parseAuditLogQuery, type AuditLogFilters } from './audit-query.ts';
import { findUnstorable } from './text.ts';

/**
 * Activity reports: counts of audit entries grouped by who, what, where and when, with the time
 * buckets (day, week, hour of the day, weekday) taken in the organisation's time zone.
 */

export const GROUP_KEYS = ['done_by', 'module', 'action', 'source', 'day', 'week', 'hour', 'weekday'] as const;
export type GroupKey = (typeof GROUP_KEYS)[number];
export const TIME_KEYS: readonly GroupKey[] = ['day', 'week', 'hour', 'weekday'];
export const MAX_GROUPINGS = 3;
export const DEFAULT_ROW_LIMIT = 1000;
export const MAX_ROW_LIMIT = 10_000;

/** Relative time ranges, taken in the organisation's time zone at the moment the report runs. */
export const RELATIVE_RANGES = ['today', 'yesterday', 'this_week', 'last_week', 'last_7_days', 'this_month', 'last_month', 'last_30_days'] as const;
export type RelativeRange = (typeof RELATIVE_RANGES)[number];

export interface ActivityQuery {
  groupBy: GroupKey[];
  filters: AuditLogFilters;
  range?: RelativeRange;
  limit: number;
}

const REPORT_PARAMS = new Set(['group_by', 'range', 'limit']);
/** The audit log's paging parameters mean nothing to a report. */
const PAGING = new Set(['page', 'per_page', 'page_token']);

const bad = (param: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('INVALID_DATA', message, { param_name: param, ...extra });

function one(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw bad(name, `${name} may be given once`);
  return v;
}

/**
 * Validates an activity report's parameters: `group_by` (1 to 3 of GROUP_KEYS, no repeats),
 * either `range` or `from`/`to`, `limit`, and the audit log's filters, checked by the audit
 * log's own parser (so a report takes exactly the filters the log does, with the same errors).
 * Every problem is INVALID_DATA naming the parameter.
 */
export function parseActivityQuery(query: Record<string, unknown>): ActivityQuery {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    if (PAGING.has(k)) throw bad(k, `unknown parameter ${k}`);
    if (!REPORT_PARAMS.has(k)) rest[k] = v;
  }
  const raw = one(query, 'group_by');
  if (raw === undefined || raw.trim() === '') {
    throw new AppError('REQUIRED_PARAM_MISSING', 'group_by is required', { param_name: 'group_by', supported_values: GROUP_KEYS });
  }
  const groupBy = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = groupBy.find((g) => !(GROUP_KEYS as readonly string[]).includes(g));
  if (unknown) throw bad('group_by', `unknown grouping ${unknown}`, { supported_values: GROUP_KEYS });
  if (new Set(groupBy).size !== groupBy.length) throw bad('group_by', 'a grouping is named twice');
  if (groupBy.length > MAX_GROUPINGS) throw bad('group_by', `at most ${MAX_GROUPINGS} groupings`, { limit: MAX_GROUPINGS });
  const range = one(query, 'range');
  if (range !== undefined) {
    if (!(RELATIVE_RANGES as readonly string[]).includes(range)) throw bad('range', `unknown range ${range}`, { supported_values: RELATIVE_RANGES });
    if (query.from !== undefined || query.to !== undefined) throw bad('range', 'give either range or from/to, not both');
  }
  const limitRaw = one(query, 'limit');
  let limit = DEFAULT_ROW_LIMIT;
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw) || +limitRaw < 1 || +limitRaw > MAX_ROW_LIMIT) {
      throw bad('limit', `limit must be an integer between 1 and ${MAX_ROW_LIMIT}`);
    }
    limit = +limitRaw;
  }
  const { filters } = parseAuditLogQuery(rest);
  return { groupBy: groupBy as GroupKey[], filters, range: range as RelativeRange | undefined, limit };
}

// ---------------------------------------------------------------------------------------------
// Time zones. SQLite knows no time zones, and PostgreSQL's AT TIME ZONE would make the two
// dialects disagree in the corners; so the zone's UTC offsets over the queried span are worked
// out here (Intl's tz database) and handed to the query as a piecewise offset: local time =
// audited_at + offset(audited_at). From local milliseconds, days, weeks, hours and weekdays are
// integer arithmetic, the same on both dialects, and right across daylight-saving changes.

const DAY_MS = 86_400_000;
const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset (ms, east positive) at an instant. */
export function zoneOffset(ms: number, timeZone: string): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric' });
    offsetFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  const whole = Math.floor(ms / 1000) * 1000;
  for (const part of f.formatToParts(new Date(whole))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** One stretch of constant offset: from the previous segment's end up to (not including) `until`. */
export interface OffsetSegment { until: number | null; offset: number }

/**
 * The zone's offsets over [from, to]: a segment per stretch between changes (daylight saving,
 * or a zone's rule change), each change found to the millisecond by bisection.
 */
export function offsetSegments(from: number, to: number, timeZone: string): OffsetSegment[] {
  const segments: OffsetSegment[] = [];
  const STEP = 7 * DAY_MS;
  let at = from;
  let current = zoneOffset(from, timeZone);
  while (at < to) {
    const next = Math.min(at + STEP, to);
    const o = zoneOffset(next, timeZone);
    if (o !== current) {
      let lo = at;
      let hi = next;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (zoneOffset(mid, timeZone) === current) lo = mid; else hi = mid;
      }
      segments.push({ until: hi, offset: current });
      current = zoneOffset(hi, timeZone);
      at = hi;
    } else {
      at = next;
    }
  }
  segments.push({ until: null, offset: current });
  return segments;
}

/** A local day number (days since 1970-01-01 in local time) as `YYYY-MM-DD`. */
export const dayLabel = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/** The UTC instant of local midnight starting the given local date. */
export function localMidnight(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  let guess = wall - zoneOffset(wall, timeZone);
  // A second pass settles dates whose offset differs between the wall time and the instant.
  guess = wall - zoneOffset(guess, timeZone);
  return guess;
}

function localDate(ms: number, timeZone: string) {
  const d = new Date(ms + zoneOffset(ms, timeZone));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate(), weekday: (d.getUTCDay() + 6) % 7 };
}

/** A relative range as [from, to] in UTC milliseconds, `to` inclusive, in the zone at `now`. */
export function resolveRange(range: RelativeRange, now: number, timeZone: string): { from: number; to: number } {
  const t = localDate(now, timeZone);
  const midnight = (y: number, m: number, d: number) => localMidnight(y, m, d, timeZone);
  const shift = (days: number) => {
    const x = new Date(Date.UTC(t.y, t.m - 1, t.d + days));
    return midnight(x.getUTCFullYear(), x.getUTCMonth() + 1, x.getUTCDate());
  };
  const today = midnight(t.y, t.m, t.d);
  switch (range) {
    case 'today': return { from: today, to: now };
    case 'yesterday': return { from: shift(-1), to: today - 1 };
    case 'this_week': return { from: shift(-t.weekday), to: now };
    case 'last_week': return { from: shift(-t.weekday - 7), to: shift(-t.weekday) - 1 };
    case 'last_7_days': return { from: shift(-6), to: now };
    case 'this_month': return { from: midnight(t.y, t.m, 1), to: now };
    case 'last_month': {
      const first = new Date(Date.UTC(t.y, t.m - 2, 1));
      return { from: midnight(first.getUTCFullYear(), first.getUTCMonth() + 1, 1), to: midnight(t.y, t.m, 1) - 1 };
    }
    case 'last_30_days': return { from: shift(-29), to: now };
  }
}

// ---------------------------------------------------------------------------------------------
// Saved reports and their schedules.

export const FREQUENCIES = ['daily', 'weekly', 'monthly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

export interface Schedule {
  frequency: Frequency;
  /** `HH:MM`, in the organisation's time zone. */
  time: string;
  /** Weekly: 1 (Monday) to 7 (Sunday). */
  weekday?: number;
  /** Monthly: 1 to 28, so that every month has the day. */
  day_of_month?: number;
}

export interface Delivery {
  emails: string[];
  webhook_url: string | null;
}

export interface SavedReportInput {
  name: string;
  /** The activity report's parameters, as the GET endpoint takes them (strings). */
  query: Record<string, string>;
  schedule: Schedule | null;
  delivery: Delivery;
  /** A webhook signing secret given by the caller (otherwise one is generated). */
  webhookSecret?: string;
}

const EMAIL = /^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/;
const MAX_EMAILS = 20;
const MAX_NAME = 120;

const field = (apiName: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('INVALID_DATA', message, { api_name: apiName, json_path: `$.${apiName}`, ...extra });

/** The cron expression of a schedule (minute hour day-of-month month weekday). */
export function cronOf(s: Schedule): string {
  const [h, m] = s.time.split(':').map(Number);
  if (s.frequency === 'daily') return `${m} ${h} * * *`;
  if (s.frequency === 'weekly') return `${m} ${h} * * ${s.weekday! % 7}`;
  return `${m} ${h} ${s.day_of_month} * *`;
}

/** The latest time the schedule fired at or before `now`, in the zone (croner). */
export function lastFireAt(s: Schedule, now: number, timeZone: string): number | null {
  const [prev] = new Cron(cronOf(s), { timezone: timeZone, paused: true }).previousRuns(1, new Date(now + 1));
  return prev ? prev.getTime() : null;
}

/** The next time the schedule fires after `now`. */
export function nextFireAt(s: Schedule, now: number, timeZone: string): number | null {
  return new Cron(cronOf(s), { timezone: timeZone, paused: true }).nextRun(new Date(now))?.getTime() ?? null;
}

function parseSchedule(v: unknown): Schedule | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw field('schedule', 'schedule must be an object or null', { expected_data_type: 'jsonobject' });
  const s = v as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!['frequency', 'time', 'weekday', 'day_of_month'].includes(k)) throw field(`schedule.${k}`, `unknown key ${k}`);
  if (!(FREQUENCIES as readonly unknown[]).includes(s.frequency)) {
    throw field('schedule.frequency', 'frequency must be daily, weekly or monthly', { supported_values: FREQUENCIES });
  }
  const time = s.time ?? '08:00';
  if (typeof time !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d$/.test(time)) throw field('schedule.time', 'time must be HH:MM (24-hour)');
  const out: Schedule = { frequency: s.frequency as Frequency, time };
  if (out.frequency === 'weekly') {
    const w = s.weekday ?? 1;
    if (!Number.isInteger(w) || (w as number) < 1 || (w as number) > 7) throw field('schedule.weekday', 'weekday must be 1 (Monday) to 7 (Sunday)');
    out.weekday = w as number;
  } else if (s.weekday !== undefined) throw field('schedule.weekday', 'weekday is for weekly schedules');
  if (out.frequency === 'monthly') {
    const d = s.day_of_month ?? 1;
    if (!Number.isInteger(d) || (d as number) < 1 || (d as number) > 28) throw field('schedule.day_of_month', 'day_of_month must be 1 to 28');
    out.day_of_month = d as number;
  } else if (s.day_of_month !== undefined) throw field('schedule.day_of_month', 'day_of_month is for monthly schedules');
  return out;
}

function parseQueryObject(v: unknown): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw field('query', 'query must be an object of the activity report\'s parameters', { expected_data_type: 'jsonobject' });
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    if (k === 'from' || k === 'to') throw field(`query.${k}`, 'a saved report takes a relative range, not from/to', { supported_values: RELATIVE_RANGES });
    const value = Array.isArray(raw) && raw.every((x) => typeof x === 'string') ? raw.join(',') : raw;
    if (typeof value !== 'string') throw field(`query.${k}`, `${k} must be a string`);
    out[k] = value;
  }
  out.range ??= 'last_7_days';
  try {
    parseActivityQuery(out);
  } catch (e) {
    if (e instanceof AppError) {
      const param = String(e.details.param_name ?? '');
      throw new AppError('INVALID_DATA', e.message, { ...e.details, api_name: `query.${param}`, json_path: `$.query.${param}` });
    }
    throw e;
  }
  return out;
}

function parseDelivery(v: unknown): Delivery {
  if (v === undefined || v === null) return { emails: [], webhook_url: null };
  if (typeof v !== 'object' || Array.isArray(v)) throw field('delivery', 'delivery must be an object', { expected_data_type: 'jsonobject' });
  const d = v as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['emails', 'webhook_url', 'webhook_secret'].includes(k)) throw field(`delivery.${k}`, `unknown key ${k}`);
  const emails = d.emails ?? [];
  if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string' || !EMAIL.test(e))) {
    throw field('delivery.emails', 'emails must be a list of email addresses');
  }
  if (emails.length > MAX_EMAILS) throw field('delivery.emails', `at most ${MAX_EMAILS} addresses`, { limit: MAX_EMAILS });
  const url = d.webhook_url ?? null;
  if (url !== null && (typeof url !== 'string' || url.length > 2000)) throw field('delivery.webhook_url', 'webhook_url must be a URL');
  return { emails: [...new Set(emails as string[])], webhook_url: url as string | null };
}

/**
 * Validates a saved report's body (create, or a change with `partial`): name, query (the
 * activity report's parameters with a relative range), schedule and delivery. INVALID_DATA or
 * MANDATORY_NOT_FOUND naming the field.
 */
export function parseSavedReportInput(body: unknown, partial: false): SavedReportInput;
export function parseSavedReportInput(body: unknown, partial: true): Partial<SavedReportInput>;
export function parseSavedReportInput(body: unknown, partial: boolean): Partial<SavedReportInput> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('INVALID_DATA', 'the request body must be a JSON object', { expected_data_type: 'jsonobject', json_path: '$' });
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['name', 'query', 'schedule', 'delivery'].includes(k)) throw field(k, `unknown key ${k}`);
  const unstorable = findUnstorable(b);
  if (unstorable) throw new AppError('INVALID_DATA', unstorable.reason, { json_path: unstorable.jsonPath });
  const out: Partial<SavedReportInput> = {};
  if (b.name !== undefined || !partial) {
    if (b.name === undefined) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'name', json_path: '$.name' });
    if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > MAX_NAME) throw field('name', `name must be 1 to ${MAX_NAME} characters`);
    out.name = b.name.trim();
  }
  if (b.query !== undefined || !partial) {
    if (b.query === undefined) throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'query', json_path: '$.query' });
    out.query = parseQueryObject(b.query);
  }
  if (b.schedule !== undefined || !partial) out.schedule = parseSchedule(b.schedule);
  if (b.delivery !== undefined || !partial) {
    out.delivery = parseDelivery(b.delivery);
    const secret = (b.delivery as Record<string, unknown> | null)?.webhook_secret;
    if (secret !== undefined) {
      if (typeof secret !== 'string' || secret.length < 16 || secret.length > 200) throw field('delivery.webhook_secret', 'webhook_secret takes 16 to 200 characters');
      out.webhookSecret = secret;
    }
  }
  return out;
}

/** Built-in saved reports, created in one call. */
export const REPORT_TEMPLATES = {
  /**
   * Zoho's Kaizen trainee review: per person of the manager's team, the calls, meetings
   * (Events), tasks and deals added or updated this week; emailed on Friday afternoons.
   */
  team_activity_this_week: {
    name: 'Team activity this week',
    description: 'Per person of your team: calls, meetings, tasks and deals added or updated this week.',
    query: { group_by: 'done_by,module,action', range: 'this_week', module: 'Calls,Events,Tasks,Deals', action: 'added,updated' },
    schedule: { frequency: 'weekly', time: '17:00', weekday: 5 } as Schedule,
  },
} as const;
export type TemplateName = keyof typeof REPORT_TEMPLATES;
