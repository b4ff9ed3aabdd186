import { sql } from 'kysely';
import { NO_DETAILS } from '../domain/audit.ts';
import { buildAuditSelect } from './audit-query-store.ts';
import type { Db, Store, StoreDialect } from './db.ts';
import type { AuditEntryTable } from './schema.ts';

/**
 * The export's one query (matchingEntries) and the reads made of it: keyset pages, skips, COPY,
 * the service's count and probe. How a producer pages and encodes them is services/export-query.ts
 * and export-csv-encoding.ts.
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

/** Where a read stands: the (audited_at, seq) of the last row read. */
export type Keyset = { at: number; seq: number };

/**
 * The twelve text columns from Done By to Batch Id, which a page row holds joined into one string
 * by the database, separated by U+001F (see services/export-query.ts for why).
 */
export const GROUP_COLUMNS = ['actor_name', 'actor_id', 'action', 'module', 'record_name', 'record_id', 'parent_module', 'parent_id',
  'source', 'ip', 'user_agent', 'batch_id'] as const satisfies readonly (keyof AuditEntryTable)[];
/** A page row: audited_at, seq, the joined group, details (NULL without changes), `id,seq`. */
export type Row = [number, number, string, string | null, string];

/**
 * The select list of a page: AT, SEQ, GROUP, DETAILS, TAIL (`id,seq`). concat() (NULL as '')
 * with constants for the separator and the empty details: SQLite reads faster this way than with
 * coalesce(), || and bound parameters (bench/export.ts measures it).
 */
function pageSelect(dialect: StoreDialect) {
  return ['audited_at', 'seq', groupSelect(dialect), DETAILS_SELECT,
    sql<string>`concat(${sql.ref('id')}, ',', ${sql.ref('seq')})`.as('tail')] as const;
}
/** The twelve columns Done By .. Batch Id as one string, U+001F between them (NULL as ''). */
function groupSelect(dialect: StoreDialect) {
  const sep = dialect === 'postgres' ? sql`chr(31)` : sql`char(31)`;
  return sql<string>`concat(${sql.join(GROUP_COLUMNS.map((c) => sql.ref(c)), sql`, ${sep}, `)})`.as('grp');
}
/** Details, NULL for an entry without any (most of them). */
const DETAILS_SELECT = sql<string | null>`case when ${sql.ref('details')} = ${sql.lit(NO_DETAILS)} then null else ${sql.ref('details')} end`.as('changes');

/**
 * The export's matching entries after `after` (from the start without), `limit` at most, oldest
 * first: the one query behind every read of an export (pages, skips, the service's count and probe).
 * A visibility naming no users matches nothing (buildAuditSelect), so no reader special-cases it.
 */
function matchingEntries(db: Db, orgId: string, r: ResolvedExport, opts: { after?: Keyset; limit: number; offset?: number }) {
  return buildAuditSelect(db, { orgId, from: opts.after ? undefined : r.from, to: r.to, actorIds: r.actorIds,
    actions: r.actions ?? undefined, modules: r.modules ?? undefined, desc: false, after: opts.after, limit: opts.limit, offset: opts.offset })
    .where('seq', '<=', r.maxSeq);
}

/** Whether more than `n` entries match (an index probe for an unfiltered export). */
export async function matchesMoreThan(db: Db, orgId: string, r: ResolvedExport, n: number): Promise<boolean> {
  return (await matchingEntries(db, orgId, r, { limit: 1, offset: n }).clearSelect().select('seq').execute()).length > 0;
}

/** How many entries match, counting no further than `cap`. */
export async function countMatching(db: Db, orgId: string, r: ResolvedExport, cap: number): Promise<number> {
  const q = matchingEntries(db, orgId, r, { limit: cap }).clearSelect().clearOrderBy().select('seq');
  const c = await db.selectFrom(q.as('m')).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(c.n);
}

/**
 * An export's rows as a producer reads them, through the store's array rows (selectRows) and, on
 * PostgreSQL, COPY. Outside transactions only: on SQLite they wait for the one connection.
 */
export class ExportRows {
  constructor(private readonly store: Store) {}

  /** Whether `copyPart` can read (PostgreSQL); otherwise a producer reads pages. */
  get copies(): boolean {
    return this.store.copyOut !== undefined;
  }

  /** A page of rows after `after` (from the start without), `limit` at most. */
  page(orgId: string, r: ResolvedExport, after: Keyset | undefined, limit: number): Promise<Row[]> {
    const query = matchingEntries(this.store.db, orgId, r, { after, limit }).clearSelect().select(pageSelect(this.store.dialect));
    return this.store.selectRows(query) as unknown as Promise<Row[]>;
  }

  /** The keyset of the n-th row after `after` (n >= 1); undefined when fewer rows match. */
  async keysetAt(orgId: string, r: ResolvedExport, after: Keyset | undefined, n: number): Promise<Keyset | undefined> {
    const [row] = await this.store.selectRows(matchingEntries(this.store.db, orgId, r, { after, limit: 1, offset: n - 1 }).clearSelect()
      .select(['audited_at', 'seq']));
    return row ? { at: Number(row[0]), seq: Number(row[1]) } : undefined;
  }

  /**
   * The bytes of `COPY ... (FORMAT binary)` of `count` rows after `start`, with the columns
   * audited_at, seq, the joined group, details (NULL without changes) and id. PostgreSQL only.
   */
  copyPart(orgId: string, r: ResolvedExport, start: Keyset | undefined, count: number): AsyncIterable<Buffer> {
    const query = matchingEntries(this.store.db, orgId, r, { after: start, limit: count }).clearSelect()
      .select(['audited_at', 'seq', groupSelect(this.store.dialect), DETAILS_SELECT, 'id']);
    return this.store.copyOut!(query);
  }

  /** An entry's twelve group columns, one by one (when a value holds the separator). */
  async groupColumns(orgId: string, id: string): Promise<(string | null)[] | undefined> {
    const [row] = await this.store.selectRows(this.store.db.selectFrom('audit_entries').select(GROUP_COLUMNS)
      .where('org_id', '=', orgId).where('id', '=', id)) as (string | null)[][];
    return row;
  }
}
