import { GENESIS_HASH } from '../domain/audit.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { walkChain, type ChainBreak } from './chain-walk.ts';
import type { Actor, ServiceDeps } from './context.ts';
import { requireAdministrator } from './authorization.ts';
import { headPayload, type HeadsService, type SourcedHead } from './heads-service.ts';
import { checkpointPayload, type IntegrityService } from './integrity-service.ts';

export { recomputeHash, type ChainBreak } from './chain-walk.ts';

/** At most this many breaks are listed; `more_breaks` counts the rest. */
const MAX_LISTED = 1000;

export interface VerifyResult {
  orgId: string;
  ok: boolean;
  entries: number;
  /** Where the walk started: 0 (genesis), a retention checkpoint's or (with `since`) a signed head's sequence. */
  fromSeq: number;
  lastSeq: number;
  lastHash: string;
  /** Every break found (at most 1,000; `moreBreaks` counts the rest). */
  breaks: ChainBreak[];
  moreBreaks: number;
  firstBreak: ChainBreak | null;
  /** The newest signed head the chain was checked against, if any. */
  signedHead: { seq: number; hash: string; signedAt: number; source: string } | null;
  /** The signed checkpoint the chain continues from after retention purges, if any. */
  checkpoint: { seq: number; purged: number; keyId: string } | null;
}

export interface VerifyOptions {
  /** Check only the entries after the newest signed head at or before this sequence number. */
  since?: number;
  /** More heads logs (JSON lines) to check against, e.g. the copy shipped elsewhere. */
  headsFiles?: string[];
  /** Sign the head after a successful check (default true). */
  sign?: boolean;
}

const iso = (ms: number) => new Date(ms).toISOString();
const lastVerifyKey = (orgId: string) => `verify:last:${orgId}`;

/** What the last `verify` of an organisation found. */
export interface LastVerify {
  at: number;
  ok: boolean;
  entries: number;
  from_seq: number;
  last_seq: number;
  breaks: number;
  first_break: string | null;
}

