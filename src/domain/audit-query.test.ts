import { describe, expect, it } from 'vitest';
import { parseAuditLogQuery } from './audit-query.ts';


describe('audit log query parameters', () => {
  it('reads filters, canonical module names and paging, with defaults', () => {
    expect(parseAuditLogQuery({})).toEqual({ filters: {}, page: 1, perPage: 200, pageToken: undefined });
    const q = parseAuditLogQuery({ from: '2026-01-01T00:00:00+05:30', to: '2026-01-02T00:00:00Z', done_by: '1234567890123456789',
      action: 'added,updated,added', module: 'leads,users', source: 'api', record_id: '2234567890123456789', page: '2', per_page: '50' });
    expect(q).toEqual({ page: 2, perPage: 50, pageToken: undefined, filters: {
      from: Date.UTC(2025, 11, 31, 18, 30), to: Date.UTC(2026, 0, 2), doneBy: ['1234567890123456789'], actions: ['added', 'updated'],
      modules: ['Leads', 'users'], sources: ['api'], recordId: '2234567890123456789' } });
  });

  it.each([
    ['an unknown parameter', { sort_by: 'x' }, 'sort_by'],
    ['a parameter given twice', { action: ['added', 'updated'] }, 'action'],
    ['a date without an offset', { from: '2026-01-01' }, 'from'],
    ['from after to', { from: '2026-01-02T00:00:00Z', to: '2026-01-01T00:00:00Z' }, 'from'],
    ['a user that is not an id', { done_by: 'me' }, 'done_by'],
    ['an unknown action', { action: 'added,hugged' }, 'action'],
    ['an unknown module', { module: 'Spaceships' }, 'module'],
    ['an unknown source', { source: 'telepathy' }, 'source'],
    ['an empty list', { module: ' , ' }, 'module'],
    ['over 100 values', { done_by: Array.from({ length: 101 }, (_, i) => String(1234567890123456789n + BigInt(i))).join(',') }, 'done_by'],
    ['per_page above 200', { per_page: '201' }, 'per_page'],
    ['a page that is not a number', { page: 'two' }, 'page'],
  ])('refuses %s as INVALID_DATA naming the parameter', (_what, query, param) => {
    expect(() => parseAuditLogQuery(query)).toThrow(expect.objectContaining({ code: 'INVALID_DATA', details: expect.objectContaining({ param_name: param }) }));
  });
});
