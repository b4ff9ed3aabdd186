import { sql } from 'kysely';
import {
  canonicalEntry, chainHash, encodeDetails, GENESIS_HASH, type AuditEntryInput,
} from '../domain/audit.ts';
import { newId } from '../domain/ids.ts';
import { AppError } from '../domain/errors.ts';
import { isStorableText } from '../domain/text.ts';
import type { Db, StoreDialect } from './db.ts';
import type { AuditEntryTable } from './schema.ts';

// 20 columns a row: SQLite allows 32,766 bound values, PostgreSQL 65,535.
const INSERT_CHUNK = 500;

/**
 * Appends entries to the organisation's hash chain. Must be called with the transaction that
 * makes the change being audited (invariant 1). On PostgreSQL the chain head row is locked
 * FOR UPDATE, so concurrent writers (any number of processes) queue up instead of forking the
 * chain; on SQLite the write transaction itself serialises them.
 */
export async function appendAuditEntries(
  trx: Db, dialect: StoreDialect, orgId: string, inputs: readonly AuditEntryInput[],
): Promise<AuditEntryTable[]> {
  if (inputs.length === 0) return [];
  let q = trx.selectFrom('audit_heads').select(['last_seq', 'last_hash']).where('org_id', '=', orgId);
  if (dialect === 'postgres') q = q.forUpdate();
  let head = await q.executeTakeFirst();
  if (!head) {
    await trx.insertInto('audit_heads').values({ org_id: orgId, last_seq: 0, last_hash: GENESIS_HASH })
      .onConflict((oc) => oc.column('org_id').doNothing()).execute();
    let again = trx.selectFrom('audit_heads').select(['last_seq', 'last_hash']).where('org_id', '=', orgId);
    if (dialect === 'postgres') again = again.forUpdate();
    head = await again.executeTakeFirstOrThrow();
  }
  // The last line of defence of invariant 3: whatever reached this entry without being checked
  // (a service that forgot, a CLI argument), text the database would not store exactly never
  // enters the chain; the whole transaction fails instead.
  for (const input of inputs) refuseUnstorable(input);
  let seq = Number(head.last_seq);
  let prevHash = head.last_hash;
  const rows: AuditEntryTable[] = inputs.map((input) => {
    seq += 1;
    const details = encodeDetails(input.fieldHistory, input.extra);
    const entry = { ...input, id: newId(input.auditedAt), orgId, seq, prevHash, details };
    const hash = chainHash(prevHash, canonicalEntry(entry));
    const row: AuditEntryTable = {
      id: entry.id, org_id: orgId, seq, audited_at: input.auditedAt, actor_type: input.actorType,
      actor_id: input.actorId, actor_name: input.actorName, action: input.action, module: input.module,
      record_id: input.recordId, record_name: input.recordName, parent_module: input.parentModule,
      parent_id: input.parentId, source: input.source, ip: input.ip, user_agent: input.userAgent,
      batch_id: input.batchId, details, prev_hash: prevHash, hash,
    };
    prevHash = hash;
    return row;
  });
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await trx.insertInto('audit_entries').values(rows.slice(i, i + INSERT_CHUNK)).execute();
  }
  await trx.updateTable('audit_heads').set({ last_seq: seq, last_hash: prevHash }).where('org_id', '=', orgId).execute();
  return rows;
}

const TEXT_COLUMNS = ['actorName', 'actorId', 'module', 'recordId', 'recordName', 'parentModule', 'parentId', 'ip',
  'userAgent', 'batchId'] as const;

function refuseUnstorable(input: AuditEntryInput) {
  for (const key of TEXT_COLUMNS) {
    const v = input[key];
    if (v !== null && !isStorableText(v)) {
      throw new AppError('INVALID_DATA', 'the request holds text that cannot be stored exactly (a lone UTF-16 surrogate or NUL)',
        { field: key });
    }
  }
}

/** Locks the organisation's chain head row for the rest of the transaction (PostgreSQL). */
export async function lockAuditHead(trx: Db, orgId: string): Promise<void> {
  await trx.selectFrom('audit_heads').select('org_id').where('org_id', '=', orgId).forUpdate().execute();
}

/** The chain head as recorded: the sequence and hash of the last entry appended. */
export async function getAuditHead(db: Db, orgId: string) {
  return db.selectFrom('audit_heads').selectAll().where('org_id', '=', orgId).executeTakeFirst();
}

/** Entries of one organisation in chain order, in pages, for verification and export. */
export async function* streamChain(db: Db, orgId: string, pageSize = 5000, afterSeq = 0): AsyncGenerator<AuditEntryTable> {
  let after = afterSeq;
  for (;;) {
    const page = await db.selectFrom('audit_entries').selectAll().where('org_id', '=', orgId)
      .where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = Number(page[page.length - 1].seq);
  }
}

export async function countAuditEntries(db: Db, orgId: string): Promise<number> {
  const r = await db.selectFrom('audit_entries').select(sql<number>`count(*)`.as('n')).where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
