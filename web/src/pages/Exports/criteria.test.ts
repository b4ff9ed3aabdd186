import { describe, expect, it } from 'vitest';
import { actionLabel, buildCriteria, combine, describeCriteria, formProblems, type ExportForm } from './criteria.ts';

const empty: ExportForm = { actions: [], modules: [], users: [], from: null, to: null };
const tz = 'Europe/Berlin';

describe('export criteria', () => {
  it('is null without filters (an export of everything)', () => {
    expect(buildCriteria(empty, tz)).toBeNull();
  });

  it('uses equal for one value and in for several', () => {
    expect(buildCriteria({ ...empty, actions: ['added'] }, tz)).toEqual({ field: { api_name: 'action' }, comparator: 'equal', value: 'added' });
    expect(buildCriteria({ ...empty, modules: ['Leads', 'Deals'] }, tz))
      .toEqual({ field: { api_name: 'module' }, comparator: 'in', value: [{ api_name: 'Leads' }, { api_name: 'Deals' }] });
    expect(buildCriteria({ ...empty, users: [{ id: '5', name: 'Ana' }] }, tz))
      .toEqual({ field: { api_name: 'done_by' }, comparator: 'equal', value: [{ id: '5', name: 'Ana' }] });
  });

  it('nests conditions in groups of two', () => {
    const c = buildCriteria({ actions: ['added', 'deleted'], modules: ['Leads'], users: [{ id: '5', name: 'Ana' }], from: '2026-01-01', to: '2026-01-31' }, tz);
    expect(c).toEqual({ group_operator: 'and', group: [
      { field: { api_name: 'action' }, comparator: 'in', value: ['added', 'deleted'] },
      { group_operator: 'and', group: [
        { field: { api_name: 'module' }, comparator: 'equal', value: [{ api_name: 'Leads' }] },
        { group_operator: 'and', group: [
          { field: { api_name: 'done_by' }, comparator: 'equal', value: [{ id: '5', name: 'Ana' }] },
          { field: { api_name: 'audited_time' }, comparator: 'between', value: ['2026-01-01T00:00:00+01:00', '2026-01-31T23:59:59+01:00'] },
        ] },
      ] },
    ] });
    const depth = (n: unknown): number => (n && typeof n === 'object' && Array.isArray((n as { group?: unknown[] }).group)
      ? 1 + Math.max(...(n as { group: unknown[] }).group.map(depth)) : 0);
    expect(depth(combine([{}, {}, {}, {}]))).toBe(3);
  });

  it('allows 180 days and refuses 181, and a range backwards or half given', () => {
    expect(formProblems({ ...empty, from: '2026-01-01', to: '2026-06-29' }, tz)).toEqual([]);
    expect(formProblems({ ...empty, from: '2026-01-01', to: '2026-06-30' }, tz)[0].message).toMatch(/at most 180 days/);
    expect(formProblems({ ...empty, from: '2026-02-01', to: '2026-01-01' }, tz)[0].message).toMatch(/before the start/);
    expect(formProblems({ ...empty, from: '2026-02-01' }, tz)[0]).toMatchObject({ field: 'to' });
    expect(formProblems({ ...empty, to: '2026-02-01' }, tz)[0]).toMatchObject({ field: 'from' });
  });

  it('describes stored criteria in words', () => {
    const c = buildCriteria({ actions: ['permanently_deleted'], modules: ['Leads'], users: [{ id: '5', name: 'Ana' }], from: null, to: null }, tz);
    expect(describeCriteria(c)).toBe('Action: Permanently deleted · Module: Leads · Users: Ana');
    expect(describeCriteria(null)).toMatch(/Everything/);
    expect(actionLabel('oauth_client_created')).toBe('OAuth client created');
  });
});
