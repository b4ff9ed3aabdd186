import { Table, Text } from '@mantine/core';
import { formatTime, isIsoTime } from '../lib/time.ts';

/** One field's change: its api name, its label when known, the value before and after. */
export interface FieldChange {
  api_name: string;
  field_label?: string | null;
  old: unknown;
  new: unknown;
}

/**
 * A value as people read it: the API sends display strings; a date-time is shown in the
 * organisation's zone when it is given (as the record's fields are); objects and lists plainly.
 */
export function displayValue(v: unknown, timeZone?: string): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string') return timeZone && isIsoTime(v) ? formatTime(v, timeZone) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => displayValue(x, timeZone)).filter((x) => x !== null).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string') return o.name;
    if (typeof o.id === 'string') return o.id;
  }
  return JSON.stringify(v);
}

function Value({ value, tone, timeZone }: { value: unknown; tone: 'old' | 'new'; timeZone?: string }) {
  const text = displayValue(value, timeZone);
  if (text === null) return <Text span size="sm" c="gray.7" fs="italic">empty</Text>;
  return (
    <Text span size="sm" c={tone === 'old' ? 'red.9' : 'teal.9'} td={tone === 'old' ? 'line-through' : undefined}
      style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
      {text}
    </Text>
  );
}

/**
 * Every field's old → new value, colour-coded (before in red, struck through; after in green) and
 * labelled by the column headers, so the colour is never the only sign. When no field had a value
 * before (a record added), only the values are shown. `caption` is shown above the table; without
 * it the table is named "Field changes" for screen readers.
 */
export function DiffView({ changes, caption, timeZone }: { changes: FieldChange[]; caption?: string; timeZone?: string }) {
  if (changes.length === 0) return <Text size="sm" c="gray.7">No field values were recorded for this change.</Text>;
  const onlyNew = changes.every((c) => displayValue(c.old) === null);
  return (
    <Table layout="fixed" withTableBorder withColumnBorders verticalSpacing={6} horizontalSpacing="xs" fz="sm"
      aria-label={caption ? undefined : 'Field changes'}>
      {caption && (
        <Table.Caption style={{ captionSide: 'top', textAlign: 'left' }}>
          <Text span size="sm" fw={600} c="dark">{caption}</Text>
        </Table.Caption>
      )}
      <Table.Thead>
        <Table.Tr>
          <Table.Th scope="col" w={onlyNew ? '35%' : '30%'}>Field</Table.Th>
          {!onlyNew && <Table.Th scope="col">Before</Table.Th>}
          <Table.Th scope="col">{onlyNew ? 'Value' : 'After'}</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {changes.map((c) => (
          <Table.Tr key={c.api_name}>
            <Table.Th scope="row" fw={500} style={{ overflowWrap: 'anywhere' }}>
              {c.field_label || c.api_name}
            </Table.Th>
            {!onlyNew && <Table.Td bg="var(--mantine-color-red-0)"><Value value={c.old} tone="old" timeZone={timeZone} /></Table.Td>}
            <Table.Td bg="var(--mantine-color-green-0)"><Value value={c.new} tone="new" timeZone={timeZone} /></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** The API's field_history ({api_name, field_label, _value:{old,new}}) as DiffView's changes. */
export function changesOf(history: { api_name: string; field_label?: string | null; _value: { old: unknown; new: unknown } }[] | null | undefined): FieldChange[] {
  return (history ?? []).map((h) => ({ api_name: h.api_name, field_label: h.field_label, old: h._value.old, new: h._value.new }));
}
