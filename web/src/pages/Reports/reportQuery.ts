/**
 * The Reports page's state in the URL (`/reports?range=last_7_days&module=Deals&action=deleted`)
 * and the shapes the charts take from the activity report's rows. Pure.
 */
import type { ActivityRow } from '../../api/reports.ts';
import { todayIn } from '../../lib/time.ts';

export const RANGES = [
  ['today', 'Today'], ['yesterday', 'Yesterday'], ['this_week', 'This week'], ['last_week', 'Last week'], ['last_7_days', 'Last 7 days'],
  ['this_month', 'This month'], ['last_month', 'Last month'], ['last_30_days', 'Last 30 days'],
] as const;
export type Range = (typeof RANGES)[number][0];

export interface ReportFilters { range: Range; module: string | null; action: string | null; source: string | null }

export const DEFAULT_FILTERS: ReportFilters = { range: 'last_7_days', module: null, action: null, source: null };

export function filtersFromParams(p: URLSearchParams): ReportFilters {
  const range = RANGES.find(([r]) => r === p.get('range'))?.[0] ?? DEFAULT_FILTERS.range;
  return { range, module: p.get('module') || null, action: p.get('action') || null, source: p.get('source') || null };
}

export function filtersToParams(f: ReportFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.range !== DEFAULT_FILTERS.range) p.set('range', f.range);
  for (const k of ['module', 'action', 'source'] as const) if (f[k]) p.set(k, f[k]!);
  return p;
}

/** The activity report's parameters for one chart. */
export function activityParams(f: ReportFilters, groupBy: string, limit?: number): Record<string, string> {
  const q: Record<string, string> = { group_by: groupBy, range: f.range };
  for (const k of ['module', 'action', 'source'] as const) if (f[k]) q[k] = f[k]!;
  if (limit) q.limit = String(limit);
  return q;
}

/** A range longer than this is not one a person picks here: stop rather than build an endless axis. */
const MAX_DAYS = 400;

/**
 * Every calendar day (YYYY-MM-DD) from the day holding `from` to the day holding `to`, both
 * inclusive, as the time zone counts them. Steps over dates, not over 24 hours, so that a day of
 * 23 or 25 hours (a daylight saving change) is neither skipped nor counted twice. [] when `to`
 * comes before `from`.
 */
export function daysInRange(from: string | number | Date, to: string | number | Date, timeZone: string): string[] {
  const first = todayIn(timeZone, new Date(from));
  const last = todayIn(timeZone, new Date(to));
  const [y, m, d] = first.split('-').map(Number);
  const days: string[] = [];
  for (let i = 0; i < MAX_DAYS; i++) {
    const day = new Date(Date.UTC(y, m - 1, d + i)).toISOString().slice(0, 10);
    if (day > last) break;
    days.push(day);
  }
  return days;
}

/**
 * day,action rows as one object per day with a count per action, and the actions seen, busiest
 * first. Every day of `days` (the report's range) has its object, with 0 for every action, even
 * when nothing happened on it: a quiet day is a fact the chart must show, not leave out.
 */
export function byDayAndAction(rows: ActivityRow[], days: string[] = []): { data: Record<string, string | number>[]; actions: string[] } {
  const byDay = new Map<string, Record<string, string | number>>(days.map((day) => [day, { day }]));
  const totals = new Map<string, number>();
  for (const r of rows) {
    const day = r.day!;
    const action = r.action!;
    const d = byDay.get(day) ?? { day };
    d[action] = (Number(d[action]) || 0) + r.count;
    byDay.set(day, d);
    totals.set(action, (totals.get(action) ?? 0) + r.count);
  }
  // Ties by name: the legend's order does not depend on the order the rows came in.
  const actions = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([a]) => a);
  const data = [...byDay.values()].sort((a, b) => String(a.day).localeCompare(String(b.day)));
  for (const d of data) for (const a of actions) d[a] ??= 0;
  return { data, actions };
}

const dayFormat = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', day: 'numeric', month: 'short' });

/** A day (YYYY-MM-DD) as short as an axis needs it: "4 Dec". A calendar date, so no zone applies. */
export function shortDay(day: string): string {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isNaN(t) ? day : dayFormat.format(t);
}

/** A label cut to `max` characters, the last of them an ellipsis, when it is longer. */
export function truncateLabel(label: string, max: number): string {
  const chars = [...label];
  if (chars.length <= max) return label;
  return `${chars.slice(0, Math.max(1, max - 1)).join('').trimEnd()}…`;
}

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** weekday,hour rows as a 7 x 24 grid of counts (Monday first), and the largest count. */
export function heatGrid(rows: ActivityRow[]): { grid: number[][]; max: number } {
  const grid = WEEKDAYS.map(() => Array.from({ length: 24 }, () => 0));
  let max = 0;
  for (const r of rows) {
    if (r.weekday === undefined || r.hour === undefined) continue;
    grid[r.weekday - 1][r.hour] += r.count;
    max = Math.max(max, grid[r.weekday - 1][r.hour]);
  }
  return { grid, max };
}

/** How a schedule reads: "Weekly on Friday at 17:00". */
export function scheduleLabel(s: { frequency: string; time: string; weekday?: number; day_of_month?: number } | null): string {
  if (!s) return 'Not scheduled';
  if (s.frequency === 'daily') return `Daily at ${s.time}`;
  if (s.frequency === 'weekly') return `Weekly on ${WEEKDAYS[(s.weekday ?? 1) - 1]} at ${s.time}`;
  return `Monthly on day ${s.day_of_month ?? 1} at ${s.time}`;
}
