import { useState, type FormEvent, type ReactNode } from 'react';
import { useSearchParams } from 'react-router';
import { Alert, Badge, Button, Code, Group, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../session.tsx';
import { createReport, deleteReport, getActivity, listReports, listTemplates, type ActivityRow, type SavedReport } from '../../api/reports.ts';
import { listModules } from '../../api/directory.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { formatTime, zoneLabel } from '../../lib/time.ts';
import { actionLabel, AUDIT_ACTIONS, AUDIT_SOURCES, setupModuleLabel, sourceLabel } from '../../lib/audit-filters.ts';
import {
  activityParams, byDayAndAction, daysInRange, filtersFromParams, filtersToParams, heatGrid, RANGES, scheduleLabel, WEEKDAYS, type ReportFilters,
} from './reportQuery.ts';
import { RankingChart, TimelineChart } from './ReportCharts.tsx';

const REPORTS_KEY = ['reports', 'saved'] as const;

/** A chart's panel: its heading, the chart, and the same numbers as a table for those who do not see it. */
function ChartPanel({ id, title, state, children, table }: { id: string; title: string; state: { isPending: boolean; isError: boolean; error: unknown;
  empty: boolean }; children: ReactNode; table: ReactNode }) {
  return (
    <Paper withBorder p="md" component="section" aria-labelledby={id}>
      <Stack gap="sm">
        <Title order={2} size="h4" id={id}>{title}</Title>
        {state.isPending ? <LoadingState label={`Loading ${title.toLowerCase()}`} />
          : state.isError ? <ErrorState error={state.error} title={`${title} cannot be loaded`} />
            : state.empty ? <Text c="dimmed" size="sm">No entries in this range.</Text>
              : (
                <>
                  <div aria-hidden>{children}</div>
                  <details>
                    <summary>Show the numbers as a table</summary>
                    {table}
                  </details>
                </>
              )}
      </Stack>
    </Paper>
  );
}

function CountsTable({ caption, rows, label }: { caption: string; rows: ActivityRow[]; label: (r: ActivityRow) => string }) {
  return (
    <Table striped withTableBorder mt="xs">
      <caption>{caption}</caption>
      <Table.Thead><Table.Tr><Table.Th scope="col">Name</Table.Th><Table.Th scope="col">Entries</Table.Th></Table.Tr></Table.Thead>
      <Table.Tbody>
        {rows.map((r, i) => <Table.Tr key={i}><Table.Th scope="row">{label(r)}</Table.Th><Table.Td>{r.count}</Table.Td></Table.Tr>)}
      </Table.Tbody>
    </Table>
  );
}

/** Hour x weekday as a table: every cell names its day, hour and count; the shade only repeats the number. */
function HeatMap({ rows }: { rows: ActivityRow[] }) {
  const { grid, max } = heatGrid(rows);
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return (
    // Scrolls sideways on a phone: focusable, so the keyboard can scroll it too.
    <div style={{ overflowX: 'auto' }} tabIndex={0} role="group" aria-label="Hours 00 to 23, scrollable">
      <Table withTableBorder withColumnBorders fz="xs" className="heatmap" aria-labelledby="heatmap-title">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col"><VisuallyHidden>Weekday</VisuallyHidden></Table.Th>
            {hours.map((h) => <Table.Th key={h} scope="col" ta="center">{String(h).padStart(2, '0')}</Table.Th>)}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {WEEKDAYS.map((day, d) => (
            <Table.Tr key={day}>
              <Table.Th scope="row">{day.slice(0, 3)}<VisuallyHidden>{day.slice(3)}</VisuallyHidden></Table.Th>
              {hours.map((h) => {
                const n = grid[d][h];
                const level = max === 0 || n === 0 ? 0 : Math.ceil((n / max) * 4);
                return (
                  <Table.Td key={h} ta="center" data-level={level} aria-label={`${day} ${String(h).padStart(2, '0')}:00: ${n} ${n === 1 ? 'entry' : 'entries'}`}
                    style={{ background: level ? `var(--mantine-color-indigo-${level * 2 - 1})` : undefined,
                      color: level >= 3 ? 'white' : undefined }}>
                    {n || ''}
                  </Table.Td>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

function runBadge(status: string) {
  const color = status === 'delivered' ? 'teal' : status === 'failed' ? 'red' : status === 'skipped' ? 'gray' : 'yellow';
  return <Badge color={color} variant="light">{status}</Badge>;
}

function SavedReportCard({ report, tz, onDelete }: { report: SavedReport; tz: string; onDelete: () => void }) {
  const [, setParams] = useSearchParams();
  const runs = report.runs ?? [];
  const q = report.query;
  return (
    <Paper withBorder p="md" component="article" aria-labelledby={`report-${report.id}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="wrap">
          <Title order={3} size="h5" id={`report-${report.id}`}>{report.name}</Title>
          <Group gap="xs">
            <Button size="xs" variant="light" onClick={() => setParams(filtersToParams({ range: (q.range ?? 'last_7_days') as ReportFilters['range'],
              module: q.module?.split(',').length === 1 ? q.module : null, action: q.action?.split(',').length === 1 ? q.action : null,
              source: q.source?.split(',').length === 1 ? q.source : null }))}>Show {report.name} filters</Button>
            <Button size="xs" variant="subtle" color="red" onClick={onDelete}>Delete {report.name}</Button>
          </Group>
        </Group>
        <Text size="sm">
          Grouped by <Code>{q.group_by}</Code>, {RANGES.find(([r]) => r === q.range)?.[1].toLowerCase() ?? q.range}
          {q.module ? `, modules ${q.module}` : ''}{q.action ? `, actions ${q.action}` : ''}. Owner: {report.owner.name}.
        </Text>
        <Text size="sm">
          {scheduleLabel(report.schedule)}{report.next_run_time ? ` — next run ${formatTime(report.next_run_time, tz)}` : ''}.
          {' '}{report.delivery.emails.length ? `Emailed to ${report.delivery.emails.join(', ')}.` : 'Not emailed.'}
          {report.delivery.webhook_url ? ` Webhook: ${report.delivery.webhook_url}.` : ''}
        </Text>
        {runs.length === 0 ? <Text size="sm" c="dimmed">No runs yet.</Text> : (
          <Table withTableBorder fz="sm">
            <caption>Recent runs of {report.name}</caption>
            <Table.Thead><Table.Tr><Table.Th scope="col">Period</Table.Th><Table.Th scope="col">Status</Table.Th>
              <Table.Th scope="col">Rows</Table.Th><Table.Th scope="col">Note</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {runs.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>{formatTime(r.from, tz, false)} – {formatTime(r.to, tz, false)}</Table.Td>
                  <Table.Td>{runBadge(r.status)}</Table.Td>
                  <Table.Td>{r.row_count ?? '—'}</Table.Td>
                  <Table.Td>{r.error ?? ''}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Paper>
  );
}

/** Reports: charts of the audit log's activity (filters in the URL) and the saved, scheduled reports. */
export default function ReportsPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const filters = filtersFromParams(params);
  const set = (patch: Partial<ReportFilters>) => setParams(filtersToParams({ ...filters, ...patch }));
  const chart = (groupBy: string, limit?: number) => ({
    queryKey: ['reports', 'activity', groupBy, limit, filters], queryFn: () => getActivity(activityParams(filters, groupBy, limit)),
  });
  const overTime = useQuery(chart('day,action'));
  const topUsers = useQuery(chart('done_by', 10));
  const topModules = useQuery(chart('module', 10));
  const heat = useQuery(chart('weekday,hour'));
  const modules = useQuery({ queryKey: ['directory', 'modules'], queryFn: listModules, staleTime: 10 * 60_000 });
  const saved = useQuery({ queryKey: REPORTS_KEY, queryFn: listReports });
  const templates = useQuery({ queryKey: ['reports', 'templates'], queryFn: listTemplates, staleTime: 10 * 60_000 });
  const [name, setName] = useState('');
  const [frequency, setFrequency] = useState<string | null>('none');
  const [email, setEmail] = useState('');
  const [secret, setSecret] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<SavedReport | null>(null);

  const refresh = () => client.invalidateQueries({ queryKey: REPORTS_KEY });
  const fromTemplate = useMutation({ mutationFn: (template: string) => createReport({ template }), onSuccess: () => refresh() });
  const save = useMutation({
    mutationFn: () => createReport({ name, query: activityParams(filters, 'done_by,action'),
      schedule: frequency && frequency !== 'none' ? { frequency, time: '08:00', ...(frequency === 'weekly' ? { weekday: 1 } : {}) } : null,
      delivery: { emails: email.trim() ? email.split(',').map((s) => s.trim()).filter(Boolean) : [] } }),
    onSuccess: (r) => { setName(''); setEmail(''); setSecret(r.webhook_secret ?? null); void refresh(); },
  });
  const remove = useMutation({ mutationFn: (id: string) => deleteReport(id), onSuccess: () => { setDeleting(null); void refresh(); } });
  const submit = (e: FormEvent) => { e.preventDefault(); if (name.trim()) save.mutate(); };

  const state = (q: { isPending: boolean; isError: boolean; error: unknown; data?: { rows: ActivityRow[] } }) =>
    ({ isPending: q.isPending, isError: q.isError, error: q.error, empty: (q.data?.rows.length ?? 0) === 0 });
  const info = overTime.data?.info;
  const timeline = byDayAndAction(overTime.data?.rows ?? [], info ? daysInRange(info.from, info.to, info.time_zone || tz) : []);
  const moduleLabel = (m: string | null | undefined) => (m ? modules.data?.find((x) => x.api_name === m)?.plural_label ?? setupModuleLabel(m) ?? m
    : '(no module)');

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="baseline" wrap="wrap" gap="xs">
        <Title order={1}>Reports</Title>
        <Text size="sm" c="dimmed">Days and hours in {zoneLabel(tz)}</Text>
      </Group>

      <Paper withBorder p="md" component="section" aria-labelledby="report-filters">
        <Stack gap="sm">
          <Title order={2} size="h4" id="report-filters">Filters</Title>
          <SimpleGrid cols={{ base: 1, sm: 4 }} spacing="sm">
            <Select label="Time range" data={RANGES.map(([value, label]) => ({ value, label }))} value={filters.range} allowDeselect={false}
              onChange={(v) => v && set({ range: v as ReportFilters['range'] })} />
            <Select label="Module" placeholder="All modules" clearable searchable value={filters.module}
              data={(modules.data ?? []).map((m) => ({ value: m.api_name, label: m.plural_label }))} onChange={(v) => set({ module: v })} />
            <Select label="Action" placeholder="All actions" clearable searchable value={filters.action}
              data={AUDIT_ACTIONS.map((a) => ({ value: a, label: actionLabel(a) }))} onChange={(v) => set({ action: v })} />
            <Select label="Source" placeholder="All sources" clearable value={filters.source}
              data={AUDIT_SOURCES.map((s) => ({ value: s, label: sourceLabel(s) }))} onChange={(v) => set({ source: v })} />
          </SimpleGrid>
          {info && <Text size="sm" c="dimmed">From {formatTime(info.from, tz)} to {formatTime(info.to, tz)}.</Text>}
        </Stack>
      </Paper>

      <ChartPanel id="chart-over-time" title="Activity over time by action" state={state(overTime)}
        table={(
          <Table striped withTableBorder mt="xs">
            <caption>Entries per day and action</caption>
            <Table.Thead><Table.Tr><Table.Th scope="col">Day</Table.Th>
              {timeline.actions.map((a) => <Table.Th key={a} scope="col">{actionLabel(a)}</Table.Th>)}</Table.Tr></Table.Thead>
            <Table.Tbody>
              {timeline.data.map((d) => (
                <Table.Tr key={String(d.day)}><Table.Th scope="row">{String(d.day)}</Table.Th>
                  {timeline.actions.map((a) => <Table.Td key={a}>{d[a]}</Table.Td>)}</Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}>
        <TimelineChart data={timeline.data} actions={timeline.actions} />
      </ChartPanel>

      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="lg">
        <ChartPanel id="chart-top-users" title="Top users" state={state(topUsers)}
          table={<CountsTable caption="Entries per user" rows={topUsers.data?.rows ?? []} label={(r) => r.done_by?.name || '(unknown)'} />}>
          <RankingChart color="indigo.7" data={(topUsers.data?.rows ?? []).map((r) => ({ name: r.done_by?.name || '(unknown)', entries: r.count }))} />
        </ChartPanel>
        <ChartPanel id="chart-top-modules" title="Top modules" state={state(topModules)}
          table={<CountsTable caption="Entries per module" rows={topModules.data?.rows ?? []} label={(r) => moduleLabel(r.module)} />}>
          <RankingChart color="teal.7" data={(topModules.data?.rows ?? []).map((r) => ({ name: moduleLabel(r.module), entries: r.count }))} />
        </ChartPanel>
      </SimpleGrid>

      <Paper withBorder p="md" component="section" aria-labelledby="heatmap-title">
        <Stack gap="sm">
          <Title order={2} size="h4" id="heatmap-title">Activity by hour and weekday</Title>
          {heat.isPending ? <LoadingState label="Loading the heat map" /> : heat.isError
            ? <ErrorState error={heat.error} title="The heat map cannot be loaded" /> : <HeatMap rows={heat.data?.rows ?? []} />}
        </Stack>
      </Paper>

      <Stack gap="sm" component="section" aria-labelledby="saved-reports">
        <Title order={2} size="h4" id="saved-reports">Saved reports</Title>
        {(templates.data ?? []).map((t) => (
          <Paper key={t.name} withBorder p="sm">
            <Group justify="space-between" wrap="wrap">
              <div>
                <Text fw={600}>{t.title}</Text>
                <Text size="sm" c="dimmed">{t.description} {scheduleLabel(t.schedule)}, to your email when the server can send mail.</Text>
              </div>
              <Button onClick={() => fromTemplate.mutate(t.name)} loading={fromTemplate.isPending && fromTemplate.variables === t.name}>
                Add “{t.title}”
              </Button>
            </Group>
          </Paper>
        ))}
        {fromTemplate.isError && <ErrorState error={fromTemplate.error} title="The report cannot be saved" />}
        {fromTemplate.isSuccess && <Alert color="teal" role="status">Saved “{fromTemplate.data.name}”: it is listed below.</Alert>}

        <Paper withBorder p="sm">
          <form onSubmit={submit} aria-labelledby="save-view">
            <Stack gap="xs">
              <Title order={3} size="h5" id="save-view">Save the current filters as a report</Title>
              <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
                <TextInput label="Report name" value={name} onChange={(e) => setName(e.currentTarget.value)} required maxLength={120} />
                <Select label="Schedule" value={frequency} onChange={setFrequency} allowDeselect={false}
                  data={[{ value: 'none', label: 'Not scheduled' }, { value: 'daily', label: 'Daily at 08:00' },
                    { value: 'weekly', label: 'Weekly on Monday at 08:00' }, { value: 'monthly', label: 'Monthly on the 1st at 08:00' }]} />
                <TextInput label="Email to" description="comma-separated" value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
              </SimpleGrid>
              {save.isError && <ErrorState error={save.error} title="The report cannot be saved" />}
              {secret && <Alert color="yellow" role="status">Webhook secret (shown once): <Code>{secret}</Code></Alert>}
              <Group><Button type="submit" loading={save.isPending} disabled={!name.trim()}>Save report</Button></Group>
            </Stack>
          </form>
        </Paper>

        {saved.isPending ? <LoadingState label="Loading the saved reports" />
          : saved.isError ? <ErrorState error={saved.error} onRetry={() => saved.refetch()} title="The saved reports cannot be loaded" />
            : (saved.data ?? []).length === 0
              ? <EmptyState title="No saved reports yet">Add the team activity report above, or save the current filters.</EmptyState>
              : (saved.data ?? []).map((r) => <SavedReportCard key={r.id} report={r} tz={tz} onDelete={() => setDeleting(r)} />)}
      </Stack>

      <ConfirmDialog opened={deleting !== null} title={`Delete “${deleting?.name ?? ''}”?`} confirmLabel="Delete report"
        busy={remove.isPending} error={remove.error} onConfirm={() => deleting && remove.mutate(deleting.id)}
        onCancel={() => { setDeleting(null); remove.reset(); }}>
        The report, its schedule and its run history are removed. Entries it read stay in the audit log.
      </ConfirmDialog>
    </Stack>
  );
}
