/**
 * The audit log's filters: the URL's query string <-> filters, filters -> the API's query
 * parameters, the relative time ranges, and the Export Audit Log criteria the filters make (with
 * Zoho's limits checked first, so the page can say why a view cannot be exported). Pure.
 */
import { isCalendarDate, isIsoTime, todayIn, zonedIso } from './time.ts';
import type { SearchQuery } from './search.ts';

/** The server's vocabulary (src/domain/audit.ts), mirrored: the console shares no code with it. */
export const AUDIT_ACTIONS = [
  'added', 'updated', 'deleted', 'restored', 'permanently_deleted', 'merged', 'converted', 'recycle_bin_emptied',
  'mass_updated', 'mass_deleted', 'imported', 'exported', 'viewed',
  'login', 'login_failed', 'logout',
  'user_added', 'user_updated', 'user_deleted',
  'role_added', 'role_updated', 'role_deleted',
  'profile_added', 'profile_updated', 'profile_deleted',
  'oauth_client_created', 'oauth_client_revoked', 'oauth_client_unlocked', 'oauth_grant_code_issued', 'token_revoked',
  'org_created', 'org_updated', 'sharing_updated',
  'audit_log_viewed', 'audit_log_exported', 'audit_log_downloaded', 'audit_log_purged',
  'finding_detected', 'finding_acknowledged',
  'report_created', 'report_updated', 'report_deleted',
  'alert_rule_created', 'alert_rule_updated', 'alert_rule_deleted', 'alert_rule_tested', 'alert_delivery_retried',
  'stream_created', 'stream_updated', 'stream_rewound', 'stream_deleted',
] as const;

export const AUDIT_SOURCES = ['crm_ui', 'api', 'import', 'workflow', 'system', 'mass_action', 'merge', 'conversion', 'retention'] as const;

/** Setup areas an entry can be about besides the CRM modules (the server's AUDIT_MODULES). */
export const SETUP_MODULES = ['users', 'roles', 'profiles', 'oauth_clients', 'audit_log', 'reports', 'alert_rules', 'streams'] as const;

const SOURCE_LABELS: Record<string, string> = {
  crm_ui: 'Console', api: 'API', import: 'Import', workflow: 'Workflow', system: 'System', mass_action: 'Mass action',
  merge: 'Merge', conversion: 'Conversion', retention: 'Retention', crm_api: 'API', system_generated: 'System',
  mass_update: 'Mass update', findandmerge: 'Merge', convert: 'Conversion',
};

/** "permanently_deleted" -> "Permanently deleted"; "oauth_client_created" -> "OAuth client created". */
export function actionLabel(action: string): string {
  const words = action.split('_').map((w) => (w === 'oauth' ? 'OAuth' : w === 'ui' ? 'UI' : w));
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function sourceLabel(source: string): string {
  return SOURCE_LABELS[source] ?? actionLabel(source);
}

const SETUP_LABELS: Record<string, string> = {
  users: 'Users (setup)', roles: 'Roles (setup)', profiles: 'Profiles (setup)', oauth_clients: 'OAuth clients (setup)', audit_log: 'Audit log (setup)',
  reports: 'Saved reports (setup)',
  streams: 'SIEM streams (setup)',
};

export function setupModuleLabel(name: string): string | undefined {
  return SETUP_LABELS[name];
}

/** What the URL holds: `/audit-log?done_by=1,2&action=deleted&module=Leads&from=…&to=…&q=…`. */
export interface AuditFilters {
  doneBy: string[];
  actions: string[];
  modules: string[];
  /** ISO 8601 with an offset, as the API takes it. */
  from?: string;
  to?: string;
  /** The search box's text, as typed. */
  q: string;
  /** Entries about one record (the API's record_id). */
  recordId?: string;
  /** One batch's entries: a mass action, an import, a merge or a cascade (the API's batch_id). */
  batch?: string;
  /** The entry whose details are open. */
  entry?: string;
}

const csv = (v: string | null) => (v ? [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))] : []);
const opt = (v: string | null) => (v && v.trim() ? v.trim() : undefined);

export function filtersFromParams(p: URLSearchParams): AuditFilters {
  return {
    doneBy: csv(p.get('done_by')), actions: csv(p.get('action')), modules: csv(p.get('module')),
    from: opt(p.get('from')), to: opt(p.get('to')), q: p.get('q') ?? '',
    recordId: opt(p.get('record_id')), batch: opt(p.get('batch')), entry: opt(p.get('entry')),
  };
}

