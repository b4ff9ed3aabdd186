import { useMemo, useState, type FormEvent } from 'react';
import {
  ActionIcon, Alert, Anchor, Badge, Button, Checkbox, Code, Group, Modal, MultiSelect, NumberInput, Paper, PasswordInput, SegmentedControl,
  Select, Stack, Switch, Table, TagsInput, Text, TextInput, Title, VisuallyHidden,
} from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useSession } from '../../session.tsx';
import {
  createRule, deleteRule, listDeliveries, listNotifications, listRules, markAllRead, retryDelivery, testRule, updateRule,
  MAX_WEBHOOK_BATCH, type AlertRule, type ConditionType,
} from '../../api/alerts.ts';
import { listModules, listProfiles, listRoles, listUsers } from '../../api/directory.ts';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { actionLabel, AUDIT_ACTIONS, AUDIT_SOURCES, SETUP_MODULES, sourceLabel } from '../../lib/audit-filters.ts';
import { formatTime } from '../../lib/time.ts';
import {
  CONDITION_LABELS, describeAction, describeCondition, EMPTY_FORM, FINDING_KINDS, formOf, formProblems, inputOf, type RuleForm,
} from './ruleForm.ts';

const RULES = ['alerts', 'rules'] as const;
const DELIVERIES = ['alerts', 'deliveries'] as const;
export const NOTIFICATIONS = ['alerts', 'notifications'] as const;

/** The console path of a link the server made with its public address. */
const localPath = (link: string) => {
  try {
    const u = new URL(link);
    return `${u.pathname}${u.search}`;
  } catch {
    return link;
  }
};

