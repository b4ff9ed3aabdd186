import { useMemo, useState, type FormEvent } from 'react';
import { Alert, Button, Group, MultiSelect, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../session.tsx';
import { createExport, listExports } from '../../api/exports.ts';
import { listModules, listUsers } from '../../api/directory.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { DateField } from '../../components/DateField.tsx';
import { formatTime, todayIn, zoneLabel } from '../../lib/time.ts';
import { actionLabel, buildCriteria, EXPORT_ACTIONS, formProblems, type ExportForm } from './criteria.ts';
import { ExportJobCard } from './ExportJobCard.tsx';

const EXPORTS_KEY = ['exports'] as const;
const EMPTY: ExportForm = { actions: [], modules: [], users: [], from: null, to: null };

/** Exports of the audit log: the criteria builder and the jobs with their files. */
export default function ExportsPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const client = useQueryClient();
  const [form, setForm] = useState<ExportForm>(EMPTY);
  const [tried, setTried] = useState(false);
  const [created, setCreated] = useState<string | null>(null);

  const modules = useQuery({ queryKey: ['directory', 'modules'], queryFn: listModules, staleTime: 10 * 60_000 });
  const users = useQuery({ queryKey: ['directory', 'users'], queryFn: () => listUsers(), staleTime: 60_000 });
  const jobs = useQuery({
    queryKey: EXPORTS_KEY,
    queryFn: listExports,
    // Polls while a job is scheduled or running, so each one's status moves by itself.
    refetchInterval: (q) => ((q.state.data ?? []).some((j) => j.status === 'Scheduled' || j.status === 'Progress') ? 2000 : false),
  });
  const moduleLabel = useMemo(() => {
    const m = new Map((modules.data ?? []).map((x) => [x.api_name, x.plural_label]));
    return (apiName: string) => m.get(apiName) ?? apiName;
  }, [modules.data]);

  const problems = formProblems(form, tz);
  const problem = (f: string) => (tried || f === 'to' || f === 'from' ? problems.find((p) => p.field === f)?.message : undefined);
  const mine = (jobs.data ?? []).find((j) => (j.status === 'Scheduled' || j.status === 'Progress') && j.created_by.id === session.user.id);

  const create = useMutation({
    mutationFn: () => createExport(buildCriteria(form, tz)),
    onMutate: () => setCreated(null),
    onSuccess: (id) => {
      setCreated(id);
      void client.invalidateQueries({ queryKey: EXPORTS_KEY });
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (problems.length === 0) create.mutate();
  };
  const set = (patch: Partial<ExportForm>) => {
    setForm((f) => ({ ...f, ...patch }));
    create.reset();
  };
  const today = todayIn(tz);
  const sorted = [...(jobs.data ?? [])].sort((a, b) => Date.parse(b.job_start_time) - Date.parse(a.job_start_time));
  const now = Date.now();

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="baseline" wrap="wrap" gap="xs">
        <Title order={1}>Exports</Title>
        <Text size="sm" c="dimmed">Times in {zoneLabel(tz)}</Text>
      </Group>

      <Paper withBorder p="md" component="section" aria-labelledby="new-export">
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <Title order={2} size="h4" id="new-export">New export</Title>
            <Text size="sm" c="dimmed">
              Leave every filter empty to export the last three years of the audit log. A filtered time range covers at most 180 days.
              Exports of more than 100,000 entries come as a ZIP; every export has a signed manifest you can check here; links work for 7 days.
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
              <MultiSelect label="Action" placeholder={form.actions.length ? undefined : 'All actions'} searchable clearable
                data={EXPORT_ACTIONS.map((a) => ({ value: a, label: actionLabel(a) }))} value={form.actions}
                onChange={(v) => set({ actions: v })} error={problem('actions')} nothingFoundMessage="No such action" />
              <MultiSelect label="Module" placeholder={form.modules.length ? undefined : 'All modules'} searchable clearable
                data={(modules.data ?? []).map((m) => ({ value: m.api_name, label: m.plural_label }))} value={form.modules}
                onChange={(v) => set({ modules: v })} error={problem('modules') ?? (modules.isError ? 'The modules cannot be loaded.' : undefined)}
                nothingFoundMessage="No such module" />
              <MultiSelect label="Users" placeholder={form.users.length ? undefined : 'Everyone'} searchable clearable
                data={(users.data ?? []).map((u) => ({ value: u.id, label: u.full_name }))} value={form.users.map((u) => u.id)}
                onChange={(ids) => set({ users: ids.map((id) => ({ id, name: users.data?.find((u) => u.id === id)?.full_name ?? id })) })}
                error={problem('users') ?? (users.isError ? 'The users cannot be loaded.' : undefined)} nothingFoundMessage="No such user" />
            </SimpleGrid>
            <SimpleGrid cols={{ base: 2, sm: 3 }} spacing="sm">
              <DateField label="From" value={form.from ?? ''} max={form.to ?? today}
                onCommit={(d) => set({ from: d || null })} error={problem('from')} />
              <DateField label="To" value={form.to ?? ''} min={form.from ?? undefined} max={today}
                onCommit={(d) => set({ to: d || null })} error={problem('to')} />
            </SimpleGrid>
            {mine && (
              <Alert color="yellow" role="status">
                Your export of {formatTime(mine.job_start_time, tz)} is still {mine.status === 'Progress' ? 'running' : 'scheduled'}:
                only one export runs at a time. Create the next one when it has finished.
              </Alert>
            )}
            {create.isError && (
              <Alert color="red" role="alert" title="The export cannot be created">
                {create.error instanceof Error ? create.error.message : String(create.error)}
              </Alert>
            )}
            {created && <Alert color="teal" role="status">The export is scheduled. It appears below and updates by itself.</Alert>}
            <Group gap="sm">
              <Button type="submit" loading={create.isPending} disabled={!!mine}>Create export</Button>
              {(form.actions.length > 0 || form.modules.length > 0 || form.users.length > 0 || form.from || form.to) && (
                <Button variant="subtle" onClick={() => { setForm(EMPTY); setTried(false); create.reset(); }}>Clear</Button>
              )}
            </Group>
          </Stack>
        </form>
      </Paper>

      <Stack gap="sm" component="section" aria-labelledby="export-jobs">
        <Title order={2} size="h4" id="export-jobs">Export jobs</Title>
        {jobs.isPending ? (
          <LoadingState label="Loading the exports" />
        ) : jobs.isError ? (
          <ErrorState error={jobs.error} onRetry={() => jobs.refetch()} title="The exports cannot be loaded" />
        ) : sorted.length === 0 ? (
          <EmptyState title="No exports yet">Create one above: it runs in the background, and its files appear here when it has finished.</EmptyState>
        ) : (
          sorted.map((j) => <ExportJobCard key={j.id} job={j} timeZone={tz} moduleLabel={moduleLabel} now={now} />)
        )}
      </Stack>
    </Stack>
  );
}
