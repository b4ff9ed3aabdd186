import { AppError } from './errors.ts';
import type { FieldChange } from './audit.ts';
import { formatDateTime, parseDateTime } from './time.ts';

/**
 * Anomaly findings: what they are, the settings that tune them, and how entries reach the
 * detectors (findings-detectors.ts). docs/findings.md describes every kind, its rule and its
 * thresholds; the defaults below are the ones it documents.
 */

export const FINDING_KINDS = [
  'failed_login_burst', 'mass_deletion', 'data_leaving', 'permission_change', 'off_hours', 'activity_burst',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export const SEVERITIES = ['low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** An audit entry as the detectors read it: the audit log API's entry, reduced to what they use. */
export interface DetectorEvent {
  id: string;
  /** UTC milliseconds. */
  at: number;
  action: string;
  /** The user who acted; null for the system, workflows and API clients without a user. */
  userId: string | null;
  userName: string;
  module: string | null;
  recordId: string | null;
  recordName: string | null;
  ip: string | null;
  batchId: string | null;
  fields: FieldChange[];
  /** The entry's `details` (extra data: an export's count, a failed login's client and attempts). */
  details: Record<string, unknown> | null;
}

/** A finding as a detector reports it; `key` names it, so a later batch can extend the same finding. */
export interface DetectedFinding {
  key: string;
  kind: FindingKind;
  severity: Severity;
  userId: string | null;
  userName: string;
  startedAt: number;
  endedAt: number;
  explanation: string;
  entryIds: string[];
}

/** What the detectors know besides the entries: the organisation's zone and which profiles are Administrator. */
export interface DetectorContext {
  timeZone: string;
  /** Profile ids that are the Administrator profile (granting one is an Administrator grant). */
  adminProfileIds: ReadonlySet<string>;
  /** Names of users and profiles by id, for explanations ("gave Ravi Kumar the Administrator profile"). */
  names?: ReadonlyMap<string, string>;
}

/** Per-organisation thresholds, by kind. Every number is an integer (percentages for shares). */
export interface FindingSettings {
  failed_login_burst: { enabled: boolean; window_minutes: number; min_failures: number; high_failures: number };
  mass_deletion: { enabled: boolean; gap_minutes: number; min_records: number; baseline_multiplier: number; baseline_days: number;
    min_baseline_days: number; high_multiplier: number };
  data_leaving: { enabled: boolean; gap_minutes: number; min_records: number; min_exports: number; baseline_multiplier: number;
    baseline_days: number; min_baseline_days: number; high_multiplier: number };
  permission_change: { enabled: boolean; gap_minutes: number };
  off_hours: { enabled: boolean; baseline_days: number; min_history_days: number; rare_percent: number; min_actions: number;
    medium_actions: number; sensitive_actions: number; gap_minutes: number };
  activity_burst: { enabled: boolean; gap_minutes: number; min_per_minute: number; baseline_multiplier: number; baseline_days: number;
    min_baseline_days: number; high_multiplier: number };
}

/** The documented defaults (docs/findings.md). */
export const DEFAULT_FINDING_SETTINGS: FindingSettings = {
  failed_login_burst: { enabled: true, window_minutes: 10, min_failures: 10, high_failures: 50 },
  mass_deletion: { enabled: true, gap_minutes: 30, min_records: 50, baseline_multiplier: 3, baseline_days: 30, min_baseline_days: 7,
    high_multiplier: 4 },
  data_leaving: { enabled: true, gap_minutes: 60, min_records: 1000, min_exports: 5, baseline_multiplier: 5, baseline_days: 30,
    min_baseline_days: 7, high_multiplier: 4 },
  permission_change: { enabled: true, gap_minutes: 10 },
  off_hours: { enabled: true, baseline_days: 60, min_history_days: 14, rare_percent: 5, min_actions: 3, medium_actions: 20, sensitive_actions: 3,
    gap_minutes: 60 },
  activity_burst: { enabled: true, gap_minutes: 5, min_per_minute: 30, baseline_multiplier: 4, baseline_days: 30, min_baseline_days: 7,
    high_multiplier: 3 },
};

/** The range of every numeric setting: [min, max]. */
const RANGES: Record<string, [number, number]> = {
  window_minutes: [1, 1440], gap_minutes: [1, 1440], min_failures: [2, 100_000], high_failures: [2, 1_000_000],
  min_records: [1, 10_000_000], min_exports: [1, 100_000], baseline_multiplier: [1, 1000], baseline_days: [1, 366],
  min_baseline_days: [0, 366], high_multiplier: [1, 1000], min_history_days: [1, 366], rare_percent: [0, 100],
  min_actions: [1, 100_000], medium_actions: [1, 100_000], sensitive_actions: [1, 100_000], min_per_minute: [2, 1_000_000],
};

/** Stored settings (JSON, possibly written by an older version) with the defaults filled in. */
export function parseFindingSettings(json: string | null | undefined): FindingSettings {
  const stored = json ? JSON.parse(json) as Partial<Record<FindingKind, Record<string, unknown>>> : {};
  const out = structuredClone(DEFAULT_FINDING_SETTINGS) as unknown as Record<string, Record<string, unknown>>;
  for (const kind of FINDING_KINDS) Object.assign(out[kind], stored[kind] ?? {});
  return out as unknown as FindingSettings;
}

/**
 * Applies a patch `{kind: {setting: value}}` to settings; returns the next settings and the
 * changes (old and new, named `kind.setting`). INVALID_DATA naming the setting for an unknown kind or
 * setting, a value of the wrong type or out of its range (RANGES).
 */
export function applyFindingSettingsPatch(current: FindingSettings, patch: unknown) {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new AppError('INVALID_DATA', 'the settings must be an object of kinds', { expected_data_type: 'jsonobject' });
  }
  const next = structuredClone(current) as unknown as Record<string, Record<string, unknown>>;
  const changes: FieldChange[] = [];
  for (const [kind, values] of Object.entries(patch as Record<string, unknown>)) {
    if (!(FINDING_KINDS as readonly string[]).includes(kind)) throw new AppError('INVALID_DATA', `unknown finding kind ${kind}`, { api_name: kind });
    if (values === null || typeof values !== 'object' || Array.isArray(values)) {
      throw new AppError('INVALID_DATA', `${kind} must be an object of settings`, { api_name: kind });
    }
    for (const [name, value] of Object.entries(values as Record<string, unknown>)) {
      const api = `${kind}.${name}`;
      const old = next[kind][name];
      if (old === undefined) throw new AppError('INVALID_DATA', `unknown setting ${api}`, { api_name: api });
      if (name === 'enabled') {
        if (typeof value !== 'boolean') throw new AppError('INVALID_DATA', `${api} must be true or false`, { api_name: api });
      } else {
        const [lo, hi] = RANGES[name];
        if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
          throw new AppError('INVALID_DATA', `${api} must be an integer from ${lo} to ${hi}`, { api_name: api });
        }
      }
      if (old !== value) changes.push({ api_name: api, field_label: api, old, new: value });
      next[kind][name] = value;
    }
  }
  return { next: next as unknown as FindingSettings, changes };
}

