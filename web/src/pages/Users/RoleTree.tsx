import { useMemo, useRef, useState, type KeyboardEvent, Fragment } from 'react';
import { Box, Text } from '@mantine/core';
import type { DirectoryUser, Role } from '../../api/directory.ts';
import { buildRoleTree, nodeIndex, visibleIds, type RoleNode } from './roleTree.ts';

/**
 * The role hierarchy as an ARIA tree: each role a treeitem named by the role, its users shown
 * beside it. Arrow keys move and open or close branches (Home, End, Enter and Space too); one
 * item is in the tab order at a time.
 */
export function RoleTree({ roles, users }: { roles: Role[]; users: DirectoryUser[] }) {
  const tree = useMemo(() => buildRoleTree(roles), [roles]);
  const index = useMemo(() => nodeIndex(tree), [tree]);
  const [expanded, setExpanded] = useState<Set<string>>(() => new Set(roles.map((r) => r.id)));
  const [focused, setFocused] = useState<string | null>(null);
  const refs = useRef(new Map<string, HTMLLIElement>());
  const people = useMemo(() => {
    const m = new Map<string, DirectoryUser[]>();
    for (const u of users) {
      if (!u.role) continue;
      const list = m.get(u.role.id);
      if (list) list.push(u); else m.set(u.role.id, [u]);
    }
    return m;
  }, [users]);

  const current = focused && index.has(focused) ? focused : tree[0]?.role.id ?? null;
  const move = (id: string | undefined) => {
    if (!id) return;
    setFocused(id);
    refs.current.get(id)?.focus();
  };
  const toggle = (id: string, open?: boolean) => setExpanded((s) => {
    const next = new Set(s);
    if (open ?? !next.has(id)) next.add(id); else next.delete(id);
    return next;
  });

  const onKeyDown = (e: KeyboardEvent<HTMLUListElement>) => {
    const id = (e.target as HTMLElement).closest<HTMLElement>('[role="treeitem"]')?.dataset.id;
    if (!id) return;
    const order = visibleIds(tree, expanded);
    const i = order.indexOf(id);
    const entry = index.get(id)!;
    const hasKids = entry.node.children.length > 0;
    let handled = true;
    switch (e.key) {
      case 'ArrowDown': move(order[i + 1]); break;
      case 'ArrowUp': move(order[i - 1]); break;
      case 'Home': move(order[0]); break;
      case 'End': move(order[order.length - 1]); break;
      case 'ArrowRight':
        if (hasKids && !expanded.has(id)) toggle(id, true);
        else if (hasKids) move(entry.node.children[0].role.id);
        break;
      case 'ArrowLeft':
        if (hasKids && expanded.has(id)) toggle(id, false);
        else move(entry.parent ?? undefined);
        break;
      case 'Enter': case ' ':
        if (hasKids) toggle(id);
        break;
      default: handled = false;
    }
    if (handled) {
      e.preventDefault();
      e.stopPropagation();
    }
  };

  const render = (nodes: RoleNode[]) => nodes.map((n) => {
    const id = n.role.id;
    const open = expanded.has(id);
    const members = people.get(id) ?? [];
    const kids = n.children.length > 0;
    // The sub-roles sit beside the item, owned by it (aria-owns), not inside it: an item's name is
    // its own row's text (the role and its users), not its descendants' too.
    return (
      <Fragment key={id}>
      <li role="treeitem" aria-level={n.level} aria-expanded={kids ? open : undefined}
        aria-owns={kids && open ? `role-group-${id}` : undefined}
        data-id={id} tabIndex={current === id ? 0 : -1}
        ref={(el) => { if (el) refs.current.set(id, el); else refs.current.delete(id); }}
        onFocus={(e) => { if (e.target === e.currentTarget) setFocused(id); }}
        style={{ listStyle: 'none', outlineOffset: 2 }}>
        <Box py={4} px={6} style={{ borderRadius: 4, cursor: kids ? 'pointer' : 'default', display: 'flex', gap: 8, alignItems: 'baseline' }}
          onClick={() => { if (kids) toggle(id); move(id); }}>
          <Text span w={14} c="dimmed" aria-hidden>{kids ? (open ? '▾' : '▸') : '•'}</Text>
          <div>
            <Text span fw={600} size="sm" id={`role-name-${id}`}>{n.role.name}</Text>
            <Text size="xs" c="dimmed" id={`role-users-${id}`}>
              {members.length === 0 ? 'No users' : members.map((u) => u.full_name).join(', ')}
            </Text>
          </div>
        </Box>
      </li>
      {kids && open && (
        <li role="none" style={{ listStyle: 'none' }}>
          <ul role="group" id={`role-group-${id}`}
            style={{ margin: 0, paddingInlineStart: 22, borderInlineStart: '1px solid var(--mantine-color-gray-3)', marginInlineStart: 12 }}>
            {render(n.children)}
          </ul>
        </li>
      )}
      </Fragment>
    );
  });

  if (tree.length === 0) return <Text c="dimmed" size="sm">There are no roles.</Text>;
  return (
    <ul role="tree" aria-label="Role hierarchy" onKeyDown={onKeyDown} style={{ margin: 0, padding: 0 }}>
      {render(tree)}
    </ul>
  );
}
