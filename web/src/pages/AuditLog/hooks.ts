import { useEffect, useMemo, useRef, useState } from 'react';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { openAuditStream, type AuditEntry, type StreamState } from '../../api/audit.ts';
import { auditLogQuery } from './prefetch.ts';
import { listModules } from '../../api/records.ts';
import type { User } from '../../api/users.ts';
import { useUsers } from '../../components/UserPicker.tsx';
import { AUDIT_ACTIONS, AUDIT_SOURCES, SETUP_MODULES } from '../../lib/audit-filters.ts';
import { hasQualifier, parseSearch, type SearchQuery } from '../../lib/search.ts';

export { PER_PAGE } from './prefetch.ts';

/** The CRM modules (GET /crm/v8/settings/modules), shared by the pages. */
export function useModules() {
  return useQuery({ queryKey: ['modules'], queryFn: listModules, staleTime: 30 * 60_000 });
}

export type ResolvedSearch =
  | { status: 'pending' }
  | { status: 'invalid'; errors: string[] }
  | { status: 'ok'; query: SearchQuery; userIds?: string[] };

/** Parses the search text and turns its `user:` emails into ids; unknown emails are errors in words. */
export function resolveSearch(text: string, moduleNames: string[], users: User[] | undefined): ResolvedSearch {
  const r = parseSearch(text, { actions: AUDIT_ACTIONS, sources: AUDIT_SOURCES, modules: moduleNames });
  if (!r.ok) return { status: 'invalid', errors: r.errors };
  if (!r.query.users) return { status: 'ok', query: r.query };
  if (!users) return { status: 'invalid', errors: ['The list of users could not be loaded, so user: cannot be used right now.'] };
  const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u.id]));
  const unknown = r.query.users.filter((e) => !byEmail.has(e));
  if (unknown.length) {
    return { status: 'invalid', errors: unknown.map((e) => `No user of this organisation has the email ${e}.`) };
  }
  return { status: 'ok', query: r.query, userIds: r.query.users.map((e) => byEmail.get(e)!) };
}

/** The search of the URL, resolved once the lists it needs (modules, users) are there. */
export function useResolvedSearch(text: string) {
  const modules = useModules();
  const users = useUsers();
  const moduleNames = useMemo(() => [...(modules.data ?? []).map((m) => m.api_name), ...SETUP_MODULES], [modules.data]);
  const waiting = (hasQualifier(text, 'module') && modules.isPending) || (hasQualifier(text, 'user') && users.isPending);
  const resolved = useMemo<ResolvedSearch>(
    () => (waiting ? { status: 'pending' } : resolveSearch(text, moduleNames, users.data)),
    [waiting, text, moduleNames, users.data],
  );
  /** Checks a text before it goes into the URL, with the lists as they are now. */
  const check = (t: string) => resolveSearch(t, moduleNames, users.data);
  return { resolved, check, moduleNames, modules };
}

/** The audit log for the API query, page by page with the keyset cursor (next_page_token). */
export function useAuditLog(query: Record<string, string>, enabled: boolean) {
  return useInfiniteQuery({
    ...auditLogQuery(query),
    enabled,
  });
}

/**
 * New entries from the live stream while `on`, newest first, for the query given; emptied when
 * the query changes or the stream is turned off.
 */
export function useLiveEntries(query: Record<string, string>, on: boolean) {
  const [entries, setEntries] = useState<AuditEntry[]>([]);
  const [state, setState] = useState<StreamState | { state: 'off' }>({ state: 'off' });
  const key = JSON.stringify(query);
  const seen = useRef(new Set<string>());
  useEffect(() => {
    setEntries([]);
    seen.current = new Set();
    if (!on) {
      setState({ state: 'off' });
      return;
    }
    const close = openAuditStream(JSON.parse(key) as Record<string, string>, (e) => {
      if (seen.current.has(e.id)) return;
      seen.current.add(e.id);
      setEntries((prev) => [e, ...prev].slice(0, 2000));
    }, setState);
    return () => {
      close();
    };
  }, [key, on]);
  return { entries, state };
}
