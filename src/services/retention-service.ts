import { newId } from '../domain/ids.ts';
import { inTransaction, systemActor, type ServiceDeps } from './context.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { checkpointPayload, type IntegrityService } from './integrity-service.ts';
import { LeaseLostError } from './job-queue.ts';

const YEAR = 365.25 * 24 * 3600 * 1000;

export interface RetentionResult {
  orgId: string; purged: number; throughSeq: number | null; skipped?: 'legal_hold' | 'failed';
  /** When nothing was purged: the oldest entry left (ms) and the retention it is measured against, to say why. */
  oldestAt?: number | null; retentionYears?: number;
}

export interface RetentionOptions {
  batchSize?: number;
  maxBatches?: number;
  /** Called between batches with the entries purged so far (the job reports progress, renewing its lease). */
  progress?: (purged: number) => Promise<void>;
}


/**
 * Audit-log retention: entries older than the organisation's retention period (default three
 * years, at most ten) are purged oldest first, in chain order, in small batches; each batch
 * leaves a signed checkpoint holding the last purged entry's sequence number and hash, so the
 * remaining chain still verifies. A legal hold stops all purging.
 */
export function createRetentionService(deps: ServiceDeps, signer: IntegrityService) {
  async function purgeOrg(orgId: string, opts: RetentionOptions = {}): Promise<RetentionResult> {
    const org = await deps.store.repos.directory.getOrg(orgId);
    if (!org) return { orgId, purged: 0, throughSeq: null };
    const settings = parseOrgSettings(org.settings);
    if (settings.legal_hold) return { orgId, purged: 0, throughSeq: null, skipped: 'legal_hold' };
    await signer.ensureRegistered();
    const batchSize = opts.batchSize ?? 1000;
    const actor = { ...systemActor(orgId, 'Retention', org.time_zone), source: 'retention' as const };
    let total = 0;
    let throughSeq: number | null = null;
    for (let batch = 0; batch < (opts.maxBatches ?? Infinity); batch++) {
      const cutoff = deps.clock() - settings.retention_years * YEAR;
      const purged = await inTransaction(deps, actor, async (tx) => {
        // A legal hold set while the purge runs stops it here, before the next batch.
        const current = await tx.store.directory.getOrg(orgId);
        if (!current || parseOrgSettings(current.settings).legal_hold) return null;
        const last = await tx.store.integrity.latestCheckpoint(orgId);
        const afterSeq = last ? Number(last.seq) : 0;
        const rows = await tx.store.integrity.chainPrefix(orgId, afterSeq, batchSize);
        let k = 0;
        while (k < rows.length && Number(rows[k].audited_at) < cutoff) k++;
        if (k === 0) return 0;
        const end = rows[k - 1];
        const count = await tx.store.integrity.purgeChainPrefix(orgId, afterSeq, Number(end.seq), tx.now);
        const body = { org_id: orgId, seq: Number(end.seq), hash: end.hash, cutoff, purged: count,
          prev_signature: last?.signature ?? null, created_at: tx.now };
        await tx.store.integrity.insertCheckpoint({ id: newId(tx.now), ...body, key_id: signer.keyId,
          signature: signer.signText(checkpointPayload(body)) });
        tx.audit({ action: 'audit_log_purged', module: 'audit_log', recordId: null, recordName: null, parentModule: null,
          parentId: null, batchId: null, fieldHistory: null,
          extra: { through_seq: Number(end.seq), entries: count, older_than: new Date(cutoff).toISOString(),
            retention_years: settings.retention_years } });
        throughSeq = Number(end.seq);
        return count;
      });
      if (purged === null) return { orgId, purged: total, throughSeq, skipped: 'legal_hold' };
      total += purged;
      if (purged < batchSize) break;
      await opts.progress?.(total);
    }
    if (total === 0) {
      const last = await deps.store.repos.integrity.latestCheckpoint(orgId);
      const [oldest] = await deps.store.repos.integrity.chainPrefix(orgId, last ? Number(last.seq) : 0, 1);
      return { orgId, purged: 0, throughSeq, oldestAt: oldest ? Number(oldest.audited_at) : null, retentionYears: settings.retention_years };
    }
    return { orgId, purged: total, throughSeq };
  }

  /** The daily job: every organisation in turn; one that fails does not keep the others. */
  async function runRetention(opts: RetentionOptions = {}): Promise<RetentionResult[]> {
    const out: RetentionResult[] = [];
    for (const org of await deps.store.repos.directory.listOrgs()) {
      try {
        out.push(await purgeOrg(org.id, opts));
      } catch (e) {
        if (e instanceof LeaseLostError) throw e;
        deps.logger.error({ err: e, org: org.id }, 'retention failed for an organisation');
        out.push({ orgId: org.id, purged: 0, throughSeq: null, skipped: 'failed' });
      }
    }
    return out;
  }

  return { purgeOrg, runRetention };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
