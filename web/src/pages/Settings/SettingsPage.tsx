import { useState, type FormEvent } from 'react';
import {
  Alert, Badge, Button, Code, CopyButton, Group, NumberInput, Paper, SimpleGrid, Stack, Switch, Table, Text, Title, Tooltip,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../session.tsx';
import { getIntegrity, getOrgSettings, patchOrgSettings, type IntegrityStatus, type OrgSettings } from '../../api/settings.ts';
import { listUsers, updateUser, type DirectoryUser } from '../../api/directory.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { formatTime, zoneLabel } from '../../lib/time.ts';
import { DataSharing } from './DataSharing.tsx';
import { draftOf, draftPatch, draftProblems, NUMBER_SETTINGS, type SettingsDraft } from './settingsForm.ts';

const SETTINGS_KEY = ['console', 'settings'] as const;
const USERS_KEY = ['directory', 'users'] as const;
const fmt = (n: number) => n.toLocaleString('en-US');
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The organisation's audit log settings, edited as a form and saved with PATCH. */
function OrgSettingsForm({ saved }: { saved: OrgSettings }) {
  const client = useQueryClient();
  const [draft, setDraft] = useState<SettingsDraft>(() => draftOf(saved));
  const [done, setDone] = useState(false);
  const problems = draftProblems(draft);
  const patch = draftPatch(saved, draft);
  const changed = Object.keys(patch).length > 0;
  const save = useMutation({
    mutationFn: () => patchOrgSettings(patch),
    onMutate: () => setDone(false),
    onSuccess: (next) => {
      client.setQueryData(SETTINGS_KEY, next);
      setDraft(draftOf(next));
      setDone(true);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (changed && Object.keys(problems).length === 0) save.mutate();
  };
  const set = (p: Partial<SettingsDraft>) => {
    setDraft((d) => ({ ...d, ...p }));
    setDone(false);
    save.reset();
  };
  return (
    <form onSubmit={submit} noValidate>
      <Stack gap="md">
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
          {NUMBER_SETTINGS.map((f) => (
            <NumberInput key={f.key} label={f.label} description={f.description} min={f.min} max={f.max} allowDecimal={false}
              allowNegative={false} clampBehavior="none" thousandSeparator="," value={draft[f.key]} onChange={(v) => set({ [f.key]: v } as Partial<SettingsDraft>)}
              error={problems[f.key]} />
          ))}
        </SimpleGrid>
        <Switch label="Legal hold" checked={draft.legal_hold} onChange={(e) => set({ legal_hold: e.currentTarget.checked })}
          description="While on, nothing is purged from the audit log, whatever the retention; turn it on during an investigation or litigation." />
        {save.isError && <Alert color="red" role="alert" title="The settings were not saved">{message(save.error)}</Alert>}
        {done && <Alert color="teal" role="status">Settings saved. The change is in the audit log.</Alert>}
        <Group gap="sm">
          <Button type="submit" loading={save.isPending} disabled={!changed || Object.keys(problems).length > 0}>Save</Button>
          {changed && <Button variant="subtle" onClick={() => { setDraft(draftOf(saved)); save.reset(); }}>Undo changes</Button>}
        </Group>
      </Stack>
    </form>
  );
}

/** A Switch per user for email tracking, each saved at once through the users API. */
function EmailTracking({ users }: { users: DirectoryUser[] }) {
  const client = useQueryClient();
  const [errors, setErrors] = useState<Record<string, string>>({});
  const toggle = useMutation({
    mutationFn: ({ user, on }: { user: DirectoryUser; on: boolean }) => updateUser(user.id, { email_tracking: on }),
    onMutate: async ({ user, on }) => {
      setErrors((e) => ({ ...e, [user.id]: '' }));
      await client.cancelQueries({ queryKey: USERS_KEY });
      client.setQueryData<DirectoryUser[]>(USERS_KEY, (list) => list?.map((u) => (u.id === user.id ? { ...u, email_tracking: on } : u)));
    },
    onError: (err, { user }) => setErrors((e) => ({ ...e, [user.id]: message(err) })),
    onSettled: () => client.invalidateQueries({ queryKey: USERS_KEY }),
  });
  const active = users.filter((u) => u.status !== 'deleted').sort((a, b) => a.full_name.localeCompare(b.full_name));
  if (active.length === 0) return <EmptyState title="No users" />;
  return (
    <Table.ScrollContainer minWidth={360} type="native">
      <Table verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr><Table.Th>User</Table.Th><Table.Th>Email tracking</Table.Th></Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {active.map((u) => (
            <Table.Tr key={u.id}>
              <Table.Td>
                <Text size="sm" fw={500}>{u.full_name}</Text>
                <Text size="xs" c="dimmed">{u.email}</Text>
              </Table.Td>
              <Table.Td>
                <Switch aria-label={`Email tracking for ${u.full_name}`} checked={u.email_tracking}
                  disabled={toggle.isPending && toggle.variables?.user.id === u.id}
                  onChange={(e) => toggle.mutate({ user: u, on: e.currentTarget.checked })}
                  error={errors[u.id] || undefined} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

const REASONS: Record<string, string> = { interval: 'on schedule', export: 'for an export', stop: 'at shutdown', verify: 'after a verify' };

/** The last verify, the newest signed head and the public key. */
function Integrity({ s, tz }: { s: IntegrityStatus; tz: string }) {
  const v = s.last_verify;
  const h = s.newest_head;
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="md">
        <Paper withBorder p="sm" component="section" aria-labelledby="last-verify">
          <Stack gap={4}>
            <Title order={3} size="h5" id="last-verify">Last verify</Title>
            {v ? (
              <>
                <Group gap="xs">
                  <Badge color={v.ok ? 'teal.9' : 'red.8'} variant="filled">{v.ok ? 'Intact' : 'Broken'}</Badge>
                  <Text size="sm"><time dateTime={v.at}>{formatTime(v.at, tz)}</time></Text>
                </Group>
                <Text size="sm">
                  {fmt(v.entries)} entr{v.entries === 1 ? 'y' : 'ies'} checked
                  {v.last_seq !== undefined ? ` (through sequence ${fmt(v.last_seq)})` : ''}
                  {v.ok ? '; the chain is unbroken.' : `; ${fmt(v.breaks)} break${v.breaks === 1 ? '' : 's'} found.`}
                </Text>
                {!v.ok && v.first_break && <Text size="sm" c="red">First break: {v.first_break}</Text>}
              </>
            ) : (
              <Text size="sm" c="dimmed">The chain has not been verified yet. Run <Code>auditrail verify</Code> on the server.</Text>
            )}
          </Stack>
        </Paper>
        <Paper withBorder p="sm" component="section" aria-labelledby="signed-head">
          <Stack gap={4}>
            <Title order={3} size="h5" id="signed-head">Newest signed head</Title>
            {h ? (
              <>
                <Text size="sm">Sequence {fmt(h.seq)}, signed <time dateTime={h.signed_at}>{formatTime(h.signed_at, tz)}</time>{h.reason && REASONS[h.reason] ? ` ${REASONS[h.reason]}` : ''}.</Text>
                <Text size="sm">
                  Hash <Tooltip label={h.hash} withArrow><Code aria-label={`Hash ${h.hash}`} tabIndex={0}>{h.hash.slice(0, 12)}…</Code></Tooltip>
                  {' '}with key <Code>{h.key_id}</Code>
                </Text>
              </>
            ) : (
              <Text size="sm" c="dimmed">No head has been signed yet: one is signed on schedule and for each export.</Text>
            )}
          </Stack>
        </Paper>
      </SimpleGrid>
      <Paper withBorder p="sm" component="section" aria-labelledby="public-key">
        <Stack gap={6}>
          <Group justify="space-between" gap="xs">
            <Title order={3} size="h5" id="public-key">Public key ({s.public_key.algorithm}, key {s.public_key.key_id})</Title>
            <CopyButton value={s.public_key.public_key} timeout={2000}>
              {({ copied, copy }) => (
                <Button size="xs" variant={copied ? 'filled' : 'light'} color={copied ? 'teal.9' : undefined} onClick={copy}
                  aria-label={copied ? 'Public key copied' : 'Copy public key'}>
                  {copied ? 'Copied' : 'Copy public key'}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Text size="xs" c="dimmed">Anyone can check signed heads and exports offline with it (<Code>auditrail verify --public-key</Code>).</Text>
          <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>{s.public_key.public_key.trim()}</Code>
        </Stack>
      </Paper>
    </Stack>
  );
}

/** Settings (administrators): audit log settings, data sharing, email tracking per user, integrity status. */
export default function SettingsPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const settings = useQuery({ queryKey: SETTINGS_KEY, queryFn: getOrgSettings });
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => listUsers(), staleTime: 60_000 });
  const integrity = useQuery({ queryKey: ['console', 'integrity'], queryFn: getIntegrity });
  return (
    <Stack gap="lg">
      <Group justify="space-between" align="baseline" wrap="wrap" gap="xs">
        <Title order={1}>Settings</Title>
        <Text size="sm" c="dimmed">Times in {zoneLabel(tz)}</Text>
      </Group>

      <Paper withBorder p="md" component="section" aria-labelledby="org-settings">
        <Stack gap="sm">
          <Title order={2} size="h4" id="org-settings">Audit log and recycle bin</Title>
          {settings.isPending ? <LoadingState label="Loading the settings" />
            : settings.isError ? <ErrorState error={settings.error} onRetry={() => settings.refetch()} title="The settings cannot be loaded" />
              : <OrgSettingsForm saved={settings.data} />}
        </Stack>
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="data-sharing">
        <Stack gap="sm">
          <Title order={2} size="h4" id="data-sharing">Data sharing</Title>
          <DataSharing />
        </Stack>
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="email-tracking">
        <Stack gap="sm">
          <Title order={2} size="h4" id="email-tracking">Email tracking</Title>
          <Text size="sm" c="dimmed">Whether the emails each user sends from the CRM are recorded in the audit log.</Text>
          {users.isPending ? <LoadingState label="Loading the users" />
            : users.isError ? <ErrorState error={users.error} onRetry={() => users.refetch()} title="The users cannot be loaded" />
              : <EmailTracking users={users.data} />}
        </Stack>
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="integrity">
        <Stack gap="sm">
          <Title order={2} size="h4" id="integrity">Integrity</Title>
          <Text size="sm" c="dimmed">Every audit entry is chained to the one before; signed heads pin the chain so that no entry can be changed or removed unnoticed.</Text>
          {integrity.isPending ? <LoadingState label="Loading the integrity status" />
            : integrity.isError ? <ErrorState error={integrity.error} onRetry={() => integrity.refetch()} title="The integrity status cannot be loaded" />
              : <Integrity s={integrity.data} tz={tz} />}
        </Stack>
      </Paper>
    </Stack>
  );
}

