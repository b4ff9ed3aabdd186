import { apiGet, apiSend } from './client.ts';

/** auditrail's reports API (`/api/v1/reports`): the activity report, templates, saved reports and runs. */

export type GroupKey = 'done_by' | 'module' | 'action' | 'source' | 'day' | 'week' | 'hour' | 'weekday';

export interface ActivityRow {
  done_by?: { id: string | null; name: string; type: string };
  module?: string | null;
  action?: string;
  source?: string;
  day?: string;
  week?: string;
  hour?: number;
  weekday?: number;
  count: number;
}

export interface ActivityReport {
  rows: ActivityRow[];
  info: { from: string; to: string; time_zone: string; window_start: string; group_by: GroupKey[]; more_rows: boolean };
}

export interface Schedule { frequency: 'daily' | 'weekly' | 'monthly'; time: string; weekday?: number; day_of_month?: number }

export interface ReportRun {
  id: string;
  period_start: string;
  from: string;
  to: string;
  status: 'running' | 'retrying' | 'delivered' | 'failed' | 'skipped';
  row_count: number | null;
  delivery: { email?: { ok: boolean; error: string | null }; webhook?: { ok: boolean; error: string | null } };
  error: string | null;
  started_time: string;
  finished_time: string | null;
}

export interface SavedReport {
  id: string;
  name: string;
  owner: { id: string; name: string };
  query: Record<string, string>;
  schedule: Schedule | null;
  next_run_time: string | null;
  delivery: { emails: string[]; webhook_url: string | null; webhook_secret_set: boolean };
  webhook_secret?: string;
  created_time: string;
  modified_time: string;
  runs?: ReportRun[];
}

export interface Template { name: string; title: string; description: string; query: Record<string, string>; schedule: Schedule }

/** GET /api/v1/reports/activity with the activity report's parameters (group_by, range or from/to, filters). */
export async function getActivity(params: Record<string, string>): Promise<ActivityReport> {
  return (await apiGet<ActivityReport>('/api/v1/reports/activity', params))!;
}

export async function listTemplates(): Promise<Template[]> {
  return (await apiGet<{ templates: Template[] }>('/api/v1/reports/templates'))?.templates ?? [];
}

export async function listReports(): Promise<SavedReport[]> {
  return (await apiGet<{ reports: SavedReport[] }>('/api/v1/reports'))?.reports ?? [];
}

/** POST /api/v1/reports: a body, or `{ template }` for a built-in report. */
export async function createReport(body: Record<string, unknown>): Promise<SavedReport> {
  return (await apiSend<{ report: SavedReport }>('POST', '/api/v1/reports', body)).report;
}

export async function updateReport(id: string, body: Record<string, unknown>): Promise<SavedReport> {
  return (await apiSend<{ report: SavedReport }>('PATCH', `/api/v1/reports/${encodeURIComponent(id)}`, body)).report;
}

export async function deleteReport(id: string): Promise<void> {
  await apiSend('DELETE', `/api/v1/reports/${encodeURIComponent(id)}`);
}
