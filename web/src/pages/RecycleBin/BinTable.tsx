import { Anchor, Checkbox, Group, NativeSelect, Stack, Table, Text, UnstyledButton } from '@mantine/core';
import { Card, CardList } from '../../components/CardList.tsx';
import { useMediaQuery } from '@mantine/hooks';
import { Link } from 'react-router';
import type { BinItem, BinSortBy } from '../../api/bin.ts';
import { formatTime } from '../../lib/time.ts';
import { itemName } from './binQuery.ts';

interface Props {
  items: BinItem[];
  selected: Set<string>;
  onToggle: (id: string, on: boolean) => void;
  onToggleAll: (on: boolean) => void;
  timeZone: string;
  label: (module: string) => { plural: string; singular: string };
  sortBy: BinSortBy;
  sortOrder: 'asc' | 'desc';
  /** Sorts by a column: the order given, or the other order of the current column, or descending. */
  onSort: (by: BinSortBy, order?: 'asc' | 'desc') => void;
}

function SortHeader({ by, label, sortBy, sortOrder, onSort }: { by: BinSortBy; label: string } & Pick<Props, 'sortBy' | 'sortOrder' | 'onSort'>) {
  const active = sortBy === by;
  return (
    <Table.Th aria-sort={active ? (sortOrder === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton onClick={() => onSort(by)} fw={700} fz="sm" title={`Sort by ${label.toLowerCase()}`}>
        {label}
        <span aria-hidden> {active ? (sortOrder === 'asc' ? '▲' : '▼') : '↕'}</span>
      </UnstyledButton>
    </Table.Th>
  );
}

const SORTS = [
  { value: 'deleted_time:desc', label: 'Newest deletions first' },
  { value: 'deleted_time:asc', label: 'Oldest deletions first' },
  { value: 'display_name:asc', label: 'Name, A to Z' },
  { value: 'display_name:desc', label: 'Name, Z to A' },
  { value: 'deleted_by:asc', label: 'Deleted by, A to Z' },
  { value: 'deleted_by:desc', label: 'Deleted by, Z to A' },
];

/** On a phone: one card per item, the same checkboxes and names, sorting from a menu. */
function BinCards({ items, selected, onToggle, onToggleAll, timeZone, label, sortBy, sortOrder, onSort }: Props) {
  const all = items.length > 0 && items.every((i) => selected.has(i.id));
  const some = items.some((i) => selected.has(i.id));
  return (
    <Stack gap="xs">
      <Group justify="space-between" align="flex-end" wrap="nowrap">
        <Checkbox label="Select all" checked={all} indeterminate={some && !all} onChange={(e) => onToggleAll(e.currentTarget.checked)} />
        <NativeSelect label="Sort by" size="xs" data={SORTS} value={`${sortBy}:${sortOrder}`}
          onChange={(e) => {
            const [by, order] = e.currentTarget.value.split(':') as [BinSortBy, 'asc' | 'desc'];
            onSort(by, order);
          }} />
      </Group>
      <CardList aria-label="Deleted items">
        {items.map((i) => {
          const name = itemName(i);
          return (
            <Card key={i.id} bg={selected.has(i.id) ? 'var(--mantine-primary-color-light)' : undefined}>
              <Group wrap="nowrap" align="flex-start" gap="sm">
                <Checkbox mt={2} aria-label={`Select ${name}`} checked={selected.has(i.id)} onChange={(e) => onToggle(i.id, e.currentTarget.checked)} />
                <Stack gap={2} style={{ minWidth: 0 }}>
                  <Anchor component={Link} to={`/crm/tab/${encodeURIComponent(i.module.api_name)}/${encodeURIComponent(i.id)}`} fz="sm" fw={500}>{name}</Anchor>
                  <Text size="xs" c="dimmed">
                    {label(i.module.api_name).plural}{i.parent_record ? `, on a ${label(i.parent_record.module.api_name).singular.toLowerCase()}` : ''}
                    {i.owner ? ` · Owner: ${i.owner.name ?? i.owner.id}` : ''}
                  </Text>
                  <Text size="xs">
                    Deleted by {i.deleted_by ? i.deleted_by.name ?? `user ${i.deleted_by.id}` : 'someone unknown'},{' '}
                    <time dateTime={i.deleted_time}>{formatTime(i.deleted_time, timeZone)}</time>
                  </Text>
                </Stack>
              </Group>
            </Card>
          );
        })}
      </CardList>
    </Stack>
  );
}

/** The bin's items with a checkbox each; Name, Deleted By and Deleted Time sort. Cards on a phone. */
export function BinTable(props: Props) {
  const phone = useMediaQuery('(max-width: 36em)');
  return phone ? <BinCards {...props} /> : <BinRows {...props} />;
}

function BinRows({ items, selected, onToggle, onToggleAll, timeZone, label, sortBy, sortOrder, onSort }: Props) {
  const all = items.length > 0 && items.every((i) => selected.has(i.id));
  const some = items.some((i) => selected.has(i.id));
  const sort = { sortBy, sortOrder, onSort };
  return (
    <Table.ScrollContainer minWidth={760} type="native">
      <Table striped highlightOnHover verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={40}>
              <Checkbox aria-label="Select all" checked={all} indeterminate={some && !all}
                onChange={(e) => onToggleAll(e.currentTarget.checked)} />
            </Table.Th>
            <SortHeader by="display_name" label="Name" {...sort} />
            <Table.Th>Type</Table.Th>
            <SortHeader by="deleted_by" label="Deleted By" {...sort} />
            <SortHeader by="deleted_time" label="Deleted Time" {...sort} />
            <Table.Th>Owner</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((i) => {
            const name = itemName(i);
            return (
              <Table.Tr key={i.id} bg={selected.has(i.id) ? 'var(--mantine-primary-color-light)' : undefined}>
                <Table.Td>
                  <Checkbox aria-label={`Select ${name}`} checked={selected.has(i.id)} onChange={(e) => onToggle(i.id, e.currentTarget.checked)} />
                </Table.Td>
                <Table.Td>
                  <Anchor component={Link} to={`/crm/tab/${encodeURIComponent(i.module.api_name)}/${encodeURIComponent(i.id)}`} fz="sm">
                    {name}
                  </Anchor>
                  {i.parent_record && (
                    <Text size="xs" c="dimmed">on a {label(i.parent_record.module.api_name).singular.toLowerCase()}</Text>
                  )}
                </Table.Td>
                <Table.Td>{label(i.module.api_name).plural}</Table.Td>
                <Table.Td>{i.deleted_by ? i.deleted_by.name ?? `User ${i.deleted_by.id}` : '—'}</Table.Td>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>
                  <time dateTime={i.deleted_time}>{formatTime(i.deleted_time, timeZone)}</time>
                </Table.Td>
                <Table.Td>{i.owner ? i.owner.name ?? `User ${i.owner.id}` : '—'}</Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
