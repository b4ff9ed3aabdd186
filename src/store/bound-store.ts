import type { AuditEntryInput } from '../domain/audit.ts';
import type { Db, Store, StoreDialect } from './db.ts';
import * as alerts from './alert-store.ts';
import * as audit from './audit-store.ts';
import * as cursors from './cursor-store.ts';
import * as auditQuery from './audit-query-store.ts';
import * as bin from './bin-store.ts';
import * as dir from './directory-store.ts';
import * as exportQuery from './export-query-store.ts';
import * as exports_ from './export-store.ts';
import * as findings from './finding-store.ts';
import * as integrity from './integrity-store.ts';
import * as jobs from './job-store.ts';
import * as kv from './kv-store.ts';
import * as limits from './limit-store.ts';
import * as oauth from './oauth-store.ts';
import * as records from './record-store.ts';
import * as reports from './report-store.ts';
import * as sessions from './session-store.ts';
import * as streams from './stream-store.ts';

/**
 * The store as services use it: every query with the database (a transaction, or the pool) and
 * the dialect closed over, so a service never holds the Kysely handle. A write marks its binding
 * as having written: `transaction` refuses to commit a change that queued no audit entry and
 * declared no reason (see `runTransaction`).
 *
 * Binding happens once per transaction, so it must be cheap: each area is a class whose methods
 * are made once, on its prototype, when this module loads; binding allocates one small object
 * per area, never a closure per query.
 */

