import { Button, Group, Select } from '@mantine/core';
import { DateField } from '../../components/DateField.tsx';
import type { BinView } from './binQuery.ts';
import { rangeProblem } from './binQuery.ts';
import { useDirectoryUsers, useModules } from './useBin.ts';

/** The bin's filters: Type (module), Deleted By (user) and the deletion dates From..To. */
export function BinFiltersBar({ view, onChange }: { view: BinView; onChange: (patch: Partial<BinView>) => void }) {
  const modules = useModules();
  const users = useDirectoryUsers();
  const problem = rangeProblem(view.from, view.to);
  const any = view.module || view.deletedBy || view.from || view.to;
  const userOptions = (users.data ?? []).map((u) => ({ value: u.id, label: u.status === 'active' ? u.full_name : `${u.full_name} (${u.status})` }));
  // A user id from a shared link that is not in the list still shows as something.
  if (view.deletedBy && users.data && !userOptions.some((o) => o.value === view.deletedBy)) {
    userOptions.push({ value: view.deletedBy, label: `User ${view.deletedBy}` });
  }
  return (
    <Group align="flex-start" gap="sm" wrap="wrap" role="search" aria-label="Filter the recycle bin">
      <Select label="Type" placeholder="All types" w={{ base: '100%', xs: 180 }} clearable searchable
        data={(modules.data ?? []).map((m) => ({ value: m.api_name, label: m.plural_label }))}
        value={view.module} onChange={(v) => onChange({ module: v })}
        error={modules.isError ? 'The types cannot be loaded.' : undefined}
        nothingFoundMessage="No such type" clearButtonProps={{ 'aria-label': 'Clear type' }} />
      <Select label="Deleted By" placeholder="Anyone" w={{ base: '100%', xs: 200 }} clearable searchable
        data={userOptions} value={view.deletedBy} onChange={(v) => onChange({ deletedBy: v })}
        error={users.isError ? 'The users cannot be loaded.' : undefined}
        nothingFoundMessage="No such user" clearButtonProps={{ 'aria-label': 'Clear user' }} />
      <DateField label="From" w={{ base: 'calc(50% - 6px)', xs: 160 }} value={view.from ?? ''}
        max={view.to ?? undefined} error={problem ?? undefined}
        onCommit={(d) => onChange({ from: d || null })} />
      <DateField label="To" w={{ base: 'calc(50% - 6px)', xs: 160 }} value={view.to ?? ''}
        min={view.from ?? undefined}
        onCommit={(d) => onChange({ to: d || null })} />
      {any && (
        <Button variant="subtle" mt={{ base: 0, xs: 25 }} onClick={() => onChange({ module: null, deletedBy: null, from: null, to: null })}>
          Clear filters
        </Button>
      )}
    </Group>
  );
}
