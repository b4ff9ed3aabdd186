import { sql } from 'kysely';
import { NO_DETAILS } from '../domain/audit.ts';
import { buildAuditSelect } from '../store/audit-query-store.ts';
import type { Store } from '../store/db.ts';
import type { AuditEntryTable } from '../store/schema.ts';

/**
 * The export's one query (matchingEntries) and how a producer reads it: keyset pages sized by what
 * the last page weighed, skips past another producer's parts, and the select list that joins an
 * entry's text columns into one string for the CSV encoder (export-csv-encoding.ts).
 */

/** What the job will export, fixed when it is created so every run produces the same bytes. */
export interface ResolvedExport {
  from: number;
  to: number;
  maxSeq: number;
  actorIds: string[] | null;
  actions: string[] | null;
  modules: string[] | null;
  timeZone: string;
}

/**
 * What a page query reads per entry. Most of an export's time is better-sqlite3 (or pg) making
 * JavaScript strings of the columns, so the twelve text columns from Done By to Batch Id come
 * joined into one string by the database, separated by U+001F, and the encoder writes them as
 * they are when none of them needs quoting or neutralising (checked at once by CLEAN_GROUP in
 * export-csv-encoding.ts), else cell by cell; Entry Id and Sequence come as one string too (the id
 * is ours: digits). A details value without changes (most entries) comes back as NULL, so it costs
 * no string either. Reading and encoding are faster this way than column by column (bench/export.ts
 * measures them).
 */
export const GROUP_COLUMNS = ['actor_name', 'actor_id', 'action', 'module', 'record_name', 'record_id', 'parent_module', 'parent_id',
  'source', 'ip', 'user_agent', 'batch_id'] as const satisfies readonly (keyof AuditEntryTable)[];
export const SEP = '\x1f'; // char(31) in pageSelect
/** Where each of a page row's fields stands (pageSelect's order). */
export const AT = 0;
export const SEQ = 1;
export const GROUP = 2;
export const DETAILS = 3;
export const TAIL = 4;
export type Row = [number, number, string, string | null, string];

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
 * The select list of a page: AT, SEQ, GROUP, DETAILS, TAIL (`id,seq`). concat() (NULL as '')
 * with constants for the separator and the empty details: SQLite reads faster this way than with
 * coalesce(), || and bound parameters (bench/export.ts measures it).
 */
function pageSelect(dialect: Store['dialect']) {
  return ['audited_at', 'seq', groupSelect(dialect), DETAILS_SELECT,
    sql<string>`concat(${sql.ref('id')}, ',', ${sql.ref('seq')})`.as('tail')] as const;
}
/** The twelve columns Done By .. Batch Id as one string, U+001F between them (NULL as ''). */
export function groupSelect(dialect: Store['dialect']) {
  const sep = dialect === 'postgres' ? sql`chr(31)` : sql`char(31)`;
  return sql<string>`concat(${sql.join(GROUP_COLUMNS.map((c) => sql.ref(c)), sql`, ${sep}, `)})`.as('grp');
}
/** Details, NULL for an entry without any (most of them). */
export const DETAILS_SELECT = sql<string | null>`case when ${sql.ref('details')} = ${sql.lit(NO_DETAILS)} then null else ${sql.ref('details')} end`.as('changes');

/** Where a read stands: the (audited_at, seq) of the last row read. */
export type Keyset = { at: number; seq: number };

/**
 * The export's matching entries after `after` (from the start without), `limit` at most, oldest
 * first: the one query behind every read of an export (pages, skips, the service's count and probe).
 * A visibility naming no users matches nothing (buildAuditSelect), so no reader special-cases it.
 */
export function matchingEntries(db: Store['db'], orgId: string, r: ResolvedExport, opts: { after?: Keyset; limit: number; offset?: number }) {
  return buildAuditSelect(db, { orgId, from: opts.after ? undefined : r.from, to: r.to, actorIds: r.actorIds,
    actions: r.actions ?? undefined, modules: r.modules ?? undefined, desc: false, after: opts.after, limit: opts.limit, offset: opts.offset })
    .where('seq', '<=', r.maxSeq);
}

/**
 * `count` matching rows from `start` on, a page per call (keyset paging in (audited_at, seq)
 * order); an empty page at the end. The next page is requested while this one is encoded (on
 * PostgreSQL the server works meanwhile). After the first page the keyset bound replaces `from`
 * (it is tighter): given both lower bounds, SQLite seeks to `from` and filters its way to the
 * keyset on every page, which made a million-entry export quadratic.
 */
export function pagesOf(store: Store, orgId: string, r: ResolvedExport, start: Keyset | undefined, count: number): () => Promise<Row[]> {
  let left = count;
  let limit = nextPageRows(0, 0);
  const request = (after: Keyset | undefined) => {
    const query = matchingEntries(store.db, orgId, r, { after, limit: Math.min(limit, left) }).clearSelect().select(pageSelect(store.dialect));
    const p = store.selectRows(query) as unknown as Promise<Row[]>;
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
export async function skip(store: Store, orgId: string, r: ResolvedExport, after: Keyset | undefined, n: number): Promise<Keyset | undefined | 'end'> {
  if (n <= 0) return after;
  const [row] = await store.selectRows(matchingEntries(store.db, orgId, r, { after, limit: 1, offset: n - 1 }).clearSelect()
    .select(['audited_at', 'seq']));
  // Fewer rows than counted (entries purged meanwhile): nothing is left for this producer.
  return row ? { at: Number(row[0]), seq: Number(row[1]) } : 'end';
}