/** The URL's query string for the filters, in a stable order, without empty ones. */
export function filtersToParams(f: AuditFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.doneBy.length) p.set('done_by', f.doneBy.join(','));
  if (f.actions.length) p.set('action', f.actions.join(','));
  if (f.modules.length) p.set('module', f.modules.join(','));
  if (f.from) p.set('from', f.from);
  if (f.to) p.set('to', f.to);
  if (f.recordId) p.set('record_id', f.recordId);
  if (f.q.trim()) p.set('q', f.q);
  if (f.batch) p.set('batch', f.batch);
  if (f.entry) p.set('entry', f.entry);
  return p;
}

/** Whether any filter narrows the log (the open entry is not a filter). */
export function isFiltered(f: AuditFilters): boolean {
  return !!(f.doneBy.length || f.actions.length || f.modules.length || f.from || f.to || f.q.trim() || f.recordId || f.batch);
}

/**
 * The query parameters of `GET /crm/v8/settings/audit_log` (and of the live stream) for the
 * filters and the parsed search. The search's qualifiers win over the controls for the same key;
 * `userIds` are the search's `user:` emails resolved to ids. `entry` stays in the console.
 */
export function apiQuery(f: AuditFilters, search: SearchQuery, userIds?: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const doneBy = search.users ? userIds ?? [] : f.doneBy;
  const actions = search.actions ?? f.actions;
  const modules = search.modules ?? f.modules;
  if (doneBy.length) out.done_by = doneBy.join(',');
  if (actions.length) out.action = actions.join(',');
  if (modules.length) out.module = modules.join(',');
  if (f.from) out.from = f.from;
  if (f.to) out.to = f.to;
  if (f.recordId) out.record_id = f.recordId;
  if (f.batch) out.batch_id = f.batch;
  if (search.sources?.length) out.source = search.sources.join(',');
  if (search.ip) out.ip = search.ip;
  if (search.recordName) out.record_name = search.recordName;
  return out;
}

// ---- time ranges -------------------------------------------------------------------------

export type RangePreset = 'any' | 'today' | '7d' | '30d' | 'custom';

export const RANGE_PRESETS: { value: RangePreset; label: string }[] = [
  { value: 'any', label: 'Any time' },
  { value: 'today', label: 'Today' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: 'custom', label: 'Custom' },
];

