import { Anchor, Text } from '@mantine/core';
import { Link } from 'react-router';
import type { FieldInfo } from '../../api/records.ts';
import { recordHref } from '../../components/AuditEntryDetail.tsx';
import { formatTime } from '../../lib/time.ts';

/** Each module's name field (the server's STANDARD_MODULES nameField), mirrored for the page's h1. */
const NAME_FIELDS: Record<string, string> = {
  Leads: 'Full_Name', Contacts: 'Full_Name', Accounts: 'Account_Name', Deals: 'Deal_Name', Events: 'Event_Title',
  Notes: 'Note_Title', Attachments: 'File_Name', Campaigns: 'Campaign_Name', Products: 'Product_Name', Vendors: 'Vendor_Name',
  Solutions: 'Solution_Title',
};
const FALLBACK_NAME_FIELDS = ['Full_Name', 'Name', 'Subject', 'Last_Name'];

/** The record's name as its h1 shows it; null when none of its name fields is set. */
export function recordName(module: string, record: Record<string, unknown>): string | null {
  const candidates = [NAME_FIELDS[module], 'Subject', ...FALLBACK_NAME_FIELDS].filter(Boolean) as string[];
  for (const f of candidates) {
    const v = record[f];
    if (typeof v === 'string' && v.trim()) return v;
  }
  if (module === 'Leads' || module === 'Contacts') {
    const name = [record.First_Name, record.Last_Name].filter((x) => typeof x === 'string' && x).join(' ');
    if (name) return name;
  }
  return null;
}

/** Whether a field holds nothing worth a row. */
export function isEmptyValue(v: unknown): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
}

/** A field's value as the page shows it: names for lookups (linked to their record), times in the org's zone. */
export function FieldValue({ field, value, record, timeZone }: {
  field: FieldInfo; value: unknown; record: Record<string, unknown>; timeZone: string;
}) {
  if (isEmptyValue(value)) return <Text span size="sm" c="gray.7">—</Text>;
  if (typeof value === 'boolean') return <Text span size="sm">{value ? 'Yes' : 'No'}</Text>;
  if (field.data_type === 'datetime' && typeof value === 'string') return <Text span size="sm">{formatTime(value, timeZone)}</Text>;
  if (Array.isArray(value)) return <Text span size="sm">{value.map((v) => (typeof v === 'object' && v ? (v as { name?: string }).name ?? JSON.stringify(v) : String(v))).join(', ')}</Text>;
  if (typeof value === 'object' && value) {
    const o = value as { id?: string; name?: string | null; email?: string | null; module?: { api_name?: string } };
    const label = o.name || o.email || o.id || JSON.stringify(value);
    const target = field.api_name === 'Parent_Id' ? o.module?.api_name
      : field.api_name === 'What_Id' ? (record.$se_module as string | undefined)
        : field.data_type === 'lookup' ? field.lookup?.module?.api_name : undefined;
    const href = target ? recordHref(target, o.id) : null;
    return href ? <Anchor component={Link} to={href} size="sm">{label}</Anchor> : <Text span size="sm">{label}</Text>;
  }
  return <Text span size="sm" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>{String(value)}</Text>;
}
