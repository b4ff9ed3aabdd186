import { memo, useEffect, useLayoutEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { Anchor, Box, Group, Paper, Stack, Table, Text, UnstyledButton } from '@mantine/core';
import { Link } from 'react-router';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import type { AuditEntry } from '../../api/audit.ts';
import { ActionBadge, recordHref } from '../../components/AuditEntryDetail.tsx';
import { displayValue } from '../../components/DiffView.tsx';
import { actionLabel, setupModuleLabel } from '../../lib/audit-filters.ts';
import { formatTime } from '../../lib/time.ts';
import classes from './EntryTable.module.css';

/** Past this many rows only those near the viewport are in the page (the rest are spacers). */
export const VIRTUALIZE_AFTER = 300;
/** Rows painted before the rest of a page. */
const FIRST_PAINT = 20;

/** The Changes column: the first changes as "Label: old → new" ("Label: new" when it was empty), and how many more. */
export function changeSummary(e: AuditEntry, timeZone?: string): string {
  const h = e.field_history;
  if (!h || h.length === 0) return '';
  const shown = h.slice(0, 2).map((c) => {
    const before = displayValue(c._value.old, timeZone);
    const after = displayValue(c._value.new, timeZone) ?? 'empty';
    return `${c.field_label || c.api_name}: ${before === null ? after : `${before} → ${after}`}`;
  });
  return shown.join('; ') + (h.length > 2 ? `; +${h.length - 2} more` : '');
}

export function moduleLabel(apiName: string | null | undefined, labels: Map<string, string>): string {
  if (!apiName) return '';
  return labels.get(apiName) ?? setupModuleLabel(apiName) ?? apiName;
}

/** "on Acme" for a note or activity; its parent may be gone (permanently deleted). */
function parentWords(e: AuditEntry): string {
  if (!e.parent_record) return '';
  return e.parent_record.name ? `on ${e.parent_record.name}` : 'on a record no longer present';
}

/**
 * One entry's row, in plain elements styled as Mantine's (EntryTable.module.css): a hundred rows of
 * Mantine components were most of the first rows' rendering. Memoised: the page renders again as
 * its other parts load, the rows need not.
 */
const EntryRow = memo(function EntryRow({ entry, timeZone, moduleLabels, onOpen, index, measure, selected }: {
  entry: AuditEntry; timeZone: string; moduleLabels: Map<string, string>; onOpen: (id: string) => void;
  index: number; measure?: (el: Element | null) => void; selected: boolean;
}) {
  const href = recordHref(entry.module?.api_name, entry.record?.id);
  const recordName = entry.record ? entry.record.name || `Record ${entry.record.id ?? ''}`.trim() : '';
  const onKeyDown = (ev: KeyboardEvent<HTMLTableRowElement>) => {
    if (ev.target !== ev.currentTarget) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onOpen(entry.id);
    }
  };
  const summary = changeSummary(entry, timeZone);
  return (
    <tr
      ref={measure}
      className={classes.row}
      data-index={index}
      data-entry-id={entry.id}
      data-selected={selected || undefined}
      tabIndex={0}
      aria-rowindex={index + 2}
      onClick={(ev) => {
        if ((ev.target as HTMLElement).closest('a')) return;
        onOpen(entry.id);
      }}
      onKeyDown={onKeyDown}
    >
      <td className={`${classes.cell} ${classes.nowrap}`}><p className={classes.text}>{formatTime(entry.audited_time, timeZone)}</p></td>
      <td className={classes.cell}>
        <p className={`${classes.text} ${classes.clamp}`}>{entry.done_by.name ?? (entry.done_by.type ? actionLabel(entry.done_by.type) : '—')}</p>
      </td>
      <td className={classes.cell}><ActionBadge action={entry.action} /></td>
      <td className={classes.cell}><p className={classes.text}>{moduleLabel(entry.module?.api_name, moduleLabels)}</p></td>
      <td className={`${classes.cell} ${classes.anywhere}`}>
        {entry.record && (href
          ? <Link to={href} className={`mantine-focus-auto ${classes.link}`}>{recordName}</Link>
          : <span className={classes.text}>{recordName}</span>)}
        {entry.parent_record && <p className={classes.note}>{parentWords(entry)}</p>}
      </td>
      <td className={classes.cell}>
        {summary
          ? <p className={`${classes.text} ${classes.clamp} ${classes.anywhere}`}>{summary}</p>
          : <p className={`${classes.text} ${classes.dimmed}`}>—</p>}
      </td>
    </tr>
  );
});

/**
 * Which entries are in the page: all of them, or past VIRTUALIZE_AFTER those near the viewport
 * (the window scrolls), with the heights of the spacers standing for the others.
 */
function useWindowRows<E extends Element>(entries: AuditEntry[]) {
  const startRef = useRef<E>(null);
  const [margin, setMargin] = useState(0);
  const virtual = entries.length > VIRTUALIZE_AFTER;
  // The first screenful paints at once and the rest a frame later: a hundred rows of Mantine take
  // a few hundred milliseconds, and the reader sees the top ones first (bench:console).
  const [all, setAll] = useState(false);
  useEffect(() => {
    if (all || entries.length <= FIRST_PAINT) return;
    const frame = requestAnimationFrame(() => setTimeout(() => setAll(true), 0));
    return () => cancelAnimationFrame(frame);
  }, [all, entries.length]);
  const shown = all || virtual ? entries : entries.slice(0, FIRST_PAINT);
  useLayoutEffect(() => {
    if (!virtual || !startRef.current) return;
    setMargin(startRef.current.getBoundingClientRect().top + window.scrollY);
  }, [virtual]);
  const v = useWindowVirtualizer<Element>({
    count: entries.length, estimateSize: () => 56, overscan: 20, scrollMargin: margin, enabled: virtual,
    getItemKey: (i) => entries[i].id,
  });
  const items = virtual ? v.getVirtualItems() : [];
  return {
    startRef,
    rows: virtual ? items.map((it) => ({ index: it.index, entry: entries[it.index] })) : shown.map((entry, index) => ({ index, entry })),
    top: virtual && items.length ? items[0].start - margin : 0,
    bottom: virtual && items.length ? v.getTotalSize() - (items[items.length - 1].end - margin) : 0,
    measure: virtual ? v.measureElement : undefined,
  };
}

