import { describe, expect, it } from 'vitest';
import { parseBinFilters } from './bin-filters.ts';

const cond = (field: string, comparator: string, value: unknown) => ({ field: { api_name: field }, comparator, value });

describe('recycle bin filters', () => {
  it('reads one condition or an AND group, from JSON text or an object; deleted_time becomes ms', () => {
    expect(parseBinFilters(JSON.stringify(cond('module', 'equal', 'Leads')))).toEqual([{ field: 'module', comparator: 'equal', value: 'Leads' }]);
    expect(parseBinFilters({ group_operator: 'and', group: [cond('display_name', 'starts_with', 'Ac'),
      cond('deleted_time', 'greater_than', '2026-01-01T00:00:00+00:00')] })).toEqual([
      { field: 'display_name', comparator: 'starts_with', value: 'Ac' },
      { field: 'deleted_time', comparator: 'greater_than', value: Date.UTC(2026, 0, 1) }]);
  });

  it.each([
    ['text that is not JSON', '{', 'INVALID_DATA', {}],
    ['an array', [], 'INVALID_DATA', {}],
    ['OR', { group_operator: 'or', group: [cond('module', 'equal', 'Leads')] }, 'INVALID_DATA', { json_path: '$.group_operator', supported_values: ['AND'] }],
    ['an empty group', { group_operator: 'and', group: [] }, 'INVALID_DATA', { json_path: '$.group' }],
    ['21 conditions', { group_operator: 'and', group: Array.from({ length: 21 }, () => cond('module', 'equal', 'Leads')) }, 'LIMIT_EXCEEDED', { limit: 20 }],
    ['an unknown field', cond('owner', 'equal', 'x'), 'INVALID_DATA', { json_path: '$.field', api_name: 'field' }],
    ['a comparator the field lacks', { group_operator: 'and', group: [cond('module', 'contains', 'Le')] }, 'INVALID_DATA',
      { json_path: '$.group[0].comparator', supported_values: ['equal', 'not_equal'] }],
    ['an empty value', cond('display_name', 'equal', ''), 'INVALID_DATA', { json_path: '$.value' }],
    ['a date that is not ISO 8601', cond('deleted_time', 'less_than', 'yesterday'), 'INVALID_DATA', { json_path: '$.value' }],
  ])('refuses %s, naming where', (_what, input, code, details) => {
    expect(() => parseBinFilters(input)).toThrow(expect.objectContaining({ code, details: expect.objectContaining({ param_name: 'filters', ...details }) }));
  });
});
