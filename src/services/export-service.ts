import { once } from 'node:events';
import { AppError } from '../domain/errors.ts';
import { MAX_EXPORT_RANGE_DAYS, parseExportCriteria, type ExportCriteria } from '../domain/export-criteria.ts';
import { isId } from '../domain/ids.ts';
import { findModule, metadataId, moduleIndex, STANDARD_MODULES } from '../domain/modules.ts';
import { AUDIT_MODULES } from '../domain/audit-query.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { BoundStore } from '../store/bound-store.ts';
import type { AuditExportTable, JobTable } from '../store/schema.ts';
import { bookkeeping, inTransaction, type Actor, type ServiceDeps } from './context.ts';
import { enqueueJob, type JobContext } from './job-queue.ts';
import { fullName } from '../domain/display.ts';
import { exportParts, partCount, type PartSummary, type ProducerMessage } from './export-producer.ts';
import type { ResolvedExport } from './export-query.ts';
import { ZipWriter } from './zip.ts';
import type { HeadsService } from './heads-service.ts';
import type { IntegrityService } from './integrity-service.ts';
import { isAdministrator, requireAnySetting, requireSetting, seesJobOf, visibleUserIds } from './authorization.ts';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
export const ROWS_PER_FILE = 100_000;
export const MAX_ENTRIES = 1_000_000;
export const EXPIRY_DAYS = 7;
/** Entries between two progress reports (each also renews the job's lease). */
const PROGRESS_EVERY = 2000;
export { EXPORT_COLUMNS } from './export-csv-encoding.ts';
export { type ResolvedExport } from './export-query.ts';

export interface ExportFile { name: string; size: number; sha256: string; entries: number; first_seq: number | null; last_seq: number | null }

/** An error about the `audit_log_export[0]` item, which Zoho answers inside `audit_log_export[]`. */
function wrapped(e: AppError): AppError {
  return AppError.perItem(e.code, e.message, e.details);
}

/** Canonical JSON (sorted keys) of a manifest without its signature: what the signature covers. */
export function canonicalManifest(manifest: Record<string, unknown>): string {
  const sort = (v: unknown): unknown => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v);
  const { signature: _s, ...rest } = manifest;
  return JSON.stringify(sort(rest));
}

