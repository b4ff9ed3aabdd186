import { AppError } from './errors.ts';
import type { FieldChange } from './audit.ts';
import { findModule } from './modules.ts';

/** The module's canonical api name, or undefined for an unknown one. */
const isModuleName = (m: string) => findModule(m)?.apiName;

/** An organisation's settings, stored as JSON on the organisation. */
export interface OrgSettings {
  audit_log_window_days: number;
  retention_years: number;
  legal_hold: boolean;
  recycle_bin_days: number;
  /** API requests each access token may make per minute (TOO_MANY_REQUESTS past it). */
  api_requests_per_minute: number;
  /** Modules whose record reads (list, get) are audited as `viewed`: none by default. */
  audit_record_views: string[];
}

export const DEFAULT_ORG_SETTINGS: OrgSettings = {
  audit_log_window_days: 60, retention_years: 3, legal_hold: false, recycle_bin_days: 60, api_requests_per_minute: 6000,
  audit_record_views: [],
};

/** The stored settings JSON with defaults filled in (for settings added after it was written). */
export function parseOrgSettings(json: string | null | undefined): OrgSettings {
  const stored = json ? JSON.parse(json) as Partial<OrgSettings> : {};
  // Only these settings: the same JSON also holds the data sharing settings (domain/sharing.ts).
  const picked = Object.fromEntries(Object.keys(DEFAULT_ORG_SETTINGS).filter((k) => k in stored).map((k) => [k, stored[k as keyof OrgSettings]]));
  return { ...DEFAULT_ORG_SETTINGS, ...picked };
}

/** The stored settings JSON with `patch` written over it, keeping keys the patch does not name. */
export const mergeSettingsJson = (json: string | null | undefined, patch: Record<string, unknown>): string =>
  JSON.stringify({ ...(json ? JSON.parse(json) as Record<string, unknown> : {}), ...patch });

const LIMITS: Record<Exclude<keyof OrgSettings, 'legal_hold' | 'audit_record_views'>, [number, number]> = {
  audit_log_window_days: [1, 3650], retention_years: [1, 10], recycle_bin_days: [1, 365], api_requests_per_minute: [1, 1_000_000],
};

/**
 * Applies a patch to settings: the next settings and the changes, old and new. Throws
 * INVALID_DATA naming the setting for an unknown one or a value out of its range.
 */
export function applyOrgSettingsPatch(current: OrgSettings, patch: Partial<Record<keyof OrgSettings, unknown>>) {
  const next = { ...current };
  const changes: FieldChange[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (key === 'legal_hold') {
      if (typeof value !== 'boolean') throw new AppError('INVALID_DATA', 'legal_hold must be true or false', { api_name: key });
      next.legal_hold = value;
    } else if (key === 'audit_record_views') {
      if (!Array.isArray(value) || value.some((m) => typeof m !== 'string' || !isModuleName(m))) {
        throw new AppError('INVALID_DATA', 'audit_record_views takes a list of module api names', { api_name: key });
      }
      next.audit_record_views = [...new Set(value.map((m) => isModuleName(m as string)!))].sort();
    } else if (key in LIMITS) {
      const [lo, hi] = LIMITS[key as keyof typeof LIMITS];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
        throw new AppError('INVALID_DATA', `${key} must be an integer from ${lo} to ${hi}`, { api_name: key });
      }
      next[key as keyof typeof LIMITS] = value;
    } else {
      throw new AppError('INVALID_DATA', `unknown setting ${key}`, { api_name: key });
    }
    if (JSON.stringify(current[key as keyof OrgSettings]) !== JSON.stringify(next[key as keyof OrgSettings])) {
      changes.push({ api_name: key, field_label: key, old: current[key as keyof OrgSettings], new: next[key as keyof OrgSettings] });
    }
  }
  return { next, changes };
}
