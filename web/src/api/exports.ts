import { apiGet, apiSend, ApiError, toApiError } from './client.ts';

/** The Export Audit Log API (`/crm/v8/settings/audit_log_export`), its downloads and the public key. */

/** As the API names them; `Progress` is a running job. */
export type ExportStatus = 'Scheduled' | 'Progress' | 'Finished' | 'Failed';

export interface ExportJob {
  id: string;
  status: ExportStatus | string;
  criteria: Record<string, unknown> | null;
  created_by: { id: string; name: string | null };
  job_start_time: string;
  job_end_time: string | null;
  expiry_date: string | null;
  download_links: string[] | null;
  entry_count: number | null;
  truncated: boolean;
}

/** GET /settings/audit_log_export: the caller's jobs (an administrator's: everyone's). */
export async function listExports(): Promise<ExportJob[]> {
  const r = await apiGet<{ audit_log_export: ExportJob[] }>('/crm/v8/settings/audit_log_export');
  return r?.audit_log_export ?? [];
}

/** GET /settings/audit_log_export/{id}. */
export async function getExport(id: string): Promise<ExportJob> {
  const r = await apiGet<{ audit_log_export: ExportJob[] }>(`/crm/v8/settings/audit_log_export/${encodeURIComponent(id)}`);
  if (!r?.audit_log_export?.[0]) throw new ApiError('NOT_FOUND', 404, 'This export no longer exists.');
  return r.audit_log_export[0];
}

/** POST /settings/audit_log_export; no criteria exports the last three years. Answers the job id. */
export async function createExport(criteria: Record<string, unknown> | null): Promise<string> {
  const r = await apiSend<{ audit_log_export: { details: { id: string } }[] }>('POST', '/crm/v8/settings/audit_log_export',
    criteria ? { audit_log_export: [{ criteria }] } : undefined);
  return r.audit_log_export[0].details.id;
}

/**
 * A download link as a path on this origin: the API writes absolute links from its public URL,
 * and the console's session cookie is only sent to the origin that serves the console.
 */
export function consoleLink(link: string, origin = window.location.origin): string {
  try {
    const u = new URL(link, origin);
    return u.origin === origin ? u.href : `${u.pathname}${u.search}`;
  } catch {
    return link;
  }
}

/** The bytes of a finished export's file (downloads are audited as audit_log_downloaded). */
export async function downloadExportFile(link: string): Promise<ArrayBuffer> {
  let res: Response;
  try {
    res = await fetch(consoleLink(link), { credentials: 'same-origin' });
  } catch {
    throw new ApiError('NETWORK_ERROR', 0, 'The server cannot be reached. Check your connection and try again.');
  }
  if (!res.ok) {
    let body: unknown = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    throw toApiError(body, res.status);
  }
  return res.arrayBuffer();
}

export interface PublicKey { key_id: string; public_key: string; algorithm: string }

/** GET /api/integrity/public-key: the installation's key and every key registered in the database. */
export async function getPublicKeys(): Promise<PublicKey & { keys: PublicKey[] }> {
  const r = await apiGet<PublicKey & { keys: PublicKey[] }>('/api/integrity/public-key');
  if (!r) throw new Error('The server sent no public key.');
  return r;
}

/** The export's signed manifest (auditrail's extension), as text: for checking a single-CSV export. */
export async function getExportManifest(id: string): Promise<string> {
  const manifest = await apiGet<Record<string, unknown>>(`/crm/v8/settings/audit_log_export/${encodeURIComponent(id)}/manifest`);
  if (!manifest) throw new Error('The export has no manifest yet.');
  return JSON.stringify(manifest);
}