/** What a bound store's queries run against. */
export interface Binding {
  readonly db: Db;
  readonly dialect: StoreDialect;
  /** Set by every write through the bound store. */
  wrote: boolean;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any parameter list: the bound method keeps the query's own
type Query = (db: Db, ...args: any[]) => unknown;
type Bound<F> = { [K in keyof F]: F[K] extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never };

class Area {
  constructor(protected readonly b: Binding) {}
}

/** An area's class: `reads` run as they are, `writes` mark the binding first. */
function area<R extends Record<string, Query>, W extends Record<string, Query>>(reads: R, writes: W) {
  class AreaOf extends Area {}
  for (const [name, query] of Object.entries(reads)) {
    Object.defineProperty(AreaOf.prototype, name, { value(this: Area, ...args: unknown[]) { return query(this['b'].db, ...args); } });
  }
  for (const [name, query] of Object.entries(writes)) {
    Object.defineProperty(AreaOf.prototype, name, {
      value(this: Area, ...args: unknown[]) {
        this['b'].wrote = true;
        return query(this['b'].db, ...args);
      },
    });
  }
  return AreaOf as unknown as new (b: Binding) => Area & Bound<R> & Bound<W>;
}

const RECORD_WRITES = { insert: records.insertRecords, update: records.updateRecordRow, updateMany: records.updateRecordRows, markDeleted: records.markDeleted };
const Records = area(
  { byIds: records.getRecordsByIds, liveAnyModule: records.getLiveRecordsAnyModule, names: records.getRecordNames,
    liveChildren: records.getLiveChildren, list: records.listRecords, liveDependents: records.liveDependents,
    countLive: records.countLiveRecords },
  RECORD_WRITES,
);

const BIN_WRITES = { markRestored: bin.markRestored, removePermanently: bin.removePermanently, removeLive: bin.removeLive,
    reparentDependents: bin.reparentDependents, updateData: bin.updateData };
const Bin = area(
  { list: bin.listBin, count: bin.countBin, itemIds: bin.binItemIds, rowsByIds: bin.rowsByIds, allChildren: bin.allBinChildren,
    tombstonesByIds: bin.tombstonesByIds, tombstones: bin.listTombstones, liveRowsMentioning: bin.liveRowsMentioning },
  BIN_WRITES,
);

const DIRECTORY_WRITES = { insertOrg: dir.insertOrg, updateOrg: dir.updateOrgRow, insertUser: dir.insertUser, updateUser: dir.updateUserRow,
    insertRole: dir.insertRole, updateRole: dir.updateRoleRow, deleteRole: dir.deleteRoleRow, insertProfile: dir.insertProfile,
    updateProfile: dir.updateProfileRow, deleteProfile: dir.deleteProfileRow, moveUsersToRole: dir.moveUsersToRole,
    moveUsersToProfile: dir.moveUsersToProfile, reparentRoles: dir.reparentRoles };
const Directory = area(
  { getOrg: dir.getOrg, listOrgs: dir.listOrgs, listUsers: dir.listUsers, listUserIdsIn: dir.listUserIdsIn, getUser: dir.getUser,
    getUserByEmail: dir.getUserByEmail, findUsersByEmail: dir.findUsersByEmail, listRoles: dir.listRoles, getRole: dir.getRole, listProfiles: dir.listProfiles,
    getProfile: dir.getProfile },
  DIRECTORY_WRITES,
);

class Jobs extends area(
  { get: jobs.getJob, orgJob: jobs.orgJob, lapsedLastAttempts: jobs.lapsedLastAttempts, ofKind: jobs.jobsOfKind },
  { insert: jobs.insertJob, insertOnce: jobs.insertJobOnce, heartbeat: jobs.heartbeat, finish: jobs.finishJob, fail: jobs.failJob,
    failLapsed: jobs.failLapsed, pruneEndedPeriodic: jobs.pruneEndedPeriodic, requeue: jobs.requeueJob },
) {
  /** Claims the next runnable job (see claimJob). */
  claim(worker: string, now: number, leaseMs: number, kinds: readonly string[]) {
    this.b.wrote = true;
    return jobs.claimJob(this.b.db, this.b.dialect, worker, now, leaseMs, kinds);
  }
}

const Exports = area(
  { get: exports_.getExport, list: exports_.listExports, activeOf: exports_.activeExportOf, expired: exports_.expiredExports,
    matchesMoreThan: exportQuery.matchesMoreThan, countMatching: exportQuery.countMatching },
  { insert: exports_.insertExport, update: exports_.updateExport },
);

const Integrity = area(
  { listPublicKeys: integrity.listPublicKeys, latestCheckpoint: integrity.latestCheckpoint,
    chainPrefix: integrity.chainPrefix, listSignedHeads: integrity.listSignedHeads, latestSignedHead: integrity.latestSignedHead,
    entryAt: integrity.entryAt, lastChainEntry: integrity.lastChainEntry },
  { registerPublicKey: integrity.registerPublicKey, insertCheckpoint: integrity.insertCheckpoint,
    purgeChainPrefix: integrity.purgeChainPrefix, insertSignedHead: integrity.insertSignedHead },
);

const OAUTH_WRITES = { insertClient: oauth.insertClient, revokeClient: oauth.revokeClientRow, insertToken: oauth.insertToken,
    revokeTokenTree: oauth.revokeTokenTree, revokeClientTokens: oauth.revokeClientTokens, revokeUserTokens: oauth.revokeUserTokens, markTokenUsed: oauth.markTokenUsed };
const OAuth = area(
  { getClient: oauth.getClient, listClients: oauth.listClients, getToken: oauth.getToken },
  OAUTH_WRITES,
);

const Limits = area(
  { finishedTallies: limits.finishedTallies, sum: limits.sumCounters },
  { hit: limits.hitCounter, lock: limits.lockCounter, unlock: limits.unlockCounters, prune: limits.pruneCounters, tallyLoginFailure: limits.tallyLoginFailure,
    takeTally: limits.takeTally },
);

const SESSION_WRITES = { insert: sessions.insertSession, revoke: sessions.revokeSession, revokeUser: sessions.revokeUserSessions };
const Sessions = area(
  { get: sessions.getSession },
  { ...SESSION_WRITES, touch: sessions.touchSession, prune: sessions.pruneSessions },
);

const FINDING_WRITES = { upsert: findings.upsertFindings, acknowledge: findings.acknowledgeFinding, advance: findings.advanceDetectorState,
    putSettings: findings.putFindingSettings };
const Findings = area(
  { list: findings.listFindings, get: findings.getFinding, state: findings.getDetectorState, settings: findings.getFindingSettings,
    entriesAfter: findings.entriesAfter },
  FINDING_WRITES,
);

const REPORT_WRITES = { insert: reports.insertSavedReport, update: reports.updateSavedReport, delete: reports.deleteSavedReport,
    deleteRuns: reports.deleteRuns };
const Reports = area(
  { activity: reports.activityCounts, get: reports.getSavedReport, list: reports.listSavedReports, scheduled: reports.scheduledReports,
    runs: reports.listRuns },
  { ...REPORT_WRITES, insertRunOnce: reports.insertRunOnce, updateRun: reports.updateRun },
);

const STREAM_WRITES = { insert: streams.insertStream, change: streams.changeStream, delete: streams.deleteStream };
/** Settings change only in an audited transaction; a delivery round's cursor and failures are bookkeeping. */
const Streams = area(
  { get: streams.getStream, list: streams.listStreams, activeIds: streams.activeStreamIds, firstSeqFrom: streams.firstSeqFrom,
    entryAfter: streams.entryAfter },
  { ...STREAM_WRITES, advance: streams.advanceCursor, recordFailure: streams.recordFailure },
);

const Kv = area({ get: kv.getValue }, { sharedSecret: kv.sharedSecret, put: kv.putValue });

/** Reads of the audit chain; appending is the transaction's alone (runTransaction). */
const Audit = area({ head: audit.getAuditHead, count: audit.countAuditEntries, stream: audit.streamChain }, {});

const CURSOR_WRITES = { ensure: cursors.ensureCursor, advance: cursors.advanceCursor, set: cursors.setCursor };
class Cursors extends area(
  { get: cursors.getCursor, entriesAfter: cursors.entriesAfter, lagging: cursors.laggingCursors, ofOrg: cursors.orgCursors },
  CURSOR_WRITES,
) {
  /** The cursor, locked for the rest of the transaction (lockCursor). */
  lock(consumer: string, orgId: string) {
    return cursors.lockCursor(this.b.db, this.b.dialect, consumer, orgId);
  }
}

const ALERT_WRITES = { insertRule: alerts.insertRule, updateRule: alerts.updateRule, deleteRule: alerts.deleteRule,
    insertDeliveries: alerts.insertDeliveries, reviveDelivery: alerts.reviveDelivery, insertNotifications: alerts.insertNotifications,
    markNotificationsRead: alerts.markNotificationsRead, putQuiet: alerts.putQuiet };
class Alerts extends area(
  { getRule: alerts.getRule, ruleByName: alerts.ruleByName, listRules: alerts.listRules, enabledRules: alerts.enabledRules,
    countRules: alerts.countRules, getDelivery: alerts.getDelivery, deliveriesByIds: alerts.deliveriesByIds,
    listDeliveries: alerts.listDeliveries, anyDeliveryDue: alerts.anyDeliveryDue, listNotifications: alerts.listNotifications,
    countUnread: alerts.countUnread, getQuiet: alerts.getQuiet },
  { ...ALERT_WRITES, settleDelivery: alerts.settleDelivery, settleDelivered: alerts.settleDelivered, pruneDelivered: alerts.pruneDelivered },
) {
  /** Claims due deliveries (claimDeliveries): a sender's bookkeeping, like a job claim. */
  claimDeliveries(now: number, leaseMs: number, limit: number, ids?: readonly string[]) {
    this.b.wrote = true;
    return alerts.claimDeliveries(this.b.db, this.b.dialect, now, leaseMs, limit, ids);
  }
}

const BINDING = Symbol('binding');

export class BoundStore {
  readonly records: InstanceType<typeof Records>;
  readonly bin: InstanceType<typeof Bin>;
  readonly directory: InstanceType<typeof Directory>;
  readonly jobs: Jobs;
  readonly exports: InstanceType<typeof Exports>;
  readonly integrity: InstanceType<typeof Integrity>;
  readonly oauth: InstanceType<typeof OAuth>;
  readonly limits: InstanceType<typeof Limits>;
  readonly sessions: InstanceType<typeof Sessions>;
  readonly audit: InstanceType<typeof Audit>;
  readonly kv: InstanceType<typeof Kv>;
  readonly findings: InstanceType<typeof Findings>;
  readonly reports: InstanceType<typeof Reports>;
  readonly cursors: Cursors;
  readonly alerts: Alerts;
  readonly streams: InstanceType<typeof Streams>;
  readonly [BINDING]: Binding;