/** YYYY-MM-DD plus n days (calendar arithmetic, no zone involved). */
export function addDays(date: string, n: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

const PRESET_DAYS: Record<'today' | '7d' | '30d', number> = { today: 0, '7d': 6, '30d': 29 };

/** A preset's From (the start of a day in the org's zone) and To (open: up to now). */
export function presetRange(preset: 'today' | '7d' | '30d', timeZone: string, now: Date = new Date()): { from: string } {
  const start = addDays(todayIn(timeZone, now), -PRESET_DAYS[preset]);
  return { from: zonedIso(start, '00:00:00', timeZone) };
}

/** Which preset the From and To make, or custom. */
export function detectPreset(from: string | undefined, to: string | undefined, timeZone: string, now: Date = new Date()): RangePreset {
  if (!from && !to) return 'any';
  if (to || !from) return 'custom';
  for (const p of ['today', '7d', '30d'] as const) {
    if (Date.parse(presetRange(p, timeZone, now).from) === Date.parse(from)) return p;
  }
  return 'custom';
}

/** A From or To date field's value (YYYY-MM-DD in the org's zone) for an ISO time. */
export function isoToDateInput(iso: string | undefined, timeZone: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : todayIn(timeZone, d);
}

/** The ISO time a From (start of day) or To (end of day) date field means in the org's zone. */
export function dateInputToIso(date: string, edge: 'start' | 'end', timeZone: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return undefined;
  return zonedIso(date, edge === 'start' ? '00:00:00' : '23:59:59', timeZone);
}

/**
 * A From or To as an address gives it. An ISO time with its offset, as the API takes it, is kept;
 * a date alone (`from=2026-12-01`, as people write links by hand) means that day's start (From) or
 * end (To) in the organisation's zone; anything else is `bad` (said in words, never sent).
 */
export function urlTime(value: string | undefined, edge: 'start' | 'end', timeZone: string): { iso?: string; bad?: string } {
  if (!value) return {};
  if (isCalendarDate(value)) return { iso: dateInputToIso(value, edge, timeZone) };
  if (isIsoTime(value)) return { iso: value };
  return { bad: value };
}

// ---- export ------------------------------------------------------------------------------

/** The Export Audit Log API's limits (src/domain/export-criteria.ts, spec §2.2). */
export const MAX_EXPORT_RANGE_DAYS = 180;
export const MAX_GROUP_SIZE = 2;
export const MAX_CRITERIA_DEPTH = 8;
const MAX_VALUES = 500;
const DAY = 86_400_000;

export type Criterion =
  | { field: { api_name: 'action' | 'module' | 'done_by' | 'audited_time' }; comparator: 'equal' | 'in' | 'between'; value: unknown }
  | { group_operator: 'and'; group: Criterion[] };

export type ExportPlan =
  | { ok: true; criteria: Criterion | null; from?: string; to?: string }
  | { ok: false; reasons: string[] };

/** An ISO time without milliseconds, as the API takes it. */
const isoSeconds = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * The criteria an export of this view posts, or why it cannot be exported: Zoho's export filters
 * only by user, action, module and a time range of at most 180 days. Several conditions nest as
 * groups of two (a group holds at most two criteria).
 */
export function exportPlan(f: AuditFilters, search: SearchQuery, userIds: string[] | undefined, now: Date = new Date()): ExportPlan {
  const reasons: string[] = [];
  const unsupported: string[] = [];
  if (f.recordId) unsupported.push('a record');
  if (search.recordName) unsupported.push('record name (the search text)');
  if (search.ip) unsupported.push('IP address (ip:)');
  if (search.sources?.length) unsupported.push('source (source:)');
  if (f.batch) unsupported.push('batch');
  if (unsupported.length) {
    reasons.push(`An export can filter only by user, action, module and time; this view also filters by ${joinWords(unsupported)}. Remove ${unsupported.length > 1 ? 'those filters' : 'that filter'} to export.`);
  }
  const q = apiQuery(f, search, userIds);
  const conditions: Criterion[] = [];
  const doneBy = q.done_by ? q.done_by.split(',') : [];
  const actions = q.action ? q.action.split(',') : [];
  const modules = q.module ? q.module.split(',') : [];
  for (const [name, values] of [['users', doneBy], ['modules', modules]] as const) {
    if (values.length > MAX_VALUES) reasons.push(`An export can filter by at most ${MAX_VALUES} ${name}; this view has ${values.length}.`);
  }
  if (doneBy.length) {
    conditions.push({ field: { api_name: 'done_by' }, comparator: doneBy.length === 1 ? 'equal' : 'in', value: doneBy.map((id) => ({ id })) });
  }
  if (actions.length) {
    conditions.push({ field: { api_name: 'action' }, comparator: actions.length === 1 ? 'equal' : 'in', value: actions.length === 1 ? actions[0] : actions });
  }
  if (modules.length) {
    conditions.push({ field: { api_name: 'module' }, comparator: modules.length === 1 ? 'equal' : 'in', value: modules.map((api_name) => ({ api_name })) });
  }
  let from: string | undefined;
  let to: string | undefined;
  if (f.from || f.to) {
    if (!f.from) {
      reasons.push(`An export's time range needs a start: set From as well (at most ${MAX_EXPORT_RANGE_DAYS} days before To).`);
    } else {
      const fromMs = Date.parse(f.from);
      const toMs = f.to ? Date.parse(f.to) : now.getTime();
      if (Number.isNaN(fromMs) || Number.isNaN(toMs)) reasons.push('From or To is not a valid time.');
      else if (fromMs > toMs) reasons.push('From is after To: nothing to export.');
      else if (toMs - fromMs > MAX_EXPORT_RANGE_DAYS * DAY) {
        const days = Math.ceil((toMs - fromMs) / DAY);
        reasons.push(`The time range spans ${days} days; an export covers at most ${MAX_EXPORT_RANGE_DAYS} days (about 6 months). Narrow From and To.`);
      } else {
        from = f.from;
        to = f.to ?? isoSeconds(toMs);
        conditions.push({ field: { api_name: 'audited_time' }, comparator: 'between', value: [from, to] });
      }
    }
  }
  if (reasons.length) return { ok: false, reasons };
  const criteria = conditions.length ? nest(conditions) : null;
  const problems = criteria ? criteriaProblems(criteria) : [];
  if (problems.length) return { ok: false, reasons: problems };
  return { ok: true, criteria, from, to };
}

/** Conditions joined by "and" in groups of at most two, nesting as Zoho's grammar allows. */
function nest(conditions: Criterion[]): Criterion {
  if (conditions.length === 1) return conditions[0];
  if (conditions.length === 2) return { group_operator: 'and', group: conditions };
  const mid = Math.ceil(conditions.length / 2);
  return { group_operator: 'and', group: [nest(conditions.slice(0, mid)), nest(conditions.slice(mid))] };
}

/** Zoho's structural limits on a criteria tree: groups of one or two, nesting at most eight deep. */
export function criteriaProblems(c: Criterion, depth = 0): string[] {
  if (depth > MAX_CRITERIA_DEPTH) return [`The export's conditions nest more than ${MAX_CRITERIA_DEPTH} levels deep.`];
  if (!('group' in c)) return [];
  if (c.group.length === 0) return ['An export criteria group is empty.'];
  if (c.group.length > MAX_GROUP_SIZE) return [`An export criteria group holds at most ${MAX_GROUP_SIZE} conditions; this one has ${c.group.length}.`];
  return c.group.flatMap((g) => criteriaProblems(g, depth + 1));
}

function joinWords(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
