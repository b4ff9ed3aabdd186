import { AppError } from '../domain/errors.ts';
import { fullName } from '../domain/display.ts';
import { isId, newId } from '../domain/ids.ts';
import {
  applyFindingSettingsPatch, FINDING_KINDS, parseFindingSettings, type DetectedFinding, type DetectorContext, type DetectorEvent,
  type FindingKind, type FindingSettings,
} from '../domain/findings.ts';
import { emptyDetectorState, runDetectors as detect, type DetectorState } from '../domain/findings-detectors.ts';
import type { AuditEntryTable, FindingTable } from '../store/schema.ts';
import { isAdministrator, requireAdministrator, requireSetting, visibleUserIds } from './authorization.ts';
import { inTransaction, systemActor, type Actor, type ServiceDeps } from './context.ts';
import { LeaseLostError } from './job-queue.ts';

/** Entries read and run through the detectors in one transaction. */
const BATCH = 5000;
/** Findings one list answers at most. */
export const MAX_FINDINGS = 1000;

/** A stored audit entry as the detectors read it. */
export function eventFromRow(row: AuditEntryTable): DetectorEvent {
  const parsed = JSON.parse(row.details) as { field_history: DetectorEvent['fields'] | null; extra: Record<string, unknown> | null };
  return {
    id: row.id, at: Number(row.audited_at), action: row.action, userId: row.actor_id, userName: row.actor_name, module: row.module,
    recordId: row.record_id, recordName: row.record_name, ip: row.ip, batchId: row.batch_id, fields: parsed.field_history ?? [],
    details: parsed.extra,
  };
}

export interface ListFindingsInput { from?: number; to?: number; kinds?: string[]; userId?: string; limit?: number }

/**
 * Anomaly findings (docs/findings.md): the detectors of domain/findings-detectors.ts run over
 * each organisation's chain from a cursor of their own, a batch at a time, and what they find is
 * stored; people list and acknowledge findings under the audit log's visibility rule.
 */
