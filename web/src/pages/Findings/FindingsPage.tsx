import { useMemo, useState } from 'react';
import { Alert, Anchor, Badge, Button, Group, Select, Stack, Table, Text, Textarea, Title, VisuallyHidden } from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { useSession } from '../../session.tsx';
import { acknowledgeFinding, FINDING_KINDS, listFindings, SEVERITIES, type Finding } from '../../api/findings.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { formatTime, zoneLabel } from '../../lib/time.ts';

export const KIND_LABELS: Record<string, string> = {
  failed_login_burst: 'Failed sign-in burst', mass_deletion: 'Mass deletion', data_leaving: 'Data leaving',
  permission_change: 'Permission change', off_hours: 'Off-hours activity', activity_burst: 'Activity burst',
};
const SEVERITY_COLORS: Record<string, string> = { high: 'red', medium: 'orange', low: 'gray' };

/** An ISO time with its offset, moved by some seconds and kept in the same offset. */
function shiftIso(iso: string, seconds: number): string {
  const m = /([+-]\d\d:\d\d|Z)$/.exec(iso);
  const suffix = m ? m[1] : 'Z';
  const offset = suffix === 'Z' ? 0 : (suffix[0] === '-' ? -1 : 1) * (Number(suffix.slice(1, 3)) * 60 + Number(suffix.slice(4, 6)));
  const local = new Date(Date.parse(iso) + seconds * 1000 + offset * 60_000).toISOString().slice(0, 19);
  return `${local}${suffix}`;
}

/** The audit log, filtered to the finding's user and time span (the span's last second included). */
export function entriesLink(f: Finding): string {
  const p = new URLSearchParams();
  if (f.user.id) p.set('done_by', f.user.id);
  p.set('from', f.started_at);
  p.set('to', shiftIso(f.ended_at, 1));
  if (f.entry_ids.length === 1) p.set('entry', f.entry_ids[0]);
  return `/audit-log?${p.toString()}`;
}

interface ListProps {
  findings: Finding[];
  timeZone: string;
  onAcknowledge: (f: Finding) => void;
}

function SeverityBadge({ f }: { f: Finding }) {
  return <Badge color={SEVERITY_COLORS[f.severity]} variant="light" style={{ overflow: 'visible' }}>{f.severity}</Badge>;
}

function EntriesLink({ f }: { f: Finding }) {
  return (
    <Anchor component={Link} to={entriesLink(f)} size="sm">
      {f.entry_ids.length === 1 ? 'Show the entry' : `Show the ${f.entry_ids.length} entries`}
      <VisuallyHidden> behind: {f.explanation}</VisuallyHidden>
    </Anchor>
  );
}

/** Who acknowledged the finding and why, or the button that does. */
function Status({ f, onAcknowledge }: { f: Finding; onAcknowledge: (f: Finding) => void }) {
  return f.acknowledgement ? (
    <Text size="sm">Acknowledged by {f.acknowledgement.by.name}{f.acknowledgement.note ? `: ${f.acknowledgement.note}` : ''}</Text>
  ) : (
    <Button size="xs" variant="light" onClick={() => onAcknowledge(f)}
      aria-label={`Acknowledge: ${f.user.name}, ${f.explanation}`}>Acknowledge</Button>
  );
}