/** The Export Audit Log API: jobs, their files, and their downloads, all audited. */
export function createExportService(deps: ServiceDeps, blobs: BlobStore, integrity: IntegrityService, heads: HeadsService,
  limits: { rowsPerFile?: number; maxEntries?: number } = {}) {
  const { store } = deps;
  const rowsPerFile = limits.rowsPerFile ?? ROWS_PER_FILE;
  const maxEntries = limits.maxEntries ?? MAX_ENTRIES;

  /** Parses the optional body; body-level errors are bare, criteria errors wrapped (Zoho's way). */
  function parseBody(body: unknown): { criteria: unknown; parsed: ExportCriteria | null } {
    if (body === undefined || body === null) return { criteria: null, parsed: null };
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new AppError('INVALID_DATA', 'the body must be a JSON object', { expected_data_type: 'jsonobject', json_path: '$' });
    }
    const b = body as Record<string, unknown>;
    if (Object.keys(b).length === 0) return { criteria: null, parsed: null };
    if (b.audit_log_export === undefined) {
      throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'audit_log_export', json_path: '$.audit_log_export' });
    }
    if (!Array.isArray(b.audit_log_export)) {
      throw new AppError('INVALID_DATA', 'audit_log_export must be an array', { api_name: 'audit_log_export', json_path: '$.audit_log_export', expected_data_type: 'jsonarray' });
    }
    if (b.audit_log_export.length === 0) {
      throw new AppError('MANDATORY_NOT_FOUND', 'audit_log_export is empty', { api_name: 'audit_log_export', json_path: '$.audit_log_export' });
    }
    if (b.audit_log_export.length > 1) {
      throw wrapped(new AppError('LIMIT_EXCEEDED', 'only one audit_log_export object is allowed', { api_name: 'audit_log_export', json_path: '$.audit_log_export[1]', limit: '1' }));
    }
    const item = b.audit_log_export[0];
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      throw wrapped(new AppError('INVALID_DATA', 'invalid data', { api_name: 'audit_log_export', json_path: '$.audit_log_export[0]', expected_data_type: 'jsonobject' }));
    }
    const criteria = (item as Record<string, unknown>).criteria;
    if (criteria === undefined || criteria === null) {
      throw wrapped(new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'criteria', json_path: '$.audit_log_export[0].criteria' }));
    }
    return { criteria, parsed: parseExportCriteria(criteria, '$.audit_log_export[0].criteria') };
  }

  function resolveModules(orgId: string, groups: NonNullable<ExportCriteria['modules']>): string[] {
    let result: string[] | null = null;
    for (const refs of groups) {
      const names = refs.map((r) => {
        const byId = r.id ? STANDARD_MODULES.find((m) => metadataId(orgId, moduleIndex(m)) === r.id) : undefined;
        const byName = r.apiName ? (findModule(r.apiName)?.apiName ?? AUDIT_MODULES.find((m) => m.toLowerCase() === r.apiName!.toLowerCase())) : undefined;
        if (r.id && r.apiName && byId && byName && byId.apiName !== byName) {
          throw wrapped(new AppError('AMBIGUITY_DURING_PROCESSING', 'the module id and api_name point to different modules', {
            ambiguity_due_to: [{ api_name: 'api_name', json_path: `${r.path}.api_name` }, { api_name: 'id', json_path: `${r.path}.id` }] }));
        }
        const name = byName ?? byId?.apiName;
        if (!name || (r.id && !byId)) {
          throw wrapped(new AppError('INVALID_DATA', 'the module given seems to be invalid', { api_name: r.id && !byId ? 'id' : 'api_name',
            json_path: `${r.path}.${r.id && !byId ? 'id' : 'api_name'}` }));
        }
        return name;
      });
      result = result === null ? names : result.filter((n) => names.includes(n));
    }
    return result ?? [];
  }

  /**
   * Schedules an export. Throws NO_PERMISSION, the documented criteria errors (wrapped) and
   * ALREADY_SCHEDULED while the user has a job scheduled or running.
   */
  async function create(actor: Actor, body: unknown): Promise<AuditExportTable> {
    requireSetting(actor, 'export_audit_log');
    const { criteria, parsed } = parseBody(body);
    const now = deps.clock();
    const [users, org] = await Promise.all([store.repos.directory.listUsers(actor.orgId), store.repos.directory.getOrg(actor.orgId)]);
    const userIds = new Set(users.map((u) => u.id));
    let doneBy: string[] | null = null;
    for (const g of parsed?.doneBy ?? []) {
      const bad = g.ids.findIndex((id) => !userIds.has(id));
      if (bad >= 0) throw wrapped(new AppError('INVALID_DATA', 'the user id given seems to be invalid', { api_name: 'id', json_path: `${g.path}[${bad}].id` }));
      doneBy = doneBy === null ? g.ids : doneBy.filter((id) => g.ids.includes(id));
    }
    const modules = parsed?.modules ? resolveModules(actor.orgId, parsed.modules) : null;
    let actorIds = await visibleUserIds(store.repos, actor);
    if (doneBy) actorIds = actorIds ? doneBy.filter((id) => actorIds!.includes(id)) : doneBy;
    const head = await store.repos.audit.head(actor.orgId);
    // Zoho: "With filters ... you can export up to 6 months"; only the unfiltered log reaches back three years.
    const filtered = !!(parsed?.actions || parsed?.modules || parsed?.doneBy);
    const earliest = now - (filtered && parsed?.from === undefined ? MAX_EXPORT_RANGE_DAYS * DAY : 3 * YEAR);
    const resolved: ResolvedExport = {
      from: Math.max(parsed?.from ?? earliest, now - 3 * YEAR), to: Math.min(parsed?.to ?? now, now),
      maxSeq: head ? Number(head.last_seq) : 0, actorIds, actions: parsed?.actions ?? null, modules, timeZone: org!.time_zone,
    };
    return inTransaction(deps, actor, async (tx) => {
      if (actor.userId) {
        const active = await tx.store.exports.activeOf(actor.orgId, actor.userId);
        if (active) throw wrapped(new AppError('ALREADY_SCHEDULED', 'an export job is already scheduled or running', { id: active.id }));
      }
      const id = await enqueueJob(tx, actor.orgId, 'audit_log_export', {}, { maxAttempts: 5 });
      const row: AuditExportTable = {
        id, org_id: actor.orgId, created_by: actor.userId ?? '', criteria: criteria === null ? null : JSON.stringify(criteria),
        resolved: JSON.stringify(resolved), status: 'Scheduled', created_at: tx.now, started_at: null, finished_at: null,
        expires_at: null, files: null, entry_count: null, truncated: 0, removed_at: null,
      };
      await tx.store.exports.insert(row);
      tx.audit({ action: 'audit_log_exported', module: 'audit_log', recordId: id, recordName: 'Audit log export', parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { criteria, from: new Date(resolved.from).toISOString(),
          to: new Date(resolved.to).toISOString() } });
      return row;
    });
  }

  /** Jobs the actor may see: all of the organisation's for an Administrator, else their own. */
  async function list(actor: Actor) {
    requireAnySetting(actor, 'export_audit_log', 'audit_log');
    return store.repos.exports.list(actor.orgId, isAdministrator(actor) ? null : actor.userId);
  }

  /** One job; INVALID_URL_PATTERN (404) when missing, foreign or someone else's. */
  async function get(actor: Actor, id: string) {
    requireAnySetting(actor, 'export_audit_log', 'audit_log');
    const row = isId(id) ? await store.repos.exports.get(actor.orgId, id) : undefined;
    if (!row || !seesJobOf(actor, row.created_by, 'administrator')) {
      throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
    }
    return row;
  }

  /**
   * The job handler: streams the entries through the CSV encoder (into a ZIP of 100,000-entry
   * CSVs with a signed manifest when there are more than 100,000) and into the blob store.
   * Memory stays flat; the bytes depend only on what was fixed at creation, so a job resumed
   * by another worker produces the same file.
   */
  async function run(job: JobTable, ctx: JobContext) {
    const exp = await store.repos.exports.get(job.org_id, job.id);
    if (!exp || exp.status === 'Finished') return { skipped: true };
    const started = exp.started_at ?? deps.clock();
    await store.repos.exports.update(exp.id, { status: 'Progress', started_at: started });
    // Every export leaves a signed head behind: the exported chain can later be matched to it.
    await heads.signHead(exp.org_id, 'export', true);
    const r = JSON.parse(exp.resolved) as ResolvedExport;
    const mtime = new Date(exp.created_at);
    // The producers start loading while the entries are counted (a million take a fifth of a
    // second to count, a thread about half a second to start); whether there is more than one
    // part decides how many there are, and an index probe tells that at once.
    const counted = store.repos.exports.countMatching(exp.org_id, r, maxEntries + 1);
    const capped = counted.then((t) => Math.min(t, maxEntries));
    // Both are awaited below (or not at all when the probe fails); a failure meanwhile must not
    // go unhandled, which would end the process.
    counted.catch(() => {});
    capped.catch(() => {});
    let parts: AsyncIterator<ProducerMessage> | null = null;
    const files: ExportFile[] = [];
    let name: string;
    let done = 0;
    let reported = 0;
    let total = 0;
    let entries = 0;

    /** Hands the bytes of the next part to `write`, up to the part's end; its summary. */
    async function nextPart(write: (chunk: Uint8Array) => Promise<void>, partName: string): Promise<PartSummary> {
      for (;;) {
        const { value: m, done: over } = await parts!.next();
        if (over || m.t === 'end') throw new Error('the export ended in the middle of a part');
        if (m.t === 'part') {
          files.push({ name: partName, size: m.size, sha256: m.sha256, entries: m.entries, first_seq: m.first_seq, last_seq: m.last_seq });
          return m;
        }
        ctx.holdLease();
        await write(m.data);
        done += m.rows;
        if (done - reported >= PROGRESS_EVERY) {
          reported = done;
          await ctx.progress(done, entries);
        }
      }
    }

    /** After the last part: the highest sequence number exported (-1 for none). */
    async function end() {
      const { value: m } = await parts!.next();
      if (m?.t !== 'end') throw new Error('the export produced more parts than expected');
      return m.lastSeq;
    }

    let writer: Awaited<ReturnType<BlobStore['writer']>> | null = null;
    try {
      parts = exportParts(store, { orgId: exp.org_id, resolved: r, entries: capped, rowsPerFile },
        await store.repos.exports.matchesMoreThan(exp.org_id, r, rowsPerFile))[Symbol.asyncIterator]();
      total = await counted;
      entries = Math.min(total, maxEntries);
      const creator = (await store.repos.directory.listUsers(exp.org_id)).find((u) => u.id === exp.created_by);
      await ctx.progress(0, entries);
      const out = writer = await blobs.writer(`exports/${exp.org_id}/${exp.id}`);
      /** The signed manifest of the files written: inside a ZIP, and beside a CSV (GET .../{id}/manifest). */
      const signedManifest = async (lastSeq: number) => {
        const atLast = lastSeq >= 0 ? await store.repos.integrity.entryAt(exp.org_id, lastSeq) : undefined;
        if (lastSeq >= 0 && !atLast) throw new Error(`audit entry ${lastSeq} disappeared while it was exported`);
        const manifest: Record<string, unknown> = {
          format: 'auditrail-export-manifest/1', org_id: exp.org_id, job_id: exp.id,
          created_by: { id: exp.created_by, name: creator ? fullName(creator) : null },
          created_at: new Date(exp.created_at).toISOString(), criteria: exp.criteria ? JSON.parse(exp.criteria) : null,
          range: { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() },
          files: files.map(({ name: n, sha256, entries: e, first_seq, last_seq }) => ({ name: n, sha256, entries: e, first_seq, last_seq })),
          entry_count: entries, truncated: total > maxEntries,
          first_seq: files.reduce<number | null>((m, f) => (f.first_seq === null ? m : m === null ? f.first_seq : Math.min(m, f.first_seq)), null),
          last_seq: lastSeq >= 0 ? lastSeq : null, chain_hash_at_last: atLast?.hash ?? null,
          algorithm: 'Ed25519', key_id: integrity.keyId,
        };
        manifest.signature = integrity.signText(canonicalManifest(manifest));
        return manifest;
      };
      let manifest: Record<string, unknown>;
      if (entries <= rowsPerFile) {
        name = 'AuditLog.csv';
        await nextPart(async (chunk) => {
          if (!out.stream.write(chunk)) await once(out.stream, 'drain');
        }, name);
        manifest = await signedManifest(await end());
        out.stream.end();
      } else {
        name = 'AuditLog.zip';
        const zip = new ZipWriter(out.stream);
        for (let i = 1; i <= partCount(entries, rowsPerFile); i++) {
          const partName = `AuditLog_${String(i).padStart(3, '0')}.csv`;
          const entry = await zip.deflatedEntry(partName, mtime);
          const part = await nextPart(entry.write, partName);
          await entry.end(part.crc, part.size);
        }
        manifest = await signedManifest(await end());
        ctx.holdLease();
        await zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json', mtime, 6);
        await zip.finish();
      }
      const size = await out.written();
      await ctx.progress(entries, entries);
      const result = { name, size, entries };
      // The job's result, the export's and the file all appear together, and only while this
      // worker holds the lease: a worker that lost it (another one finished the job) commits none.
      await bookkeeping(deps, 'an export job\'s result: the export was audited when it was scheduled', async (s) => {
        await ctx.complete(s, result);
        await s.exports.update(exp.id, {
          status: 'Finished', finished_at: deps.clock(), expires_at: started + EXPIRY_DAYS * DAY, entry_count: entries,
          truncated: total > maxEntries ? 1 : 0, files: JSON.stringify([{ name, size, parts: files, manifest }]),
        });
        await out.commit(s);
      });
      return result;
    } catch (e) {
      await parts?.return?.();
      await writer?.abort();
      throw e;
    }
  }

  /**
   * A finished job's file for download, audited. INVALID_URL_PATTERN for an unknown job or file
   * name, LINK_EXPIRED after the expiry date.
   */
  async function download(actor: Actor, zgid: string, id: string, fileName: string) {
    const org = await store.repos.directory.getOrg(actor.orgId);
    if (!org || org.zgid !== zgid) throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
    const exp = await get(actor, id);
    const files = exp.files ? (JSON.parse(exp.files) as { name: string; size: number }[]) : [];
    const file = files.find((f) => f.name === fileName);
    if (exp.status !== 'Finished' || !file) throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
    if ((exp.expires_at ?? 0) < deps.clock() || exp.removed_at) {
      throw new AppError('LINK_EXPIRED', 'the download link has expired; schedule a new export', { expiry_date: new Date(exp.expires_at ?? 0).toISOString() });
    }
    const stream = await blobs.read(`exports/${exp.org_id}/${exp.id}`);
    if (!stream) throw new AppError('LINK_EXPIRED', 'the export file is no longer available', {});
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'audit_log_downloaded', module: 'audit_log', recordId: exp.id, recordName: file.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { size: file.size } });
    });
    return { stream, size: file.size, name: file.name, contentType: file.name.endsWith('.zip') ? 'application/zip' : 'text/csv; charset=utf-8' };
  }

  /**
   * Removes the files of expired exports, and partial files a day old (left by writers killed
   * before they finished; the worker runs this periodically). One file that cannot be removed
   * does not keep the others.
   */
  async function removeExpired() {
    let removed = 0;
    for (const exp of await store.repos.exports.expired(deps.clock())) {
      try {
        await blobs.remove(`exports/${exp.org_id}/${exp.id}`);
        await store.repos.exports.update(exp.id, { removed_at: deps.clock() });
        removed += 1;
      } catch (e) {
        deps.logger.error({ err: e, export: exp.id }, 'could not remove an expired export file');
      }
    }
    await blobs.removeStalePartials(deps.clock() - DAY);
    return removed;
  }

  /** Marks the export of a job that failed for good (in the transaction that fails the job). */
  async function markFailed(s: BoundStore, id: string) {
    await s.exports.update(id, { status: 'Failed', finished_at: deps.clock() });
  }

  /**
   * The signed manifest of a finished export (the one inside a ZIP; for a CSV, the only one).
   * INVALID_URL_PATTERN for a job the actor may not see, or one that has none (not finished, or
   * finished before manifests were kept for CSVs).
   */
  async function manifest(actor: Actor, id: string): Promise<Record<string, unknown>> {
    const exp = await get(actor, id);
    const files = exp.files ? (JSON.parse(exp.files) as { manifest?: Record<string, unknown> }[]) : [];
    const m = files[0]?.manifest;
    if (exp.status !== 'Finished' || !m) throw new AppError('INVALID_URL_PATTERN', 'this export has no manifest (it is not finished)', {});
    return m;
  }

  return { create, list, get, manifest, run, download, removeExpired, markFailed, users: (orgId: string) => store.repos.directory.listUsers(orgId) };
}

export type ExportService = ReturnType<typeof createExportService>;