export function createFindingService(deps: ServiceDeps) {
  const { store } = deps;

  async function settingsOf(orgId: string): Promise<FindingSettings> {
    return parseFindingSettings(await store.repos.findings.settings(orgId));
  }

  /** What the detectors know of the organisation: its zone, its Administrator profiles, names of users, roles and profiles. */
  async function contextOf(orgId: string): Promise<DetectorContext> {
    const org = await store.repos.directory.getOrg(orgId);
    if (!org) throw new AppError('INVALID_DATA', 'no such organisation', {});
    const [profiles, roles, users] = await Promise.all([store.repos.directory.listProfiles(orgId), store.repos.directory.listRoles(orgId),
      store.repos.directory.listUsers(orgId)]);
    const names = new Map<string, string>([...profiles, ...roles].map((p) => [p.id, p.name]));
    for (const u of users) names.set(u.id, fullName(u));
    return { timeZone: org.time_zone, adminProfileIds: new Set(profiles.filter((p) => p.is_admin).map((p) => p.id)), names };
  }

  const toRow = (orgId: string, f: DetectedFinding, now: number): FindingTable => ({
    id: newId(now), org_id: orgId, finding_key: f.key, kind: f.kind, severity: f.severity, user_id: f.userId, user_name: f.userName,
    started_at: f.startedAt, ended_at: f.endedAt, explanation: f.explanation, entry_ids: JSON.stringify(f.entryIds), created_at: now,
    updated_at: now, acknowledged_at: null, acknowledged_by: null, acknowledged_by_name: null, acknowledgement_note: null,
  });

  /**
   * Runs the detectors over `rows`, the organisation's entries right after its scan cursor (chain
   * order, no gap), and stores the findings and the detectors' new state with the moved cursor in
   * one transaction. Returns the findings, or null when another scanner moved the cursor first
   * (nothing is stored then). INVALID_DATA when the rows do not start right after the cursor.
   */
  async function runDetectors(orgId: string, rows: AuditEntryTable[], ctx?: DetectorContext): Promise<DetectedFinding[] | null> {
    if (rows.length === 0) return [];
    const saved = await store.repos.findings.state(orgId);
    const cursor = Number(saved?.finding_scan_cursor ?? 0);
    const first = Number(rows[0].seq);
    if (first <= cursor || rows.some((r, i) => i > 0 && Number(r.seq) <= Number(rows[i - 1].seq))) {
      throw new AppError('INVALID_DATA', `the entries must follow the scan cursor (${cursor}) in chain order`, { cursor });
    }
    const state = saved ? JSON.parse(saved.state) as DetectorState : emptyDetectorState();
    const result = detect(state.v === 1 ? state : null, rows.map(eventFromRow), ctx ?? await contextOf(orgId), await settingsOf(orgId));
    const last = Number(rows[rows.length - 1].seq);
    // A new finding enters the chain as a `finding_detected` entry in the transaction that stores
    // it: alert rules (and streams) read the chain from their cursors, so a finding reaches them
    // exactly as an entry does, and the finding is as tamper-evident as the entries behind it.
    return inTransaction(deps, systemActor(orgId, 'Anomaly detection'), async (tx) => {
      if (!(await tx.store.findings.advance(orgId, cursor, last, JSON.stringify(result.state), deps.clock()))) {
        tx.unaudited('another scanner moved the cursor first: nothing of this scan is kept');
        return null;
      }
      const added = await tx.store.findings.upsert(result.findings.map((f) => toRow(orgId, f, deps.clock())));
      for (const f of added) {
        tx.audit({ action: 'finding_detected', module: 'audit_log', recordId: f.id, recordName: `${f.kind}: ${f.user_name}`, parentModule: null,
          parentId: null, batchId: null, fieldHistory: null, source: 'system',
          extra: { kind: f.kind, severity: f.severity, user: { id: f.user_id, name: f.user_name }, explanation: f.explanation,
            started_at: Number(f.started_at), ended_at: Number(f.ended_at), entries: (JSON.parse(f.entry_ids) as string[]).length } });
      }
      if (added.length === 0) tx.unaudited('findings extended by this scan were announced when they were new; the scan cursor is bookkeeping');
      return result.findings;
    });
  }

  /**
   * Reads the organisation's entries after its scan cursor, batch by batch, through the
   * detectors. Returns how many entries were read and findings made or extended.
   */
  async function scanOrganisation(orgId: string, opts: { maxBatches?: number } = {}) {
    // Every minute for every organisation: one with nothing new costs two reads.
    const [head, saved] = await Promise.all([store.repos.audit.head(orgId), store.repos.findings.state(orgId)]);
    if (Number(head?.last_seq ?? 0) <= Number(saved?.finding_scan_cursor ?? 0)) return { orgId, scanned: 0, findings: 0 };
    const ctx = await contextOf(orgId);
    let scanned = 0;
    let found = 0;
    for (let i = 0; i < (opts.maxBatches ?? Infinity); i++) {
      const cursor = Number((await store.repos.findings.state(orgId))?.finding_scan_cursor ?? 0);
      const rows = await store.repos.findings.entriesAfter(orgId, cursor, BATCH);
      if (rows.length === 0) break;
      const findings = await runDetectors(orgId, rows, ctx);
      if (findings === null) break; // another scanner is on it
      scanned += rows.length;
      found += findings.length;
      if (rows.length < BATCH) break;
    }
    return { orgId, scanned, findings: found };
  }

  /** The periodic job: every organisation in turn; one that fails does not keep the others. */
  async function scanAll() {
    const out = [];
    for (const org of await store.repos.directory.listOrgs()) {
      try {
        out.push(await scanOrganisation(org.id));
      } catch (e) {
        if (e instanceof LeaseLostError) throw e;
        deps.logger.error({ err: e, org: org.id }, 'finding scan failed for an organisation');
        out.push({ orgId: org.id, scanned: 0, findings: 0, failed: true });
      }
    }
    return out;
  }

  /**
   * Findings the actor may see (the audit log's rule: their own and their subordinates'; the
   * whole organisation for Administrators and the top role), newest first. NO_PERMISSION without
   * the audit log permission; INVALID_DATA for an unknown kind.
   */
  async function list(actor: Actor, q: ListFindingsInput = {}) {
    requireSetting(actor, 'audit_log');
    const unknown = q.kinds?.find((k) => !(FINDING_KINDS as readonly string[]).includes(k));
    if (unknown) throw new AppError('INVALID_DATA', `unknown finding kind ${unknown}`, { param_name: 'kind', supported_values: [...FINDING_KINDS] });
    if (q.userId !== undefined && !isId(q.userId)) throw new AppError('INVALID_DATA', 'user must be a user id', { param_name: 'user' });
    const visible = await visibleUserIds(store.repos, actor);
    const userIds = q.userId !== undefined ? (visible === null || visible.includes(q.userId) ? [q.userId] : []) : visible;
    const rows = await store.repos.findings.list({ orgId: actor.orgId, from: q.from, to: q.to, kinds: q.kinds, userIds,
      limit: Math.min(q.limit ?? MAX_FINDINGS, MAX_FINDINGS) });
    // Findings tell who did what: reading them is audited as reading the audit log is.
    await inTransaction(deps, actor, async (tx) => {
      tx.audit({ action: 'audit_log_viewed', module: 'audit_log', recordId: null, recordName: null, parentModule: null, parentId: null,
        batchId: null, fieldHistory: null, extra: { findings: { from: q.from !== undefined ? new Date(q.from).toISOString() : undefined,
          to: q.to !== undefined ? new Date(q.to).toISOString() : undefined, kind: q.kinds, user: q.userId }, returned: rows.length } });
    });
    return rows;
  }

  /**
   * Acknowledges a finding the actor may see, with an optional note, audited as
   * `finding_acknowledged`. NO_PERMISSION without the audit log permission; INVALID_DATA for an id
   * that is not a visible finding (a foreign or hidden one looks exactly like a missing one);
   * NOT_ALLOWED for a finding about oneself (unless an Administrator) or one already acknowledged.
   */
  async function acknowledge(actor: Actor, id: string, note?: unknown) {
    requireSetting(actor, 'audit_log');
    if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 1000)) {
      throw new AppError('INVALID_DATA', 'note must be text of at most 1000 characters', { api_name: 'note' });
    }
    const visible = await visibleUserIds(store.repos, actor);
    return inTransaction(deps, actor, async (tx) => {
      const f = isId(id) ? await tx.store.findings.get(actor.orgId, id) : undefined;
      const sees = f && (visible === null || (f.user_id !== null && visible.includes(f.user_id)));
      if (!f || !sees) throw new AppError('INVALID_DATA', 'the id given seems to be invalid', { resource_path_index: 3 });
      if (f.user_id !== null && f.user_id === actor.userId && !isAdministrator(actor)) {
        throw new AppError('NOT_ALLOWED', 'a finding about yourself is for someone else to acknowledge', {});
      }
      const text = typeof note === 'string' && note.trim() ? note.trim() : null;
      if (!(await tx.store.findings.acknowledge(actor.orgId, f.id, { id: actor.userId, name: actor.name }, tx.now, text))) {
        throw new AppError('NOT_ALLOWED', `the finding was already acknowledged by ${f.acknowledged_by_name ?? 'someone'}`, { id: f.id });
      }
      tx.audit({ action: 'finding_acknowledged', module: 'audit_log', recordId: f.id, recordName: `${f.kind}: ${f.user_name}`,
        parentModule: null, parentId: null, batchId: null, fieldHistory: null,
        extra: { kind: f.kind, severity: f.severity, user_id: f.user_id, note: text, explanation: f.explanation } });
      return { ...f, acknowledged_at: tx.now, acknowledged_by: actor.userId, acknowledged_by_name: actor.name, acknowledgement_note: text };
    });
  }

  /** The thresholds (Administrators; NO_PERMISSION otherwise). */
  async function readSettings(actor: Actor) {
    requireAdministrator(actor);
    return settingsOf(actor.orgId);
  }

  /**
   * Changes thresholds (`{kind: {setting: value}}`), audited as `org_updated` with each change
   * named `findings.<kind>.<setting>`. Administrators only; INVALID_DATA naming a bad setting.
   * New values apply to the entries scanned from then on.
   */
  async function updateSettings(actor: Actor, patch: unknown) {
    requireAdministrator(actor);
    return inTransaction(deps, actor, async (tx) => {
      const org = await tx.store.directory.getOrg(actor.orgId);
      if (!org) throw new AppError('INVALID_DATA', 'no such organisation', {});
      const { next, changes } = applyFindingSettingsPatch(parseFindingSettings(await tx.store.findings.settings(actor.orgId)), patch);
      if (changes.length === 0) return next;
      await tx.store.findings.putSettings(actor.orgId, JSON.stringify(next), tx.now);
      tx.audit({ action: 'org_updated', module: null, recordId: actor.orgId, recordName: org.name, parentModule: null, parentId: null,
        batchId: null, fieldHistory: changes.map((c) => ({ ...c, api_name: `findings.${c.api_name}`, field_label: `Findings: ${c.field_label}` })),
        extra: null });
      return next;
    });
  }

  return { runDetectors, scanOrganisation, scanAll, list, acknowledge, readSettings, updateSettings, contextOf, settingsOf };
}

export type FindingService = ReturnType<typeof createFindingService>;
export type { FindingKind };
