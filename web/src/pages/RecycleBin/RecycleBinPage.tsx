import { useCallback, useMemo, useState } from 'react';
import { Alert, Button, Group, List, Pagination, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { useSession } from '../../session.tsx';
import { deleteItems, emptyBin, getBinJob, restoreItems, type BinSortBy } from '../../api/bin.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { JobProgress, type JobState } from '../../components/JobProgress.tsx';
import { zoneLabel } from '../../lib/time.ts';
import { binFilters, itemName, paramsFromView, rangeProblem, viewFromParams, type BinView } from './binQuery.ts';
import { childrenIndex, dependentsOf, describeDependents, parentsFirst } from './dependents.ts';
import { errorFeedback, outcomeFeedback, type Feedback } from './feedback.ts';
import { BinFiltersBar } from './BinFiltersBar.tsx';
import { BinTable } from './BinTable.tsx';
import { BIN_KEY, PER_PAGE, useBinCount, useBinItemsByIds, useBinPage, useDependentsIndex, useModules } from './useBin.ts';

interface RunningJob { id: string; action: 'restore' | 'delete' | 'empty'; label: string }

const fmt = (n: number) => n.toLocaleString('en-US');
const items = (n: number) => `${fmt(n)} item${n === 1 ? '' : 's'}`;

/** The recycle bin: deleted records, filtered, paged, restored or deleted for good. */
export default function RecycleBinPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const view = viewFromParams(params);
  const viewKey = paramsFromView(view).toString();
  const badRange = rangeProblem(view.from, view.to);
  const { module, deletedBy, from, to } = view;
  const filters = useMemo(() => binFilters({ module, deletedBy, from, to }, tz), [module, deletedBy, from, to, tz]);
  const page = useBinPage(filters, view.page, view.sortBy, view.sortOrder);
  const count = useBinCount(filters);
  const { labels } = useModules();

  // The selection belongs to the page of items it was made on.
  const [selection, setSelection] = useState<{ key: string; ids: Set<string> }>({ key: viewKey, ids: new Set() });
  const selected = selection.key === viewKey ? selection.ids : new Set<string>();
  const setSelected = (ids: Set<string>) => setSelection({ key: viewKey, ids });

  const pageItems = useMemo(() => page.data?.items ?? [], [page.data]);
  const byId = useMemo(() => new Map(pageItems.map((i) => [i.id, i])), [pageItems]);
  const selectedItems = pageItems.filter((i) => selected.has(i.id));

  const index = useDependentsIndex(selectedItems.length > 0);
  const children = useMemo(() => childrenIndex([...(index.data?.items ?? []), ...pageItems]), [index.data, pageItems]);
  const parentIds = selectedItems.flatMap((i) => (i.parent_record && !selected.has(i.parent_record.id) ? [i.parent_record.id] : []));
  const parentsInBin = useBinItemsByIds(parentIds);
  const parents = useMemo(() => new Map((parentsInBin.data ?? []).map((p) => [p.id, p])), [parentsInBin.data]);

  const [feedback, setFeedback] = useState<Feedback | null>(null);
  const [jobs, setJobs] = useState<RunningJob[]>([]);
  const [confirm, setConfirm] = useState<'delete' | 'empty' | null>(null);

  const update = (patch: Partial<BinView>) => {
    const next = { ...view, page: 1, ...patch };
    setParams(paramsFromView(next));
  };

  const refresh = useCallback(() => client.invalidateQueries({ queryKey: BIN_KEY }), [client]);

  // What comes with each selected item, and the selection's dependents together (each once).
  const withDependents = selectedItems.map((i) => ({ item: i, deps: dependentsOf(i.id, children).filter((d) => !selected.has(d.id)) }));
  const allDeps = [...new Map(withDependents.flatMap((w) => w.deps).map((d) => [d.id, d])).values()];
  const orphans = selectedItems.filter((i) => i.parent_record && parents.has(i.parent_record.id));
  const atLeast = index.data && !index.data.complete ? 'at least ' : '';

  const startJob = (id: string, action: RunningJob['action'], ids: string[]) => {
    const what = ids.length === 1 && byId.get(ids[0]) ? itemName(byId.get(ids[0])!) : items(ids.length);
    const withDeps = allDeps.length ? ` with ${atLeast}${fmt(allDeps.length)} dependent item${allDeps.length === 1 ? '' : 's'}` : '';
    const label = action === 'restore' ? `Restoring ${what}${withDeps}` : action === 'delete' ? `Deleting ${what}${withDeps} permanently` : 'Emptying the recycle bin';
    setJobs((js) => [...js, { id, action, label }]);
  };

  const restore = useMutation({
    mutationFn: (ids: string[]) => restoreItems(ids),
    onMutate: () => setFeedback(null),
    onSuccess: (r, ids) => {
      if (r.scheduled) startJob(r.jobId, 'restore', ids);
      else setFeedback(outcomeFeedback('restore', r.outcomes, byId, parents));
      setSelected(new Set());
    },
    onError: (err, ids) => setFeedback(errorFeedback('restore', err, ids, byId, parents)),
    onSettled: refresh,
  });
  const remove = useMutation({
    mutationFn: (ids: string[]) => deleteItems(ids),
    onMutate: () => setFeedback(null),
    onSuccess: (r, ids) => {
      if (r.scheduled) startJob(r.jobId, 'delete', ids);
      else setFeedback(outcomeFeedback('delete', r.outcomes, byId, parents));
      setSelected(new Set());
      setConfirm(null);
    },
    onSettled: refresh,
  });
  const empty = useMutation({
    mutationFn: emptyBin,
    onMutate: () => setFeedback(null),
    onSuccess: (r) => {
      if (r.scheduled) startJob(r.jobId, 'empty', []);
      else setFeedback({ tone: 'success', title: `The recycle bin is empty: ${items(r.removed)} deleted permanently.`, lines: [] });
      setSelected(new Set());
      setConfirm(null);
    },
    onSettled: refresh,
  });
  const busy = restore.isPending || remove.isPending || empty.isPending;

  const fetchJob = (id: string) => async (): Promise<JobState> => {
    const j = await getBinJob(id);
    const state = j.status === 'COMPLETED' ? 'done' : j.status === 'FAILED' ? 'failed' : j.status === 'RUNNING' ? 'running' : 'scheduled';
    const done = j.result?.processed ?? j.processed;
    const failed = j.result?.failed ?? 0;
    const verb = j.action === 'restore' ? 'restored' : 'deleted permanently';
    const message = state === 'done'
      ? `${items(done)} ${verb}${failed ? `; ${items(failed)} could not be` : ''}.`
      : state === 'failed' ? `The job failed${j.error ? `: ${j.error}` : ''}. Nothing more will be done; try again.` : null;
    return { state, processed: j.processed, total: j.total, message };
  };

  const jobEnded = (job: RunningJob) => (s: JobState) => {
    setJobs((js) => js.filter((j) => j.id !== job.id));
    setFeedback({ tone: s.state === 'done' ? (/could not/.test(s.message ?? '') ? 'partial' : 'success') : 'error',
      title: `${job.label}: ${s.state === 'done' ? 'finished' : 'failed'}.`, lines: s.message ? [s.message] : [] });
    void refresh();
  };

  const total = count.data ?? null;
  const pages = total !== null ? Math.max(1, Math.ceil(total / PER_PAGE)) : view.page + (page.data?.more ? 1 : 0);
  const none = selectedItems.length === 0;
  const filtered = !!filters;

  return (
    <Stack gap="md">
      <Group justify="space-between" align="baseline" wrap="wrap" gap="xs">
        <Title order={1}>Recycle Bin</Title>
        <Text size="sm" c="dimmed">Times in {zoneLabel(tz)}</Text>
      </Group>

      <BinFiltersBar view={view} onChange={update} />

      <Group justify="space-between" wrap="wrap" gap="sm">
        <Text size="sm" aria-live="polite">
          {selectedItems.length > 0 ? `${fmt(selectedItems.length)} selected`
            : total !== null ? `${items(total)}${filtered ? ' match the filters' : ' in the recycle bin'}` : '\u00a0'}
        </Text>
        <Group gap="xs" wrap="wrap">
          <Button onClick={() => restore.mutate(parentsFirst(selectedItems))} disabled={none || busy} loading={restore.isPending}>
            Restore
          </Button>
          <Button color="red" variant="light" onClick={() => { remove.reset(); setConfirm('delete'); }} disabled={none || busy}>
            Delete Permanently
          </Button>
          {session.pages.empty_recycle_bin && (
            <Button color="red" variant="outline" onClick={() => { empty.reset(); setConfirm('empty'); }} disabled={busy || (!filtered && total === 0)}>
              Empty Recycle Bin
            </Button>
          )}
        </Group>
      </Group>

      {selectedItems.length > 0 && (withDependents.some((w) => w.deps.length) || orphans.length > 0 || index.isFetching) && (
        <Alert color="blue" variant="light" role="status" aria-live="polite" title="What comes with the selection">
          <Stack gap={4}>
            {index.isFetching && !index.data && <Text size="sm">Looking for dependent items…</Text>}
            {withDependents.filter((w) => w.deps.length).slice(0, 5).map((w) => (
              <Text size="sm" key={w.item.id}>
                {itemName(w.item)}: {atLeast}{describeDependents(w.deps, labels)} come{w.deps.length === 1 ? 's' : ''} with it.
              </Text>
            ))}
            {withDependents.filter((w) => w.deps.length).length > 5 && (
              <Text size="sm">In all, {atLeast}{describeDependents(allDeps, labels)} come with the selection.</Text>
            )}
            {allDeps.length > 0 && (
              <Text size="sm" c="dimmed">
                Restoring brings back the dependents deleted together with their parent; deleting permanently removes every dependent in the bin.
              </Text>
            )}
            {orphans.map((i) => (
              <Text size="sm" key={`o${i.id}`} c="orange.9">
                {itemName(i)} cannot be restored while its parent record {itemName(parents.get(i.parent_record!.id)!)} is still in the recycle bin: restore the parent first, or select both.
              </Text>
            ))}
          </Stack>
        </Alert>
      )}

      {jobs.map((j) => (
        <JobProgress key={j.id} label={j.label} jobKey={['recycle-bin', j.id]} fetchJob={fetchJob(j.id)} onEnd={jobEnded(j)} />
      ))}

      {feedback && (
        <Alert color={feedback.tone === 'success' ? 'teal' : feedback.tone === 'partial' ? 'orange' : 'red'}
          role={feedback.tone === 'success' ? 'status' : 'alert'} title={feedback.title}
          withCloseButton closeButtonLabel="Dismiss" onClose={() => setFeedback(null)}>
          {feedback.lines.length > 0 && (
            <List size="sm" spacing={2}>
              {feedback.lines.map((l, n) => <List.Item key={n}>{l}</List.Item>)}
            </List>
          )}
        </Alert>
      )}

      {badRange ? (
        <EmptyState title="From is after To">{badRange} Change From or To to see the deleted items.</EmptyState>
      ) : page.isPending ? (
        <LoadingState label="Loading the recycle bin" />
      ) : page.isError ? (
        <ErrorState error={page.error} onRetry={() => page.refetch()} title="The recycle bin cannot be loaded" />
      ) : pageItems.length === 0 ? (
        filtered ? (
          <EmptyState title="Nothing matches these filters">No deleted item matches. Change or clear the filters.</EmptyState>
        ) : view.page > 1 ? (
          <EmptyState title="This page is empty">There are fewer items now. Go back to the first page.</EmptyState>
        ) : (
          <EmptyState title="The recycle bin is empty">Records deleted in the CRM appear here until they are restored, deleted permanently or purged.</EmptyState>
        )
      ) : (
        <BinTable items={pageItems} selected={selected} timeZone={tz} label={labels}
          onToggle={(id, on) => {
            const next = new Set(selected);
            if (on) next.add(id); else next.delete(id);
            setSelected(next);
          }}
          onToggleAll={(on) => setSelected(on ? new Set(pageItems.map((i) => i.id)) : new Set())}
          sortBy={view.sortBy} sortOrder={view.sortOrder}
          onSort={(by: BinSortBy, order?: 'asc' | 'desc') => update({ sortBy: by,
            // The other order of the current column; a new column starts A to Z, or newest first for times.
            sortOrder: order ?? (view.sortBy === by ? (view.sortOrder === 'desc' ? 'asc' : 'desc') : by === 'deleted_time' ? 'desc' : 'asc') })} />
      )}

      {!badRange && pages > 1 && (
        <Group justify="center">
          <Pagination total={pages} value={view.page} onChange={(p) => setParams(paramsFromView({ ...view, page: p }))}
            aria-label="Pages" siblings={1} boundaries={1}
            getControlProps={(c) => ({ 'aria-label': { first: 'First page', previous: 'Previous page', next: 'Next page', last: 'Last page' }[c] })}
            getItemProps={(p) => ({ 'aria-label': `Page ${p}`, 'aria-current': p === view.page ? 'page' : undefined })} />
        </Group>
      )}

      <ConfirmDialog opened={confirm === 'delete'} title="Delete permanently?" confirmLabel="Delete Permanently"
        busy={remove.isPending} error={remove.error}
        onCancel={() => setConfirm(null)} onConfirm={() => remove.mutate(parentsFirst(selectedItems))}>
        <Text size="sm">
          {selectedItems.length === 1 ? <><b>{itemName(selectedItems[0])}</b> will be deleted for good.</>
            : <>{items(selectedItems.length)} will be deleted for good.</>}
          {allDeps.length > 0 && <> With {selectedItems.length === 1 ? 'it' : 'them'} go {atLeast}{describeDependents(allDeps, labels)} in the recycle bin.</>}
          {' '}This cannot be undone: a permanently deleted record can no longer be restored. The audit log keeps a record of the deletion.
        </Text>
      </ConfirmDialog>

      <ConfirmDialog opened={confirm === 'empty'} title="Empty the recycle bin?" confirmLabel="Empty Recycle Bin"
        busy={empty.isPending} error={empty.error}
        onCancel={() => setConfirm(null)} onConfirm={() => empty.mutate()}>
        <Text size="sm">
          Every item in the organisation&apos;s recycle bin{count.data !== undefined && !filtered ? ` (${items(count.data)})` : ''} will be deleted for good, whoever deleted it and whatever the filters show.
          This cannot be undone. The audit log keeps a record of each deletion.
        </Text>
      </ConfirmDialog>
    </Stack>
  );
}

