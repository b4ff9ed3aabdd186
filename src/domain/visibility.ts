/**
 * Who sees whose audit entries (DESIGN invariant 4): a user with the Administrator profile or
 * the top (CEO) role sees the whole organisation; everyone else sees their own entries and those
 * of users whose current role lies below theirs in the role tree. Entries follow the user, so a
 * user who moves roles takes their history along; inactive and deleted users still count.
 */
export interface VisibilityUser { id: string; roleId: string | null; isAdmin: boolean }
export interface VisibilityRole { id: string; reportingTo: string | null }

export type Visibility = { all: true } | { all: false; userIds: Set<string> };

export function auditVisibility(
  viewer: VisibilityUser,
  roles: readonly VisibilityRole[],
  users: readonly VisibilityUser[],
): Visibility {
  if (viewer.isAdmin) return { all: true };
  const viewerRole = roles.find((r) => r.id === viewer.roleId);
  if (viewerRole && viewerRole.reportingTo === null) return { all: true };
  const below = new Set<string>();
  if (viewerRole) {
    const children = new Map<string, string[]>();
    for (const r of roles) {
      if (r.reportingTo) children.set(r.reportingTo, [...(children.get(r.reportingTo) ?? []), r.id]);
    }
    const stack = [...(children.get(viewerRole.id) ?? [])];
    while (stack.length) {
      const id = stack.pop()!;
      if (below.has(id)) continue;
      below.add(id);
      stack.push(...(children.get(id) ?? []));
    }
  }
  const userIds = new Set([viewer.id]);
  for (const u of users) if (u.roleId && below.has(u.roleId)) userIds.add(u.id);
  return { all: false, userIds };
}
