import { AppError } from '../domain/errors.ts';
import type { AuditLogQuery, TimelineQuery } from '../domain/audit-query.ts';
import { isId } from '../domain/ids.ts';
import type { AuditEntryTable } from '../store/schema.ts';
import { inTransaction, type Actor, type ServiceDeps } from './context.ts';
import { parseOrgSettings } from '../domain/org-settings.ts';
import { requireModule } from '../domain/modules.ts';
import { accessToRow, auditReadActorIds, requireModulePermission, requireSetting } from './authorization.ts';
import { ACCESS } from '../domain/sharing.ts';

const DAY = 24 * 3600 * 1000;
export const DISCRETE_LIMIT = 2000;

export interface AuditPage {
  rows: AuditEntryTable[];
  more: boolean;
  /** Names of parent records referred to by the page. */
  parentNames: Map<string, string | null>;
  /** The earliest time the API's window lets this query see. */
  windowStart: number;
}

/**
 * Reads of the audit log and of record timelines, both through the one visibility rule
 * (domain/visibility.ts). Reading the audit log is itself audited, one entry per query.
 */
export function createAuditLogService(deps: ServiceDeps) {
  const { store } = deps;

  async function parentNames(orgId: string, rows: AuditEntryTable[]) {
    const ids = [...new Set(rows.map((r) => r.parent_id).filter((x): x is string => !!x))];
    return new Map((await store.repos.records.names(orgId, ids)).map((r) => [r.id, r.name]));
  }

  /**
   * One page of the audit log, newest first, within the organisation's window (default 60
   * days). Throws NO_PERMISSION without the audit log permission, INVALID_DATA for a user id
   * that is not in the organisation, DISCRETE_PAGINATION_LIMIT_EXCEEDED for deep `page`s.
   */
  async function listAuditLog(actor: Actor, q: AuditLogQuery, after?: { at: number; seq: number }): Promise<AuditPage> {
    requireSetting(actor, 'audit_log');
    if (!after && q.page * q.perPage > DISCRETE_LIMIT) {
      throw new AppError('DISCRETE_PAGINATION_LIMIT_EXCEEDED', 'use page_token to read beyond the first 2000 entries', { limit: DISCRETE_LIMIT });
    }
    const org = await store.repos.directory.getOrg(actor.orgId);
    const settings = parseOrgSettings(org!.settings);
    const now = deps.clock();
    const windowStart = now - settings.audit_log_window_days * DAY;
    const f = q.filters;
    const actorIds = await auditReadActorIds(store.repos, actor, f.doneBy);
    const rows = await store.rows.auditPage({
      orgId: actor.orgId, from: Math.max(f.from ?? windowStart, windowStart), to: f.to, actorIds, actions: f.actions,
      modules: f.modules, sources: f.sources, recordId: f.recordId, ip: f.ip, recordName: f.recordName, batchId: f.batchId,
      // Each read writes the reader's audit_log_viewed entry at the top: counted, it would push
      // page 1's last entry onto page 2. A reader sees their own reads when they ask for them.
      withoutViewsOf: f.actions?.includes('audit_log_viewed') ? undefined : actor.userId ?? undefined,
      desc: true, after, limit: q.perPage + 1,
      offset: after ? undefined : (q.page - 1) * q.perPage,
    });
    const more = rows.length > q.perPage;
    const page = more ? rows.slice(0, q.perPage) : rows;
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'audit_log_viewed', module: 'audit_log', recordId: null, recordName: null, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null,
        extra: { filters: { ...serialiseFilters(f) }, page: q.page, per_page: q.perPage, page_token: after ? true : undefined,
          returned: page.length } });
    });
    return { rows: page, more, parentNames: await parentNames(actor.orgId, page), windowStart };
  }

  /**
   * A record's history with its notes and activities, whatever its age, also while the record
   * is in the recycle bin. A missing or foreign record answers INVALID_DATA exactly alike.
   */
  async function timeline(actor: Actor, moduleName: string, recordId: string, q: TimelineQuery,
    after?: { at: number; seq: number }): Promise<AuditPage & { record: { id: string; name: string | null } }> {
    const module = requireModule(moduleName);
    requireModulePermission(actor, module, 'view');
    const [row] = isId(recordId) ? await store.repos.records.byIds(actor.orgId, module.apiName, [recordId]) : [];
    // Whoever may read the record under the data sharing settings reads its whole timeline.
    if (!row || await accessToRow(store.repos, actor, row) < ACCESS.read) throw new AppError('INVALID_DATA', 'the related id given seems to be invalid', { resource_path_index: 1 });
    if (!after && q.page * q.perPage > DISCRETE_LIMIT) {
      throw new AppError('DISCRETE_PAGINATION_LIMIT_EXCEEDED', 'use page_token to read further', { limit: DISCRETE_LIMIT });
    }
    const f = q.filters;
    // The timeline follows the record, not the audit log's rule (Zoho: "My manager made some
    // updates to a record which I own ... they are recorded in the timeline of the record"):
    // whoever may see the record sees every change to it, whoever made it.
    if (f.doneBy) {
      const found = new Set(await store.repos.directory.listUserIdsIn(actor.orgId, f.doneBy));
      if (f.doneBy.some((id) => !found.has(id))) {
        throw new AppError('INVALID_DATA', 'done_by.id names a user who is not in this organisation', { param_name: 'filters' });
      }
    }
    const actorIds = f.doneBy ?? null;
    const rows = await store.rows.auditPage({
      orgId: actor.orgId, aboutRecord: recordId, dependentModules: f.recordModules, from: f.from, to: f.to, actorIds,
      sources: f.sources, desc: q.desc, after, limit: q.perPage + 1, offset: after ? undefined : (q.page - 1) * q.perPage,
    });
    const more = rows.length > q.perPage;
    const page = more ? rows.slice(0, q.perPage) : rows;
    const names = await parentNames(actor.orgId, page);
    names.set(row.id, row.name);
    return { rows: page, more, parentNames: names, windowStart: 0, record: { id: row.id, name: row.name } };
  }

  /**
   * Follows the audit log as it grows (the console's Live view), under the audit log's rule:
   * `open` checks the permission and writes one `audit_log_viewed` entry for the whole stream;
   * each `next` returns the entries after `afterSeq` the viewer may see, oldest first, unaudited
   * (an entry per poll would feed the stream its own reads). Visibility is settled again on
   * every poll, so a viewer whose role changes sees what the new role allows.
   */
  async function follow(actor: Actor, filters: AuditLogQuery['filters']) {
    requireSetting(actor, 'audit_log');
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'audit_log_viewed', module: 'audit_log', recordId: null, recordName: null, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { filters: { ...serialiseFilters(filters) }, live: true } });
    });
    // From the head after the opening entry: the viewer's own opening is not news to them.
    const headSeq = async () => Number((await store.repos.audit.head(actor.orgId))?.last_seq ?? 0);
    let afterSeq = await headSeq();
    return {
      async next(limit = 200): Promise<{ rows: AuditEntryTable[]; parentNames: Map<string, string | null> }> {
        const actorIds = await auditReadActorIds(store.repos, actor, filters.doneBy);
        // Entries up to the head read first are all committed: when fewer than `limit` match,
        // nothing up to it is left to find, and the next poll starts there.
        const head = await headSeq();
        const rows = await store.rows.auditPage({
          orgId: actor.orgId, from: filters.from, to: filters.to, actorIds, actions: filters.actions, modules: filters.modules,
          sources: filters.sources, recordId: filters.recordId, ip: filters.ip, recordName: filters.recordName, batchId: filters.batchId,
          afterSeq, desc: false, limit,
        });
        const last = rows.length ? Number(rows[rows.length - 1].seq) : 0;
        afterSeq = rows.length === limit ? last : Math.max(afterSeq, head, last);
        return { rows, parentNames: await parentNames(actor.orgId, rows) };
      },
    };
  }

  return { listAuditLog, timeline, follow };
}

/** Filters as an audit_log_viewed entry records them. */
export function serialiseFilters(f: AuditLogQuery['filters']) {
  return {
    from: f.from !== undefined ? new Date(f.from).toISOString() : undefined,
    to: f.to !== undefined ? new Date(f.to).toISOString() : undefined,
    done_by: f.doneBy, action: f.actions, module: f.modules, record_id: f.recordId, source: f.sources,
    ip: f.ip, record_name: f.recordName, batch_id: f.batchId,
  };
}

export type AuditLogService = ReturnType<typeof createAuditLogService>;