/** The findings as a table: When, Severity, Kind, User, What happened, Status. */
function FindingTable({ findings, timeZone, onAcknowledge }: ListProps) {
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped highlightOnHover verticalSpacing="sm" aria-label="Findings">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">When</Table.Th>
            <Table.Th scope="col">Severity</Table.Th>
            <Table.Th scope="col">Kind</Table.Th>
            <Table.Th scope="col">User</Table.Th>
            <Table.Th scope="col">What happened</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {findings.map((f) => (
            <Table.Tr key={f.id}>
              <Table.Td><Text size="sm">{formatTime(f.started_at, timeZone, false)}</Text></Table.Td>
              <Table.Td miw={96}><SeverityBadge f={f} /></Table.Td>
              <Table.Td><Text size="sm">{KIND_LABELS[f.kind] ?? f.kind}</Text></Table.Td>
              <Table.Td><Text size="sm">{f.user.name}</Text></Table.Td>
              <Table.Td>
                <Stack gap={2}>
                  <Text size="sm">{f.explanation}</Text>
                  <EntriesLink f={f} />
                </Stack>
              </Table.Td>
              <Table.Td><Status f={f} onAcknowledge={onAcknowledge} /></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/**
 * The findings as stacked cards, for phones, where the table's last columns (what happened, the
 * Acknowledge button) would sit off the screen's right edge: the same fields and the same button.
 */
function FindingCards({ findings, timeZone, onAcknowledge }: ListProps) {
  return (
    <CardList aria-label="Findings">
      {findings.map((f) => (
        <Card key={f.id}>
          <Group gap="xs" wrap="nowrap" justify="space-between" align="flex-start">
            <Group gap={6} wrap="wrap">
              <SeverityBadge f={f} />
              <Text size="sm" fw={600} span>{KIND_LABELS[f.kind] ?? f.kind}</Text>
            </Group>
            <Text size="xs" c="dimmed" ta="right">{formatTime(f.started_at, timeZone, false)}</Text>
          </Group>
          <Text size="sm" fw={500} mt={6}>{f.user.name}</Text>
          <Text size="sm" mt={2} style={{ overflowWrap: 'anywhere' }}>{f.explanation}</Text>
          <EntriesLink f={f} />
          <Group mt="xs"><Status f={f} onAcknowledge={onAcknowledge} /></Group>
        </Card>
      ))}
    </CardList>
  );
}

/** Findings of the anomaly detectors: filters in the URL, the explanation, the entries behind each, acknowledgement. */
export default function FindingsPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const client = useQueryClient();
  const [params, setParams] = useSearchParams();
  const kind = params.get('kind') ?? '';
  const severity = params.get('severity') ?? '';
  const user = params.get('user') ?? '';
  const [acking, setAcking] = useState<Finding | null>(null);
  const [note, setNote] = useState('');
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;

  const findings = useQuery({ queryKey: ['findings', kind, user], queryFn: () => listFindings({ kind: kind || undefined, user: user || undefined }) });
  // The users to filter by: everyone the findings name (the server decides whom the viewer sees).
  const all = useQuery({ queryKey: ['findings', '', ''], queryFn: () => listFindings({}), enabled: !!(kind || user) });
  const users = useMemo(() => {
    const seen = new Map<string, string>();
    for (const f of [...(all.data ?? []), ...(findings.data ?? [])]) if (f.user.id) seen.set(f.user.id, f.user.name);
    return [...seen].map(([value, label]) => ({ value, label })).sort((a, b) => a.label.localeCompare(b.label));
  }, [all.data, findings.data]);
  const shown = (findings.data ?? []).filter((f) => !severity || f.severity === severity);

  const ack = useMutation({
    mutationFn: (f: Finding) => acknowledgeFinding(f.id, note),
    onSuccess: () => {
      setAcking(null);
      setNote('');
      void client.invalidateQueries({ queryKey: ['findings'] });
    },
  });

  const startAck = (f: Finding) => {
    ack.reset();
    setNote('');
    setAcking(f);
  };

  const setFilter = (key: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value); else next.delete(key);
    setParams(next);
  };

  return (
    <Stack gap="lg">
      <Group justify="space-between" align="baseline" wrap="wrap" gap="xs">
        <Title order={1}>Findings</Title>
        <Text size="sm" c="dimmed">Times in {zoneLabel(tz)}</Text>
      </Group>
      <Text size="sm" c="dimmed">
        Unusual behaviour the detectors found in the audit log, checked every minute: bursts of failed sign-ins, mass deletions,
        data leaving, permission changes, work at unusual hours and bursts of activity. Each says why, with the numbers.
      </Text>
      <Group gap="sm" align="flex-end" wrap="wrap" role="search" aria-label="Filter findings">
        <Select label="Kind" placeholder="All kinds" clearable value={kind || null} onChange={(v) => setFilter('kind', v)}
          data={FINDING_KINDS.map((k) => ({ value: k, label: KIND_LABELS[k] }))} />
        <Select label="Severity" placeholder="Any severity" clearable value={severity || null} onChange={(v) => setFilter('severity', v)}
          data={SEVERITIES.map((s) => ({ value: s, label: s[0].toUpperCase() + s.slice(1) }))} />
        <Select label="User" placeholder="Everyone" clearable searchable value={user || null} onChange={(v) => setFilter('user', v)}
          data={user && !users.some((u) => u.value === user) ? [...users, { value: user, label: user }] : users} nothingFoundMessage="No such user" />
        {(kind || severity || user) && <Button variant="subtle" onClick={() => setParams(new URLSearchParams())}>Clear filters</Button>}
      </Group>

      {findings.isPending ? <LoadingState label="Loading findings" />
        : findings.isError ? <ErrorState error={findings.error} onRetry={() => void findings.refetch()} title="The findings cannot be loaded" />
          : shown.length === 0 ? (
            <EmptyState title={kind || severity || user ? 'No findings match these filters' : 'No findings'}>
              {kind || severity || user ? 'Clear the filters to see every finding you may see.'
                : 'Nothing unusual has been found in the entries you may see.'}
            </EmptyState>
          ) : (
            isPhone ? <FindingCards findings={shown} timeZone={tz} onAcknowledge={startAck} />
              : <FindingTable findings={shown} timeZone={tz} onAcknowledge={startAck} />
          )}
      {findings.data && findings.data.length >= 1000 && (
        <Alert color="yellow" role="status">Only the newest 1,000 findings are shown: narrow the filters to see older ones.</Alert>
      )}

      <ConfirmDialog opened={acking !== null} title="Acknowledge finding" confirmLabel="Acknowledge" color="indigo" busy={ack.isPending}
        error={ack.error} onCancel={() => setAcking(null)} onConfirm={() => { if (acking) ack.mutate(acking); }}>
        <Text size="sm">{acking?.user.name}: {acking?.explanation}</Text>
        <Textarea label="Note (optional)" description="Why it is fine, or what was done. The acknowledgement is recorded in the audit log."
          value={note} onChange={(e) => setNote(e.currentTarget.value)} maxLength={1000} autosize minRows={2} />
      </ConfirmDialog>
    </Stack>
  );
}
