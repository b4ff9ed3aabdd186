import { apiGet, apiSend } from './client.ts';

/** Anomaly findings (`/api/v1/findings`, docs/findings.md). */

export const FINDING_KINDS = ['failed_login_burst', 'mass_deletion', 'data_leaving', 'permission_change', 'off_hours', 'activity_burst'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];
export const SEVERITIES = ['high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface Finding {
  id: string;
  kind: FindingKind;
  severity: Severity;
  /** Whom it is about; id null for a burst over several users. */
  user: { id: string | null; name: string };
  started_at: string;
  ended_at: string;
  explanation: string;
  entry_ids: string[];
  acknowledgement: { by: { id: string | null; name: string }; at: string; note: string | null } | null;
}

export const listFindings = async (q: { kind?: string; user?: string }) =>
  (await apiGet<{ findings: Finding[] }>('/api/v1/findings', q))?.findings ?? [];

export const acknowledgeFinding = async (id: string, note: string) =>
  (await apiSend<{ finding: Finding }>('POST', `/api/v1/findings/${encodeURIComponent(id)}/acknowledge`, note.trim() ? { note: note.trim() } : {})).finding;
