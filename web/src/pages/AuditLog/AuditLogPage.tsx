import { useCallback, useEffect, useMemo, useState } from 'react';
import {
  Alert, Anchor, Badge, Box, Button, Collapse, Drawer, Group, Stack, Switch, Text, Title, VisuallyHidden, CloseButton,
} from '@mantine/core';
import { useDisclosure, useMediaQuery } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { getConsoleSettings, getIntegrity, type AuditEntry, type StreamState } from '../../api/audit.ts';
import { ApiError } from '../../api/client.ts';
import { AuditEntryDetail, recordHref, type IntegrityState } from '../../components/AuditEntryDetail.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { actionLabel, apiQuery, filtersFromParams, filtersToParams, isFiltered, urlTime, type AuditFilters } from '../../lib/audit-filters.ts';
import { hasQualifier } from '../../lib/search.ts';
import { zoneLabel } from '../../lib/time.ts';
import { useSession } from '../../session.tsx';
import { EntryCards, EntryTable } from './EntryTable.tsx';
import { useExport } from './ExportPanel.tsx';
import { FilterBar } from './FilterBar.tsx';
import { useAuditLog, useLiveEntries, useResolvedSearch } from './hooks.ts';
import { SearchBox } from './SearchBox.tsx';
import { WindowNote } from './WindowNote.tsx';

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** Audit Log: the organisation's entries newest first, filtered from the URL, live, exportable. */
export default function AuditLogPage() {
  const session = useSession();
  const timeZone = session.org.time_zone;
  const [params, setParams] = useSearchParams();
  // From and To as the API takes them: a date alone in the address is that day in the org's zone.
  const urlFilters = useMemo(() => filtersFromParams(params), [params]);
  const times = useMemo(() => ({ from: urlTime(urlFilters.from, 'start', timeZone), to: urlTime(urlFilters.to, 'end', timeZone) }),
    [urlFilters.from, urlFilters.to, timeZone]);
  const filters = useMemo(() => ({ ...urlFilters, from: times.from.iso, to: times.to.iso }), [urlFilters, times]);
  const badTimes = [times.from.bad !== undefined && `From (“${times.from.bad}”)`, times.to.bad !== undefined && `To (“${times.to.bad}”)`]
    .filter((t): t is string => !!t);
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  const [filtersOpen, { toggle: toggleFilters }] = useDisclosure(false);
  const [live, setLive] = useState(false);

  /** Changes the filters in the URL (a new history entry, so Back undoes it); the open entry closes unless given. */
  const update = useCallback((patch: Partial<AuditFilters>, replace = false) => {
    setParams((prev) => filtersToParams({ ...filtersFromParams(prev), entry: undefined, ...patch }), { replace });
  }, [setParams]);

  const { resolved, check, modules } = useResolvedSearch(filters.q);
  const search = resolved.status === 'ok' ? resolved.query : null;
  const userIds = resolved.status === 'ok' ? resolved.userIds : undefined;

  // The search's action:, module: and user: decide those filters: the controls show what it says.
  useEffect(() => {
    if (resolved.status !== 'ok') return;
    const patch: Partial<AuditFilters> = {};
    if (resolved.query.actions && !sameSet(resolved.query.actions, filters.actions)) patch.actions = resolved.query.actions;
    if (resolved.query.modules && !sameSet(resolved.query.modules, filters.modules)) patch.modules = resolved.query.modules;
    if (resolved.userIds && !sameSet(resolved.userIds, filters.doneBy)) patch.doneBy = resolved.userIds;
    if (Object.keys(patch).length) update({ ...patch, entry: filters.entry }, true);
  }, [resolved, filters.actions, filters.modules, filters.doneBy, filters.entry, update]);

  const query = useMemo(() => (search && badTimes.length === 0 ? apiQuery(filters, search, userIds) : null),
    [filters, search, userIds, badTimes.length]);
  const log = useAuditLog(query ?? {}, query !== null);
  const stream = useLiveEntries(query ?? {}, live && query !== null);

  const loaded = useMemo(() => log.data?.pages.flatMap((p) => p.audit_log) ?? [], [log.data]);
  const entries = useMemo(() => {
    const ids = new Set<string>();
    const all: AuditEntry[] = [];
    for (const e of [...stream.entries, ...loaded]) {
      if (ids.has(e.id)) continue;
      ids.add(e.id);
      all.push(e);
    }
    return all;
  }, [stream.entries, loaded]);

  // Where the window starts. An empty answer (204) does not say: the last one known is kept, and
  // failing that the organisation's settings tell its length (administrators may read them).
  const pageWindow = log.data?.pages.find((p) => p.info)?.info?.window_start ?? null;
  const [knownWindow, setKnownWindow] = useState<string | null>(null);
  // Kept while rendering, not in an effect: an effect's update would render the page (and its
  // rows) a second time before the first rows are painted.
  if (pageWindow && pageWindow !== knownWindow) setKnownWindow(pageWindow);
  const settings = useQuery({
    queryKey: ['console-settings'], queryFn: getConsoleSettings, retry: false, staleTime: 5 * 60_000,
    enabled: log.isSuccess && !pageWindow && !knownWindow,
  });
  const settingsWindow = settings.data ? new Date(Date.now() - settings.data.audit_log_window_days * 86_400_000).toISOString() : null;
  const windowStart = pageWindow ?? knownWindow ?? settingsWindow;
  const fromBefore = !!(windowStart && filters.from && Date.parse(filters.from) < Date.parse(windowStart));
  // A batch is one instant: its view is complete whatever the window.
  const endReached = log.isSuccess && !log.hasNextPage && !filters.from && !filters.batch;
  const windowReason = fromBefore ? 'from-before' as const : endReached ? 'end-reached' as const : null;
  const recordModule = filters.recordId
    ? loaded.find((e) => e.record?.id === filters.recordId)?.module?.api_name ?? (filters.modules.length === 1 ? filters.modules[0] : null)
    : null;
  const recordTimeline = filters.recordId ? recordHref(recordModule, filters.recordId) : null;
  const recordName = filters.recordId ? loaded.find((e) => e.record?.id === filters.recordId)?.record?.name : undefined;

  const selected = filters.entry ? entries.find((e) => e.id === filters.entry) ?? null : null;
  const integrity = useQuery({ queryKey: ['integrity'], queryFn: getIntegrity, enabled: selected !== null, staleTime: 60_000, retry: false });
  const integrityState: IntegrityState = integrity.isError
    ? { status: 'unavailable', reason: integrity.error instanceof ApiError ? integrity.error.message : undefined }
    : integrity.isSuccess ? { status: 'ready', integrity: integrity.data } : { status: 'loading' };

  const exporter = useExport(filters, search, userIds, timeZone, resolved.status === 'pending', badTimes);
  const moduleLabels = useMemo(() => new Map((modules.data ?? []).map((m) => [m.api_name, m.plural_label])), [modules.data]);
  const filterCount = filters.doneBy.length + filters.actions.length + filters.modules.length + (filters.from || filters.to ? 1 : 0);

  // Stable, so that the rows (memoised) are not rendered again when the page is.
  const open = useCallback((id: string) => setParams((prev) => {
    const next = new URLSearchParams(prev);
    next.set('entry', id);
    return next;
  }), [setParams]);
  const close = useCallback(() => setParams((prev) => {
    const next = new URLSearchParams(prev);
    next.delete('entry');
    return next;
  }), [setParams]);

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
        <Box>
          <Title order={1}>Audit Log</Title>
          <Text size="sm" c="gray.7">Who changed what, newest first. Times in {zoneLabel(timeZone)}.</Text>
        </Box>
        <Group gap="md" wrap="nowrap">
          <Switch label="Live" checked={live} onChange={(e) => setLive(e.currentTarget.checked)}
            description={live ? liveWords(stream.state) : undefined} />
          {session.pages.exports && exporter.button}
        </Group>
      </Group>
      <VisuallyHidden role="status" aria-live="polite">
        {live && stream.entries.length ? `${stream.entries.length} new ${stream.entries.length === 1 ? 'entry' : 'entries'} at the top of the list.` : ''}
      </VisuallyHidden>

      <SearchBox value={filters.q} urlErrors={resolved.status === 'invalid' ? resolved.errors : []} check={check}
        onApply={(q) => {
          // A qualifier taken out of the search takes its filter with it.
          const patch: Partial<AuditFilters> = { q };
          if (hasQualifier(filters.q, 'action') && !hasQualifier(q, 'action')) patch.actions = [];
          if (hasQualifier(filters.q, 'module') && !hasQualifier(q, 'module')) patch.modules = [];
          if (hasQualifier(filters.q, 'user') && !hasQualifier(q, 'user')) patch.doneBy = [];
          update(patch);
        }} />

      {isPhone && (
        <Group justify="space-between">
          <Button variant="default" onClick={toggleFilters} aria-expanded={filtersOpen} aria-controls="audit-log-filters">
            {filtersOpen ? 'Hide filters' : 'Filters'}{filterCount ? ` (${filterCount})` : ''}
          </Button>
        </Group>
      )}
      <Collapse expanded={!isPhone || filtersOpen} id="audit-log-filters">
        <FilterBar filters={filters} update={update} modules={modules.data} modulesError={modules.isError} timeZone={timeZone} />
      </Collapse>

      {(filters.recordId || filters.batch || isFiltered(urlFilters)) && (
        <Group gap="xs" wrap="wrap">
          {filters.recordId && (
            <Badge size="lg" variant="light" color="gray" style={{ textTransform: 'none' }}
              rightSection={<CloseButton size="xs" aria-label="Remove the record filter" onClick={() => update({ recordId: undefined })} />}>
              Record: {recordName ?? filters.recordId}
            </Badge>
          )}
          {filters.batch && (
            <Badge size="lg" variant="light" color="gray" style={{ textTransform: 'none' }}
              rightSection={<CloseButton size="xs" aria-label="Show all entries, not only the batch" onClick={() => update({ batch: undefined })} />}>
              Batch {filters.batch}
            </Badge>
          )}
          {isFiltered(urlFilters) && (
            <Button variant="subtle" size="compact-sm" onClick={() => setParams(new URLSearchParams())}>Clear filters</Button>
          )}
        </Group>
      )}

      {exporter.message}
      {windowReason === 'from-before' && (
        <WindowNote windowStart={windowStart} timeZone={timeZone} reason="from-before" recordTimeline={recordTimeline} />
      )}

      {badTimes.length > 0 ? (
        <EmptyState title="This address holds a date that is not one">
          {`${badTimes.join(' and ')} ${badTimes.length > 1 ? 'are not dates' : 'is not a date'}. Choose ${badTimes.length > 1 ? 'dates' : 'a date'} under From and To, or clear the filters.`}
        </EmptyState>
      ) : resolved.status === 'invalid' ? (
        <EmptyState title="The search cannot be run">Fix the search above (the message under it says what is wrong) to see entries.</EmptyState>
      ) : resolved.status === 'pending' || log.isPending ? (
        <LoadingState label="Loading the audit log" />
      ) : log.isError && !log.data ? (
        <ErrorState title="The audit log could not be loaded" error={log.error} onRetry={() => log.refetch()} />
      ) : entries.length === 0 ? (
        <Stack gap="sm">
          <EmptyState title={isFiltered(filters) ? 'No entries match these filters' : 'No entries yet'}>
            {isFiltered(filters)
              ? 'Try a wider time range or fewer filters.'
              : 'Changes made through the API or this console will appear here.'}
          </EmptyState>
          {log.hasNextPage && (
            <Group justify="center"><Button variant="default" onClick={() => log.fetchNextPage()} loading={log.isFetchingNextPage}>Load more</Button></Group>
          )}
          {windowReason === 'end-reached' && (
            <WindowNote windowStart={windowStart} timeZone={timeZone} reason="end-reached" recordTimeline={recordTimeline} />
          )}
        </Stack>
      ) : (
        <Stack gap="sm">
          {filters.entry && !selected && (
            <Alert color="yellow" role="status" withCloseButton closeButtonLabel="Dismiss" onClose={close}>
              The entry this link opens is not among the entries shown: it may be further down (Load more) or outside these filters.
            </Alert>
          )}
          {isPhone ? (
            <EntryCards entries={entries} timeZone={timeZone} moduleLabels={moduleLabels} onOpen={open} selectedId={selected?.id}
              caption={`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${log.hasNextPage ? ' loaded' : ''}, newest first. Select an entry for its details.`} />
          ) : (
            <EntryTable entries={entries} timeZone={timeZone} moduleLabels={moduleLabels} onOpen={open} selectedId={selected?.id}
              caption={`${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${log.hasNextPage ? ' loaded' : ''}, newest first. Select a row for its details.`} />
          )}
          {log.isFetchNextPageError && (
            <ErrorState title="More entries could not be loaded" error={log.error} onRetry={() => log.fetchNextPage()} />
          )}
          {log.hasNextPage && (
            <Group justify="center">
              <Button variant="default" onClick={() => log.fetchNextPage()} loading={log.isFetchingNextPage}>Load more</Button>
            </Group>
          )}
          {windowReason === 'end-reached' && (
            <WindowNote windowStart={windowStart} timeZone={timeZone} reason="end-reached" recordTimeline={recordTimeline} />
          )}
        </Stack>
      )}

      <Drawer.Root opened={selected !== null} onClose={close} position="right" size={isPhone ? '100%' : 'lg'}>
        <Drawer.Overlay />
        <Drawer.Content>
          {/* A <header> inside the dialog would count as a second banner landmark. */}
          <Drawer.Header role="presentation">
            <Drawer.Title fw={600} fz="lg">
              {selected ? `Audit entry: ${actionLabel(selected.action)}${selected.record?.name ? ` · ${selected.record.name}` : ''}` : 'Audit entry'}
            </Drawer.Title>
            <Drawer.CloseButton aria-label="Close the entry" />
          </Drawer.Header>
          <Drawer.Body>
            {selected && <AuditEntryDetail entry={selected} timeZone={timeZone} integrity={integrityState} />}
            {selected && session.pages.audit_log && selected.record?.id && !filters.recordId && (
              <Text size="sm" mt="md">
                <Anchor component={Link} to={`/audit-log?${filtersToParams({ doneBy: [], actions: [], modules: [], q: '', recordId: selected.record.id }).toString()}`}>
                  Every entry about this record
                </Anchor>
              </Text>
            )}
          </Drawer.Body>
        </Drawer.Content>
      </Drawer.Root>
    </Stack>
  );
}

function liveWords(s: StreamState | { state: 'off' }): string {
  switch (s.state) {
    case 'open': return 'New entries appear at the top';
    case 'connecting': return 'Connecting…';
    case 'stopped': return `Live updates stopped: ${s.message} Turn Live off and on to retry.`;
    default: return '';
  }
}
