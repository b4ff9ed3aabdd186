import type { BinItem } from '../../api/bin.ts';

/** Modules whose records hang off a parent record (Zoho's dependents). */
export const DEPENDENT_MODULES = ['Notes', 'Attachments', 'Tasks', 'Events', 'Calls', 'Emails'];

/** Children by parent id, from bin items that have a parent. */
export function childrenIndex(items: BinItem[]): Map<string, BinItem[]> {
  const map = new Map<string, BinItem[]>();
  const seen = new Set<string>();
  for (const i of items) {
    if (!i.parent_record || seen.has(i.id)) continue;
    seen.add(i.id);
    const list = map.get(i.parent_record.id);
    if (list) list.push(i); else map.set(i.parent_record.id, [i]);
  }
  return map;
}

/** Every item in the bin that hangs off `id`, at any depth (not `id` itself). */
export function dependentsOf(id: string, index: Map<string, BinItem[]>): BinItem[] {
  const out: BinItem[] = [];
  const seen = new Set([id]);
  const queue = [id];
  while (queue.length) {
    for (const c of index.get(queue.shift()!) ?? []) {
      if (seen.has(c.id)) continue;
      seen.add(c.id);
      out.push(c);
      queue.push(c.id);
    }
  }
  return out;
}

/**
 * "3 dependent items (notes, attachments)": how many, and of which kinds in the order first met,
 * in lower case; `label` turns a module api name into its plural and singular labels.
 */
export function describeDependents(items: BinItem[], label: (module: string) => { plural: string; singular: string }): string {
  const n = items.length;
  const kinds: string[] = [];
  const counts = new Map<string, number>();
  for (const i of items) {
    const m = i.module.api_name;
    if (!counts.has(m)) kinds.push(m);
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  const names = kinds.map((m) => (counts.get(m) === 1 ? label(m).singular : label(m).plural).toLowerCase());
  return `${n.toLocaleString('en-US')} dependent item${n === 1 ? '' : 's'} (${names.join(', ')})`;
}

/**
 * The ids in the order the API should act on them: an item after every selected ancestor, so that
 * a restore brings the parent back before its dependents (the API acts in the order given, and
 * refuses a dependent whose parent is still in the bin).
 */
export function parentsFirst(items: BinItem[]): string[] {
  const byId = new Map(items.map((i) => [i.id, i]));
  const depth = (i: BinItem, seen = new Set<string>()): number => {
    const p = i.parent_record ? byId.get(i.parent_record.id) : undefined;
    if (!p || seen.has(p.id)) return 0;
    seen.add(i.id);
    return 1 + depth(p, seen);
  };
  return items.map((i, n) => ({ id: i.id, d: depth(i), n })).sort((a, b) => a.d - b.d || a.n - b.n).map((x) => x.id);
}

/** Whether one of the item's ancestors (by `byId`) is among `ids`. */
export function hasAncestorIn(item: BinItem, ids: Set<string>, byId: Map<string, BinItem>): boolean {
  const seen = new Set<string>();
  let p = item.parent_record?.id;
  while (p && !seen.has(p)) {
    if (ids.has(p)) return true;
    seen.add(p);
    p = byId.get(p)?.parent_record?.id;
  }
  return false;
}
