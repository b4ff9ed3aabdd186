import { describe, expect, it } from 'vitest';
import { requireModule, type FieldDef } from './modules.ts';
import { matchesRecordCriteria, parseRecordCriteria, recordCriteriaJson, MAX_RECORD_CONDITIONS } from './record-criteria.ts';

const deals = requireModule('Deals');
const leads = requireModule('Leads');
const OWNER = '1000000000000000001';
const match = (module = deals, criteria: unknown, values: Record<string, unknown>) =>
  matchesRecordCriteria(parseRecordCriteria(module, criteria), (f: FieldDef) => values[f.apiName]);
const cond = (api_name: string, comparator: string, value: unknown) => ({ field: { api_name }, comparator, value });

describe('record criteria (Zoho Bulk Read grammar)', () => {
  it('compares numbers, dates and times by value, text without case, lookups by id', () => {
    expect(match(deals, cond('Amount', 'greater_than', 1000), { Amount: 1500 })).toBe(true);
    expect(match(deals, cond('Amount', 'greater_than', '1000'), { Amount: 900 })).toBe(false);
    expect(match(deals, cond('Amount', 'between', [100, 200]), { Amount: 200 })).toBe(true);
    expect(match(deals, cond('Amount', 'not_between', [100, 200]), { Amount: 201 })).toBe(true);
    expect(match(deals, cond('Closing_Date', 'less_than', '2026-02-01'), { Closing_Date: '2026-01-31' })).toBe(true);
    expect(match(deals, cond('Created_Time', 'greater_equal', '2026-01-01T05:30:00+05:30'), { Created_Time: Date.parse('2026-01-01T00:00:00Z') })).toBe(true);
    expect(match(deals, cond('Created_Time', 'greater_than', '2026-01-01T05:30:00+05:30'), { Created_Time: Date.parse('2026-01-01T00:00:00Z') })).toBe(false);
    expect(match(deals, cond('Deal_Name', 'starts_with', 'EXP'), { Deal_Name: 'Expansion' })).toBe(true);
    expect(match(deals, cond('Owner', 'equal', { id: OWNER }), { Owner: OWNER })).toBe(true);
    expect(match(deals, cond('Owner', 'not_in', [OWNER]), { Owner: '1000000000000000002' })).toBe(true);
  });

  it('lets an empty field meet only the negated comparators', () => {
    expect(match(leads, cond('Company', 'equal', 'Acme'), {})).toBe(false);
    expect(match(leads, cond('Company', 'not_equal', 'Acme'), { Company: '' })).toBe(true);
    expect(match(leads, cond('Company', 'not_contains', 'Acme'), {})).toBe(true);
  });

  it('joins groups with and / or, nesting', () => {
    const inner = [cond('Company', 'contains', 'acme'), cond('Email_Opt_Out', 'equal', true)];
    const c = { group_operator: 'or', group: [cond('Lead_Source', 'equal', 'Web Download'), { group_operator: 'AND', group: inner }] };
    expect(match(leads, c, { Lead_Source: 'Chat', Company: 'ACME Ltd', Email_Opt_Out: true })).toBe(true);
    expect(match(leads, c, { Lead_Source: 'Chat', Company: 'ACME Ltd', Email_Opt_Out: false })).toBe(false);
    expect(recordCriteriaJson(parseRecordCriteria(leads, c))).toEqual({ ...c, group_operator: 'or',
      group: [c.group[0], { group_operator: 'and', group: inner }] });
  });

  it('refuses what it cannot apply, naming the key', () => {
    const err = (criteria: unknown, module = leads) => { try { parseRecordCriteria(module, criteria); } catch (e) { return e; } throw new Error('accepted'); };
    expect(err('not json')).toMatchObject({ code: 'INVALID_DATA', details: { param_name: 'criteria' } });
    expect(err({ comparator: 'equal', value: 'x' })).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { json_path: '$.field.api_name' } });
    expect(err(cond('Company', 'less_than', 'B'))).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'comparator' } });
    expect(err({ field: { api_name: 'Company' }, comparator: 'equal' })).toMatchObject({ code: 'MANDATORY_NOT_FOUND', details: { api_name: 'value' } });
    expect(err(cond('Amount', 'between', [1]), deals)).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.value' } });
    expect(err(cond('Amount', 'in', [1, 'many']), deals)).toMatchObject({ code: 'INVALID_DATA', details: { json_path: '$.value[1]' } });
    expect(err(cond('Owner', 'equal', 'Ada'))).toMatchObject({ code: 'INVALID_DATA', details: { expected_data_type: 'ownerlookup' } });
    expect(err({ group_operator: 'xor', group: [cond('Company', 'equal', 'a')] })).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'group_operator' } });
    expect(err({ group_operator: 'or', group: Array.from({ length: MAX_RECORD_CONDITIONS + 1 }, () => cond('Company', 'equal', 'a')) }))
      .toMatchObject({ code: 'LIMIT_EXCEEDED' });
  });
});
