import { describe, expect, it } from 'vitest';
import { validateFieldValue } from './field-values.ts';
import { findModule, moduleFields } from './modules.ts';

describe('field values', () => {
  const leads = moduleFields(findModule('leads')!);
  it('normalises datetimes to UTC and lookups to {id}', () => {
    const events = moduleFields(findModule('Events')!);
    expect(validateFieldValue(events.get('Start_DateTime')!, '2025-01-01T10:00:00+05:30', '$')).toEqual({ ok: true, value: '2025-01-01T04:30:00Z' });
    const contacts = moduleFields(findModule('Contacts')!);
    expect(validateFieldValue(contacts.get('Account_Name')!, '1234567890123456789', '$')).toEqual({ ok: true, value: { id: '1234567890123456789' } });
  });
  it('reports the expected type and length', () => {
    expect(validateFieldValue(leads.get('Annual_Revenue')!, 'lots', '$.data[0].Annual_Revenue'))
      .toMatchObject({ ok: false, error: { details: { expected_data_type: 'currency', json_path: '$.data[0].Annual_Revenue' } } });
    expect(validateFieldValue(leads.get('First_Name')!, 'x'.repeat(41), '$')).toMatchObject({ ok: false, error: { details: { maximum_length: 40 } } });
  });
});
