import { apiGet, apiSend, toApiError } from './client.ts';
import type { FieldHistoryItem, ModuleRef } from './audit.ts';

/** A module as GET /crm/v8/settings/modules answers (what the console reads). */
export interface ModuleInfo {
  id: string;
  api_name: string;
  module_name: string;
  singular_label: string;
  plural_label: string;
}

export async function listModules(): Promise<ModuleInfo[]> {
  return (await apiGet<{ modules: ModuleInfo[] }>('/crm/v8/settings/modules'))?.modules ?? [];
}

/** A field of a module (GET /crm/v8/settings/fields?module=). */
export interface FieldInfo {
  id: string;
  api_name: string;
  field_label: string;
  data_type: string;
  json_type: string;
  lookup?: { module?: { api_name: string; id: string | null } };
}

export async function listFields(module: string): Promise<FieldInfo[]> {
  return (await apiGet<{ fields: FieldInfo[] }>('/crm/v8/settings/fields', { module }))?.fields ?? [];
}

/** GET /api/console/records/{module}/{id}: the record, live or in the recycle bin. */
export interface ConsoleRecord {
  record: Record<string, unknown> & { id: string };
  in_recycle_bin: boolean;
  bin: { deleted_by: { id: string; name: string | null } | null; deleted_time: string } | null;
}

export async function getConsoleRecord(module: string, id: string): Promise<ConsoleRecord> {
  const body = await apiGet<ConsoleRecord>(`/api/console/records/${encodeURIComponent(module)}/${encodeURIComponent(id)}`);
  if (!body) throw toApiError(null, 404);
  return body;
}

/** One `__timeline` entry (src/http/views.ts timelineEntryView): the record's, or a note's or activity's of it. */
export interface TimelineEntry {
  id: string;
  audited_time: string;
  action: string;
  source: string;
  done_by: { id: string; name: string | null } | null;
  record: { id: string | null; name: string | null; module: ModuleRef | null };
  related_record: { id: string; name: string | null; module: ModuleRef | null } | null;
  field_history: FieldHistoryItem[] | null;
}

export interface TimelinePage {
  entries: TimelineEntry[];
  nextPageToken: string | null;
}

/** GET /crm/v8/{module}/{id}/__timeline, newest first; 204 is an empty page. */
export async function getTimeline(module: string, id: string, pageToken?: string): Promise<TimelinePage> {
  const body = await apiGet<{ __timeline: TimelineEntry[]; info: { next_page_token: string | null; more_records: boolean } }>(
    `/crm/v8/${encodeURIComponent(module)}/${encodeURIComponent(id)}/__timeline`,
    { per_page: 50, sort_order: 'desc', page_token: pageToken });
  if (!body) return { entries: [], nextPageToken: null };
  return { entries: body.__timeline, nextPageToken: body.info.more_records ? body.info.next_page_token : null };
}

type BinItemResult = { code: string; status: string; message: string; details: { id?: string; job_id?: string } };

/**
 * POST /crm/v8/settings/recycle_bin/{id}/actions/restore. `done`, or `scheduled` with the job
 * to follow when the record and its dependents are many; a per-item error is thrown in words.
 */
export async function restoreFromBin(id: string): Promise<{ scheduled: false } | { scheduled: true; jobId: string }> {
  const res = await apiSend<{ recycle_bin: BinItemResult[] }>('POST', `/crm/v8/settings/recycle_bin/${encodeURIComponent(id)}/actions/restore`);
  const item = res?.recycle_bin?.[0];
  if (!item || item.status !== 'success') throw toApiError(item ?? res, 400);
  if (item.code === 'SCHEDULED' && item.details.job_id) return { scheduled: true, jobId: item.details.job_id };
  return { scheduled: false };
}

/** GET /crm/v8/settings/recycle_bin/jobs/{id}: a scheduled restore's progress. */
export interface BinJob { id: string; status: string; processed: number; total: number | null; error?: string | null }

export async function getBinJob(jobId: string): Promise<BinJob> {
  const body = await apiGet<{ recycle_bin_jobs: BinJob[] }>(`/crm/v8/settings/recycle_bin/jobs/${encodeURIComponent(jobId)}`);
  const job = body?.recycle_bin_jobs?.[0];
  if (!job) throw toApiError(null, 404);
  return job;
}