interface ListProps {
  entries: AuditEntry[];
  timeZone: string;
  moduleLabels: Map<string, string>;
  onOpen: (id: string) => void;
  selectedId?: string;
  caption: string;
}

/**
 * The entries as a table (Time, User, Action, Module, Record, Changes). A row opens its details
 * on click, Enter or Space. A narrow window scrolls the table sideways inside its labelled region.
 */
export function EntryTable({ entries, timeZone, moduleLabels, onOpen, selectedId, caption }: ListProps) {
  const { startRef, rows, top, bottom, measure } = useWindowRows<HTMLTableSectionElement>(entries);
  return (
    <Box role="region" aria-label="Audit log entries" style={{ overflowX: 'auto' }}>
      <Table miw={860} highlightOnHover verticalSpacing="xs" aria-rowcount={entries.length + 1}>
        <Table.Caption style={{ captionSide: 'top', textAlign: 'left' }}><Text size="xs" c="gray.7" span>{caption}</Text></Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col" w={190}>Time</Table.Th>
            <Table.Th scope="col" w={150}>User</Table.Th>
            <Table.Th scope="col" w={170}>Action</Table.Th>
            <Table.Th scope="col" w={135}>Module</Table.Th>
            <Table.Th scope="col" w={170}>Record</Table.Th>
            <Table.Th scope="col">Changes</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody ref={startRef}>
          {top > 0 && <tr aria-hidden style={{ height: top }}><td colSpan={6} /></tr>}
          {rows.map(({ index, entry }) => (
            <EntryRow key={entry.id} entry={entry} index={index} timeZone={timeZone} moduleLabels={moduleLabels} onOpen={onOpen}
              measure={measure} selected={entry.id === selectedId} />
          ))}
          {bottom > 0 && <tr aria-hidden style={{ height: bottom }}><td colSpan={6} /></tr>}
        </Table.Tbody>
      </Table>
    </Box>
  );
}

/**
 * The entries as stacked cards, for phones: each card's heading is the button that opens the
 * entry's details; the record's name links to its page.
 */
export function EntryCards({ entries, timeZone, moduleLabels, onOpen, selectedId, caption }: ListProps) {
  const { startRef, rows, top, bottom, measure } = useWindowRows<HTMLDivElement>(entries);
  return (
    <Box component="section" aria-label="Audit log entries">
      <Text size="xs" c="gray.7" mb={6}>{caption}</Text>
      <Stack component="ul" ref={startRef} gap="xs" p={0} m={0} style={{ listStyle: 'none' }}>
        {top > 0 && <li aria-hidden style={{ height: top }} />}
        {rows.map(({ index, entry }) => (
          <EntryCard key={entry.id} entry={entry} index={index} timeZone={timeZone} moduleLabels={moduleLabels} onOpen={onOpen}
            measure={measure} selected={entry.id === selectedId} />
        ))}
        {bottom > 0 && <li aria-hidden style={{ height: bottom }} />}
      </Stack>
    </Box>
  );
}

const EntryCard = memo(function EntryCard({ entry, timeZone, moduleLabels, onOpen, index, measure, selected }: {
  entry: AuditEntry; timeZone: string; moduleLabels: Map<string, string>; onOpen: (id: string) => void;
  index: number; measure?: (el: Element | null) => void; selected: boolean;
}) {
  const href = recordHref(entry.module?.api_name, entry.record?.id);
  const recordName = entry.record ? entry.record.name || `Record ${entry.record.id ?? ''}`.trim() : '';
  const summary = changeSummary(entry, timeZone);
  const who = entry.done_by.name ?? (entry.done_by.type ? actionLabel(entry.done_by.type) : 'Unknown');
  return (
    <Paper component="li" ref={measure} data-index={index} data-entry-id={entry.id} withBorder p="sm"
      bg={selected ? 'var(--mantine-color-indigo-0)' : undefined}
      onClick={(ev: MouseEvent<HTMLElement>) => {
        if ((ev.target as HTMLElement).closest('a, button')) return;
        onOpen(entry.id);
      }}
      style={{ cursor: 'pointer' }}>
      <UnstyledButton onClick={() => onOpen(entry.id)} w="100%" aria-haspopup="dialog">
        <Group gap="xs" wrap="nowrap" justify="space-between">
          <Group gap={6} wrap="wrap">
            <ActionBadge action={entry.action} />
            <Text size="sm" fw={500} span>{moduleLabel(entry.module?.api_name, moduleLabels)}</Text>
          </Group>
          <Text size="xs" c="gray.7" ta="right">{formatTime(entry.audited_time, timeZone)}</Text>
        </Group>
      </UnstyledButton>
      {entry.record && (
        <Text size="sm" mt={4} style={{ overflowWrap: 'anywhere' }}>
          {href ? <Anchor component={Link} to={href} size="sm">{recordName}</Anchor> : recordName}
          {entry.parent_record && <Text span size="xs" c="gray.7"> {parentWords(entry)}</Text>}
        </Text>
      )}
      <Text size="xs" c="gray.7" mt={2}>by {who}</Text>
      {summary && <Text size="sm" mt={4} lineClamp={3} style={{ overflowWrap: 'anywhere' }}>{summary}</Text>}
    </Paper>
  );
});
