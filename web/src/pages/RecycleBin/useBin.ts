import { useMemo } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { countBin, listBin, type BinFilters, type BinItem, type BinSortBy } from '../../api/bin.ts';
import { listModules, listUsers } from '../../api/directory.ts';
import { DEPENDENT_MODULES } from './dependents.ts';

export const PER_PAGE = 50;

/** Everything cached about the bin starts with this key; invalidate it after a change. */
export const BIN_KEY = ['recycle-bin'] as const;

export function useBinPage(filters: BinFilters, page: number, sortBy: BinSortBy, sortOrder: 'asc' | 'desc') {
  return useQuery({
    queryKey: [...BIN_KEY, 'page', filters, page, sortBy, sortOrder],
    queryFn: () => listBin({ filters, page, perPage: PER_PAGE, sortBy, sortOrder }),
    placeholderData: keepPreviousData,
  });
}

export function useBinCount(filters: BinFilters) {
  return useQuery({ queryKey: [...BIN_KEY, 'count', filters], queryFn: () => countBin(filters) });
}

/** The modules, for the Type filter and labels. */
export function useModules() {
  const q = useQuery({ queryKey: ['directory', 'modules'], queryFn: listModules, staleTime: 10 * 60_000 });
  const labels = useMemo(() => {
    const m = new Map((q.data ?? []).map((x) => [x.api_name, { plural: x.plural_label, singular: x.singular_label }]));
    return (apiName: string) => m.get(apiName) ?? { plural: apiName.replace(/_/g, ' '), singular: apiName.replace(/_/g, ' ') };
  }, [q.data]);
  return { ...q, labels };
}

export function useDirectoryUsers() {
  return useQuery({ queryKey: ['directory', 'users'], queryFn: () => listUsers(), staleTime: 60_000 });
}

/** Pages per dependent module read to find what hangs off the selection (200 items a page). */
const INDEX_PAGES = 10;

/**
 * The bin's dependents (notes, attachments, activities) with their parents: the API has no filter
 * on the parent, so they are read by module, once, and kept until the bin changes. `complete` is
 * false when a module had more than INDEX_PAGES pages.
 */
export function useDependentsIndex(enabled: boolean) {
  return useQuery({
    queryKey: [...BIN_KEY, 'dependents-index'],
    enabled,
    staleTime: 60_000,
    queryFn: async () => {
      let complete = true;
      const lists = await Promise.all(DEPENDENT_MODULES.map(async (module) => {
        const items: BinItem[] = [];
        for (let page = 1; page <= INDEX_PAGES; page++) {
          const r = await listBin({ filters: { field: { api_name: 'module' }, comparator: 'equal', value: module }, page, perPage: 200 });
          items.push(...r.items.filter((i) => i.parent_record));
          if (!r.more) return items;
        }
        complete = false;
        return items;
      }));
      return { items: lists.flat(), complete };
    },
  });
}

/** Which of these records are in the bin (the parents of selected dependents). */
export function useBinItemsByIds(ids: string[]) {
  const sorted = [...new Set(ids)].sort();
  return useQuery({
    queryKey: [...BIN_KEY, 'ids', sorted],
    enabled: sorted.length > 0,
    queryFn: async () => (await listBin({ filters: null, ids: sorted.slice(0, 200), page: 1, perPage: 200 })).items,
  });
}
