import { apiGet, apiSend } from './client.ts';

/** The recycle bin API (`/crm/v8/settings/recycle_bin`): list, count, restore, delete, empty, jobs. */

export interface UserRef { id: string; name: string | null; email?: string | null }

export interface BinItem {
  id: string;
  display_name: string | null;
  module: { api_name: string; id: string | null };
  owner: UserRef | null;
  deleted_by: UserRef | null;
  /** ISO 8601 in the organisation's zone. */
  deleted_time: string;
  /** Set for a dependent (note, attachment, activity): the record it hangs off. */
  parent_record: { id: string; module: { api_name: string } } | null;
}

/** One condition of the bin's filter grammar (module, deleted_by, deleted_time, display_name). */
export interface BinCondition { field: { api_name: 'module' | 'deleted_by' | 'deleted_time' | 'display_name' }; comparator: string; value: string }
/** What `filters` carries: nothing, one condition, or an AND group of up to 20. */
export type BinFilters = BinCondition | { group_operator: 'AND'; group: BinCondition[] } | null;

export type BinSortBy = 'deleted_time' | 'display_name' | 'deleted_by';

export interface BinPage { items: BinItem[]; page: number; perPage: number; more: boolean }

const filtersParam = (f: BinFilters) => (f ? JSON.stringify(f) : undefined);

/** GET /settings/recycle_bin: one page of the items the caller may see (204 is an empty page). */
export async function listBin(q: { filters: BinFilters; page: number; perPage: number; sortBy?: BinSortBy; sortOrder?: 'asc' | 'desc'; ids?: string[] }): Promise<BinPage> {
  const r = await apiGet<{ recycle_bin: BinItem[]; info: { page: number; per_page: number; more_records: boolean } }>('/crm/v8/settings/recycle_bin', {
    filters: filtersParam(q.filters), page: q.page, per_page: q.perPage, sort_by: q.sortBy, sort_order: q.sortOrder, ids: q.ids,
  });
  if (!r) return { items: [], page: q.page, perPage: q.perPage, more: false };
  return { items: r.recycle_bin, page: r.info.page, perPage: r.info.per_page, more: r.info.more_records };
}

/** GET /settings/recycle_bin/actions/count. */
export async function countBin(filters: BinFilters): Promise<number> {
  const r = await apiGet<{ count: number }>('/crm/v8/settings/recycle_bin/actions/count', { filters: filtersParam(filters) });
  return r?.count ?? 0;
}

/** The answer of one item of a restore or a permanent deletion. */
export interface BinItemOutcome { id: string; ok: boolean; code: string; message: string }

/** A restore or deletion: done now (each item's outcome), or scheduled as a background job. */
export type BinActionResult =
  | { scheduled: false; outcomes: BinItemOutcome[] }
  | { scheduled: true; jobId: string };

interface ActionItem { code: string; details: Record<string, unknown>; message: string; status: 'success' | 'error' }

function toResult(body: { recycle_bin: ActionItem[] }): BinActionResult {
  const job = body.recycle_bin.find((i) => i.code === 'SCHEDULED');
  if (job) return { scheduled: true, jobId: String(job.details.job_id) };
  return {
    scheduled: false,
    outcomes: body.recycle_bin.map((i) => ({ id: String(i.details.id ?? ''), ok: i.status === 'success', code: i.code, message: i.message })),
  };
}

/** POST /settings/recycle_bin/actions/restore {ids}: at most 200 ids (a 400 when every item failed is thrown). */
export async function restoreItems(ids: string[]): Promise<BinActionResult> {
  return toResult(await apiSend<{ recycle_bin: ActionItem[] }>('POST', '/crm/v8/settings/recycle_bin/actions/restore', { ids }));
}

/** DELETE /settings/recycle_bin?ids=: deletes permanently, with every dependent in the bin; at most 100 ids. */
export async function deleteItems(ids: string[]): Promise<BinActionResult> {
  return toResult(await apiSend<{ recycle_bin: ActionItem[] }>('DELETE', '/crm/v8/settings/recycle_bin', undefined, { ids }));
}

/** POST /settings/recycle_bin/actions/empty (administrators): done at once, or a job when large. */
export async function emptyBin(): Promise<{ scheduled: true; jobId: string } | { scheduled: false; removed: number }> {
  const r = await apiSend<{ code: string; details: { job_id?: string; removed?: number } }>('POST', '/crm/v8/settings/recycle_bin/actions/empty');
  return r.code === 'SCHEDULED' ? { scheduled: true, jobId: String(r.details.job_id) } : { scheduled: false, removed: Number(r.details.removed ?? 0) };
}

export interface BinJob {
  id: string;
  action: 'restore' | 'delete';
  status: 'SCHEDULED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | string;
  processed: number;
  total: number | null;
  result: { processed?: number; failed?: number; targets?: number } | null;
  error: string | null;
  created_time: string;
}

/** GET /settings/recycle_bin/jobs/{id}: a scheduled restore or deletion's progress. */
export async function getBinJob(id: string): Promise<BinJob> {
  const r = await apiGet<{ recycle_bin_jobs: BinJob[] }>(`/crm/v8/settings/recycle_bin/jobs/${encodeURIComponent(id)}`);
  if (!r?.recycle_bin_jobs?.[0]) throw new Error('The job was not found.');
  return r.recycle_bin_jobs[0];
}
