import type { CSSProperties } from 'react';
import { Anchor, Code, Group, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import type { AuditEntry, Integrity } from '../api/audit.ts';
import { formatTime } from '../lib/time.ts';
import { detailLabel, detailValue } from '../lib/details.ts';
import { actionLabel, setupModuleLabel, sourceLabel } from '../lib/audit-filters.ts';
import { changesOf, DiffView } from './DiffView.tsx';
import badgeClasses from './ActionBadge.module.css';

/** Where a record's page is: /crm/tab/{Module}/{RecordId}, for CRM records only. */
export function recordHref(module: string | null | undefined, id: string | null | undefined): string | null {
  if (!module || !id || !/^[A-Z]/.test(module)) return null;
  return `/crm/tab/${encodeURIComponent(module)}/${encodeURIComponent(id)}`;
}

/** The colour of an action's badge: removals red, additions green, the rest neutral. */
export function actionColor(action: string): string {
  if (/permanently|purged|emptied|login_failed|revoked/.test(action)) return 'red';
  if (/deleted/.test(action)) return 'orange';
  if (/added|created|restored|imported/.test(action)) return 'green';
  if (/updated|merged|converted/.test(action)) return 'blue';
  return 'gray';
}

/**
 * The action as a badge (Mantine's "dot" badge, drawn by a plain element: the audit log shows one
 * per row) that shows its whole label, however long.
 */
export function ActionBadge({ action }: { action: string }) {
  return (
    <div className={badgeClasses.badge} style={{ '--dot-color': `var(--mantine-color-${actionColor(action)}-filled)` } as CSSProperties}>
      <span className={badgeClasses.label}>{actionLabel(action)}</span>
    </div>
  );
}

/** The audit log view of the entry's batch: its sibling entries (the API's batch_id filter). */
export function batchHref(entry: AuditEntry): string | null {
  if (!entry.batch_id) return null;
  return `/audit-log?${new URLSearchParams({ batch: entry.batch_id }).toString()}`;
}

export type IntegrityState =
  | { status: 'loading' }
  | { status: 'ready'; integrity: Integrity | null }
  /** 403 for non-administrators, or an error: only the sequence is shown. */
  | { status: 'unavailable'; reason?: string };

/** The entry's place in the hash chain, in words. */
export function chainText(sequence: number, state: IntegrityState): { text: string; tone: 'ok' | 'warn' | 'plain' } {
  const base = `Sequence ${sequence.toLocaleString('en-GB')}`;
  if (state.status !== 'ready' || !state.integrity) return { text: base, tone: 'plain' };
  const { newest_head: head, last_verify: verify } = state.integrity;
  if (verify && !verify.ok) return { text: `${base} · the last verification found the chain broken`, tone: 'warn' };
  if (head && verify?.ok && sequence <= head.seq) return { text: `${base} · verified up to signed head ${head.seq.toLocaleString('en-GB')}`, tone: 'ok' };
  if (head && sequence > head.seq) return { text: `${base} · not yet covered by a signed head (the newest, ${head.seq.toLocaleString('en-GB')}, ends before it)`, tone: 'plain' };
  if (!verify) return { text: `${base} · the chain has not been verified yet`, tone: 'plain' };
  if (!head) return { text: `${base} · no head has been signed yet`, tone: 'plain' };
  return { text: base, tone: 'plain' };
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" w={120} fw={500} c="gray.7" style={{ verticalAlign: 'top' }}>{label}</Table.Th>
      <Table.Td style={{ overflowWrap: 'anywhere' }}>{children}</Table.Td>
    </Table.Tr>
  );
}