/** A finding in the API's shape (`GET /api/v1/findings`, `auditrail findings evaluate`). */
export interface FindingView {
  id: string;
  kind: FindingKind;
  severity: Severity;
  user: { id: string | null; name: string };
  started_at: string;
  ended_at: string;
  explanation: string;
  entry_ids: string[];
}

export function findingView(f: { id: string } & Omit<DetectedFinding, 'key'>, timeZone: string): FindingView {
  return {
    id: f.id, kind: f.kind, severity: f.severity, user: { id: f.userId, name: f.userName },
    started_at: formatDateTime(f.startedAt, timeZone), ended_at: formatDateTime(f.endedAt, timeZone),
    explanation: f.explanation, entry_ids: f.entryIds,
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/**
 * An entry of the audit log API (`GET /crm/v8/settings/audit_log`, an export's JSON line) as a
 * detector event. INVALID_DATA naming what is wrong for a line that is not such an entry.
 */
export function eventFromApiEntry(raw: unknown): DetectorEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new AppError('INVALID_DATA', 'an entry must be a JSON object', {});
  const e = raw as Record<string, unknown>;
  const id = str(e.id);
  if (!id) throw new AppError('INVALID_DATA', 'the entry has no id', { api_name: 'id' });
  const at = typeof e.audited_time === 'string' ? parseDateTime(e.audited_time) : null;
  if (at === null) throw new AppError('INVALID_DATA', `entry ${id}: audited_time must be ISO 8601 with an offset`, { api_name: 'audited_time' });
  if (typeof e.action !== 'string' || !e.action) throw new AppError('INVALID_DATA', `entry ${id}: no action`, { api_name: 'action' });
  const by = (e.done_by ?? null) as Record<string, unknown> | null;
  const module = typeof e.module === 'string' ? e.module : str((e.module as Record<string, unknown> | null)?.api_name);
  const record = (e.record ?? null) as Record<string, unknown> | null;
  const fields = Array.isArray(e.field_history) ? (e.field_history as Record<string, unknown>[]).map((f) => {
    const value = (f._value ?? f) as Record<string, unknown>;
    return { api_name: String(f.api_name ?? ''), field_label: String(f.field_label ?? f.api_name ?? ''), old: value.old ?? null, new: value.new ?? null };
  }) : [];
  const details = e.details !== null && typeof e.details === 'object' && !Array.isArray(e.details) ? e.details as Record<string, unknown> : null;
  return {
    id, at, action: e.action, userId: str(by?.id), userName: str(by?.name) ?? 'Unknown', module,
    recordId: str(record?.id), recordName: str(record?.name), ip: str(e.ip_address), batchId: str(e.batch_id), fields, details,
  };
}