/** Alert rules (list, create, edit, enable, test, delete), their deliveries and dead letters, and the notifications. */
export default function AlertsPage() {
  const session = useSession();
  const tz = session.org.time_zone;
  const client = useQueryClient();
  const rules = useQuery({ queryKey: RULES, queryFn: listRules });
  const [status, setStatus] = useState('all');
  const deliveries = useQuery({ queryKey: [...DELIVERIES, status], queryFn: () => listDeliveries(status === 'all' ? undefined : status),
    refetchInterval: 5000 });
  const notifications = useQuery({ queryKey: NOTIFICATIONS, queryFn: listNotifications, refetchInterval: 10_000 });
  const users = useQuery({ queryKey: ['directory', 'users'], queryFn: () => listUsers(), staleTime: 60_000 });
  const profiles = useQuery({ queryKey: ['directory', 'profiles'], queryFn: listProfiles, staleTime: 60_000 });
  const roles = useQuery({ queryKey: ['directory', 'roles'], queryFn: listRoles, staleTime: 60_000 });
  const modules = useQuery({ queryKey: ['directory', 'modules'], queryFn: listModules, staleTime: 10 * 60_000 });

  const [editing, setEditing] = useState<AlertRule | 'new' | null>(null);
  const [secret, setSecret] = useState<{ rule: string; secret: string } | null>(null);
  const [deleting, setDeleting] = useState<AlertRule | null>(null);
  const [tested, setTested] = useState<{ rule: string; text: string; ok: boolean } | null>(null);

  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['alerts'] });
  };

  /** The values a condition of each type may take, as options with labels. */
  const options = useMemo(() => {
    const o: Record<ConditionType, { value: string; label: string }[]> = {
      action: AUDIT_ACTIONS.map((a) => ({ value: a, label: actionLabel(a) })),
      module: [...(modules.data ?? []).map((m) => ({ value: m.api_name, label: m.plural_label })),
        ...SETUP_MODULES.map((m) => ({ value: m, label: actionLabel(m) }))],
      user: (users.data ?? []).map((u) => ({ value: u.id, label: u.full_name })),
      profile: (profiles.data ?? []).map((p) => ({ value: p.id, label: p.name })),
      role: (roles.data ?? []).map((r) => ({ value: r.id, label: r.name })),
      source: AUDIT_SOURCES.map((s) => ({ value: s, label: sourceLabel(s) })),
      field: [],
      finding: FINDING_KINDS.map((k) => ({ value: k, label: actionLabel(k) })),
    };
    return o;
  }, [modules.data, users.data, profiles.data, roles.data]);
  const valueLabel = (type: ConditionType, v: string) => options[type].find((x) => x.value === v)?.label ?? v;

  const toggle = useMutation({ mutationFn: (r: AlertRule) => updateRule(r.id, { enabled: !r.enabled }), onSettled: refresh });
  const test = useMutation({
    mutationFn: (r: AlertRule) => testRule(r.id),
    onMutate: () => setTested(null),
    onSuccess: (res, r) => {
      const ok = res.alert_deliveries.every((d) => d.status === 'delivered');
      setTested({ rule: r.name, ok, text: res.alert_deliveries.length === 0 ? 'Notification created.'
        : res.alert_deliveries.map((d) => `${d.channel} to ${d.target}: ${d.status}${d.last_error ? ` (${d.last_error})` : ''}`).join('; ') });
      refresh();
    },
    onError: (e, r) => setTested({ rule: r.name, ok: false, text: e instanceof Error ? e.message : String(e) }),
  });
  const remove = useMutation({ mutationFn: (r: AlertRule) => deleteRule(r.id), onSuccess: () => { setDeleting(null); refresh(); } });
  const retry = useMutation({ mutationFn: (id: string) => retryDelivery(id), onSettled: refresh });
  // On a phone the rules and deliveries are stacked cards: a table's last columns (the buttons) sat off the screen.
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  const ruleSwitch = (r: AlertRule) => <Switch checked={r.enabled} aria-label={`Enabled: ${r.name}`} onChange={() => toggle.mutate(r)} />;
  const ruleButtons = (r: AlertRule) => (
    <Group gap={4} wrap="nowrap">
      <Button size="xs" variant="light" loading={test.isPending && test.variables?.id === r.id} onClick={() => test.mutate(r)}
        aria-label={`Test ${r.name}`}>Test</Button>
      <Button size="xs" variant="default" onClick={() => { setSecret(null); setEditing(r); }} aria-label={`Edit ${r.name}`}>Edit</Button>
      <Button size="xs" variant="light" color="red" onClick={() => setDeleting(r)} aria-label={`Delete ${r.name}`}>Delete</Button>
    </Group>
  );
  const ruleWhen = (r: AlertRule) => r.conditions.map((c) => describeCondition(c, valueLabel)).join(', and ');
  const ruleThen = (r: AlertRule) => r.actions.map(describeAction).join('; ');
  type Delivery = NonNullable<typeof deliveries.data>[number];
  const deliveryBadge = (d: Delivery) => (
    // At least as wide as its word: a narrow column cut "Delivered" to "DELIVER…" (seen in a screenshot).
    <Badge miw="max-content" variant={d.status === 'pending' ? 'light' : 'filled'}
      color={d.status === 'delivered' ? 'teal' : d.status === 'dead' ? 'red' : 'orange'}>
      {d.status === 'dead' ? 'Dead letter' : actionLabel(d.status)}
    </Badge>
  );
  const retryButton = (d: Delivery) => d.status === 'dead' && (
    <Button size="xs" variant="light" loading={retry.isPending && retry.variables === d.id} onClick={() => retry.mutate(d.id)}
      aria-label={`Retry delivery to ${d.target}`}>Retry</Button>
  );
  const readAll = useMutation({ mutationFn: markAllRead, onSettled: refresh });

  return (
    <Stack>
      <Title order={1}>Alerts</Title>
      <Text c="dimmed" size="sm">Rules watch the audit log and email, call a webhook or notify you here. A rule only sees the entries its owner may see.</Text>

      <Paper withBorder p="md" component="section" aria-labelledby="notifications-heading">
        <Group justify="space-between" mb="sm">
          <Group gap="xs">
            <Title order={2} size="h3" id="notifications-heading">Notifications</Title>
            {!!notifications.data?.unread && <Badge color="red" aria-label={`${notifications.data.unread} unread`}>{notifications.data.unread} unread</Badge>}
          </Group>
          <Button size="xs" variant="default" disabled={!notifications.data?.unread} loading={readAll.isPending} onClick={() => readAll.mutate()}>
            Mark all as read
          </Button>
        </Group>
        {notifications.isPending ? <LoadingState label="Loading notifications" />
          : notifications.isError ? <ErrorState error={notifications.error} onRetry={() => void notifications.refetch()} />
            : notifications.data.notifications.length === 0 ? <EmptyState title="No notifications">Rules with the notification action show what they matched here.</EmptyState>
              : (
                <Stack gap={6} component="ul" p={0} m={0} style={{ listStyle: 'none' }} aria-label="Notifications">
                  {notifications.data.notifications.map((n) => (
                    <li key={n.id}>
                      <Group gap="xs" wrap="nowrap">
                        {!n.read && <Badge size="xs" color="red">new</Badge>}
                        <Text size="sm" fw={n.read ? 400 : 600}>{n.title}</Text>
                        <Text size="xs" c="dimmed">{formatTime(n.created_time, tz)}</Text>
                        {n.link && <Anchor component={Link} to={localPath(n.link)} size="sm">Open entry</Anchor>}
                      </Group>
                    </li>
                  ))}
                </Stack>
              )}
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="rules-heading">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h3" id="rules-heading">Rules</Title>
          <Button size="sm" onClick={() => { setSecret(null); setEditing('new'); }}>New rule</Button>
        </Group>
        {secret && (
          <Alert color="yellow" title={`Webhook secret of “${secret.rule}”`} mb="sm" withCloseButton closeButtonLabel="Dismiss" onClose={() => setSecret(null)}>
            <Text size="sm">Copy it now: it is shown only once. Receivers check <Code>X-Auditrail-Signature</Code> with it.</Text>
            <Code block aria-label="Webhook secret">{secret.secret}</Code>
          </Alert>
        )}
        {tested && (
          <Alert color={tested.ok ? 'indigo' : 'red'} title={`Test of “${tested.rule}”`} mb="sm" role="status" withCloseButton closeButtonLabel="Dismiss"
            onClose={() => setTested(null)}>
            <Text size="sm">{tested.text}</Text>
          </Alert>
        )}
        {rules.isPending ? <LoadingState label="Loading rules" />
          : rules.isError ? <ErrorState error={rules.error} onRetry={() => void rules.refetch()} />
            : rules.data.length === 0 ? <EmptyState title="No alert rules yet">Create one to hear about deletions, exports or permission changes as they happen.</EmptyState>
              : (
                isPhone ? (
                  <CardList aria-label="Alert rules">
                    {rules.data.map((r) => (
                      <Card key={r.id} aria-label={r.name}>
                        <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
                          <div>
                            <Text size="sm" fw={600}>{r.name}</Text>
                            {r.quiet_minutes !== null && <Text size="xs" c="dimmed">Quiet for {r.quiet_minutes} min per user</Text>}
                          </div>
                          {ruleSwitch(r)}
                        </Group>
                        <Text size="sm" mt={6}><Text span size="sm" fw={600}>When </Text>{ruleWhen(r)}</Text>
                        <Text size="sm" mt={4} style={{ overflowWrap: 'anywhere' }}><Text span size="sm" fw={600}>Then </Text>{ruleThen(r)}</Text>
                        <Group mt="xs">{ruleButtons(r)}</Group>
                      </Card>
                    ))}
                  </CardList>
                ) : (
                <Table.ScrollContainer minWidth={760}>
                  <Table striped aria-label="Alert rules">
                    <Table.Thead>
                      <Table.Tr><Table.Th>Name</Table.Th><Table.Th>When</Table.Th><Table.Th>Then</Table.Th><Table.Th>Enabled</Table.Th><Table.Th>Manage</Table.Th></Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {rules.data.map((r) => (
                        <Table.Tr key={r.id}>
                          <Table.Td>
                            <Text size="sm" fw={600}>{r.name}</Text>
                            {r.quiet_minutes !== null && <Text size="xs" c="dimmed">Quiet for {r.quiet_minutes} min per user</Text>}
                          </Table.Td>
                          <Table.Td><Text size="sm">{ruleWhen(r)}</Text></Table.Td>
                          <Table.Td><Text size="sm">{ruleThen(r)}</Text></Table.Td>
                          <Table.Td>{ruleSwitch(r)}</Table.Td>
                          <Table.Td>{ruleButtons(r)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
                )
              )}
        {toggle.isError && <ErrorState error={toggle.error} title="The rule was not changed" />}
      </Paper>

      <Paper withBorder p="md" component="section" aria-labelledby="deliveries-heading">
        <Group justify="space-between" mb="sm">
          <Title order={2} size="h3" id="deliveries-heading">Deliveries</Title>
          <SegmentedControl size="xs" value={status} onChange={setStatus} aria-label="Delivery status"
            data={[{ value: 'all', label: 'All' }, { value: 'pending', label: 'Pending' }, { value: 'delivered', label: 'Delivered' },
              { value: 'dead', label: 'Dead letters' }]} />
        </Group>
        {retry.isError && <ErrorState error={retry.error} title="The delivery was not retried" />}
        {deliveries.isPending ? <LoadingState label="Loading deliveries" />
          : deliveries.isError ? <ErrorState error={deliveries.error} onRetry={() => void deliveries.refetch()} />
            : deliveries.data.length === 0 ? <EmptyState title={status === 'dead' ? 'No dead letters' : 'No deliveries'}>
              Emails and webhooks the rules send are listed here; those that failed every attempt are dead letters you can send again.</EmptyState>
              : (
                isPhone ? (
                  <CardList aria-label="Deliveries">
                    {deliveries.data.map((d) => (
                      <Card key={d.id}>
                        <Group justify="space-between" wrap="nowrap" align="flex-start" gap="xs">
                          <Text size="sm" fw={600}>{d.rule.name}{d.test ? ' (test)' : ''}</Text>
                          {deliveryBadge(d)}
                        </Group>
                        <Text size="sm" mt={4} style={{ overflowWrap: 'anywhere' }}>{d.channel === 'email' ? 'Email' : 'Webhook'}: {d.target}</Text>
                        <Text size="xs" c="dimmed" mt={2}>{formatTime(d.created_time, tz)} · {d.attempts} {d.attempts === 1 ? 'attempt' : 'attempts'}</Text>
                        {d.last_error && <Text size="sm" mt={4} style={{ overflowWrap: 'anywhere' }}>{d.last_error}</Text>}
                        {d.status === 'dead' && <Group mt="xs">{retryButton(d)}</Group>}
                      </Card>
                    ))}
                  </CardList>
                ) : (
                // A narrow window scrolls the table sideways: from the keyboard too, though its rows may hold no button.
                <Table.ScrollContainer minWidth={760} type="native" tabIndex={0} role="region" aria-label="Deliveries, scrolling sideways">
                  <Table aria-label="Deliveries">
                    <Table.Thead>
                      <Table.Tr><Table.Th>Rule</Table.Th><Table.Th>To</Table.Th><Table.Th>Status</Table.Th><Table.Th>Attempts</Table.Th>
                        <Table.Th>Created</Table.Th><Table.Th>Last error</Table.Th><Table.Th><VisuallyHidden>Retry</VisuallyHidden></Table.Th></Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {deliveries.data.map((d) => (
                        <Table.Tr key={d.id}>
                          <Table.Td><Text size="sm">{d.rule.name}{d.test ? ' (test)' : ''}</Text></Table.Td>
                          <Table.Td><Text size="sm">{d.channel === 'email' ? 'Email' : 'Webhook'}: {d.target}</Text></Table.Td>
                          <Table.Td>{deliveryBadge(d)}</Table.Td>
                          <Table.Td>{d.attempts}</Table.Td>
                          <Table.Td><Text size="sm">{formatTime(d.created_time, tz)}</Text></Table.Td>
                          <Table.Td><Text size="sm">{d.last_error ?? ''}</Text></Table.Td>
                          <Table.Td>{retryButton(d)}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
                )
              )}
      </Paper>

      {editing && (
        <RuleEditor rule={editing === 'new' ? null : editing} options={options}
          onClose={() => setEditing(null)}
          onSaved={(name, s) => { setEditing(null); if (s) setSecret({ rule: name, secret: s }); refresh(); }} />
      )}
      <ConfirmDialog opened={deleting !== null} title="Delete this alert rule?" confirmLabel="Delete rule" busy={remove.isPending}
        error={remove.error} onConfirm={() => deleting && remove.mutate(deleting)} onCancel={() => { setDeleting(null); remove.reset(); }}>
        <Text size="sm">“{deleting?.name}” stops at once; its pending deliveries become dead letters. The deletion is audited.</Text>
      </ConfirmDialog>
    </Stack>
  );
}

/** The rule editor, in a dialog: conditions, actions, quiet period. */
function RuleEditor({ rule, options, onClose, onSaved }: {
  rule: AlertRule | null;
  options: Record<ConditionType, { value: string; label: string }[]>;
  onClose: () => void;
  onSaved: (name: string, secret: string | undefined) => void;
}) {
  const [form, setForm] = useState<RuleForm>(rule ? formOf(rule) : EMPTY_FORM);
  const [tried, setTried] = useState(false);
  const set = (patch: Partial<RuleForm>) => setForm((f) => ({ ...f, ...patch }));
  const problems = formProblems(form);
  const problem = (field: string) => (tried ? problems.find((p) => p.field === field)?.message : undefined);
  const save = useMutation({
    mutationFn: () => (rule ? updateRule(rule.id, inputOf(form, false)) : createRule(inputOf(form, true))),
    onSuccess: (r) => onSaved(r.alert_rule.name, r.webhook_secret),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTried(true);
    if (problems.length === 0) save.mutate();
  };
  const setCondition = (i: number, patch: Partial<RuleForm['conditions'][number]>) =>
    set({ conditions: form.conditions.map((c, j) => (j === i ? { ...c, ...patch } : c)) });
  return (
    <Modal opened onClose={onClose} title={rule ? `Edit “${rule.name}”` : 'New alert rule'} size="lg" centered>
      <form onSubmit={submit} noValidate>
        <Stack>
          <TextInput label="Name" required value={form.name} onChange={(e) => set({ name: e.currentTarget.value })} error={problem('name')} />
          <Stack gap="xs" component="fieldset" style={{ border: 0, padding: 0, margin: 0 }}>
            <Text component="legend" fw={600} size="sm">When an entry matches all of</Text>
            {form.conditions.map((c, i) => (
              <Group key={i} align="flex-end" wrap="wrap" gap="xs">
                <Select label={`Condition ${i + 1}`} w={170} allowDeselect={false} value={c.type}
                  data={Object.entries(CONDITION_LABELS).map(([value, label]) => ({ value, label }))}
                  onChange={(v) => v && setCondition(i, { type: v as ConditionType, values: [], operator: v === 'finding' ? 'is' : c.operator })} />
                <Select label={`Condition ${i + 1} operator`} w={110} allowDeselect={false} value={c.operator}
                  data={c.type === 'finding' ? [{ value: 'is', label: 'is' }] : [{ value: 'is', label: 'is' }, { value: 'is_not', label: 'is not' }]}
                  onChange={(v) => v && setCondition(i, { operator: v as 'is' | 'is_not' })} />
                {c.type === 'field'
                  ? <TagsInput label={`Condition ${i + 1} values`} style={{ flex: 1, minWidth: 200 }} value={c.values} placeholder="Field API names, e.g. Amount"
                    onChange={(values) => setCondition(i, { values })} error={problem(`condition-${i}`)} />
                  : <MultiSelect label={`Condition ${i + 1} values`} style={{ flex: 1, minWidth: 200 }} value={c.values} data={options[c.type]} searchable
                    onChange={(values) => setCondition(i, { values })} error={problem(`condition-${i}`)} />}
                <ActionIcon variant="subtle" color="red" size="lg" aria-label={`Remove condition ${i + 1}`} disabled={form.conditions.length === 1}
                  onClick={() => set({ conditions: form.conditions.filter((_, j) => j !== i) })}>×</ActionIcon>
              </Group>
            ))}
            <Group><Button size="xs" variant="default" onClick={() => set({ conditions: [...form.conditions, { type: 'module', operator: 'is', values: [] }] })}>
              Add condition</Button></Group>
            {problem('conditions') && <Text c="red" size="sm">{problem('conditions')}</Text>}
          </Stack>
          <Stack gap="xs" component="fieldset" style={{ border: 0, padding: 0, margin: 0 }}>
            <Text component="legend" fw={600} size="sm">Then (at most five actions)</Text>
            <TagsInput label="Email recipients" value={form.emails} onChange={(emails) => set({ emails })} placeholder="Type an address and press Enter" />
            <TagsInput label="Webhook URLs" value={form.webhooks} onChange={(webhooks) => set({ webhooks })}
              description="HTTPS (plain http only to this machine). Each is signed with the rule's secret." />
            {form.webhooks.length > 0 && <NumberInput label="Entries per webhook request" min={1} max={MAX_WEBHOOK_BATCH} clampBehavior="none" allowDecimal={false} value={form.webhookBatch}
              onChange={(v) => set({ webhookBatch: typeof v === 'number' ? v : '', keptBatches: undefined })} error={problem('batch')}
              description={form.keptBatches ? 'These webhooks have different batch sizes, kept as they are; a value here sets them all.'
                : `Empty or 1: one request per entry. Up to ${MAX_WEBHOOK_BATCH}: the entries due at once go together, for rules that fire on many entries.`} />}
            {!rule && <PasswordInput label="Webhook secret (optional)" value={form.webhookSecret} onChange={(e) => set({ webhookSecret: e.currentTarget.value })}
              description="Leave empty and one is generated and shown once." error={problem('secret')} />}
            <Checkbox label="Show a notification in the console" checked={form.notify} onChange={(e) => set({ notify: e.currentTarget.checked })} />
            {problem('actions') && <Text c="red" size="sm">{problem('actions')}</Text>}
          </Stack>
          <NumberInput label="Quiet period (minutes)" description="Do not fire again for the same user within this time. Empty: every time."
            min={1} max={10080} value={form.quietMinutes} onChange={(v) => set({ quietMinutes: typeof v === 'number' ? v : '' })} />
          <Checkbox label="Enabled" checked={form.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
          {save.isError && <ErrorState error={save.error} title="The rule was not saved" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={save.isPending}>{rule ? 'Save rule' : 'Create rule'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
