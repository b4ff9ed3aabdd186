import { describe, expect, it } from 'vitest';
import { addDays, binFilters, paramsFromView, rangeProblem, viewFromParams } from './binQuery.ts';
import { childrenIndex, dependentsOf, describeDependents } from './dependents.ts';
import type { BinItem } from '../../api/bin.ts';

describe('bin view in the URL', () => {
  it('round-trips and falls back to defaults for what is missing or wrong', () => {
    const v = viewFromParams(new URLSearchParams('type=Leads&deleted_by=12&from=2026-01-02&to=2026-01-05&page=3&sort=display_name&order=asc'));
    expect(v).toEqual({ module: 'Leads', deletedBy: '12', from: '2026-01-02', to: '2026-01-05', page: 3, sortBy: 'display_name', sortOrder: 'asc' });
    expect(viewFromParams(paramsFromView(v))).toEqual(v);
    expect(viewFromParams(new URLSearchParams('from=yesterday&page=-2&sort=owner'))).toEqual({
      module: null, deletedBy: null, from: null, to: null, page: 1, sortBy: 'deleted_time', sortOrder: 'desc' });
    expect(paramsFromView(viewFromParams(new URLSearchParams())).toString()).toBe('');
  });
  it('ignores a date that is not one: a typo in a shared link used to end the page (RangeError)', () => {
    const v = viewFromParams(new URLSearchParams('from=2026-13-01&to=2026-02-30'));
    expect([v.from, v.to]).toEqual([null, null]);
    expect(() => binFilters(v, 'Europe/Berlin')).not.toThrow();
  });
});

describe('bin filters', () => {
  it('is null without a filter and one condition alone', () => {
    expect(binFilters({ module: null, deletedBy: null, from: null, to: null }, 'UTC')).toBeNull();
    expect(binFilters({ module: 'Notes', deletedBy: null, from: null, to: null }, 'UTC'))
      .toEqual({ field: { api_name: 'module' }, comparator: 'equal', value: 'Notes' });
  });

  it('covers whole days in the organisation zone, both ends included', () => {
    expect(binFilters({ module: 'Leads', deletedBy: '7', from: '2026-03-01', to: '2026-03-31' }, 'America/New_York')).toEqual({
      group_operator: 'AND',
      group: [
        { field: { api_name: 'module' }, comparator: 'equal', value: 'Leads' },
        { field: { api_name: 'deleted_by' }, comparator: 'equal', value: '7' },
        { field: { api_name: 'deleted_time' }, comparator: 'greater_than', value: '2026-02-28T23:59:59.999-05:00' },
        // New York moved to summer time on 8 March.
        { field: { api_name: 'deleted_time' }, comparator: 'less_than', value: '2026-04-01T00:00:00-04:00' },
      ],
    });
  });

  it('adds days across months and years, and checks the range', () => {
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(rangeProblem('2026-02-01', '2026-01-01')).toMatch(/after/);
    expect(rangeProblem('2026-01-01', '2026-01-01')).toBeNull();
    expect(rangeProblem(null, '2026-01-01')).toBeNull();
  });
});

const item = (id: string, module: string, parent?: string): BinItem => ({
  id, display_name: id, module: { api_name: module, id: null }, owner: null, deleted_by: null, deleted_time: '2026-01-01T00:00:00Z',
  parent_record: parent ? { id: parent, module: { api_name: 'Leads' } } : null,
});

describe('dependents', () => {
  const index = childrenIndex([item('n1', 'Notes', 'L'), item('a1', 'Attachments', 'L'), item('a2', 'Attachments', 'n1'),
    item('n1', 'Notes', 'L'), item('n9', 'Notes', 'other'), item('x', 'Leads')]);
  const labels = (m: string) => ({ Notes: { plural: 'Notes', singular: 'Note' }, Attachments: { plural: 'Attachments', singular: 'Attachment' } }[m]!);

  it('finds dependents at every depth, once each', () => {
    expect(dependentsOf('L', index).map((i) => i.id)).toEqual(['n1', 'a1', 'a2']);
    expect(dependentsOf('x', index)).toEqual([]);
  });

  it('says how many and of which kinds', () => {
    expect(describeDependents(dependentsOf('L', index), labels)).toBe('3 dependent items (note, attachments)');
    expect(describeDependents([item('a', 'Attachments', 'q')], labels)).toBe('1 dependent item (attachment)');
  });
});
