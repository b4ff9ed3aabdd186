import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { AppError } from '../domain/errors.ts';
import { parseExportCriteria, CriteriaError, type ExportCriteria } from '../domain/export-criteria.ts';
import { isId } from '../domain/ids.ts';
import { findModule, metadataId, moduleIndex, STANDARD_MODULES } from '../domain/modules.ts';
import { AUDIT_MODULES } from '../domain/audit-query.ts';
import { encodeDetails } from '../domain/audit.ts';
import { displayValue } from '../domain/display.ts';
import { settingsPermission } from '../domain/permissions.ts';
import { auditVisibility } from '../domain/visibility.ts';
import { createZoneFormatter } from '../domain/time.ts';
import * as dir from '../store/directory-store.ts';
import * as exportsStore from '../store/export-store.ts';
import { buildAuditSelect } from '../store/audit-query-store.ts';
import { getAuditHead } from '../store/audit-store.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { AuditEntryTable, AuditExportTable, JobTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps } from './context.ts';
import { enqueueJob, type JobContext } from './jobs.ts';
import { csvRow, BOM } from './csv.ts';
import { fullName } from './directory-service.ts';
import type { IntegrityService } from './integrity-service.ts';

const DAY = 86_400_000;
const YEAR = 365 * DAY;
export const ROWS_PER_FILE = 100_000;
export const MAX_ENTRIES = 1_000_000;
export const EXPIRY_DAYS = 7;
/** Rows a query reads (keyset pages). */
const PAGE = 2000;
/**
 * Bytes of CSV text encoded at a time, and what a part's stream buffers ahead of the compressor.
 * Small, so each chunk is compressed and dropped while still young: with 256 KiB chunks queued
 * behind a 1 MiB buffer they outlived the young generation and tens of MB of dead buffers
 * waited for a full GC, which showed in the peak RSS of a million-entry export.
 */
const CHUNK = 64 * 1024;

/** The columns an export reads: the CSV's (the manifest's chain_hash_at_last is read once, at the end). */
const EXPORT_SELECT = ['audited_at', 'actor_name', 'actor_id', 'action', 'module', 'record_name', 'record_id', 'parent_module',
  'parent_id', 'source', 'ip', 'user_agent', 'batch_id', 'details', 'id', 'seq'] as const;
type ExportRow = Pick<AuditEntryTable, (typeof EXPORT_SELECT)[number]>;
/** The stored details of an entry without field changes or extra data. */
const NO_DETAILS = encodeDetails(null, null);

export const EXPORT_COLUMNS = ['Audited Time', 'Done By', 'Done By Id', 'Action', 'Module', 'Record Name', 'Record Id',
  'Parent Module', 'Parent Record Id', 'Source', 'IP Address', 'User Agent', 'Batch Id', 'Changes', 'Entry Id', 'Sequence'];

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

export interface ExportFile { name: string; size: number; sha256: string; entries: number; first_seq: number | null; last_seq: number | null }

/** A body error Zoho wraps in `audit_log_export[]`. */
export class WrappedError extends AppError {}

function wrapped(e: AppError): WrappedError {
  return new WrappedError(e.code, e.message, e.details);
}

/** Canonical JSON (sorted keys) of a manifest without its signature: what the signature covers. */
export function canonicalManifest(manifest: Record<string, unknown>): string {
  const sort = (v: unknown): unknown => (Array.isArray(v) ? v.map(sort)
    : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])])) : v);
  const { signature: _s, ...rest } = manifest;
  return JSON.stringify(sort(rest));
}

