import { useMemo, useState, type FormEvent } from 'react';
import { Alert, Badge, Button, Group, Modal, Paper, Select, SimpleGrid, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSession } from '../../session.tsx';
import { listModules, listProfiles, listRoles, listUsers, updateUser, type DirectoryUser, type Profile, type Role, type UserPatch } from '../../api/directory.ts';
import { EmptyState, ErrorState, LoadingState } from '../../components/States.tsx';
import { RoleTree } from './RoleTree.tsx';
import { ProfilesList } from './ProfilePermissions.tsx';

const USERS_KEY = ['directory', 'users'] as const;

const STATUS: Record<string, { label: string; color: string }> = {
  active: { label: 'Active', color: 'teal.9' },
  disabled: { label: 'Disabled', color: 'gray.7' },
  deleted: { label: 'Deleted', color: 'red.8' },
};

/** Changes a user's role, profile or status through PUT /crm/v8/users/{id}; the server's refusal in words. */
function EditUserDialog({ user, roles, profiles, self, onClose }: { user: DirectoryUser | null; roles: Role[]; profiles: Profile[]; self: boolean; onClose: () => void }) {
  const client = useQueryClient();
  const [role, setRole] = useState<string | null>(user?.role?.id ?? null);
  const [profile, setProfile] = useState<string | null>(user?.profile?.id ?? null);
  const [status, setStatus] = useState<string | null>(user?.status ?? null);
  const save = useMutation({
    mutationFn: (patch: UserPatch) => updateUser(user!.id, patch),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: USERS_KEY });
      onClose();
    },
  });
  if (!user) return null;
  const patch: UserPatch = {};
  if (role && role !== user.role?.id) patch.role = { id: role };
  if (profile && profile !== user.profile?.id) patch.profile = { id: profile };
  if (status && status !== user.status && (status === 'active' || status === 'disabled')) patch.status = status;
  const changed = Object.keys(patch).length > 0;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (changed) save.mutate(patch);
  };
  return (
    <Modal opened onClose={() => { if (!save.isPending) onClose(); }} title={`Edit ${user.full_name}`} centered>
      <form onSubmit={submit}>
        <Stack gap="sm">
          <Text size="sm" c="dimmed">{user.email}</Text>
          {self && <Text size="sm" c="orange.9">You cannot change your own role or profile; another administrator can.</Text>}
          <Select label="Role" data={roles.map((r) => ({ value: r.id, label: r.name }))} value={role} onChange={setRole} allowDeselect={false} searchable />
          <Select label="Profile" data={profiles.map((p) => ({ value: p.id, label: p.name }))} value={profile} onChange={setProfile} allowDeselect={false} />
          <Select label="Status" data={[{ value: 'active', label: 'Active' }, { value: 'disabled', label: 'Disabled' }]} value={status} onChange={setStatus} allowDeselect={false} />
          {save.isError && (
            <Alert color="red" role="alert" title="Not saved">
              {save.error instanceof Error ? save.error.message : String(save.error)}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose} disabled={save.isPending}>Cancel</Button>
            <Button type="submit" loading={save.isPending} disabled={!changed}>Save</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

interface ListProps {
  users: DirectoryUser[];
  selfId: string;
  /** Whether the roles and profiles the Edit dialog offers have loaded. */
  canEdit: boolean;
  onEdit: (u: DirectoryUser) => void;
}

const statusOf = (u: DirectoryUser) => STATUS[u.status] ?? { label: u.status, color: 'gray.7' };

function NameAndEmail({ u, selfId }: { u: DirectoryUser; selfId: string }) {
  return (
    <>
      <Text size="sm" fw={500}>{u.full_name}{u.id === selfId && <Text span size="xs" c="dimmed"> (you)</Text>}</Text>
      <Text size="xs" c="dimmed" style={{ overflowWrap: 'anywhere' }}>{u.email}</Text>
    </>
  );
}

function EditButton({ u, canEdit, onEdit }: { u: DirectoryUser } & Pick<ListProps, 'canEdit' | 'onEdit'>) {
  return <Button size="xs" variant="default" aria-label={`Edit ${u.full_name}`} disabled={!canEdit} onClick={() => onEdit(u)}>Edit</Button>;
}

/** The users as a table: Name (and email), Role, Profile, Status, Edit. */
function UserTable({ users, selfId, canEdit, onEdit }: ListProps) {
  return (
    <Table.ScrollContainer minWidth={600} type="native">
      <Table striped highlightOnHover verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Profile</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th pos="relative"><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((u) => {
            const s = statusOf(u);
            return (
              <Table.Tr key={u.id}>
                <Table.Td><NameAndEmail u={u} selfId={selfId} /></Table.Td>
                <Table.Td>{u.role?.name ?? '—'}</Table.Td>
                <Table.Td>{u.profile?.name ?? '—'}</Table.Td>
                <Table.Td><Badge color={s.color} variant="filled">{s.label}</Badge></Table.Td>
                <Table.Td><EditButton u={u} canEdit={canEdit} onEdit={onEdit} /></Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/**
 * The users as stacked cards, for phones, where the table's Profile, Status and Edit would sit
 * off the screen's right edge: the name with Edit beside it, then Role, Profile and Status.
 */
function UserCards({ users, selfId, canEdit, onEdit }: ListProps) {
  return (
    <CardList aria-label="Users">
      {users.map((u) => {
        const s = statusOf(u);
        return (
          <Card key={u.id}>
            <Group gap="xs" wrap="nowrap" justify="space-between" align="flex-start">
              <div style={{ minWidth: 0 }}><NameAndEmail u={u} selfId={selfId} /></div>
              <EditButton u={u} canEdit={canEdit} onEdit={onEdit} />
            </Group>
            <SimpleGrid component="dl" cols={3} spacing="xs" mt="xs" mb={0}>
              <div>
                <Text component="dt" size="xs" c="dimmed">Role</Text>
                <Text component="dd" size="sm" m={0} style={{ overflowWrap: 'anywhere' }}>{u.role?.name ?? '—'}</Text>
              </div>
              <div>
                <Text component="dt" size="xs" c="dimmed">Profile</Text>
                <Text component="dd" size="sm" m={0} style={{ overflowWrap: 'anywhere' }}>{u.profile?.name ?? '—'}</Text>
              </div>
              <div>
                <Text component="dt" size="xs" c="dimmed">Status</Text>
                <Text component="dd" m={0}><Badge color={s.color} variant="filled">{s.label}</Badge></Text>
              </div>
            </SimpleGrid>
          </Card>
        );
      })}
    </CardList>
  );
}

/** Users and roles (administrators): the users with role and profile, the role tree, the profiles' permissions. */
export default function UsersPage() {
  const session = useSession();
  const users = useQuery({ queryKey: USERS_KEY, queryFn: () => listUsers(), staleTime: 60_000 });
  const roles = useQuery({ queryKey: ['directory', 'roles'], queryFn: listRoles });
  const profiles = useQuery({ queryKey: ['directory', 'profiles'], queryFn: listProfiles });
  const modules = useQuery({ queryKey: ['directory', 'modules'], queryFn: listModules, staleTime: 10 * 60_000 });
  const [editing, setEditing] = useState<DirectoryUser | null>(null);
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  const moduleLabel = useMemo(() => {
    const m = new Map((modules.data ?? []).map((x) => [x.api_name, x.plural_label]));
    return (apiName: string) => m.get(apiName) ?? apiName;
  }, [modules.data]);
  const sorted = [...(users.data ?? [])].sort((a, b) => a.full_name.localeCompare(b.full_name));

  return (
    <Stack gap="lg">
      <Title order={1}>Users</Title>

      <Stack gap="sm" component="section" aria-labelledby="users-list">
        <Title order={2} size="h4" id="users-list">People</Title>
        {users.isPending ? <LoadingState label="Loading the users" />
          : users.isError ? <ErrorState error={users.error} onRetry={() => users.refetch()} title="The users cannot be loaded" />
            : sorted.length === 0 ? <EmptyState title="No users">The organisation has no users yet.</EmptyState>
              : (
                isPhone ? <UserCards users={sorted} selfId={session.user.id} canEdit={!!roles.data && !!profiles.data} onEdit={setEditing} />
                  : <UserTable users={sorted} selfId={session.user.id} canEdit={!!roles.data && !!profiles.data} onEdit={setEditing} />
              )}
      </Stack>

      <Group align="flex-start" gap="lg" wrap="wrap">
        <Paper withBorder p="md" component="section" aria-labelledby="roles-title" style={{ flex: '1 1 320px', minWidth: 0 }}>
          <Stack gap="sm">
            <Title order={2} size="h4" id="roles-title">Roles</Title>
            <Text size="sm" c="dimmed">Who reports to whom: a role sees the records and audit log of the roles under it.</Text>
            {roles.isPending ? <LoadingState label="Loading the roles" />
              : roles.isError ? <ErrorState error={roles.error} onRetry={() => roles.refetch()} title="The roles cannot be loaded" />
                : <RoleTree roles={roles.data} users={users.data ?? []} />}
          </Stack>
        </Paper>
        <Paper withBorder p="md" component="section" aria-labelledby="profiles-title" style={{ flex: '2 1 420px', minWidth: 0 }}>
          <Stack gap="sm">
            <Title order={2} size="h4" id="profiles-title">Profiles</Title>
            <Text size="sm" c="dimmed">What each profile may do with records of each module, and which settings it may use.</Text>
            {profiles.isPending ? <LoadingState label="Loading the profiles" />
              : profiles.isError ? <ErrorState error={profiles.error} onRetry={() => profiles.refetch()} title="The profiles cannot be loaded" />
                : profiles.data.length === 0 ? <EmptyState title="No profiles" />
                  : <ProfilesList profiles={profiles.data} moduleLabel={moduleLabel}
                    userCount={(id) => (users.data ?? []).filter((u) => u.profile?.id === id).length} />}
          </Stack>
        </Paper>
      </Group>

      {editing && roles.data && profiles.data && (
        <EditUserDialog key={editing.id} user={editing} roles={roles.data} profiles={profiles.data}
          self={editing.id === session.user.id} onClose={() => setEditing(null)} />
      )}
    </Stack>
  );
}
