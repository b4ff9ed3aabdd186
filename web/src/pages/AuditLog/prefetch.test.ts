import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueryClient } from '@tanstack/react-query';
import type { AuditLogPage } from '../../api/audit.ts';
import { auditLogQuery, firstPageQuery, prefetchAuditLog } from './prefetch.ts';

const at = (path: string) => {
  const u = new URL(path, 'http://console.test');
  return { pathname: u.pathname, search: u.search } as Location;
};

describe('the first page asked for while the console loads', () => {
  it('is the query the page itself asks, on /audit-log only', () => {
    expect(firstPageQuery(at('/audit-log'))).toEqual({});
    expect(firstPageQuery(at('/audit-log?action=deleted&module=Deals&record_id=9'))).toEqual({ action: 'deleted', module: 'Deals', record_id: '9' });
    expect(firstPageQuery(at('/recycle-bin'))).toBeNull();
    expect(firstPageQuery(at('/audit-log/'))).toBeNull();
  });

  it('is not asked with a search: its parsing is the page\'s, and a wrong guess would be a second audited read', () => {
    expect(firstPageQuery(at('/audit-log?q=action%3Adeleted'))).toBeNull();
  });

  it('is not asked with a date alone or a bad date: the page reads the day in the organisation\'s zone, or says what is wrong', () => {
    expect(firstPageQuery(at('/audit-log?from=2026-12-01'))).toBeNull();
    expect(firstPageQuery(at('/audit-log?to=2026-13-45'))).toBeNull();
    expect(firstPageQuery(at('/audit-log?from=2026-02-30T10%3A00%3A00Z'))).toBeNull();
    expect(firstPageQuery(at('/audit-log?from=2026-12-01T00%3A00%3A00%2B01%3A00'))).toEqual({ from: '2026-12-01T00:00:00+01:00' });
  });
});

describe('prefetchAuditLog', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('answers the first fetch with the request already sent, and asks the server again after that', async () => {
    const fromServer: AuditLogPage = { audit_log: [], info: null };
    const fetch = vi.fn(async () => new Response(JSON.stringify(fromServer), { status: 200 }));
    vi.stubGlobal('fetch', fetch);
    const sentPage: AuditLogPage = { audit_log: [{ id: 'sent' } as AuditLogPage['audit_log'][number]], info: null };
    const client = new QueryClient();
    prefetchAuditLog(client, { query: {}, page: Promise.resolve(sentPage) });
    const key = auditLogQuery({}).queryKey;
    await vi.waitFor(() => expect(client.getQueryData(key)).toBeDefined());
    expect(client.getQueryData<{ pages: AuditLogPage[] }>(key)?.pages[0].audit_log[0].id).toBe('sent');
    expect(fetch).not.toHaveBeenCalled();

    await client.refetchQueries({ queryKey: key });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(client.getQueryData<{ pages: AuditLogPage[] }>(key)?.pages[0].audit_log).toEqual([]);
  });

  it('does nothing when no request was sent', () => {
    const client = new QueryClient();
    prefetchAuditLog(client, null);
    expect(client.getQueryCache().getAll()).toHaveLength(0);
  });
});
