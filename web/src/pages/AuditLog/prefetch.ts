import type { QueryClient } from '@tanstack/react-query';
import { getAuditLog, type AuditLogPage } from '../../api/audit.ts';
import { apiQuery, filtersFromParams, urlTime } from '../../lib/audit-filters.ts';

/** Entries per page of the audit log. */
export const PER_PAGE = 100;

/** The audit log's first-page query, shared by the page and the prefetch so that they meet in the cache. */
export function auditLogQuery(query: Record<string, string>) {
  return {
    queryKey: ['audit-log', query] as const,
    queryFn: ({ pageParam }: { pageParam: string | undefined }) => getAuditLog(query, pageParam, PER_PAGE),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: AuditLogPage) => (last.info?.more_records && last.info.next_page_token ? last.info.next_page_token : undefined),
    staleTime: 30_000,
  };
}

/**
 * The API query of the audit log's first page when the console is opened on /audit-log, else
 * null. Only without a search, whose parsing the page does (a guess that missed would be a second,
 * audited read), and only with whole From/To times (a date alone is a day in the zone the session names).
 */
export function firstPageQuery(location: Location): Record<string, string> | null {
  if (location.pathname !== '/audit-log') return null;
  const filters = filtersFromParams(new URLSearchParams(location.search));
  if (filters.q.trim()) return null;
  // A date alone or a bad From/To: the page reads it in the organisation's zone (or says what is wrong).
  const whole = (v: string | undefined) => !v || urlTime(v, 'start', 'UTC').iso === v;
  if (!whole(filters.from) || !whole(filters.to)) return null;
  return apiQuery(filters, {});
}

/**
 * Opened on /audit-log, the console asks for the entries while it is still loading (beside the
 * session and the page's own code) rather than after the page has rendered: the first rows come
 * that much sooner (bench:console). `sent` is that request when boot.ts has sent it already.
 */
export function prefetchAuditLog(client: QueryClient, sent: { query: Record<string, string>; page: Promise<AuditLogPage> } | null) {
  if (!sent) return;
  let first: Promise<AuditLogPage> | null = sent.page;
  const options = auditLogQuery(sent.query);
  void client.prefetchInfiniteQuery({ ...options, queryFn: (ctx) => {
    // The request already sent answers the first fetch only; any later one asks again.
    const page = ctx.pageParam === undefined ? first : null;
    first = null;
    return page ?? options.queryFn(ctx);
  } });
}
