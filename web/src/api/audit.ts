import { apiGet, apiSend, toApiError, withQuery } from './client.ts';

/** One field's change as the API writes it: values are display strings or null. */
export interface FieldHistoryItem {
  api_name: string;
  field_label: string | null;
  id?: string | null;
  data_type?: string | null;
  _value: { old: unknown; new: unknown };
}

export interface ModuleRef { api_name: string; id: string | null }

/** One element of `audit_log` (src/http/views.ts auditEntryView). */
export interface AuditEntry {
  id: string;
  audited_time: string;
  action: string;
  done_by: { id: string | null; name: string | null; type?: string };
  module: ModuleRef | null;
  record: { id: string | null; name: string | null } | null;
  parent_record: { id: string; name: string | null; module: ModuleRef | null } | null;
  source: string;
  ip_address: string | null;
  user_agent: string | null;
  batch_id: string | null;
  sequence: number;
  field_history: FieldHistoryItem[] | null;
  details: Record<string, unknown> | null;
}

export interface AuditLogInfo {
  per_page: number;
  count: number;
  page: number;
  more_records: boolean;
  next_page_token: string | null;
  page_token_expiry: string | null;
  /** Where the organisation's audit log window (default 60 days) starts for this query. */
  window_start: string;
}

export interface AuditLogPage {
  audit_log: AuditEntry[];
  /** Null for an empty answer (204): no entries, and no window start to tell. */
  info: AuditLogInfo | null;
}

/** GET /crm/v8/settings/audit_log: one page, newest first; an empty page for 204. */
export async function getAuditLog(query: Record<string, string>, pageToken?: string, perPage = 100): Promise<AuditLogPage> {
  const body = await apiGet<{ audit_log: AuditEntry[]; info: AuditLogInfo }>('/crm/v8/settings/audit_log',
    { ...query, per_page: perPage, page_token: pageToken });
  return body ?? { audit_log: [], info: null };
}

/** GET /api/console/integrity: the newest signed head and the last verification (administrators). */
export interface Integrity {
  last_verify: { at: string; ok: boolean; entries: number; breaks: number } | null;
  newest_head: { seq: number; hash: string; signed_at: string; key_id: string } | null;
  public_key: { key_id: string; public_key: string; algorithm: string };
}

export const getIntegrity = async () => (await apiGet<Integrity>('/api/console/integrity')) ?? null;

/** GET /api/console/settings (administrators): how many days the audit log's window holds, among others. */
export interface ConsoleSettings {
  audit_log_window_days: number;
  retention_years: number;
  legal_hold: boolean;
  recycle_bin_days: number;
  api_requests_per_minute: number;
}

export const getConsoleSettings = async () => (await apiGet<ConsoleSettings>('/api/console/settings')) ?? null;

/** The Export Audit Log criteria (spec §2.2), built by lib/audit-filters.ts. */
export type ExportCriteria = Record<string, unknown>;

/** POST /crm/v8/settings/audit_log_export: schedules a job; its id. Without criteria, the whole log (3 years). */
export async function createAuditLogExport(criteria: ExportCriteria | null): Promise<{ id: string; message: string }> {
  const body = criteria ? { audit_log_export: [{ criteria }] } : undefined;
  const res = await apiSend<{ audit_log_export: { code: string; status: string; message: string; details: { id?: string } }[] }>(
    'POST', '/crm/v8/settings/audit_log_export', body);
  const item = res?.audit_log_export?.[0];
  if (!item || item.status !== 'success') throw toApiError(item ?? res, 400);
  return { id: String(item.details.id ?? ''), message: item.message };
}

export type StreamState = { state: 'connecting' | 'open' } | { state: 'stopped'; message: string };

/**
 * GET /api/console/audit-log/stream with the audit log's filters: each new entry the caller may
 * see, as an `entry` event. Returns the function that closes the stream. EventSource reconnects
 * by itself after a network failure; an `error` event from the server (the session ended, too
 * many streams, a bad filter) stops it, with the server's words.
 */
export function openAuditStream(query: Record<string, string>, onEntry: (e: AuditEntry) => void,
  onState: (s: StreamState) => void): () => void {
  const source = new EventSource(withQuery('/api/console/audit-log/stream', query), { withCredentials: true });
  onState({ state: 'connecting' });
  source.onopen = () => onState({ state: 'open' });
  source.addEventListener('error', (ev) => {
    const data = (ev as MessageEvent<unknown>).data;
    if (typeof data === 'string' && data) {
      let body: unknown = null;
      try {
        body = JSON.parse(data);
      } catch {
        body = null;
      }
      source.close();
      onState({ state: 'stopped', message: toApiError(body, 400).message });
      return;
    }
    // The server refused the stream (a non-200 answer) or the network failed for good.
    if (source.readyState === EventSource.CLOSED) onState({ state: 'stopped', message: 'The live stream was refused or lost.' });
    else onState({ state: 'connecting' });
  });
  source.addEventListener('entry', (ev) => {
    try {
      onEntry(JSON.parse((ev as MessageEvent<string>).data) as AuditEntry);
    } catch {
      // A malformed event is skipped; the next one may be fine.
    }
  });
  return () => source.close();
}
