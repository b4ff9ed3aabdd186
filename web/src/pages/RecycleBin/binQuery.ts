import type { BinCondition, BinFilters, BinItem, BinSortBy } from '../../api/bin.ts';
import { isCalendarDate, zonedIso } from '../../lib/time.ts';

/** The recycle bin page's state that a person may share: it lives in the URL. */
export interface BinView {
  /** A module api name. */
  module: string | null;
  /** A user id. */
  deletedBy: string | null;
  /** YYYY-MM-DD, in the organisation's zone, inclusive. */
  from: string | null;
  to: string | null;
  page: number;
  sortBy: BinSortBy;
  sortOrder: 'asc' | 'desc';
}

const SORTS: BinSortBy[] = ['deleted_time', 'display_name', 'deleted_by'];

export function viewFromParams(p: URLSearchParams): BinView {
  // A date that is not one (2026-13-01, a typo in a shared link) is no filter: it used to end the page.
  const date = (k: string) => { const v = p.get(k); return isCalendarDate(v) ? v : null; };
  const page = Number(p.get('page'));
  const sort = p.get('sort') as BinSortBy | null;
  return {
    module: p.get('type') || null,
    deletedBy: p.get('deleted_by') || null,
    from: date('from'),
    to: date('to'),
    page: Number.isInteger(page) && page > 0 ? page : 1,
    sortBy: sort && SORTS.includes(sort) ? sort : 'deleted_time',
    sortOrder: p.get('order') === 'asc' ? 'asc' : 'desc',
  };
}

export function paramsFromView(v: BinView): URLSearchParams {
  const p = new URLSearchParams();
  if (v.module) p.set('type', v.module);
  if (v.deletedBy) p.set('deleted_by', v.deletedBy);
  if (v.from) p.set('from', v.from);
  if (v.to) p.set('to', v.to);
  if (v.page > 1) p.set('page', String(v.page));
  if (v.sortBy !== 'deleted_time') p.set('sort', v.sortBy);
  if (v.sortOrder !== 'desc') p.set('order', v.sortOrder);
  return p;
}

/** YYYY-MM-DD plus (or minus) whole days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * The API's `filters` for the view: module and user equal, and the days from..to in the
 * organisation's zone as deleted_time greater_than the instant before `from` and less_than the
 * midnight after `to`.
 */
export function binFilters(v: Pick<BinView, 'module' | 'deletedBy' | 'from' | 'to'>, timeZone: string): BinFilters {
  const c: BinCondition[] = [];
  if (v.module) c.push({ field: { api_name: 'module' }, comparator: 'equal', value: v.module });
  if (v.deletedBy) c.push({ field: { api_name: 'deleted_by' }, comparator: 'equal', value: v.deletedBy });
  if (v.from) c.push({ field: { api_name: 'deleted_time' }, comparator: 'greater_than', value: zonedIso(addDays(v.from, -1), '23:59:59.999', timeZone) });
  if (v.to) c.push({ field: { api_name: 'deleted_time' }, comparator: 'less_than', value: zonedIso(addDays(v.to, 1), '00:00:00', timeZone) });
  if (c.length === 0) return null;
  return c.length === 1 ? c[0] : { group_operator: 'AND', group: c };
}

/** Why a date range cannot be used, or null. */
export function rangeProblem(from: string | null, to: string | null): string | null {
  return from && to && from > to ? 'The start date is after the end date.' : null;
}

/** What a person reads for a bin item. */
export const itemName = (i: Pick<BinItem, 'display_name' | 'id'>) => i.display_name?.trim() || `Untitled (${i.id})`;
