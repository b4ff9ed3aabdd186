import { canonicalEntry, chainHash } from '../domain/audit.ts';
import type { PoolStore } from '../store/bound-store.ts';
import type { AuditEntryTable } from '../store/schema.ts';

export interface ChainBreak {
  seq: number;
  id: string | null;
  reason: string;
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

export interface WalkResult {
  entries: number;
  /** The last sequence number walked (the start's when there was nothing after it). */
  lastSeq: number;
  lastHash: string;
}

/**
 * Walks an organisation's chain after a trusted starting point (genesis, a signed checkpoint or a
 * signed head) to its end, and reports every broken link, not only the first: an altered
 * entry (its hash no longer matches its content), a removed or inserted one (a gap or a link to
 * the wrong predecessor), a swapped pair (both). After a break the walk goes on from the stored
 * hash, so one altered entry is reported once and later breaks are still found. `onEntry` sees
 * every entry (to compare it with signed heads).
 */
export async function walkChain(s: PoolStore, orgId: string, start: { seq: number; hash: string }, onBreak: (b: ChainBreak) => void,
  opts: { onEntry?: (row: AuditEntryTable) => void } = {}): Promise<WalkResult> {
  let expectedSeq = start.seq + 1;
  let prev = start.hash;
  let entries = 0;
  for await (const row of s.audit.stream(orgId, 5000, start.seq)) {
    const seq = Number(row.seq);
    entries += 1;
    if (seq > expectedSeq) {
      onBreak({ seq: expectedSeq, id: null, reason: `entries ${expectedSeq}..${seq - 1} are missing before entry ${row.id}` });
    } else if (seq < expectedSeq) {
      onBreak({ seq, id: row.id, reason: `entry ${row.id} repeats sequence ${seq}` });
    }
    if (row.prev_hash !== prev) {
      onBreak({ seq, id: row.id, reason: 'links to a different predecessor (an entry was removed, inserted or reordered)' });
    }
    if (recomputeHash(row) !== row.hash) {
      onBreak({ seq, id: row.id, reason: 'its content no longer matches its hash (the entry was altered)' });
    }
    opts.onEntry?.(row);
    expectedSeq = seq + 1;
    prev = row.hash;
  }
  return { entries, lastSeq: expectedSeq - 1, lastHash: prev };
}