/** Audit chain integrity. */
export function createAuditService(deps: ServiceDeps, integrity: IntegrityService, heads: HeadsService) {
  /**
   * Walks an organisation's chain and reports every broken link, then checks it against every
   * signed head it can find (database, heads log, given files): a signed hash that no longer
   * matches names a rewrite, a signed head beyond the end names a truncation. Nothing mutable
   * vouches for the chain: retention checkpoints and heads count only when their signature
   * verifies with a trusted key, and the `audit_heads` row is only compared.
   */
  async function verifyChain(orgId: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
    const repos = deps.store.repos;
    const breaks: ChainBreak[] = [];
    let moreBreaks = 0;
    const report = (b: ChainBreak) => { if (breaks.length < MAX_LISTED) breaks.push(b); else moreBreaks += 1; };

    const found = await heads.headsOf(orgId, opts.headsFiles ?? []);
    for (const p of found.problems) report({ seq: 0, id: null, reason: p });
    const signed: SourcedHead[] = [];
    for (const h of found.heads) {
      if (integrity.verifyText(h.key_id, headPayload(h), h.signature)) signed.push(h);
      else report({ seq: Number(h.seq), id: null, reason: `the head signed for entry ${h.seq} in ${h.source} does not verify (forged, altered, or signed by a key this installation does not trust)` });
    }
    signed.sort((a, b) => Number(a.seq) - Number(b.seq) || Number(a.signed_at) - Number(b.signed_at));

    const cp = await repos.integrity.latestCheckpoint(orgId);
    const cpOk = cp !== undefined && integrity.verifyText(cp.key_id, checkpointPayload(cp), cp.signature);
    if (cp && !cpOk) {
      report({ seq: Number(cp.seq), id: cp.id, reason: 'the retention checkpoint\'s signature does not verify (the checkpoint was forged or altered)' });
    }
    let start = cp ? { seq: Number(cp.seq), hash: cp.hash } : { seq: 0, hash: GENESIS_HASH };
    if (opts.since !== undefined) {
      // With no signed head at or before it, the walk starts where a full verify does: checking
      // more than asked is never wrong, and "no head yet" is not a broken chain.
      const from = [...signed].reverse().find((h) => Number(h.seq) <= opts.since! && Number(h.seq) >= start.seq);
      if (from) {
        start = { seq: Number(from.seq), hash: from.hash };
        const at = await repos.integrity.entryAt(orgId, start.seq);
        if (start.seq > 0 && at?.hash !== from.hash) {
          report({ seq: start.seq, id: null, reason: at ? `entry ${start.seq}'s hash no longer matches the head signed at ${iso(Number(from.signed_at))} (${from.source}): the history up to it was rewritten`
            : `entry ${start.seq} is missing but was signed at ${iso(Number(from.signed_at))} (${from.source})` });
        }
      }
    }

    const bySeq = new Map<number, SourcedHead[]>();
    for (const h of signed) if (Number(h.seq) > start.seq) bySeq.set(Number(h.seq), [...(bySeq.get(Number(h.seq)) ?? []), h]);
    const checkSigned = (row: AuditEntryTable) => {
      for (const h of bySeq.get(Number(row.seq)) ?? []) {
        if (h.hash !== row.hash) {
          report({ seq: Number(row.seq), id: row.id, reason: `its hash no longer matches the head signed at ${iso(Number(h.signed_at))} (${h.source}): the history up to it was rewritten` });
        }
      }
    };
    const walked = await walkChain(repos, orgId, start, report, { onEntry: checkSigned });

    const newest = signed.at(-1);
    if (newest && Number(newest.seq) > walked.lastSeq) {
      report({ seq: walked.lastSeq, id: null, reason: `the chain ends at ${walked.lastSeq} but head ${newest.seq} was signed at ${iso(Number(newest.signed_at))} (${newest.source}): entries were cut from the end` });
    }
    const head = await repos.audit.head(orgId);
    if (!head && walked.lastSeq > 0) {
      report({ seq: walked.lastSeq, id: null, reason: 'the chain head record (audit_heads) is missing' });
    } else if (head && (Number(head.last_seq) !== walked.lastSeq || head.last_hash !== walked.lastHash)) {
      report({ seq: Number(head.last_seq), id: null,
        reason: `the chain head records entry ${head.last_seq} but the log ends at ${walked.lastSeq} (entries were removed from the end or appended outside the chain)` });
    }

    const ok = breaks.length === 0;
    if (ok && opts.sign !== false) await heads.signHead(orgId, 'verify', true);
    // What the console's Settings page shows. A status only: verify itself never reads it.
    await repos.kv.put(lastVerifyKey(orgId), JSON.stringify({ at: deps.clock(), ok, entries: walked.entries, from_seq: start.seq,
      last_seq: walked.lastSeq, breaks: breaks.length + moreBreaks, first_break: breaks[0]?.reason ?? null }));
    return { orgId, ok, entries: walked.entries, fromSeq: start.seq, lastSeq: walked.lastSeq, lastHash: walked.lastHash, breaks,
      moreBreaks, firstBreak: breaks[0] ?? null,
      signedHead: newest ? { seq: Number(newest.seq), hash: newest.hash, signedAt: Number(newest.signed_at), source: newest.source } : null,
      checkpoint: cp ? { seq: Number(cp.seq), purged: Number(cp.purged), keyId: cp.key_id } : null };
  }

  /** The last verify's result for an organisation (console), or null when none ran. */
  async function lastVerify(orgId: string): Promise<LastVerify | null> {
    const raw = await deps.store.repos.kv.get(lastVerifyKey(orgId));
    return raw ? JSON.parse(raw) as LastVerify : null;
  }

  /**
   * What the console's Settings page shows of integrity: the last verify, the newest signed
   * head and the key that signs. Throws NO_PERMISSION for anyone but an Administrator.
   */
  async function integrityStatus(actor: Actor) {
    requireAdministrator(actor);
    const head = await deps.store.repos.integrity.latestSignedHead(actor.orgId);
    return {
      lastVerify: await lastVerify(actor.orgId),
      newestHead: head ? { seq: Number(head.seq), hash: head.hash, signedAt: Number(head.signed_at), keyId: head.key_id, reason: head.reason } : null,
      publicKey: integrity.publicKeyInfo(),
    };
  }

  return { verifyChain, lastVerify, integrityStatus };
}

export type AuditService = ReturnType<typeof createAuditService>;
