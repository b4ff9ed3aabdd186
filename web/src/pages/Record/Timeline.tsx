import { Anchor, Box, Button, Group, Paper, Stack, Text, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { getTimeline, type TimelineEntry } from '../../api/records.ts';
import { ActionBadge, actionColor, recordHref } from '../../components/AuditEntryDetail.tsx';
import { changesOf, DiffView } from '../../components/DiffView.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { sourceLabel } from '../../lib/audit-filters.ts';
import { formatTime } from '../../lib/time.ts';
import type { ModuleInfo } from '../../api/records.ts';

export function useTimeline(module: string, id: string, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ['timeline', module, id],
    queryFn: ({ pageParam }) => getTimeline(module, id, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextPageToken ?? undefined,
    enabled,
  });
}

function singular(modules: ModuleInfo[] | undefined, apiName: string | undefined | null): string {
  if (!apiName) return 'Record';
  return modules?.find((m) => m.api_name === apiName)?.singular_label ?? apiName.replace(/s$/, '');
}

function Item({ entry, module, recordId, timeZone, modules }: {
  entry: TimelineEntry; module: string; recordId: string; timeZone: string; modules: ModuleInfo[] | undefined;
}) {
  const own = entry.record.id === recordId;
  const childModule = entry.record.module?.api_name;
  const childHref = !own ? recordHref(childModule, entry.record.id) : null;
  const who = entry.done_by?.name ?? 'System';
  const changes = changesOf(entry.field_history);
  return (
    <Paper component="li" withBorder p="sm" radius="sm"
      style={{ listStyle: 'none', borderLeft: `4px solid var(--mantine-color-${actionColor(entry.action)}-5)` }}>
      <Stack gap={6}>
        <Group gap="xs" wrap="wrap">
          <ActionBadge action={entry.action} />
          {!own && (
            <Text size="sm" span>
              {singular(modules, childModule)}{' '}
              {childHref
                ? <Anchor component={Link} to={childHref}>{entry.record.name || entry.record.id}</Anchor>
                : <>{entry.record.name || entry.record.id}</>}
            </Text>
          )}
          {own && module && <Text size="sm" span c="gray.7">this {singular(modules, module).toLowerCase()}</Text>}
        </Group>
        <Text size="sm" c="gray.7">
          {formatTime(entry.audited_time, timeZone)} · by {who} · via {sourceLabel(entry.source)}
        </Text>
        {changes.length > 0 && <DiffView changes={changes} timeZone={timeZone} />}
      </Stack>
    </Paper>
  );
}

/** Every change to the record and to its notes and activities (the `__timeline` endpoint), newest first. */
export function Timeline({ module, recordId, timeZone, modules }: {
  module: string; recordId: string; timeZone: string; modules: ModuleInfo[] | undefined;
}) {
  const q = useTimeline(module, recordId, true);
  const entries = q.data?.pages.flatMap((p) => p.entries) ?? [];
  return (
    <Box component="section" aria-labelledby="timeline-heading">
      <Title order={2} id="timeline-heading" size="h3" mb="xs">Timeline</Title>
      <Text size="sm" c="gray.7" mb="sm">Changes to this record and to its notes and activities, newest first, whatever their age.</Text>
      {q.isPending ? <LoadingState label="Loading the timeline" />
        : q.isError && !q.data ? <ErrorState title="The timeline could not be loaded" error={q.error} onRetry={() => q.refetch()} />
          : entries.length === 0 ? <EmptyState title="No changes recorded">Nothing has been recorded about this record yet.</EmptyState>
            : (
              <Stack gap="sm">
                <Stack component="ol" gap="sm" p={0} m={0}>
                  {entries.map((e) => <Item key={e.id} entry={e} module={module} recordId={recordId} timeZone={timeZone} modules={modules} />)}
                </Stack>
                {q.isFetchNextPageError && <ErrorState title="More of the timeline could not be loaded" error={q.error} onRetry={() => q.fetchNextPage()} />}
                {q.hasNextPage && (
                  <Group justify="center">
                    <Button variant="default" onClick={() => q.fetchNextPage()} loading={q.isFetchingNextPage}>Load more</Button>
                  </Group>
                )}
              </Stack>
            )}
    </Box>
  );
}
