import type { BinItem, BinItemOutcome } from '../../api/bin.ts';
import { ApiError } from '../../api/client.ts';
import { itemName } from './binQuery.ts';
import { hasAncestorIn } from './dependents.ts';

/** What the page says after a restore or a permanent deletion. */
export interface Feedback {
  tone: 'success' | 'partial' | 'error';
  title: string;
  lines: string[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function sentence(s: string) {
  const t = s.trim();
  return t ? t.charAt(0).toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.') : 'It could not be done.';
}

/**
 * One item's failure in words. A dependent whose parent is still in the bin says so by name when
 * the parent is known.
 */
export function failureWords(code: string, message: string, item: BinItem | undefined, parent: BinItem | undefined, action: 'restore' | 'delete'): string {
  const name = item ? itemName(item) : 'An item';
  switch (code) {
    case 'CANNOT_RESTORE_WITHOUT_PARENT':
      return `${name} cannot be restored while its parent record${parent ? ` ${itemName(parent)}` : ''} is still in the recycle bin. Restore the parent first, or select both.`;
    case 'NO_PERMISSION':
      return `${name}: you do not have permission to ${action} records of this type.`;
    case 'INVALID_DATA':
      if (/permanently deleted/.test(message)) return `${name} was already deleted permanently.`;
      if (/not in the recycle bin/.test(message)) return `${name} is no longer in the recycle bin (someone restored it meanwhile).`;
      if (/invalid/.test(message)) return `${name} is no longer in the recycle bin.`;
      return `${name}: ${sentence(message)}`;
    default:
      return `${name}: ${sentence(message)}`;
  }
}

/**
 * The page's feedback for the outcomes of a restore or a deletion done at once. A selected
 * dependent that came back with its selected parent is answered "not in the recycle bin" by the
 * API: it counts as restored.
 */
export function outcomeFeedback(action: 'restore' | 'delete', outcomes: BinItemOutcome[], items: Map<string, BinItem>,
  parents: Map<string, BinItem>): Feedback {
  const restored = new Set(outcomes.filter((o) => o.ok).map((o) => o.id));
  const cameBack = (o: BinItemOutcome) => {
    const item = items.get(o.id);
    return !o.ok && action === 'restore' && o.code === 'INVALID_DATA' && /not in the recycle bin/.test(o.message)
      && item !== undefined && hasAncestorIn(item, restored, items);
  };
  const ok = outcomes.filter((o) => o.ok || cameBack(o));
  const failed = outcomes.filter((o) => !o.ok && !cameBack(o));
  const done = action === 'restore' ? 'restored' : 'deleted permanently';
  const lines = failed.map((o) => {
    const item = items.get(o.id);
    const parentId = item?.parent_record?.id;
    return failureWords(o.code, o.message, item, parentId ? parents.get(parentId) ?? items.get(parentId) : undefined, action);
  });
  if (failed.length === 0) return { tone: 'success', title: `${plural(ok.length, 'item')} ${done}.`, lines: [] };
  if (ok.length === 0) {
    return { tone: 'error', title: action === 'restore' ? `Nothing was restored.` : 'Nothing was deleted.', lines };
  }
  return { tone: 'partial', title: `${plural(ok.length, 'item')} ${done}; ${plural(failed.length, 'item')} could not be.`, lines };
}

/**
 * The feedback for a request the server refused as a whole: when every item failed, the API
 * answers 400 with each item's error, and each is said in words.
 */
export function errorFeedback(action: 'restore' | 'delete', err: unknown, ids: string[], items: Map<string, BinItem>,
  parents: Map<string, BinItem>): Feedback {
  const title = action === 'restore' ? 'Nothing was restored.' : 'Nothing was deleted.';
  if (err instanceof ApiError && err.items.length > 1) {
    return { tone: 'error', title, lines: err.items.map((e) => errorFeedback(action, e, [], items, parents).lines[0]) };
  }
  if (err instanceof ApiError) {
    const id = typeof err.details.id === 'string' ? err.details.id : ids.length === 1 ? ids[0] : undefined;
    const item = id ? items.get(id) : undefined;
    const known = ['CANNOT_RESTORE_WITHOUT_PARENT', 'NO_PERMISSION'].includes(err.code) || (err.code === 'INVALID_DATA' && id !== undefined);
    const parentId = item?.parent_record?.id;
    const line = known && item
      ? failureWords(err.code, err.message, item, parentId ? parents.get(parentId) ?? items.get(parentId) : undefined, action)
      : err.message;
    const more = ids.length > 1 && id ? [`None of the ${ids.length} selected items could be ${action === 'restore' ? 'restored' : 'deleted'}; the first reason is above.`] : [];
    return { tone: 'error', title, lines: [line, ...more] };
  }
  return { tone: 'error', title, lines: [err instanceof Error ? err.message : String(err)] };
}
