import { describe, expect, it } from 'vitest';
import type { Role } from '../../api/directory.ts';
import { buildRoleTree, nodeIndex, visibleIds } from './roleTree.ts';

const role = (id: string, name: string, parent: string | null): Role => ({
  id, name, display_label: name, reporting_to: parent ? { id: parent, name: parent } : null, admin_user: !parent, share_with_peers: false, description: null,
});

describe('role tree', () => {
  const roles = [role('3', 'Sales Rep', '2'), role('1', 'CEO', null), role('2', 'Manager', '1'), role('4', 'Analyst', '1'), role('9', 'Orphan', 'gone')];
  const tree = buildRoleTree(roles);

  it('nests by reporting_to, sorts siblings, and keeps orphans as roots', () => {
    expect(tree.map((n) => n.role.name)).toEqual(['CEO', 'Orphan']);
    expect(tree[0].children.map((n) => [n.role.name, n.level])).toEqual([['Analyst', 2], ['Manager', 2]]);
    expect(tree[0].children[1].children[0].role.name).toBe('Sales Rep');
  });

  it('lists what the arrow keys move through', () => {
    expect(visibleIds(tree, new Set(['1', '2']))).toEqual(['1', '4', '2', '3', '9']);
    expect(visibleIds(tree, new Set())).toEqual(['1', '9']);
    expect(nodeIndex(tree).get('3')?.parent).toBe('2');
  });

  it('survives a cycle', () => {
    const cyc = buildRoleTree([role('a', 'A', 'b'), role('b', 'B', 'a'), role('r', 'Root', null)]);
    expect(cyc.map((n) => n.role.name)).toEqual(['Root']);
  });
});
