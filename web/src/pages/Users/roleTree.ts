import type { Role } from '../../api/directory.ts';

export interface RoleNode { role: Role; children: RoleNode[]; level: number }

/** The roles as a forest by reporting_to, siblings by name; a role whose parent is missing is a root. */
export function buildRoleTree(roles: Role[]): RoleNode[] {
  const ids = new Set(roles.map((r) => r.id));
  const kids = new Map<string | null, Role[]>();
  for (const r of roles) {
    const parent = r.reporting_to && ids.has(r.reporting_to.id) && r.reporting_to.id !== r.id ? r.reporting_to.id : null;
    const list = kids.get(parent);
    if (list) list.push(r); else kids.set(parent, [r]);
  }
  const seen = new Set<string>();
  const build = (parent: string | null, level: number): RoleNode[] =>
    (kids.get(parent) ?? []).sort((a, b) => a.name.localeCompare(b.name)).filter((r) => !seen.has(r.id)).map((r) => {
      seen.add(r.id);
      return { role: r, level, children: build(r.id, level + 1) };
    });
  return build(null, 1);
}

/** The ids a person can move through with the arrow keys: expanded nodes' children, in order. */
export function visibleIds(nodes: RoleNode[], expanded: Set<string>): string[] {
  const out: string[] = [];
  const walk = (ns: RoleNode[]) => {
    for (const n of ns) {
      out.push(n.role.id);
      if (n.children.length && expanded.has(n.role.id)) walk(n.children);
    }
  };
  walk(nodes);
  return out;
}

/** Every node by id, with its parent id. */
export function nodeIndex(nodes: RoleNode[]): Map<string, { node: RoleNode; parent: string | null }> {
  const m = new Map<string, { node: RoleNode; parent: string | null }>();
  const walk = (ns: RoleNode[], parent: string | null) => {
    for (const n of ns) {
      m.set(n.role.id, { node: n, parent });
      walk(n.children, n.role.id);
    }
  };
  walk(nodes, null);
  return m;
}
