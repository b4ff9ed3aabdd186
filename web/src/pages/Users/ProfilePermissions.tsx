import { useState } from 'react';
import { Accordion, Badge, Group, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { getProfile, type Profile, type ProfileDetail } from '../../api/directory.ts';
import { ErrorState, LoadingState } from '../../components/States.tsx';

const ACTIONS = ['view', 'create', 'edit', 'delete'] as const;

function Flag({ on, what }: { on: boolean; what: string }) {
  return (
    <Text span size="sm" c={on ? 'teal.9' : 'gray.7'} aria-label={`${what}: ${on ? 'allowed' : 'not allowed'}`} role="img">
      {on ? '✓' : '–'}
    </Text>
  );
}

function Details({ id, moduleLabel }: { id: string; moduleLabel: (m: string) => string }) {
  const q = useQuery({ queryKey: ['directory', 'profile', id], queryFn: () => getProfile(id) });
  if (q.isPending) return <LoadingState label="Loading the permissions" />;
  if (q.isError) return <ErrorState error={q.error} onRetry={() => q.refetch()} title="The permissions cannot be loaded" />;
  return <PermissionTables p={q.data} moduleLabel={moduleLabel} />;
}

function PermissionTables({ p, moduleLabel }: { p: ProfileDetail; moduleLabel: (m: string) => string }) {
  const isPhone = useMediaQuery('(max-width: 48em)', false, { getInitialValueInEffect: false }) ?? false;
  const byModule = new Map<string, Record<string, boolean>>();
  const settings: { label: string; enabled: boolean }[] = [];
  for (const d of p.permissions_details) {
    if (d.module) {
      const action = d.id.slice(d.module.length + 1);
      byModule.set(d.module, { ...(byModule.get(d.module) ?? {}), [action]: d.enabled });
    } else settings.push({ label: d.display_label.charAt(0).toUpperCase() + d.display_label.slice(1), enabled: d.enabled });
  }
  return (
    <Stack gap="sm">
      {p.description && <Text size="sm">{p.description}</Text>}
      {/* No minimum width and tighter cells on a phone: the Delete column fits inside the card instead of past its edge. */}
      <Table.ScrollContainer minWidth={0} type="native">
        <Table striped verticalSpacing={4} horizontalSpacing={isPhone ? 4 : 'xs'} fz="sm" captionSide="top">
          <Table.Caption>Records: what users with {p.name} may do in each module</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Module</Table.Th>
              {ACTIONS.map((a) => <Table.Th key={a} ta="center">{a.charAt(0).toUpperCase() + a.slice(1)}</Table.Th>)}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[...byModule].map(([m, flags]) => (
              <Table.Tr key={m}>
                <Table.Th scope="row" fw={400}>{moduleLabel(m)}</Table.Th>
                {ACTIONS.map((a) => <Table.Td key={a} ta="center"><Flag on={flags[a] === true} what={`${a} ${moduleLabel(m)}`} /></Table.Td>)}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <div>
        <Text size="sm" fw={600} mb={4}>Settings permissions</Text>
        <Group gap={6}>
          {settings.map((s) => (
            // Outline badges take a colour name, not a shade: the theme's resolver makes their text and border
            // shade 9 of it, and "gray.7" named no such variable, which left the text white on white.
            <Badge key={s.label} variant={s.enabled ? 'filled' : 'outline'} color={s.enabled ? 'teal.9' : 'gray'} tt="none"
              aria-label={`${s.label}: ${s.enabled ? 'allowed' : 'not allowed'}`}>
              {s.enabled ? '✓ ' : '✕ '}{s.label}
            </Badge>
          ))}
        </Group>
      </div>
    </Stack>
  );
}

/** The profiles, each opening onto its permissions (read when opened). */
export function ProfilesList({ profiles, moduleLabel, userCount }: { profiles: Profile[]; moduleLabel: (m: string) => string; userCount: (id: string) => number }) {
  const [open, setOpen] = useState<string[]>([]);
  return (
    <Accordion variant="separated" multiple chevronPosition="left" value={open} onChange={setOpen}>
      {profiles.map((p) => (
        <Accordion.Item key={p.id} value={p.id}>
          <Accordion.Control>
            <Group gap="xs" wrap="wrap">
              <Text fw={600} size="sm">{p.name}<VisuallyHidden> permissions</VisuallyHidden></Text>
              {p.permission_type === 'crm_admin' && <Badge size="sm" variant="filled" color="indigo.8">Administrator</Badge>}
              {p.custom && <Badge size="sm" variant="outline" color="gray">Custom</Badge>}
              <Text size="xs" c="dimmed">{userCount(p.id)} user{userCount(p.id) === 1 ? '' : 's'}</Text>
            </Group>
          </Accordion.Control>
          <Accordion.Panel>
            {open.includes(p.id) && <Details id={p.id} moduleLabel={moduleLabel} />}
          </Accordion.Panel>
        </Accordion.Item>
      ))}
    </Accordion>
  );
}
