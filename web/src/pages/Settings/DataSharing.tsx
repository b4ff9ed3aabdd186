import { useState, type FormEvent } from 'react';
import { Alert, Button, Checkbox, Group, Select, SimpleGrid, Stack, Table, Text, TextInput, Title, VisuallyHidden } from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import {
  createSharingRule, deleteSharingRule, getDataSharing, getSharingRules, RULE_LABELS, RULE_PERMISSIONS, setDataSharing, SHARING_LABELS,
  SHARING_TYPES, type RulePermission, type SharingRule, type SharingType,
} from '../../api/sharing.ts';
import { listRoles, type Role } from '../../api/directory.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';

const DEFAULTS_KEY = ['settings', 'data-sharing'] as const;
const RULES_KEY = ['settings', 'sharing-rules'] as const;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const typeOptions = SHARING_TYPES.map((t) => ({ value: t, label: SHARING_LABELS[t] }));

/** Each module's organisation-wide default access, saved as soon as it is chosen. */
function Defaults() {
  const client = useQueryClient();
  const defaults = useQuery({ queryKey: DEFAULTS_KEY, queryFn: getDataSharing });
  const save = useMutation({
    mutationFn: ({ module, type }: { module: string; type: SharingType }) => setDataSharing(module, type),
    onSettled: () => client.invalidateQueries({ queryKey: DEFAULTS_KEY }),
  });
  if (defaults.isPending) return <LoadingState label="Loading the data sharing settings" />;
  if (defaults.isError) return <ErrorState error={defaults.error} onRetry={() => defaults.refetch()} title="The data sharing settings cannot be loaded" />;
  return (
    <Stack gap="xs">
      {save.isError && <Alert color="red" role="alert" title="The default was not changed">{message(save.error)}</Alert>}
      {save.isSuccess && <Alert color="teal" role="status">Saved. The change is in the audit log.</Alert>}
      {/* No minimum width: at 390 px a fixed one pushed the dropdowns past the card's edge; the dropdowns shrink instead. */}
      <Table verticalSpacing={4}>
        <Table.Thead><Table.Tr><Table.Th>Module</Table.Th><Table.Th>Default access</Table.Th></Table.Tr></Table.Thead>
        <Table.Tbody>
          {defaults.data.map((d) => (
            <Table.Tr key={d.module.api_name}>
              <Table.Td>{d.module.api_name.replace(/_/g, ' ')}</Table.Td>
              <Table.Td>
                <Select aria-label={`Default access for ${d.module.api_name.replace(/_/g, ' ')}`} data={typeOptions} value={d.type}
                  allowDeselect={false} size="xs" maw={240} disabled={save.isPending && save.variables?.module === d.module.api_name}
                  onChange={(v) => { if (v && v !== d.type) save.mutate({ module: d.module.api_name, type: v as SharingType }); }} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}

const side = (s: SharingRule['shared_from']) => `${s.resource.name ?? s.resource.id}${s.type === 'roles_and_subordinates' ? ' and subordinates' : ''}`;

/** The form that adds a sharing rule. */
function NewRule({ roles, modules }: { roles: Role[]; modules: string[] }) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [module, setModule] = useState<string | null>(null);
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const [fromSubs, setFromSubs] = useState(false);
  const [toSubs, setToSubs] = useState(false);
  const [permission, setPermission] = useState<RulePermission>('read_only');
  const add = useMutation({
    mutationFn: () => createSharingRule({ name, module: module!, from: { roleId: from!, subordinates: fromSubs }, to: { roleId: to!, subordinates: toSubs }, permission }),
    onSuccess: () => { setName(''); void client.invalidateQueries({ queryKey: RULES_KEY }); },
  });
  const roleOptions = roles.map((r) => ({ value: r.id, label: r.name }));
  const ready = module && from && to;
  const submit = (e: FormEvent) => { e.preventDefault(); if (ready) add.mutate(); };
  return (
    <form onSubmit={submit} aria-labelledby="new-rule">
      <Stack gap="xs">
        <Title order={3} size="h5" id="new-rule">New sharing rule</Title>
        <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="xs">
          <TextInput label="Rule name" value={name} onChange={(e) => setName(e.currentTarget.value)} maxLength={100} placeholder="Sales to Support" />
          <Select label="Module" data={modules.map((m) => ({ value: m, label: m.replace(/_/g, ' ') }))} value={module} onChange={setModule} required searchable />
          <Stack gap={4}>
            <Select label="Records owned by" data={roleOptions} value={from} onChange={setFrom} required searchable />
            <Checkbox label="and subordinate roles (owners)" checked={fromSubs} onChange={(e) => setFromSubs(e.currentTarget.checked)} />
          </Stack>
          <Stack gap={4}>
            <Select label="Are shared with" data={roleOptions} value={to} onChange={setTo} required searchable />
            <Checkbox label="and subordinate roles (readers)" checked={toSubs} onChange={(e) => setToSubs(e.currentTarget.checked)} />
          </Stack>
          <Select label="Access" data={RULE_PERMISSIONS.map((p) => ({ value: p, label: RULE_LABELS[p] }))} value={permission}
            allowDeselect={false} onChange={(v) => v && setPermission(v as RulePermission)} />
        </SimpleGrid>
        {add.isError && <Alert color="red" role="alert" title="The rule was not added">{message(add.error)}</Alert>}
        <Group><Button type="submit" disabled={!ready} loading={add.isPending}>Add rule</Button></Group>
      </Stack>
    </form>
  );
}

interface RuleListProps {
  rules: SharingRule[];
  remove: { isPending: boolean; variables?: string; mutate: (id: string) => void };
}

function DeleteRule({ r, remove }: { r: SharingRule; remove: RuleListProps['remove'] }) {
  return (
    <Button size="xs" variant="subtle" color="red" aria-label={`Delete sharing rule ${r.name}`}
      loading={remove.isPending && remove.variables === r.id} onClick={() => remove.mutate(r.id)}>Delete</Button>
  );
}

function RuleTable({ rules, remove }: RuleListProps) {
  return (
    <Table.ScrollContainer minWidth={560} type="native">
      <Table verticalSpacing={4} aria-label="Sharing rules">
        <Table.Thead>
          <Table.Tr><Table.Th>Name</Table.Th><Table.Th>Module</Table.Th><Table.Th>Records owned by</Table.Th><Table.Th>Shared with</Table.Th><Table.Th>Access</Table.Th><Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th></Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rules.map((r) => (
            <Table.Tr key={r.id}>
              <Table.Td>{r.name}</Table.Td>
              <Table.Td>{r.module.api_name.replace(/_/g, ' ')}</Table.Td>
              <Table.Td>{side(r.shared_from)}</Table.Td>
              <Table.Td>{side(r.shared_to)}</Table.Td>
              <Table.Td>{RULE_LABELS[r.permission_type]}</Table.Td>
              <Table.Td><DeleteRule r={r} remove={remove} /></Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** On a phone, where the table's Access and Delete would sit past the card's edge: one card per rule. */
function RuleCards({ rules, remove }: RuleListProps) {
  const field = (term: string, value: string) => (
    <div>
      <Text component="dt" size="xs" c="dimmed">{term}</Text>
      <Text component="dd" size="sm" m={0} style={{ overflowWrap: 'anywhere' }}>{value}</Text>
    </div>
  );
  return (
    <CardList aria-label="Sharing rules">
      {rules.map((r) => (
        <Card key={r.id}>
          <Group gap="xs" wrap="nowrap" justify="space-between" align="flex-start">
            <Text size="sm" fw={600} style={{ overflowWrap: 'anywhere' }}>{r.name}</Text>
            <DeleteRule r={r} remove={remove} />
          </Group>
          <SimpleGrid component="dl" cols={2} spacing="xs" verticalSpacing={6} mt={6} mb={0}>
            {field('Module', r.module.api_name.replace(/_/g, ' '))}
            {field('Access', RULE_LABELS[r.permission_type])}
            {field('Records owned by', side(r.shared_from))}
            {field('Shared with', side(r.shared_to))}
          </SimpleGrid>
        </Card>
      ))}
    </CardList>
  );
}

/** Sharing rules: who shares whose records with whom, and the form to add one. */
function Rules({ modules }: { modules: string[] }) {
  const client = useQueryClient();
  const rules = useQuery({ queryKey: RULES_KEY, queryFn: getSharingRules });
  const roles = useQuery({ queryKey: ['directory', 'roles'], queryFn: listRoles, staleTime: 60_000 });
  const remove = useMutation({
    mutationFn: (id: string) => deleteSharingRule(id),
    onSettled: () => client.invalidateQueries({ queryKey: RULES_KEY }),
  });
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  if (rules.isPending || roles.isPending) return <LoadingState label="Loading the sharing rules" />;
  if (rules.isError) return <ErrorState error={rules.error} onRetry={() => rules.refetch()} title="The sharing rules cannot be loaded" />;
  if (roles.isError) return <ErrorState error={roles.error} onRetry={() => roles.refetch()} title="The roles cannot be loaded" />;
  return (
    <Stack gap="sm">
      {rules.data.length === 0 ? <EmptyState title="No sharing rules">Records are shared by the defaults above and the role hierarchy only.</EmptyState>
        : isPhone ? <RuleCards rules={rules.data} remove={remove} /> : <RuleTable rules={rules.data} remove={remove} />}
      {remove.isError && <Alert color="red" role="alert" title="The rule was not deleted">{message(remove.error)}</Alert>}
      <NewRule roles={roles.data} modules={modules} />
    </Stack>
  );
}

/** Data sharing: defaults per module and sharing rules. */
export function DataSharing() {
  const defaults = useQuery({ queryKey: DEFAULTS_KEY, queryFn: getDataSharing });
  return (
    <Stack gap="md">
      <Text size="sm" c="dimmed">
        What users may do with records they neither own nor see through the role hierarchy. Under Private, users see their own and their
        subordinates' records only; Administrators see everything. Notes, attachments and emails follow their parent record.
      </Text>
      <Defaults />
      <Rules modules={defaults.data?.map((d) => d.module.api_name) ?? []} />
    </Stack>
  );
}
