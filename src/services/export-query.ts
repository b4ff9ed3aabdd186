import type { ExportRows, Keyset, ResolvedExport, Row } from '../store/export-query-store.ts';

/**
 * How a producer reads the export's query (store/export-query-store.ts): keyset pages sized by what
 * the last page weighed, and skips past another producer's parts.
 */

/**
 * What a page query reads per entry. Most of an export's time is better-sqlite3 (or pg) making
 * JavaScript strings of the columns, so the twelve text columns from Done By to Batch Id come
 * joined into one string by the database, separated by U+001F, and the encoder writes them as
 * they are when none of them needs quoting or neutralising (checked at once by CLEAN_GROUP in
 * export-csv-encoding.ts), else cell by cell; Entry Id and Sequence come as one string too (the id
 * is ours: digits). A details value without changes (most entries) comes back as NULL, so it costs
 * no string either. Reading and encoding are faster this way than column by column (bench/export.ts
 * measures them). The query itself is store/export-query-store.ts.
 */
export { GROUP_COLUMNS, type Keyset, type ResolvedExport, type Row } from '../store/export-query-store.ts';
export const SEP = '\x1f'; // char(31) in the store's page select
/** Where each of a page row's fields stands (the store's page select order). */
export const AT = 0;
export const SEQ = 1;
export const GROUP = 2;
export const DETAILS = 3;
export const TAIL = 4;

/** Rows a query reads at most (keyset pages). */
const PAGE = 2000;
/**
 * Characters of text a page should hold: a page and the next one, read meanwhile, must fit well
 * in a producer thread's heap (capped, see producerThread in export-producer.ts) whatever the
 * entries' field histories weigh. The first page reads FIRST_PAGE rows; each later one as many as
 * the last page's rows averaged would fill PAGE_CHARS with, at least one and at most GROWTH times
 * the last page's.
 * Rows cannot be weighed before they are read: pages start small so that an export starting with
 * heavy entries never reads 2,000 of them at once, but a long run of light entries followed by
 * heavy ones still gives one heavy page.
 */
const PAGE_CHARS = 8 * 1024 * 1024;
const FIRST_PAGE = 100;
const GROWTH = 4;

/** Rows the next page reads, from what the last one weighed (rows, characters of text). */
export function nextPageRows(rows: number, chars: number): number {
  if (rows === 0) return FIRST_PAGE;
  return Math.max(1, Math.min(PAGE, rows * GROWTH, Math.floor(PAGE_CHARS / Math.max(1, chars / rows))));
}

/**
 * `count` matching rows from `start` on, a page per call (keyset paging in (audited_at, seq)
 * order); an empty page at the end. The next page is requested while this one is encoded (on
 * PostgreSQL the server works meanwhile). After the first page the keyset bound replaces `from`
 * (it is tighter): given both lower bounds, SQLite seeks to `from` and filters its way to the
 * keyset on every page, which made a million-entry export quadratic.
 */
export function pagesOf(rows: ExportRows, orgId: string, r: ResolvedExport, start: Keyset | undefined, count: number): () => Promise<Row[]> {
  let left = count;
  let limit = nextPageRows(0, 0);
  const request = (after: Keyset | undefined) => {
    const p = rows.page(orgId, r, after, Math.min(limit, left));
    p.catch(() => {}); // awaited when its turn comes; until then a failure must not go unhandled
    return p;
  };
  let pending: Promise<Row[]> | null = left > 0 ? request(start) : null;
  return async () => {
    if (!pending) return [];
    const page = await pending;
    pending = null;
    left -= page.length;
    if (page.length > 0 && left > 0) {
      let chars = 0;
      for (const row of page) chars += row[GROUP].length + (row[DETAILS]?.length ?? 0);
      limit = nextPageRows(page.length, chars);
      const last = page[page.length - 1];
      pending = request({ at: Number(last[AT]), seq: Number(last[SEQ]) });
    }
    return page;
  };
}

/**
 * Where the matching rows stand after skipping `n` from `after` (from the start without): the
 * keyset of the n-th row, read from the index alone for an unfiltered export.
 */
export async function skip(rows: ExportRows, orgId: string, r: ResolvedExport, after: Keyset | undefined, n: number): Promise<Keyset | undefined | 'end'> {
  if (n <= 0) return after;
  // Fewer rows than counted (entries purged meanwhile): nothing is left for this producer.
  return (await rows.keysetAt(orgId, r, after, n)) ?? 'end';
}
