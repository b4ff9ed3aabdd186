import type { ActorType, AuditEntryInput, AuditSource } from '../domain/audit.ts';
import type { ProfilePermissions } from '../domain/permissions.ts';
import type { BoundStore } from '../store/bound-store.ts';
import type { ServiceStore } from '../store/db.ts';

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
  /** Bound stores and transactions only: services never hold the Kysely handle. */
  store: ServiceStore;
  clock: () => number;
  logger: Logger;
}

export type AuditDraft = Omit<AuditEntryInput, 'auditedAt' | 'actorType' | 'actorId' | 'actorName' | 'source' | 'ip' | 'userAgent'>
  & Partial<Pick<AuditEntryInput, 'auditedAt' | 'source'>>;

export interface Tx {
  /** The store bound to this transaction. */
  store: BoundStore;
  now: number;
  /** Queues an audit entry for the actor; all queued entries are appended before commit. */
  audit(entry: AuditDraft): void;
  /** Queues an entry made elsewhere, with its own actor and time (seeded history). */
  auditAs(entry: AuditEntryInput): void;
  /**
   * Declares why this transaction's writes need no audit entry. Without an entry or a reason, a
   * transaction that wrote anything is refused at commit (and rolls back).
   */
  unaudited(reason: string): void;
}

/**
 * Runs one use case in one transaction and appends its audit entries inside the same
 * transaction (invariant 1): if the change fails, no entry is written, and the reverse. The
 * only way a service writes audit entries. Throws UnauditedWriteError, an internal error, when
 * the use case wrote through `tx.store` without queueing an entry or declaring `tx.unaudited`.
 */
export function inTransaction<T>(deps: ServiceDeps, actor: Actor, work: (tx: Tx) => Promise<T>): Promise<T> {
  return deps.store.transaction(actor.orgId, (store, queue) => {
    const now = deps.clock();
    return work({
      store, now,
      audit: (draft) => queue.append(toEntry(actor, draft, now)),
      auditAs: (entry) => queue.append(entry),
      unaudited: queue.unaudited,
    });
  });
}

/**
 * A transaction that is no business change and so has no audit entry: job bookkeeping (a job's
 * result, a failed export's status). `reason` says why, as `tx.unaudited` does.
 */
export function bookkeeping<T>(deps: ServiceDeps, reason: string, work: (store: BoundStore) => Promise<T>): Promise<T> {
  return deps.store.transaction(null, (store, queue) => {
    queue.unaudited(reason);
    return work(store);
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
