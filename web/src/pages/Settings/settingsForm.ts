import type { OrgSettings } from '../../api/settings.ts';

/** The numeric settings, their labels and the ranges the server accepts (src/domain/org-settings.ts). */
export const NUMBER_SETTINGS = [
  { key: 'audit_log_window_days', label: 'Audit log window (days)', min: 1, max: 3650,
    description: 'How far back people can browse the audit log in the console and the API.' },
  { key: 'retention_years', label: 'Retention (years)', min: 1, max: 10,
    description: 'Audit entries older than this are purged, unless a legal hold is on.' },
  { key: 'recycle_bin_days', label: 'Recycle bin (days)', min: 1, max: 365,
    description: 'Deleted records stay in the recycle bin this long, then are purged.' },
  { key: 'api_requests_per_minute', label: 'API requests per minute', min: 1, max: 1_000_000,
    description: 'Per access token or console session; past it, requests are refused for a moment.' },
] as const;

export type NumberKey = (typeof NUMBER_SETTINGS)[number]['key'];
export type SettingsDraft = Record<NumberKey, number | string> & { legal_hold: boolean };

export const draftOf = (s: OrgSettings): SettingsDraft => ({
  audit_log_window_days: s.audit_log_window_days, retention_years: s.retention_years, recycle_bin_days: s.recycle_bin_days,
  api_requests_per_minute: s.api_requests_per_minute, legal_hold: s.legal_hold,
});

/** Each field's problem in words (empty, not a whole number, out of range). */
export function draftProblems(d: SettingsDraft): Partial<Record<NumberKey, string>> {
  const out: Partial<Record<NumberKey, string>> = {};
  for (const f of NUMBER_SETTINGS) {
    const v = d[f.key];
    if (v === '' || v === null || v === undefined) out[f.key] = 'Enter a number.';
    else if (typeof v !== 'number' || !Number.isInteger(v)) out[f.key] = 'Enter a whole number.';
    else if (v < f.min || v > f.max) out[f.key] = `Enter a number from ${f.min.toLocaleString('en-US')} to ${f.max.toLocaleString('en-US')}.`;
  }
  return out;
}

/** What changed from the saved settings: the PATCH body. */
export function draftPatch(saved: OrgSettings, d: SettingsDraft): Partial<OrgSettings> {
  const patch: Partial<OrgSettings> = {};
  for (const f of NUMBER_SETTINGS) if (d[f.key] !== saved[f.key]) patch[f.key] = Number(d[f.key]);
  if (d.legal_hold !== saved.legal_hold) patch.legal_hold = d.legal_hold;
  return patch;
}
