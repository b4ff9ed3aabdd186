import { describe, expect, it } from 'vitest';
import { parseExportCriteria } from './export-criteria.ts';

const cond = (field: string, comparator: string, value: unknown) => ({ field: { api_name: field }, comparator, value });
const and = (...group: unknown[]) => ({ group_operator: 'and', group });
const P = '$.audit_log_export[0].criteria';

describe('export criteria', () => {
  it('intersects actions and time ranges across nested groups, and keeps module and user references', () => {
    const c = parseExportCriteria(and(
      and(cond('action', 'in', ['added', 'updated', 'deleted']), cond('action', 'equal', 'updated')),
      and(cond('audited_time', 'between', ['2026-01-01T00:00:00+00:00', '2026-03-01T00:00:00+00:00']),
        and(cond('module', 'in', ['Leads', { id: '1234567890123456789' }]), cond('done_by', 'equal', [{ id: '2234567890123456789' }])))), P);
    expect(c.actions).toEqual(['updated']);
    expect(c.from).toBe(Date.UTC(2026, 0, 1));
    expect(c.to).toBe(Date.UTC(2026, 2, 1));
    expect(c.modules).toEqual([[{ apiName: 'Leads', path: `${P}.group[1].group[1].group[0].value[0]` },
      { apiName: undefined, id: '1234567890123456789', path: `${P}.group[1].group[1].group[0].value[1]` }]]);
    expect(c.doneBy).toEqual([{ ids: ['2234567890123456789'], path: `${P}.group[1].group[1].group[1].value` }]);
  });

  it.each([
    ['a field and a group at once', { ...cond('action', 'equal', 'added'), group: [] }, 'AMBIGUITY_DURING_PROCESSING', undefined],
    ['neither field nor group', {}, 'EXPECTED_FIELD_MISSING', undefined],
    ['a group without its operator', { group: [cond('action', 'equal', 'added')] }, 'DEPENDENT_FIELD_MISSING', `${P}.group_operator`],
    ['three criteria in a group', and(...Array.from({ length: 3 }, () => cond('action', 'equal', 'added'))), 'LIMIT_EXCEEDED', `${P}.group`],
    ['an unsupported field', cond('ip', 'equal', '1.2.3.4'), 'NOT_SUPPORTED', `${P}.field.api_name`],
    ['a missing value', { field: { api_name: 'action' }, comparator: 'equal' }, 'DEPENDENT_FIELD_MISSING', `${P}.value`],
    ['a comparator the field lacks', cond('audited_time', 'equal', 'x'), 'INVALID_DATA', `${P}.comparator`],
    ['an unknown action', cond('action', 'in', ['added', 'hugged']), 'NOT_SUPPORTED', `${P}.value[1]`],
    ['a user object without its id', cond('done_by', 'in', [{ name: 'Amelia' }]), 'MANDATORY_NOT_FOUND', `${P}.value[0].id`],
    ['a field without api_name', { field: {}, comparator: 'equal', value: 'added' }, 'MANDATORY_NOT_FOUND', `${P}.field.api_name`],
    ['a field with an empty api_name', cond('', 'equal', 'added'), 'MANDATORY_NOT_FOUND', `${P}.field.api_name`],
    ['group_operator beside a field, without group', { ...cond('action', 'equal', 'added'), group_operator: 'and' }, 'DEPENDENT_FIELD_MISSING', `${P}.group`],
    ['group_operator alone', { group_operator: 'and' }, 'DEPENDENT_FIELD_MISSING', `${P}.group`],
    ['comparator and value without field', { comparator: 'equal', value: 'added' }, 'DEPENDENT_FIELD_MISSING', `${P}.field`],
    ['a user that is not an id', cond('done_by', 'in', [{ id: 'me' }]), 'INVALID_DATA', `${P}.value[0].id`],
    ['a range ending before it starts', cond('audited_time', 'between', ['2026-02-01T00:00:00Z', '2026-01-01T00:00:00Z']), 'INVALID_DATA', `${P}.value`],
    ['a range over 180 days', cond('audited_time', 'between', ['2026-01-01T00:00:00Z', '2026-07-01T00:00:00Z']), 'INVALID_DATA', `${P}.value`],
  ])('refuses %s with Zoho\'s code and path', (_what, criteria, code, jsonPath) => {
    expect(() => parseExportCriteria(criteria, P)).toThrow(expect.objectContaining({ code,
      details: jsonPath ? expect.objectContaining({ json_path: jsonPath }) : expect.anything() }));
  });
});
