import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { newId } from '../domain/ids.ts';
import type { SignedHeadTable } from '../store/schema.ts';
import type { ServiceDeps } from './context.ts';
import type { IntegrityService } from './integrity-service.ts';

export type HeadReason = 'interval' | 'export' | 'stop' | 'verify';

/** The payload a signed head's signature covers, in a fixed order. */
export function headPayload(h: Pick<SignedHeadTable, 'org_id' | 'seq' | 'hash' | 'signed_at'>): string {
  return JSON.stringify(['auditrail-head-v1', h.org_id, Number(h.seq), h.hash, Number(h.signed_at)]);
}

export interface HeadsOptions {
  /** The append-only log of signed heads outside the database (`<data dir>/integrity/heads.log`). */
  logFile: string | null;
  /** A witness that receives every signed head as a JSON POST (`AUDITRAIL_HEADS_URL`). */
  witnessUrl: string | null;
}

/** A signed head and where it was found. */
export type SourcedHead = SignedHeadTable & { source: string };

/**
 * The signed heads of a heads log (one JSON object a line). Lines that are not heads are
 * reported, not skipped silently: a mangled log is itself evidence.
 */
export function readHeadsFile(file: string): { heads: SourcedHead[]; problems: string[] } {
  const heads: SourcedHead[] = [];
  const problems: string[] = [];
  if (!existsSync(file)) return { heads, problems };
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const h = JSON.parse(line) as SignedHeadTable;
      if (typeof h.org_id !== 'string' || !Number.isSafeInteger(h.seq) || typeof h.hash !== 'string'
        || !Number.isSafeInteger(h.signed_at) || typeof h.key_id !== 'string' || typeof h.signature !== 'string') throw new Error();
      heads.push({ ...h, source: `${file}:${i + 1}` });
    } catch {
      problems.push(`${file}:${i + 1} is not a signed head`);
    }
  });
  return { heads, problems };
}

/**
 * Signed tree heads. The installation key signs each organisation's chain head (sequence and
 * hash of its last entry, and the time), never over a chain that no longer holds the previous
 * signed head. Heads go to an
 * append-only table, to a log file outside the database and, optionally, to a witness.
 */
export function createHeadsService(deps: ServiceDeps, signer: IntegrityService, opts: HeadsOptions) {
  let timer: NodeJS.Timeout | null = null;

  function publish(row: SignedHeadTable) {
    if (opts.logFile) {
      mkdirSync(path.dirname(opts.logFile), { recursive: true, mode: 0o700 });
      appendFileSync(opts.logFile, `${JSON.stringify(row)}\n`, { mode: 0o600 });
    }
    if (opts.witnessUrl) {
      // The witness is a copy kept elsewhere: its being down must not stop the signing.
      fetch(opts.witnessUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(row),
        signal: AbortSignal.timeout(10_000) })
        .then((r) => { if (!r.ok) deps.logger.warn({ status: r.status }, 'the heads witness refused a signed head'); },
          (err: unknown) => deps.logger.warn({ err }, 'the heads witness could not be reached'));
    }
  }

  /**
   * Signs the organisation's current head. Without `force`, nothing is signed when the head has
   * not moved since the last signed one. Returns null when there is nothing to sign, and refuses
   * (logging the reason) when the chain was cut or rewritten below the last signed head.
   */
  async function signHead(orgId: string, reason: HeadReason, force = false): Promise<SignedHeadTable | null> {
    const repos = deps.store.repos;
    const last = await repos.integrity.lastChainEntry(orgId);
    if (!last) return null;
    const lastSeq = Number(last.seq);
    const prev = await repos.integrity.latestSignedHead(orgId);
    if (prev && Number(prev.seq) === lastSeq && !force) return null;
    const problem = await extends_(orgId, prev, lastSeq);
    if (problem) {
      deps.logger.error({ orgId, problem }, 'chain head NOT signed: it does not extend the last signed head');
      return null;
    }
    const body = { org_id: orgId, seq: lastSeq, hash: last.hash, signed_at: deps.clock() };
    const row: SignedHeadTable = { id: newId(body.signed_at), ...body, reason, key_id: signer.keyId,
      signature: signer.signText(headPayload(body)) };
    await repos.integrity.insertSignedHead(row);
    publish(row);
    return row;
  }

  /**
   * Why the chain ending at `lastSeq` does not extend the last signed head, or null when it does
   * as far as one lookup can tell: the entry the head signed still holds the signed hash (unless
   * retention purged it). That keeps signing O(1) whatever was written since; checking every link
   * in between is `verify`'s work, and a signed head hides no break from it.
   */
  async function extends_(orgId: string, prev: SignedHeadTable | undefined, lastSeq: number): Promise<string | null> {
    if (!prev || !signer.verifyText(prev.key_id, headPayload(prev), prev.signature)) return null;
    if (Number(prev.seq) > lastSeq) return `the chain ends at ${lastSeq} but head ${prev.seq} was signed`;
    const at = await deps.store.repos.integrity.entryAt(orgId, Number(prev.seq));
    if (at && at.hash !== prev.hash) return `entry ${prev.seq}'s hash no longer matches its signed head`;
    if (!at) {
      const cp = await deps.store.repos.integrity.latestCheckpoint(orgId);
      if (!cp || Number(cp.seq) < Number(prev.seq)) return `entry ${prev.seq} was signed but is missing`;
    }
    return null;
  }

  /** Signs every organisation's head (the interval, export, stop and verify moments). */
  async function signAll(reason: HeadReason, force = false): Promise<SignedHeadTable[]> {
    const out: SignedHeadTable[] = [];
    for (const org of await deps.store.repos.directory.listOrgs()) {
      const h = await signHead(org.id, reason, force);
      if (h) out.push(h);
    }
    return out;
  }

  /** Signs every moved head each `intervalMs` (at least every minute while entries are written). */
  function start(intervalMs = 60_000) {
    if (timer) return;
    timer = setInterval(() => {
      signAll('interval').catch((err: unknown) => deps.logger.error({ err }, 'signing chain heads failed'));
    }, intervalMs);
    timer.unref();
  }

  /** Stops the interval and signs every head one last time (the server is stopping). */
  async function stop() {
    if (timer) clearInterval(timer);
    timer = null;
    await signAll('stop', true);
  }

  /** Every signed head of an organisation: the database's, the local log's and any given files'. */
  function collect(orgId: string, dbHeads: SignedHeadTable[], files: string[]): { heads: SourcedHead[]; problems: string[] } {
    const heads: SourcedHead[] = dbHeads.map((h) => ({ ...h, source: 'database' }));
    const problems: string[] = [];
    for (const file of [...(opts.logFile ? [opts.logFile] : []), ...files]) {
      const r = readHeadsFile(file);
      heads.push(...r.heads.filter((h) => h.org_id === orgId));
      problems.push(...r.problems);
    }
    return { heads, problems };
  }

  async function headsOf(orgId: string, files: string[] = []) {
    return collect(orgId, await deps.store.repos.integrity.listSignedHeads(orgId), files);
  }

  return { signHead, signAll, start, stop, headsOf, logFile: opts.logFile };
}

export type HeadsService = ReturnType<typeof createHeadsService>;
