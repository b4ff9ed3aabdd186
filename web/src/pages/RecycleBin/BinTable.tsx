import { Anchor, Checkbox, Table, Text, UnstyledButton } from '@mantine/core';
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
  onSort: (by: BinSortBy) => void;
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

/** The bin's items with a checkbox each; Name, Deleted By and Deleted Time sort. */
export function BinTable({ items, selected, onToggle, onToggleAll, timeZone, label, sortBy, sortOrder, onSort }: Props) {
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
