import { createHash } from 'node:crypto';

/** Every action the audit log records. Zoho's own literals where Zoho has them. */
export const AUDIT_ACTIONS = [
  'added', 'updated', 'deleted', 'restored', 'permanently_deleted', 'merged', 'converted', 'recycle_bin_emptied',
  'mass_updated', 'mass_deleted', 'imported', 'exported', 'viewed',
  'login', 'login_failed', 'logout',
  'user_added', 'user_updated', 'user_deleted',
  'role_added', 'role_updated', 'role_deleted',
  'profile_added', 'profile_updated', 'profile_deleted',
  'oauth_client_created', 'oauth_client_revoked', 'oauth_client_unlocked', 'oauth_grant_code_issued', 'token_revoked',
  'org_created', 'org_updated', 'sharing_updated',
  'audit_log_viewed', 'audit_log_exported', 'audit_log_downloaded', 'audit_log_purged',
  'finding_detected', 'finding_acknowledged',
  'report_created', 'report_updated', 'report_deleted',
  'alert_rule_created', 'alert_rule_updated', 'alert_rule_deleted', 'alert_rule_tested', 'alert_delivery_retried',
  'stream_created', 'stream_updated', 'stream_rewound', 'stream_deleted',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_SOURCES = [
  'crm_ui', 'api', 'import', 'workflow', 'system', 'mass_action', 'merge', 'conversion', 'retention',
] as const;
export type AuditSource = (typeof AUDIT_SOURCES)[number];

export type ActorType = 'user' | 'system' | 'workflow' | 'api_client';

export interface FieldChange {
  api_name: string;
  field_label: string;
  old: unknown;
  new: unknown;
}

/** What a service hands to the audit store; the store adds id, sequence and hashes. */
export interface AuditEntryInput {
  auditedAt: number;
  actorType: ActorType;
  actorId: string | null;
  actorName: string;
  action: AuditAction;
  module: string | null;
  recordId: string | null;
  recordName: string | null;
  parentModule: string | null;
  parentId: string | null;
  source: AuditSource;
  ip: string | null;
  userAgent: string | null;
  batchId: string | null;
  fieldHistory: FieldChange[] | null;
  extra: Record<string, unknown> | null;
}

/** An entry as stored: the input plus its place in the organisation's chain. */
export interface ChainedFields {
  id: string;
  orgId: string;
  seq: number;
  prevHash: string;
  /** JSON text of {field_history, extra}; hashed as stored so the encoding is stable. */
  details: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/**
 * The canonical encoding hashed into the chain: a JSON array in a fixed order, so that any
 * change to any stored column changes the hash.
 */
export function canonicalEntry(e: AuditEntryInput & ChainedFields): string {
  return JSON.stringify([
    e.orgId, e.seq, e.id, e.auditedAt, e.actorType, e.actorId, e.actorName, e.action, e.module,
    e.recordId, e.recordName, e.parentModule, e.parentId, e.source, e.ip, e.userAgent, e.batchId,
    e.details,
  ]);
}

/** hash = SHA-256(previous hash || canonical encoding), hex. */
export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}

export function encodeDetails(fieldHistory: FieldChange[] | null, extra: Record<string, unknown> | null): string {
  return JSON.stringify({ field_history: fieldHistory, extra });
}

/** The stored details of an entry without field changes or extra data (most entries): readers need not parse it. */
export const NO_DETAILS = encodeDetails(null, null);
