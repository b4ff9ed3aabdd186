import { useState, type FormEvent } from 'react';
import {
  Alert, Badge, Button, Checkbox, Code, Group, NumberInput, Paper, Select, SimpleGrid, Stack, Table, Text, TextInput, Title,
} from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { createStream, deleteStream, listStreams, rewindStream, setStreamStatus, type Stream, type StreamType } from '../../api/streams.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';

const STREAMS_KEY = ['streams'] as const;
const TYPE_LABELS: Record<StreamType, string> = { https: 'HTTPS (JSON lines)', syslog: 'Syslog (RFC 5424)', nats: 'NATS JetStream' };

interface Form { name: string; type: StreamType; url: string; host: string; port: string; tls: boolean; servers: string; jsStream: string;
  fromStart: boolean }
const EMPTY: Form = { name: '', type: 'https', url: '', host: '', port: '', tls: true, servers: 'nats://127.0.0.1:4222', jsStream: '', fromStart: false };

function destinationOf(f: Form): Record<string, unknown> {
  if (f.type === 'https') return { url: f.url.trim() };
  if (f.type === 'syslog') return { host: f.host.trim(), tls: f.tls, ...(f.port.trim() ? { port: Number(f.port) } : {}) };
  return { servers: f.servers.split(',').map((s) => s.trim()).filter(Boolean),
    ...(f.jsStream.trim() ? { stream: f.jsStream.trim(), create_stream: true } : {}) };
}

const where = (s: Stream) => String(s.type === 'https' ? s.destination.url : s.type === 'syslog'
  ? `${s.destination.tls ? 'tls' : 'tcp'}://${String(s.destination.host)}:${String(s.destination.port)}` : s.destination.subject);

interface ListProps {
  streams: Stream[];
  phone: boolean;
  /** The stream being paused or resumed. */
  busyId?: string;
  onToggle: (s: Stream) => void;
  onRewind: (s: Stream) => void;
  onDelete: (s: Stream) => void;
}

function StreamStatus({ s }: { s: Stream }) {
  return (
    <>
      <Badge color={s.status === 'paused' ? 'gray.7' : s.error ? 'red.8' : 'teal.9'} variant="filled">
        {s.status === 'paused' ? 'Paused' : s.error ? 'Failing' : 'Active'}
      </Badge>
      {s.error && <Text size="xs" role="note">{s.error.message} ({s.error.failures} failed {s.error.failures === 1 ? 'attempt' : 'attempts'})</Text>}
      {s.gap && <Text size="xs" role="note">{s.gap.message}</Text>}
    </>
  );
}

const lag = (s: Stream) => `${s.progress.lag_entries} ${s.progress.lag_entries === 1 ? 'entry' : 'entries'}, ${s.progress.lag_seconds} s`;

function StreamActions({ s, busyId, onToggle, onRewind, onDelete }: { s: Stream } & Omit<ListProps, 'streams' | 'phone'>) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Button size="xs" variant="light" loading={busyId === s.id} onClick={() => onToggle(s)}
        aria-label={`${s.status === 'active' ? 'Pause' : 'Resume'} ${s.name}`}>
        {s.status === 'active' ? 'Pause' : 'Resume'}
      </Button>
      <Button size="xs" variant="light" onClick={() => onRewind(s)} aria-label={`Rewind ${s.name}`}>Rewind</Button>
      <Button size="xs" variant="light" color="red" onClick={() => onDelete(s)} aria-label={`Delete ${s.name}`}>Delete</Button>
    </Group>
  );
}

/**
 * The streams as a table, or on a phone as stacked cards (the table's last columns, lag and the
 * buttons, would sit off the screen's right edge): the same fields and buttons either way.
 */