  constructor(b: Binding) {
    this[BINDING] = b;
    this.records = new Records(b);
    this.bin = new Bin(b);
    this.directory = new Directory(b);
    this.jobs = new Jobs(b);
    this.exports = new Exports(b);
    this.integrity = new Integrity(b);
    this.oauth = new OAuth(b);
    this.limits = new Limits(b);
    this.sessions = new Sessions(b);
    this.audit = new Audit(b);
    this.kv = new Kv(b);
    this.findings = new Findings(b);
    this.reports = new Reports(b);
    this.cursors = new Cursors(b);
    this.alerts = new Alerts(b);
    this.streams = new Streams(b);
  }
}

/** An area with its business writes left out. */
type ReadsOf<A, W> = Omit<A, keyof W>;

/**
 * The store outside any transaction (`Store.repos`): every read, but no write to business data
 * (records, the bin, the directory, OAuth grants), which may only happen in a transaction that
 * audits it. What is left to write here is bookkeeping that is not a change anyone audits: job
 * claims and leases, export status, rate-limit counters, a session's last activity, signed heads
 * and keys, a stream's delivery cursor.
 */
export type PoolStore = Omit<BoundStore, 'records' | 'bin' | 'directory' | 'oauth' | 'sessions' | 'findings' | 'reports' | 'cursors' | 'alerts'
  | 'streams'> & {
  readonly findings: ReadsOf<InstanceType<typeof Findings>, typeof FINDING_WRITES>;
  readonly reports: ReadsOf<InstanceType<typeof Reports>, typeof REPORT_WRITES>;
  readonly cursors: ReadsOf<Cursors, typeof CURSOR_WRITES>;
  /** Claiming and settling deliveries is a sender's bookkeeping; rules, notifications and new deliveries change in transactions. */
  readonly alerts: ReadsOf<Alerts, typeof ALERT_WRITES>;
  readonly streams: ReadsOf<InstanceType<typeof Streams>, typeof STREAM_WRITES>;
  readonly sessions: ReadsOf<InstanceType<typeof Sessions>, typeof SESSION_WRITES>;
  readonly records: ReadsOf<InstanceType<typeof Records>, typeof RECORD_WRITES>;
  readonly bin: ReadsOf<InstanceType<typeof Bin>, typeof BIN_WRITES>;
  readonly directory: ReadsOf<InstanceType<typeof Directory>, typeof DIRECTORY_WRITES>;
  readonly oauth: ReadsOf<InstanceType<typeof OAuth>, typeof OAUTH_WRITES>;
};

/** The database a bound store runs on: for the store's own modules (blob-store's commit inside a transaction). */
export const dbOf = (s: BoundStore): Db => s[BINDING].db;

/** Reads that come as arrays of column values (Store.selectRows): outside transactions only. */
export class RowReads {
  readonly exportRows: exportQuery.ExportRows;
  constructor(private readonly store: Store) {
    this.exportRows = new exportQuery.ExportRows(store);
  }