/** The Export Audit Log API: jobs, their files, and their downloads, all audited. */
export function createExportService(deps: ServiceDeps, blobs: BlobStore, integrity: IntegrityService,
  limits: { rowsPerFile?: number; maxEntries?: number } = {}) {
  const { store } = deps;
  const rowsPerFile = limits.rowsPerFile ?? ROWS_PER_FILE;
  const maxEntries = limits.maxEntries ?? MAX_ENTRIES;

  function requirePermission(actor: Actor) {
    if (!actor.isAdmin && !(actor.permissions && settingsPermission(actor.permissions, 'export_audit_log'))) {
      throw new AppError('NO_PERMISSION', 'permission denied', { permissions: ['export_audit_log'] });
    }
  }

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
    try {
      return { criteria, parsed: parseExportCriteria(criteria, '$.audit_log_export[0].criteria') };
    } catch (e) {
      if (e instanceof CriteriaError) throw wrapped(e);
      throw e;
    }
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
    requirePermission(actor);
    const { criteria, parsed } = parseBody(body);
    const now = deps.clock();
    const [users, roles, org] = await Promise.all([dir.listUsers(store.db, actor.orgId), dir.listRoles(store.db, actor.orgId),
      dir.getOrg(store.db, actor.orgId)]);
    const userIds = new Set(users.map((u) => u.id));
    let doneBy: string[] | null = null;
    for (const g of parsed?.doneBy ?? []) {
      const bad = g.ids.findIndex((id) => !userIds.has(id));
      if (bad >= 0) throw wrapped(new AppError('INVALID_DATA', 'the user id given seems to be invalid', { api_name: 'id', json_path: `${g.path}[${bad}].id` }));
      doneBy = doneBy === null ? g.ids : doneBy.filter((id) => g.ids.includes(id));
    }
    const modules = parsed?.modules ? resolveModules(actor.orgId, parsed.modules) : null;
    let actorIds: string[] | null = null;
    if (actor.type === 'user' && actor.userId) {
      const vis = auditVisibility({ id: actor.userId, roleId: actor.roleId, isAdmin: actor.isAdmin },
        roles.map((r) => ({ id: r.id, reportingTo: r.reporting_to })), users.map((u) => ({ id: u.id, roleId: u.role_id, isAdmin: false })));
      if (!vis.all) actorIds = [...vis.userIds];
    }
    if (doneBy) actorIds = actorIds ? doneBy.filter((id) => actorIds!.includes(id)) : doneBy;
    const head = await getAuditHead(store.db, actor.orgId);
    const resolved: ResolvedExport = {
      from: Math.max(parsed?.from ?? now - 3 * YEAR, now - 3 * YEAR), to: Math.min(parsed?.to ?? now, now),
      maxSeq: head ? Number(head.last_seq) : 0, actorIds, actions: parsed?.actions ?? null, modules, timeZone: org!.time_zone,
    };
    return inTransaction(deps, actor, async (tx) => {
      if (actor.userId) {
        const active = await exportsStore.activeExportOf(tx.db, actor.orgId, actor.userId);
        if (active) throw wrapped(new AppError('ALREADY_SCHEDULED', 'an export job is already scheduled or running', { id: active.id }));
      }
      const id = await enqueueJob(tx, actor.orgId, 'audit_log_export', {}, { maxAttempts: 5 });
      const row: AuditExportTable = {
        id, org_id: actor.orgId, created_by: actor.userId ?? '', criteria: criteria === null ? null : JSON.stringify(criteria),
        resolved: JSON.stringify(resolved), status: 'Scheduled', created_at: tx.now, started_at: null, finished_at: null,
        expires_at: null, files: null, entry_count: null, truncated: 0, removed_at: null,
      };
      await exportsStore.insertExport(tx.db, row);
      tx.audit({ action: 'audit_log_exported', module: 'audit_log', recordId: id, recordName: 'Audit log export', parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { criteria, from: new Date(resolved.from).toISOString(),
          to: new Date(resolved.to).toISOString() } });
      return row;
    });
  }

  /** Jobs the actor may see: all of the organisation's for an Administrator, else their own. */
  async function list(actor: Actor) {
    requireRead(actor);
    return exportsStore.listExports(store.db, actor.orgId, actor.isAdmin ? null : actor.userId);
  }

  function requireRead(actor: Actor) {
    if (!actor.isAdmin && !(actor.permissions && (settingsPermission(actor.permissions, 'export_audit_log') || settingsPermission(actor.permissions, 'audit_log')))) {
      throw new AppError('NO_PERMISSION', 'permission denied', { permissions: ['export_audit_log'] });
    }
  }

  /** One job; INVALID_URL_PATTERN (404) when missing, foreign or someone else's. */
  async function get(actor: Actor, id: string) {
    requireRead(actor);
    const row = isId(id) ? await exportsStore.getExport(store.db, actor.orgId, id) : undefined;
    if (!row || (!actor.isAdmin && row.created_by !== actor.userId)) {
      throw new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});
    }
    return row;
  }

  /**
   * One page in (audited_at, seq) order. After the first page the keyset bound replaces `from`
   * (it is tighter): given both lower bounds, SQLite seeks to `from` and filters its way to the
   * keyset on every page, which made a million-entry export quadratic.
   */
  const selectPage = (orgId: string, r: ResolvedExport, after?: { at: number; seq: number }): Promise<ExportRow[]> =>
    buildAuditSelect(store.db, { orgId, from: after ? undefined : r.from, to: r.to, actorIds: r.actorIds,
      actions: r.actions ?? undefined, modules: r.modules ?? undefined, desc: false, after, limit: PAGE })
      .where('seq', '<=', r.maxSeq).clearSelect().select(EXPORT_SELECT).execute();

  async function countMatching(orgId: string, r: ResolvedExport): Promise<number> {
    if (r.actorIds && r.actorIds.length === 0) return 0;
    const q = buildAuditSelect(store.db, { orgId, from: r.from, to: r.to, actorIds: r.actorIds, actions: r.actions ?? undefined,
      modules: r.modules ?? undefined, desc: false, limit: maxEntries + 1 }).where('seq', '<=', r.maxSeq)
      .clearSelect().clearOrderBy().select('seq');
    const c = await store.db.selectFrom(q.as('m')).select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return Number(c.n);
  }

  /**
   * The matching rows, at most `limit`, a page per call (keyset paging); an empty page at the end.
   * Pages rather than a row at a time, so the encoder awaits once a page, not once a row; and the
   * next page is already being read while this one is encoded (on PostgreSQL the server works
   * meanwhile instead of the encoder waiting for each page in turn).
   */
  function matchingPages(orgId: string, r: ResolvedExport, limit: number): () => Promise<ExportRow[]> {
    let left = r.actorIds && r.actorIds.length === 0 ? 0 : limit;
    const request = (after?: { at: number; seq: number }) => {
      const p = selectPage(orgId, r, after);
      p.catch(() => {}); // awaited when its turn comes; until then a failure must not go unhandled
      return p;
    };
    let pending: Promise<ExportRow[]> | null = left > 0 ? request() : null;
    return async () => {
      if (!pending) return [];
      let page = await pending;
      pending = null;
      if (page.length > left) page = page.slice(0, left);
      left -= page.length;
      if (page.length === PAGE && left > 0) {
        const last = page[page.length - 1];
        pending = request({ at: Number(last.audited_at), seq: Number(last.seq) });
      }
      return page;
    };
  }

  /**
   * The job handler: streams the entries through the CSV encoder (into a ZIP of 100,000-entry
   * CSVs with a signed manifest when there are more than 100,000) and into the blob store.
   * Memory stays flat; the bytes depend only on what was fixed at creation, so a job resumed
   * by another worker produces the same file.
   */
  async function run(job: JobTable, ctx: JobContext) {
    const exp = await store.db.selectFrom('audit_exports').selectAll().where('id', '=', job.id).executeTakeFirst();
    if (!exp || exp.status === 'Finished') return { skipped: true };
    const started = exp.started_at ?? deps.clock();
    await exportsStore.updateExport(store.db, exp.id, { status: 'Progress', started_at: started });
    const r = JSON.parse(exp.resolved) as ResolvedExport;
    const total = await countMatching(exp.org_id, r);
    const entries = Math.min(total, maxEntries);
    const users = new Map((await dir.listUsers(store.db, exp.org_id)).map((u) => [u.id, u]));
    const creator = users.get(exp.created_by);
    const fmt = createZoneFormatter(r.timeZone);
    const nextPage = matchingPages(exp.org_id, r, entries);
    let page: ExportRow[] = [];
    let inPage = 0;
    let done = 0;
    await ctx.progress(0, entries);
    const mtime = new Date(exp.created_at);
    let files: ExportFile[];
    let name: string;
    let lastSeqSeen = -1;

    async function writePart(out: NodeJS.WritableStream, count: number): Promise<Omit<ExportFile, 'name' | 'size'> & { bytes: number }> {
      const hash = createHash('sha256');
      let bytes = 0;
      let first: number | null = null;
      let last: number | null = null;
      let n = 0;
      let buf = BOM + csvRow(EXPORT_COLUMNS);
      const flush = async () => {
        const chunk = Buffer.from(buf, 'utf8');
        buf = '';
        hash.update(chunk);
        bytes += chunk.length;
        if (!out.write(chunk)) await new Promise((res) => out.once('drain', res));
      };
      while (n < count) {
        if (inPage === page.length) {
          page = await nextPage();
          inPage = 0;
          if (page.length === 0) break;
        }
        const row = page[inPage++];
        n += 1;
        const seq = Number(row.seq);
        first = first === null ? seq : Math.min(first, seq);
        last = last === null ? seq : Math.max(last, seq);
        if (seq > lastSeqSeen) lastSeqSeen = seq;
        buf += csvRow(entryCells(row, fmt));
        if (buf.length > CHUNK) await flush();
        done += 1;
        if (done % PAGE === 0) await ctx.progress(done, entries);
      }
      await flush();
      return { sha256: hash.digest('hex'), entries: n, first_seq: first, last_seq: last, bytes };
    }

    const writer = await blobs.writer(`exports/${exp.org_id}/${exp.id}`);
    try {
      if (entries <= rowsPerFile) {
        name = 'AuditLog.csv';
        const part = await writePart(writer.stream, entries);
        writer.stream.end();
        files = [{ name, size: part.bytes, sha256: part.sha256, entries: part.entries, first_seq: part.first_seq, last_seq: part.last_seq }];
      } else {
        name = 'AuditLog.zip';
        const zip = new yazl.ZipFile();
        const piped = pipeline(zip.outputStream as unknown as Readable, writer.stream);
        files = [];
        const parts = Math.ceil(entries / rowsPerFile);
        for (let i = 0; i < parts; i++) {
          const partName = `AuditLog_${String(i + 1).padStart(3, '0')}.csv`;
          const stream = new PassThrough({ highWaterMark: CHUNK });
          zip.addReadStream(stream, partName, { mtime, compressionLevel: 6 });
          const part = await writePart(stream, Math.min(rowsPerFile, entries - i * rowsPerFile));
          stream.end();
          files.push({ name: partName, size: part.bytes, sha256: part.sha256, entries: part.entries, first_seq: part.first_seq, last_seq: part.last_seq });
        }
        const chainHashAtLast = lastSeqSeen >= 0 ? (await store.db.selectFrom('audit_entries').select('hash')
          .where('org_id', '=', exp.org_id).where('seq', '=', lastSeqSeen).executeTakeFirstOrThrow()).hash : null;
        const manifest: Record<string, unknown> = {
          format: 'auditrail-export-manifest/1', org_id: exp.org_id, job_id: exp.id,
          created_by: { id: exp.created_by, name: creator ? fullName(creator) : null },
          created_at: new Date(exp.created_at).toISOString(), criteria: exp.criteria ? JSON.parse(exp.criteria) : null,
          range: { from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() },
          files: files.map(({ name: n, sha256, entries: e, first_seq, last_seq }) => ({ name: n, sha256, entries: e, first_seq, last_seq })),
          entry_count: entries, truncated: total > maxEntries,
          first_seq: files.reduce<number | null>((m, f) => (f.first_seq === null ? m : m === null ? f.first_seq : Math.min(m, f.first_seq)), null),
          last_seq: lastSeqSeen >= 0 ? lastSeqSeen : null, chain_hash_at_last: chainHashAtLast,
          algorithm: 'Ed25519', key_id: integrity.keyId,
        };
        manifest.signature = integrity.signText(canonicalManifest(manifest));
        zip.addBuffer(Buffer.from(JSON.stringify(manifest, null, 2)), 'manifest.json', { mtime, compressionLevel: 6 });
        zip.end();
        await piped;
      }
      const size = await writer.commit();
      await ctx.progress(entries, entries);
      const finished = deps.clock();
      await exportsStore.updateExport(store.db, exp.id, {
        status: 'Finished', finished_at: finished, expires_at: started + EXPIRY_DAYS * DAY, entry_count: entries,
        truncated: total > maxEntries ? 1 : 0, files: JSON.stringify([{ name, size, parts: files }]),
      });
      return { name, size, entries };
    } catch (e) {
      await writer.abort();
      if (job.attempts >= job.max_attempts) {
        await exportsStore.updateExport(store.db, exp.id, { status: 'Failed', finished_at: deps.clock() });
      }
      throw e;
    }
  }

  function entryCells(row: ExportRow, fmt: (ms: number) => string) {
    let changes = '';
    // Most entries (adds, deletes, logins) carry no changes: skip parsing their details.
    if (row.details !== NO_DETAILS) {
      const details = JSON.parse(row.details) as { field_history: { field_label: string; old: unknown; new: unknown }[] | null };
      changes = details.field_history?.map((c) => `${c.field_label}: ${displayValue(c.old) ?? '(empty)'} -> ${displayValue(c.new) ?? '(empty)'}`).join('; ') ?? '';
    }
    return [fmt(Number(row.audited_at)), row.actor_name, row.actor_id, row.action, row.module, row.record_name, row.record_id,
      row.parent_module, row.parent_id, row.source, row.ip, row.user_agent, row.batch_id, changes, row.id, Number(row.seq)];
  }

  /**
   * A finished job's file for download, audited. INVALID_URL_PATTERN for an unknown job or file
   * name, LINK_EXPIRED after the expiry date.
   */
  async function download(actor: Actor, zgid: string, id: string, fileName: string) {
    const org = await dir.getOrg(store.db, actor.orgId);
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

  /** Removes the files of expired exports (the worker runs this periodically). */
  async function removeExpired() {
    let removed = 0;
    for (const exp of await exportsStore.expiredExports(store.db, deps.clock())) {
      await blobs.remove(`exports/${exp.org_id}/${exp.id}`);
      await exportsStore.updateExport(store.db, exp.id, { removed_at: deps.clock() });
      removed += 1;
    }
    return removed;
  }

  return { create, list, get, run, download, removeExpired, users: (orgId: string) => dir.listUsers(store.db, orgId) };
}

export type ExportService = ReturnType<typeof createExportService>;
