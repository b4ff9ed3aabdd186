import { describe, expect, it } from 'vitest';
import { auditVisibility } from './visibility.ts';

describe('audit visibility', () => {
  // CEO > Director > {Manager N > Trainee N, Manager S > Trainee S}
  const roles = [
    { id: 'ceo', reportingTo: null }, { id: 'dir', reportingTo: 'ceo' },
    { id: 'mn', reportingTo: 'dir' }, { id: 'tn', reportingTo: 'mn' }, { id: 'ms', reportingTo: 'dir' }, { id: 'ts', reportingTo: 'ms' },
  ];
  const u = (id: string, roleId: string, isAdmin = false) => ({ id, roleId, isAdmin });
  const users = [u('boss', 'ceo'), u('d', 'dir'), u('m1', 'mn'), u('t1', 'tn'), u('t2', 'tn'), u('m2', 'ms'), u('t3', 'ts'), u('admin', 'ts', true)];
  const ids = (v: ReturnType<typeof auditVisibility>) => (v.all ? 'all' : [...v.userIds].sort());

  it('gives the CEO role and Administrators everything', () => {
    expect(ids(auditVisibility(users[0], roles, users))).toBe('all');
    expect(ids(auditVisibility(users[7], roles, users))).toBe('all');
  });
  it('gives everyone else themselves and everyone below, three levels deep', () => {
    expect(ids(auditVisibility(users[1], roles, users))).toEqual(['admin', 'd', 'm1', 'm2', 't1', 't2', 't3']);
    expect(ids(auditVisibility(users[2], roles, users))).toEqual(['m1', 't1', 't2']);
    expect(ids(auditVisibility(users[3], roles, users))).toEqual(['t1']);
  });
  it('follows users who move roles', () => {
    const moved = users.map((x) => (x.id === 't1' ? u('t1', 'ts') : x));
    expect(ids(auditVisibility(users[2], roles, moved))).toEqual(['m1', 't2']);
    expect(ids(auditVisibility(users[5], roles, moved))).toEqual(['admin', 'm2', 't1', 't3']);
  });
});
