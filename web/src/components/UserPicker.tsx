import { useMemo } from 'react';
import { MultiSelect, Pill, type MultiSelectProps } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { listUsers, type User } from '../api/users.ts';

/** The organisation's users (GET /crm/v8/users), cached for the session's pages. */
export function useUsers() {
  return useQuery({ queryKey: ['directory', 'users'], queryFn: () => listUsers(), staleTime: 60_000 });
}

export const userLabel = (u: User) => `${u.full_name}${u.status !== 'active' ? ` (${u.status})` : ''}`;

/**
 * Picks several users by name or email; the value is their ids. Ids in the value that the list
 * does not hold (a deleted user, a link from elsewhere) stay selectable and show as the id.
 */
export function UserPicker({ value, onChange, label = 'User', ...rest }: {
  value: string[];
  onChange: (ids: string[]) => void;
  label?: string;
} & Omit<MultiSelectProps, 'value' | 'onChange' | 'data' | 'label'>) {
  const users = useUsers();
  const data = useMemo(() => {
    const list = (users.data ?? []).map((u) => ({ value: u.id, label: `${userLabel(u)} · ${u.email}` }));
    const known = new Set(list.map((o) => o.value));
    for (const id of value) if (!known.has(id)) list.push({ value: id, label: `User ${id}` });
    return list;
  }, [users.data, value]);
  return (
    <MultiSelect
      label={label}
      placeholder={value.length ? undefined : users.isPending ? 'Loading users…' : 'Anyone'}
      data={data}
      value={value}
      onChange={onChange}
      searchable
      clearable
      hidePickedOptions
      nothingFoundMessage={users.isError ? 'The users could not be loaded.' : 'No user matches.'}
      error={users.isError ? 'The list of users could not be loaded.' : undefined}
      comboboxProps={{ withinPortal: true }}
      renderPill={({ option, value: id, onRemove, disabled }) => {
        // The option reads "Name · email" (so typing an email finds it); the pill names the user only.
        const name = option ? option.label.split(' · ')[0] : `User ${String(id)}`;
        return (
          <Pill withRemoveButton={!disabled} onRemove={onRemove} title={option?.label}
            removeButtonProps={{ 'aria-label': `Remove ${name}` }}>
            {name}
          </Pill>
        );
      }}
      {...rest}
    />
  );
}
