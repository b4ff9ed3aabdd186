import { isIP } from 'node:net';
import { AppError } from './errors.ts';
import { AUDIT_ACTIONS, AUDIT_SOURCES } from './audit.ts';
import { isId } from './ids.ts';
import { findModule, STANDARD_MODULES } from './modules.ts';
import { parseDateTime } from './time.ts';

/** Modules an audit entry can be about: the CRM modules plus the setup areas. */
export const AUDIT_MODULES = [...STANDARD_MODULES.map((m) => m.apiName), 'users', 'roles', 'profiles', 'oauth_clients', 'audit_log', 'reports',
  'alert_rules', 'streams'];

export interface AuditLogFilters {
  from?: number;
  to?: number;
  doneBy?: string[];
  actions?: string[];
  modules?: string[];
  recordId?: string;
  sources?: string[];
  /** Beyond Zoho: the client's IP address, exactly. */
  ip?: string;
  /** Beyond Zoho: the record's name contains this text (case-insensitive). */
  recordName?: string;
  /** Beyond Zoho: the entries of one mass action, import or cascade. */
  batchId?: string;
}

export interface AuditLogQuery {
  filters: AuditLogFilters;
  page: number;
  perPage: number;
  pageToken?: string;
}

const PARAMS = new Set(['from', 'to', 'done_by', 'action', 'module', 'record_id', 'source', 'ip', 'record_name', 'batch_id', 'page', 'per_page',
  'page_token']);
const MAX_RECORD_NAME = 200;
const MAX_LIST = 100;

const bad = (param: string, message: string, extra: Record<string, unknown> = {}) =>
  new AppError('INVALID_DATA', message, { param_name: param, ...extra });

function single(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw bad(name, `${name} may be given once`);
  if (typeof v !== 'string') throw bad(name, `invalid ${name}`);
  return v;
}

function list(query: Record<string, unknown>, name: string): string[] | undefined {
  const v = single(query, name);
  if (v === undefined) return undefined;
  const items = [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))];
  if (items.length === 0) throw bad(name, `${name} is empty`);
  if (items.length > MAX_LIST) throw bad(name, `at most ${MAX_LIST} values for ${name}`, { limit: MAX_LIST });
  return items;
}

function int(query: Record<string, unknown>, name: string, min: number, max: number, fallback: number) {
  const v = single(query, name);
  if (v === undefined || v === '') return fallback;
  if (!/^\d+$/.test(v) || +v < min || +v > max) throw bad(name, `${name} must be an integer between ${min} and ${max}`);
  return +v;
}

/**
 * Validates the audit log's query parameters. Every problem is INVALID_DATA naming the
 * parameter: unknown names, malformed dates, from after to, ids that are not ids, values
 * outside the known actions, modules and sources, per_page above 200.
 */
export function parseAuditLogQuery(query: Record<string, unknown>): AuditLogQuery {
  for (const name of Object.keys(query)) if (!PARAMS.has(name)) throw bad(name, `unknown parameter ${name}`);
  const filters: AuditLogFilters = {};
  for (const name of ['from', 'to'] as const) {
    const v = single(query, name);
    if (v === undefined) continue;
    const ms = parseDateTime(v);
    if (ms === null) throw bad(name, `${name} must be an ISO 8601 date-time with an offset`, { expected_data_type: 'datetime' });
    filters[name] = ms;
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from > filters.to) {
    throw bad('from', 'from must not be after to');
  }
  const doneBy = list(query, 'done_by');
  if (doneBy) {
    if (doneBy.some((id) => !isId(id))) throw bad('done_by', 'done_by takes comma-separated user ids');
    filters.doneBy = doneBy;
  }
  const actions = list(query, 'action');
  if (actions) {
    const unknown = actions.find((a) => !(AUDIT_ACTIONS as readonly string[]).includes(a));
    if (unknown) throw bad('action', `unknown action ${unknown}`, { supported_values: AUDIT_ACTIONS });
    filters.actions = actions;
  }
  const modules = list(query, 'module');
  if (modules) {
    filters.modules = modules.map((m) => {
      const known = findModule(m)?.apiName ?? AUDIT_MODULES.find((a) => a.toLowerCase() === m.toLowerCase());
      if (!known) throw bad('module', `unknown module ${m}`, { supported_values: AUDIT_MODULES });
      return known;
    });
  }
  const recordId = single(query, 'record_id');
  if (recordId !== undefined) {
    if (!isId(recordId)) throw bad('record_id', 'record_id must be an id');
    filters.recordId = recordId;
  }
  const sources = list(query, 'source');
  if (sources) {
    const unknown = sources.find((s) => !(AUDIT_SOURCES as readonly string[]).includes(s));
    if (unknown) throw bad('source', `unknown source ${unknown}`, { supported_values: AUDIT_SOURCES });
    filters.sources = sources;
  }
  const ip = single(query, 'ip');
  if (ip !== undefined) {
    if (isIP(ip) === 0) throw bad('ip', 'ip must be an IPv4 or IPv6 address');
    filters.ip = ip;
  }
  const recordName = single(query, 'record_name');
  if (recordName !== undefined && recordName.trim() !== '') {
    if (recordName.length > MAX_RECORD_NAME) throw bad('record_name', `record_name takes at most ${MAX_RECORD_NAME} characters`);
    filters.recordName = recordName.trim();
  }
  const batchId = single(query, 'batch_id');
  if (batchId !== undefined) {
    if (!isId(batchId)) throw bad('batch_id', 'batch_id must be an id');
    filters.batchId = batchId;
  }
  return {
    filters,
    page: int(query, 'page', 1, 1_000_000, 1),
    perPage: int(query, 'per_page', 1, 200, 200),
    pageToken: single(query, 'page_token') || undefined,
  };
}

