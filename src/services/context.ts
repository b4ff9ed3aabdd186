import type { ActorType, AuditEntryInput, AuditSource } from '../domain/audit.ts';
import type { ProfilePermissions } from '../domain/permissions.ts';
import type { Db, Store } from '../store/db.ts';
import { appendAuditEntries, lockAuditHead } from '../store/audit-store.ts';

/** Whoever performs a use case: a signed-in user (through a token or the console) or the system. */
export interface Actor {
  orgId: string;
  type: ActorType;
  userId: string | null;
  name: string;
  source: AuditSource;
  ip: string | null;
  userAgent: string | null;
  /** Profile of a user actor; system actors may do everything. */
  isAdmin: boolean;
  permissions: ProfilePermissions | null;
  roleId: string | null;
  timeZone: string;
}

export interface Logger {
  info(msg: string | object, ...args: unknown[]): void;
  warn(msg: string | object, ...args: unknown[]): void;
  error(msg: string | object, ...args: unknown[]): void;
}

export interface ServiceDeps {
  store: Store;
  clock: () => number;
  logger: Logger;
}

export type AuditDraft = Omit<AuditEntryInput, 'auditedAt' | 'actorType' | 'actorId' | 'actorName' | 'source' | 'ip' | 'userAgent'>
  & Partial<Pick<AuditEntryInput, 'auditedAt' | 'source'>>;

export interface Tx {
  db: Db;
  now: number;
  /** Queues an audit entry for the actor; all queued entries are appended before commit. */
  audit(entry: AuditDraft): void;
}

/**
 * Runs one use case in one transaction and appends its audit entries inside the same
 * transaction (invariant 1): if the change fails, no entry is written, and the reverse.
 */
export async function inTransaction<T>(deps: ServiceDeps, actor: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return deps.store.db.transaction().execute(async (db) => {
    // One writer per organisation at a time: on PostgreSQL the chain head row is locked before
    // the use case reads anything, so its read-modify-write sees every earlier commit (no lost
    // updates, no double conversions) and the chain cannot fork. SQLite's BEGIN IMMEDIATE
    // already serialises writers.
    if (deps.store.dialect === 'postgres') await lockAuditHead(db, actor.orgId);
    const now = deps.clock();
    const queued: AuditEntryInput[] = [];
    const tx: Tx = {
      db, now,
      audit: (draft) => queued.push(toEntry(actor, draft, now)),
    };
    const result = await work(tx);
    await appendAuditEntries(db, deps.store.dialect, actor.orgId, queued);
    return result;
  });
}

export function toEntry(actor: Actor, draft: AuditDraft, now: number): AuditEntryInput {
  return {
    auditedAt: draft.auditedAt ?? now,
    actorType: actor.type,
    actorId: actor.userId,
    actorName: actor.name,
    source: draft.source ?? actor.source,
    ip: actor.ip,
    userAgent: actor.userAgent,
    action: draft.action,
    module: draft.module,
    recordId: draft.recordId,
    recordName: draft.recordName,
    parentModule: draft.parentModule,
    parentId: draft.parentId,
    batchId: draft.batchId,
    fieldHistory: draft.fieldHistory,
    extra: draft.extra,
  };
}

/** The system actor used by the CLI, the seeders and the worker. */
export function systemActor(orgId: string, name = 'System', timeZone = 'UTC'): Actor {
  return {
    orgId, type: 'system', userId: null, name, source: 'system', ip: null, userAgent: null,
    isAdmin: true, permissions: null, roleId: null, timeZone,
  };
}
