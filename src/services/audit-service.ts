import { canonicalEntry, chainHash, GENESIS_HASH } from '../domain/audit.ts';
import { getAuditHead, streamChain } from '../store/audit-store.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import type { ServiceDeps } from './context.ts';
import { latestCheckpoint } from '../store/integrity-store.ts';
import { checkpointPayload, type IntegrityService } from './integrity-service.ts';

export interface ChainBreak {
  seq: number;
  id: string | null;
  reason: string;
}

export interface VerifyResult {
  orgId: string;
  ok: boolean;
  entries: number;
  lastSeq: number;
  lastHash: string;
  firstBreak: ChainBreak | null;
  /** The signed checkpoint the chain continues from after retention purges, if any. */
  checkpoint: { seq: number; purged: number; keyId: string } | null;
}

/** Recomputes an entry's hash from its stored columns. */
export function recomputeHash(row: AuditEntryTable): string {
  return chainHash(row.prev_hash, canonicalEntry({
    id: row.id, orgId: row.org_id, seq: Number(row.seq), prevHash: row.prev_hash, details: row.details,
    auditedAt: Number(row.audited_at), actorType: row.actor_type as never, actorId: row.actor_id, actorName: row.actor_name,
    action: row.action as never, module: row.module, recordId: row.record_id, recordName: row.record_name,
    parentModule: row.parent_module, parentId: row.parent_id, source: row.source as never, ip: row.ip,
    userAgent: row.user_agent, batchId: row.batch_id, fieldHistory: null, extra: null,
  }));
}

/** Audit chain integrity. */
export function createAuditService(deps: ServiceDeps, integrity: IntegrityService) {
  /**
   * Walks an organisation's chain and reports the first broken link: an altered entry (its hash
   * no longer matches its content), a removed or inserted one (a gap or a link to the wrong
   * predecessor), a swapped pair (both), or entries cut from the end (the head disagrees).
   */
  async function verifyChain(orgId: string): Promise<VerifyResult> {
    const head = await getAuditHead(deps.store.db, orgId);
    const cp = await latestCheckpoint(deps.store.db, orgId);
    let expectedSeq = cp ? Number(cp.seq) + 1 : 1;
    let prev = cp ? cp.hash : GENESIS_HASH;
    let count = 0;
    let firstBreak: ChainBreak | null = null;
    if (cp && !(await integrity.verifyText(cp.key_id, checkpointPayload(cp), cp.signature))) {
      firstBreak = { seq: Number(cp.seq), id: cp.id, reason: 'the retention checkpoint\'s signature does not verify (the checkpoint was forged or altered)' };
    }
    for await (const row of streamChain(deps.store.db, orgId, 5000, cp ? Number(cp.seq) : 0)) {
      count += 1;
      if (firstBreak) continue;
      const seq = Number(row.seq);
      if (seq !== expectedSeq) {
        firstBreak = { seq: expectedSeq, id: null, reason: seq > expectedSeq
          ? `entries ${expectedSeq}..${seq - 1} are missing before entry ${row.id}` : `entry ${row.id} repeats sequence ${seq}` };
      } else if (row.prev_hash !== prev) {
        firstBreak = { seq, id: row.id, reason: 'links to a different predecessor (an entry was removed, inserted or reordered)' };
      } else if (recomputeHash(row) !== row.hash) {
        firstBreak = { seq, id: row.id, reason: 'its content no longer matches its hash (the entry was altered)' };
      }
      expectedSeq = seq + 1;
      prev = row.hash;
    }
    const lastSeq = expectedSeq - 1;
    if (!firstBreak && head && (Number(head.last_seq) !== lastSeq || head.last_hash !== prev)) {
      firstBreak = { seq: Number(head.last_seq), id: null,
        reason: `the chain head records entry ${head.last_seq} but the log ends at ${lastSeq} (entries were removed from the end or appended outside the chain)` };
    }
    return { orgId, ok: firstBreak === null, entries: count, lastSeq, lastHash: prev, firstBreak,
      checkpoint: cp ? { seq: Number(cp.seq), purged: Number(cp.purged), keyId: cp.key_id } : null };
  }

  return { verifyChain };
}

export type AuditService = ReturnType<typeof createAuditService>;