function StreamList({ streams, phone, ...actions }: ListProps) {
  if (phone) {
    return (
      <CardList aria-labelledby="streams-list">
        {streams.map((s) => (
          <Card key={s.id} aria-label={s.name}>
            <Group justify="space-between" align="flex-start" wrap="nowrap" gap="xs">
              <div>
                <Text size="sm" fw={600}>{s.name}</Text>
                <Text size="xs" c="dimmed">{TYPE_LABELS[s.type]}</Text>
              </div>
              <Stack gap={2} align="flex-end"><StreamStatus s={s} /></Stack>
            </Group>
            <Text size="sm" mt={6} style={{ wordBreak: 'break-all' }}>{where(s)}</Text>
            <Text size="sm" mt={4}>Delivered to seq {s.progress.cursor_seq} of {s.progress.head_seq} · lag {lag(s)}</Text>
            <Group mt="xs"><StreamActions s={s} {...actions} /></Group>
          </Card>
        ))}
      </CardList>
    );
  }
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table striped aria-labelledby="streams-list">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th><Table.Th scope="col">Destination</Table.Th><Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Delivered to seq</Table.Th><Table.Th scope="col">Lag</Table.Th><Table.Th scope="col">Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {streams.map((s) => (
            <Table.Tr key={s.id}>
              <Table.Th scope="row">{s.name}<Text size="xs" c="dimmed">{TYPE_LABELS[s.type]}</Text></Table.Th>
              <Table.Td><Text size="sm" style={{ wordBreak: 'break-all' }}>{where(s)}</Text></Table.Td>
              <Table.Td><StreamStatus s={s} /></Table.Td>
              <Table.Td>{s.progress.cursor_seq} of {s.progress.head_seq}</Table.Td>
              <Table.Td>{lag(s)}</Table.Td>
              <Table.Td><StreamActions s={s} {...actions} /></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** SIEM streams: each with its progress and lag; create, pause or resume, rewind, delete. */
export default function StreamsPage() {
  const client = useQueryClient();
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  const [form, setForm] = useState<Form>(EMPTY);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [rewinding, setRewinding] = useState<{ id: string; name: string; seq: number | string } | null>(null);
  const [deleting, setDeleting] = useState<Stream | null>(null);
  const streams = useQuery({ queryKey: STREAMS_KEY, queryFn: listStreams, refetchInterval: 3000 });
  const refresh = () => client.invalidateQueries({ queryKey: STREAMS_KEY });

  const create = useMutation({
    mutationFn: () => createStream({ name: form.name.trim(), type: form.type, destination: destinationOf(form), ...(form.fromStart ? { from_seq: 1 } : {}) }),
    onSuccess: (r) => {
      setSecret(r.secret ? { name: r.stream.name, value: r.secret } : null);
      setForm(EMPTY);
      void refresh();
    },
  });
  const status = useMutation({ mutationFn: (s: Stream) => setStreamStatus(s.id, s.status === 'active' ? 'paused' : 'active'), onSuccess: () => refresh() });
  const rewind = useMutation({
    mutationFn: (r: { id: string; seq: number }) => rewindStream(r.id, r.seq),
    onSuccess: () => { setRewinding(null); void refresh(); },
  });
  const remove = useMutation({ mutationFn: (id: string) => deleteStream(id), onSuccess: () => { setDeleting(null); void refresh(); } });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const set = (patch: Partial<Form>) => { setForm((f) => ({ ...f, ...patch })); create.reset(); };

  return (
    <Stack gap="lg">
      <Title order={1}>Streams</Title>
      <Text size="sm">
        Streams send the audit entries you may see, continuously and in chain order, to a SIEM. Each entry carries its chain
        <Code>seq</Code>, <Code>hash</Code> and <Code>prev_hash</Code>, so the receiver can check that nothing is missing.
      </Text>

      <Paper withBorder p="md" component="section" aria-labelledby="streams-list">
        <Title order={2} size="h4" id="streams-list" mb="sm">Your streams</Title>
        {streams.isPending ? <LoadingState label="Loading streams" />
          : streams.isError ? <ErrorState error={streams.error} onRetry={() => void streams.refetch()} />
            : streams.data.length === 0 ? <EmptyState title="No streams yet">Create one below to send the audit log to your SIEM.</EmptyState>
              : (
                <StreamList streams={streams.data} phone={isPhone} busyId={status.isPending ? status.variables?.id : undefined}
                  onToggle={(st) => status.mutate(st)}
                  onRewind={(st) => { rewind.reset(); setRewinding({ id: st.id, name: st.name, seq: 1 }); }}
                  onDelete={(st) => { remove.reset(); setDeleting(st); }} />
              )}
        {status.isError && <ErrorState error={status.error} title="The stream could not be changed" />}
      </Paper>

      {secret && (
        <Alert color="yellow" title={`Signing secret of ${secret.name}`} role="status" withCloseButton onClose={() => setSecret(null)} closeButtonLabel="Dismiss">
          <Text size="sm">Give it to the receiver now: it checks <Code>X-Auditrail-Signature</Code> with it. It is not shown again.</Text>
          <Code block mt="xs">{secret.value}</Code>
        </Alert>
      )}

      <Paper withBorder p="md" component="section" aria-labelledby="new-stream">
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <Title order={2} size="h4" id="new-stream">New stream</Title>
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
              <TextInput label="Name" required value={form.name} onChange={(e) => set({ name: e.currentTarget.value })} />
              <Select label="Destination type" required allowDeselect={false} value={form.type}
                data={(Object.keys(TYPE_LABELS) as StreamType[]).map((t) => ({ value: t, label: TYPE_LABELS[t] }))}
                onChange={(v) => set({ type: (v ?? 'https') as StreamType })} />
            </SimpleGrid>
            {form.type === 'https' && (
              <TextInput label="Endpoint URL" required description="https, or http to this machine" value={form.url}
                onChange={(e) => set({ url: e.currentTarget.value })} />
            )}
            {form.type === 'syslog' && (
              <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
                <TextInput label="Host" required value={form.host} onChange={(e) => set({ host: e.currentTarget.value })} />
                <TextInput label="Port" description={form.tls ? 'default 6514' : 'default 601'} inputMode="numeric" value={form.port}
                  onChange={(e) => set({ port: e.currentTarget.value })} />
                <Checkbox label="Over TLS" mt="lg" checked={form.tls} onChange={(e) => set({ tls: e.currentTarget.checked })} />
              </SimpleGrid>
            )}
            {form.type === 'nats' && (
              <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
                <TextInput label="NATS servers" required description="comma-separated nats:// addresses" value={form.servers}
                  onChange={(e) => set({ servers: e.currentTarget.value })} />
                <TextInput label="JetStream stream" description="created when missing; empty: an existing stream takes the subject" value={form.jsStream}
                  onChange={(e) => set({ jsStream: e.currentTarget.value })} />
              </SimpleGrid>
            )}
            <Checkbox label="Start from the first entry of the audit log (otherwise from now on)" checked={form.fromStart}
              onChange={(e) => set({ fromStart: e.currentTarget.checked })} />
            {create.isError && <ErrorState error={create.error} title="The stream could not be created" />}
            <Group><Button type="submit" loading={create.isPending}>Create stream</Button></Group>
          </Stack>
        </form>
      </Paper>

      <ConfirmDialog opened={rewinding !== null} title={`Rewind ${rewinding?.name ?? ''}`} confirmLabel="Rewind" color="indigo"
        busy={rewind.isPending} error={rewind.error}
        onConfirm={() => { if (rewinding) rewind.mutate({ id: rewinding.id, seq: Number(rewinding.seq) }); }} onCancel={() => setRewinding(null)}>
        <Stack gap="xs">
          <Text size="sm">The stream delivers every entry again from this chain sequence, in order.</Text>
          <NumberInput label="From sequence" min={1} hideControls value={rewinding?.seq ?? 1} onChange={(v) => setRewinding((r) => (r ? { ...r, seq: v } : r))} />
        </Stack>
      </ConfirmDialog>
      <ConfirmDialog opened={deleting !== null} title={`Delete ${deleting?.name ?? ''}`} confirmLabel="Delete stream" busy={remove.isPending}
        error={remove.error} onConfirm={() => { if (deleting) remove.mutate(deleting.id); }} onCancel={() => setDeleting(null)}>
        <Text size="sm">Nothing more is sent to {deleting ? where(deleting) : ''}. Entries already delivered stay with the receiver.</Text>
      </ConfirmDialog>
    </Stack>
  );
}