  /** A page of the audit log (selectAuditEntries). */
  auditPage(q: auditQuery.AuditSelect) {
    return auditQuery.selectAuditEntries(this.store, q);
  }
}

/** What a transaction's work hands back besides its result: its audit entries, or why it has none. */
export interface TransactionAudit {
  /** Queues entries to append to the organisation's chain before commit. */
  append(...entries: AuditEntryInput[]): void;
  /** Declares why this transaction's writes need no audit entry (kept for the error message). */
  unaudited(reason: string): void;
}

/** A change written through the bound store with no audit entry and no declared reason. */
export class UnauditedWriteError extends Error {
  constructor() {
    super('refusing to commit a transaction that changed data without an audit entry (queue one, or declare tx.unaudited(reason))');
  }
}

/**
 * Runs `work` in one transaction with a store bound to it, then appends the entries it queued to
 * `orgId`'s chain in the same transaction (invariant 1). The one way audit entries are written.
 * With an organisation, its chain head is locked first on PostgreSQL, so the work's
 * read-modify-write sees every earlier commit (no lost updates, no double conversions) and the
 * chain cannot fork; SQLite's BEGIN IMMEDIATE already serialises writers. Throws
 * UnauditedWriteError (rolling back) when the work wrote, queued nothing and declared no reason.
 */
export function runTransaction<T>(store: Store, orgId: string | null,
  work: (s: BoundStore, audit: TransactionAudit) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(async (db) => {
    if (orgId !== null && store.dialect === 'postgres') await audit.lockAuditHead(db, orgId);
    const b: Binding = { db, dialect: store.dialect, wrote: false };
    const queued: AuditEntryInput[] = [];
    let reason: string | null = null;
    const result = await work(new BoundStore(b), {
      append: (...entries) => { for (const e of entries) queued.push(e); },
      unaudited: (why) => { reason = why; },
    });
    if (queued.length > 0) {
      if (orgId === null) throw new Error('audit entries queued in a transaction bound to no organisation');
      await audit.appendAuditEntries(db, store.dialect, orgId, queued);
    } else if (b.wrote && reason === null) {
      throw new UnauditedWriteError();
    }
    return result;
  });
}
