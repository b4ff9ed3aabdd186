import { memo, useRef, useState } from 'react';
import { Box, Button, Group, MultiSelect, SimpleGrid, Stack, Text } from '@mantine/core';
import { DateField } from '../../components/DateField.tsx';
import { UserPicker } from '../../components/UserPicker.tsx';
import {
  actionLabel, dateInputToIso, detectPreset, isoToDateInput, presetRange, RANGE_PRESETS, setupModuleLabel, SETUP_MODULES,
  type AuditFilters, type RangePreset,
} from '../../lib/audit-filters.ts';
import { removeQualifiers } from '../../lib/search.ts';
import { todayIn } from '../../lib/time.ts';
import type { ModuleInfo } from '../../api/records.ts';

const ACTION_GROUPS: { group: string; items: string[] }[] = [
  { group: 'Records', items: ['added', 'updated', 'deleted', 'restored', 'permanently_deleted', 'merged', 'converted',
    'recycle_bin_emptied', 'mass_updated', 'mass_deleted', 'imported', 'exported', 'viewed'] },
  { group: 'Sign-in', items: ['login', 'login_failed', 'logout'] },
  { group: 'Users, roles and profiles', items: ['user_added', 'user_updated', 'user_deleted', 'role_added', 'role_updated', 'role_deleted',
    'profile_added', 'profile_updated', 'profile_deleted'] },
  { group: 'API access', items: ['oauth_client_created', 'oauth_client_revoked', 'oauth_client_unlocked', 'oauth_grant_code_issued', 'token_revoked'] },
  { group: 'Organisation and audit log', items: ['org_created', 'org_updated', 'sharing_updated', 'audit_log_viewed', 'audit_log_exported',
    'audit_log_downloaded', 'audit_log_purged', 'finding_detected', 'finding_acknowledged'] },
  { group: 'Alerts', items: ['alert_rule_created', 'alert_rule_updated', 'alert_rule_deleted', 'alert_rule_tested', 'alert_delivery_retried'] },
  { group: 'SIEM streams', items: ['stream_created', 'stream_updated', 'stream_rewound', 'stream_deleted'] },
];

const actionData = ACTION_GROUPS.map((g) => ({ group: g.group, items: g.items.map((a) => ({ value: a, label: actionLabel(a) })) }));

/**
 * User, Action, Module, the time range (Any time, Today, Last 7 days, Last 30 days, Custom) and
 * From / To. Memoised: the page renders again as its entries and lists arrive, the filters need not.
 */
export const FilterBar = memo(function FilterBar({ filters, update, modules, modulesError, timeZone }: {
  filters: AuditFilters;
  update: (patch: Partial<AuditFilters>) => void;
  modules: ModuleInfo[] | undefined;
  modulesError: boolean;
  timeZone: string;
}) {
  const fromRef = useRef<HTMLInputElement>(null);
  const [customChosen, setCustomChosen] = useState(false);
  const detected = detectPreset(filters.from, filters.to, timeZone);
  const preset: RangePreset = customChosen && (detected === 'any' || detected === 'custom') ? 'custom' : detected;
  const moduleData = [
    { group: 'CRM modules', items: (modules ?? []).map((m) => ({ value: m.api_name, label: m.plural_label })) },
    { group: 'Setup', items: SETUP_MODULES.map((m) => ({ value: m, label: setupModuleLabel(m) ?? m })) },
  ];
  // A module named in the URL that the list does not hold still shows (the server judges it).
  for (const m of filters.modules) {
    if (!moduleData.some((g) => g.items.some((i) => i.value === m))) moduleData[0].items.push({ value: m, label: m });
  }
  const today = todayIn(timeZone);

  const choosePreset = (p: RangePreset) => {
    setCustomChosen(p === 'custom');
    if (p === 'any') update({ from: undefined, to: undefined });
    else if (p === 'custom') window.setTimeout(() => fromRef.current?.focus(), 0);
    else update({ ...presetRange(p, timeZone), to: undefined });
  };

  return (
    <Stack gap="sm">
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="sm">
        <UserPicker value={filters.doneBy}
          onChange={(doneBy) => update({ doneBy, q: removeQualifiers(filters.q, ['user']) })} />
        <MultiSelect label="Action" placeholder={filters.actions.length ? undefined : 'Any action'} data={actionData}
          value={filters.actions} onChange={(actions) => update({ actions, q: removeQualifiers(filters.q, ['action']) })}
          searchable clearable hidePickedOptions nothingFoundMessage="No action matches." maxDropdownHeight={320} />
        <MultiSelect label="Module" placeholder={filters.modules.length ? undefined : 'Any module'} data={moduleData}
          value={filters.modules} onChange={(mods) => update({ modules: mods, q: removeQualifiers(filters.q, ['module']) })}
          searchable clearable hidePickedOptions nothingFoundMessage="No module matches." maxDropdownHeight={320}
          error={modulesError ? 'The CRM modules could not be loaded; setup areas are still listed.' : undefined} />
      </SimpleGrid>
      <Group gap="sm" align="flex-end" wrap="wrap">
        <Box>
          <Text component="span" size="sm" fw={600} id="range-label" display="block" mb={4}>Time range</Text>
          <Group gap={0} role="group" aria-labelledby="range-label" wrap="wrap">
            {RANGE_PRESETS.map((p, i) => (
              <Button key={p.value} size="sm" variant={preset === p.value ? 'filled' : 'default'} color="indigo.8" aria-pressed={preset === p.value}
                onClick={() => choosePreset(p.value)}
                styles={{ root: {
                  borderTopLeftRadius: i === 0 ? undefined : 0, borderBottomLeftRadius: i === 0 ? undefined : 0,
                  borderTopRightRadius: i === RANGE_PRESETS.length - 1 ? undefined : 0, borderBottomRightRadius: i === RANGE_PRESETS.length - 1 ? undefined : 0,
                  marginLeft: i === 0 ? 0 : -1,
                } }}>
                {p.label}
              </Button>
            ))}
          </Group>
        </Box>
        <Group gap="sm" wrap="nowrap" style={{ flex: '1 1 280px' }}>
          <DateField ref={fromRef} label="From" style={{ flex: 1 }} max={today}
            value={isoToDateInput(filters.from, timeZone)}
            onCommit={(d) => {
              setCustomChosen(true);
              update({ from: d ? dateInputToIso(d, 'start', timeZone) : undefined });
            }} />
          <DateField label="To" style={{ flex: 1 }}
            value={isoToDateInput(filters.to, timeZone)}
            onCommit={(d) => {
              setCustomChosen(true);
              update({ to: d ? dateInputToIso(d, 'end', timeZone) : undefined });
            }} />
        </Group>
      </Group>
    </Stack>
  );
});