/** The timeline's `source` vocabulary for our stored sources. */
export const TIMELINE_SOURCE: Record<string, string> = {
  api: 'crm_api', crm_ui: 'crm_ui', import: 'import', workflow: 'workflow', system: 'system_generated',
  mass_action: 'mass_update', merge: 'findandmerge', conversion: 'convert', retention: 'system_generated',
};

export interface TimelineFilters {
  /** Only entries about records of these modules (the record itself or its dependents). */
  recordModules?: string[];
  doneBy?: string[];
  from?: number;
  to?: number;
  sources?: string[];
}

export interface TimelineQuery {
  filters: TimelineFilters;
  page: number;
  perPage: number;
  pageToken?: string;
  desc: boolean;
}

const TIMELINE_PARAMS = new Set(['per_page', 'page', 'page_token', 'sort_by', 'sort_order', 'include_inner_details',
  'include_timeline_type', 'include_timeline_types', 'include', 'filters']);

/** Parses the timeline's parameters, including Zoho's `filters` JSON grammar. */
export function parseTimelineQuery(query: Record<string, unknown>): TimelineQuery {
  for (const name of Object.keys(query)) if (!TIMELINE_PARAMS.has(name)) throw bad(name, `unknown parameter ${name}`);
  const sortBy = single(query, 'sort_by');
  if (sortBy !== undefined && sortBy !== 'audited_time') throw bad('sort_by', 'sort_by must be audited_time', { supported_values: ['audited_time'] });
  const sortOrder = single(query, 'sort_order') ?? 'desc';
  if (sortOrder !== 'asc' && sortOrder !== 'desc') throw bad('sort_order', 'sort_order must be asc or desc', { supported_values: ['asc', 'desc'] });
  const filters: TimelineFilters = {};
  const raw = single(query, 'filters');
  if (raw !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw bad('filters', 'filters must be JSON');
    }
    applyTimelineCriterion(parsed, filters, 0);
  }
  return {
    filters,
    page: int(query, 'page', 1, 1_000_000, 1),
    perPage: int(query, 'per_page', 1, 200, 20),
    pageToken: single(query, 'page_token') || undefined,
    desc: sortOrder === 'desc',
  };
}

const TIMELINE_MODULES = ['Notes', 'Attachments', 'Tasks', 'Calls', 'Events', 'Emails'];
const STORED_SOURCE = Object.fromEntries(Object.entries(TIMELINE_SOURCE).map(([k, v]) => [v, k]));

function applyTimelineCriterion(c: unknown, out: TimelineFilters, depth: number): void {
  if (depth > 4 || !c || typeof c !== 'object' || Array.isArray(c)) throw bad('filters', 'invalid filters');
  const node = c as Record<string, unknown>;
  if (node.group !== undefined) {
    if (String(node.group_operator ?? '').toLowerCase() !== 'and') throw bad('filters', 'group_operator must be AND');
    if (!Array.isArray(node.group) || node.group.length === 0) throw bad('filters', 'group must be a non-empty array');
    for (const g of node.group) applyTimelineCriterion(g, out, depth + 1);
    return;
  }
  const field = (node.field as { api_name?: unknown } | undefined)?.api_name;
  const comparator = node.comparator;
  const value = node.value;
  const values = (): string[] => {
    const vs = comparator === 'in' ? value : comparator === 'equal' ? [value] : null;
    if (!Array.isArray(vs) || vs.length === 0) throw bad('filters', `comparator for ${String(field)} must be equal or in`);
    return vs.map((v) => {
      const s = typeof v === 'object' && v !== null ? (v as Record<string, unknown>).id ?? (v as Record<string, unknown>).api_name : v;
      if (typeof s !== 'string') throw bad('filters', `invalid value for ${String(field)}`);
      return s;
    });
  };
  switch (field) {
    case 'record.module.api_name': {
      const ms = values().map((m) => TIMELINE_MODULES.find((t) => t.toLowerCase() === m.toLowerCase()));
      if (ms.some((m) => !m)) throw bad('filters', 'unsupported module in filters', { supported_values: TIMELINE_MODULES });
      out.recordModules = ms as string[];
      return;
    }
    case 'done_by.id': {
      const ids = values();
      if (ids.some((i) => !isId(i))) throw bad('filters', 'done_by.id takes user ids');
      out.doneBy = ids;
      return;
    }
    case 'source': {
      const ss = values().map((s) => STORED_SOURCE[s] ?? ((AUDIT_SOURCES as readonly string[]).includes(s) ? s : undefined));
      if (ss.some((s) => !s)) throw bad('filters', 'unsupported source in filters', { supported_values: Object.keys(STORED_SOURCE) });
      out.sources = ss as string[];
      return;
    }
    case 'audited_time': {
      if (comparator !== 'between' || !Array.isArray(value) || value.length !== 2) {
        throw bad('filters', 'audited_time takes between with two date-times');
      }
      const [from, to] = value.map((v) => (typeof v === 'string' ? parseDateTime(v) : null));
      if (from === null || to === null || from > to) throw bad('filters', 'invalid audited_time range');
      out.from = from;
      out.to = to;
      return;
    }
    default:
      throw bad('filters', `unsupported filter field ${String(field)}`,
        { supported_values: ['record.module.api_name', 'done_by.id', 'audited_time', 'source'] });
  }
}
