import { apiGet, apiSend } from './client.ts';

/** The console API's organisation settings and integrity status (administrators). */

export interface OrgSettings {
  audit_log_window_days: number;
  retention_years: number;
  legal_hold: boolean;
  recycle_bin_days: number;
  api_requests_per_minute: number;
}

/** GET /api/console/settings. */
export async function getOrgSettings(): Promise<OrgSettings> {
  const r = await apiGet<OrgSettings>('/api/console/settings');
  if (!r) throw new Error('The server sent no settings.');
  return r;
}

/** PATCH /api/console/settings with the settings that changed; answers them all. */
export const patchOrgSettings = (patch: Partial<OrgSettings>) => apiSend<OrgSettings>('PATCH', '/api/console/settings', patch);

export interface IntegrityStatus {
  /** The last `auditrail verify` (or the worker's scheduled one): how many entries it walked, how many breaks. */
  last_verify: { at: string; ok: boolean; entries: number; breaks: number; from_seq?: number; last_seq?: number; first_break?: string | null } | null;
  /** The newest signed chain head; `reason` says what signed it (schedule, export, ...). */
  newest_head: { seq: number; hash: string; signed_at: string; key_id: string; reason?: string } | null;
  public_key: { key_id: string; public_key: string; algorithm: string };
}

/** GET /api/console/integrity. */
export async function getIntegrity(): Promise<IntegrityStatus> {
  const r = await apiGet<IntegrityStatus>('/api/console/integrity');
  if (!r) throw new Error('The server sent no integrity status.');
  return r;
}