/** The panel's contents for one audit entry: the change, who made it and from where, its batch, its place in the chain. */
export function AuditEntryDetail({ entry, timeZone, integrity }: { entry: AuditEntry; timeZone: string; integrity: IntegrityState }) {
  const moduleName = entry.module?.api_name ?? null;
  const href = recordHref(moduleName, entry.record?.id);
  const parentHref = entry.parent_record ? recordHref(entry.parent_record.module?.api_name, entry.parent_record.id) : null;
  const batch = batchHref(entry);
  const chain = chainText(entry.sequence, integrity);
  const doneBy = entry.done_by.name ?? (entry.done_by.type ? actionLabel(entry.done_by.type) : 'Unknown');
  const extra = entry.details && Object.keys(entry.details).length ? entry.details : null;
  return (
    <Stack gap="md">
      <Group gap="xs">
        <ActionBadge action={entry.action} />
        <Text size="sm">{formatTime(entry.audited_time, timeZone)}</Text>
      </Group>
      {(entry.record || moduleName) && (
        <Text size="sm">
          {moduleName && <>{setupModuleLabel(moduleName) ?? moduleName}{entry.record ? ': ' : ''}</>}
          {entry.record && (href
            ? <Anchor component={Link} to={href}>{entry.record.name || `Record ${entry.record.id}`}</Anchor>
            : <span>{entry.record.name || entry.record.id}</span>)}
          {entry.parent_record && (
            <> (of {parentHref
              ? <Anchor component={Link} to={parentHref}>{entry.parent_record.name || 'a record no longer present'}</Anchor>
              : entry.parent_record.name || 'a record no longer present'})</>
          )}
        </Text>
      )}

      <section aria-labelledby={`changes-${entry.id}`}>
        <Title order={3} size="h5" id={`changes-${entry.id}`} mb={6}>Changes</Title>
        {entry.field_history
          ? <DiffView changes={changesOf(entry.field_history)} timeZone={timeZone} />
          : <Text size="sm" c="gray.7">This action changes no field values.</Text>}
      </section>

      <section aria-labelledby={`who-${entry.id}`}>
        <Title order={3} size="h5" id={`who-${entry.id}`} mb={6}>Who and from where</Title>
        <Table fz="sm" verticalSpacing={4} horizontalSpacing="xs">
          <Table.Tbody>
            <Row label="Done by">{doneBy}</Row>
            <Row label="Source">{sourceLabel(entry.source)}</Row>
            <Row label="IP address">{entry.ip_address ?? <Text span c="gray.7" size="sm">not recorded</Text>}</Row>
            <Row label="User agent">{entry.user_agent ?? <Text span c="gray.7" size="sm">not recorded</Text>}</Row>
          </Table.Tbody>
        </Table>
      </section>

      <section aria-labelledby={`batch-${entry.id}`}>
        <Title order={3} size="h5" id={`batch-${entry.id}`} mb={6}>Batch</Title>
        {entry.batch_id && batch ? (
          <Stack gap={4}>
            <Text size="sm">Part of batch <Code>{entry.batch_id}</Code>: entries written together by one action (a mass update, an import, a merge or a deletion with its dependents).</Text>
            <Anchor component={Link} to={batch} size="sm">Show the entries of this batch</Anchor>
          </Stack>
        ) : <Text size="sm" c="gray.7">Not part of a batch.</Text>}
      </section>

      <section aria-labelledby={`chain-${entry.id}`}>
        <Title order={3} size="h5" id={`chain-${entry.id}`} mb={6}>Hash chain</Title>
        <Text size="sm" c={chain.tone === 'ok' ? 'teal.9' : chain.tone === 'warn' ? 'red.9' : undefined}>
          {chain.text}
        </Text>
        {integrity.status === 'loading' && <Text size="xs" c="gray.7">Checking the newest signed head…</Text>}
      </section>

      {extra && (
        <section aria-labelledby={`extra-${entry.id}`}>
          <Title order={3} size="h5" id={`extra-${entry.id}`} mb={6}>Other details</Title>
          <Table fz="sm" verticalSpacing={4} horizontalSpacing="xs">
            <Table.Tbody>
              {Object.entries(extra).map(([k, v]) => <Row key={k} label={detailLabel(k)}>{detailValue(v, timeZone)}</Row>)}
            </Table.Tbody>
          </Table>
        </section>
      )}
    </Stack>
  );
}
