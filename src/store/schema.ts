import type { Generated } from 'kysely';

/** Table types. Ids are 19-digit decimal strings; times are UTC milliseconds; flags are 0/1. */
export interface Database {
  orgs: OrgTable;
  profiles: ProfileTable;
  roles: RoleTable;
  users: UserTable;
  records: RecordTable;
  audit_entries: AuditEntryTable;
  audit_heads: AuditHeadTable;
  audit_purge_permits: AuditPurgePermitTable;
  oauth_clients: OAuthClientTable;
  oauth_tokens: OAuthTokenTable;
  kv: KvTable;
  integrity_keys: IntegrityKeyTable;
  audit_checkpoints: AuditCheckpointTable;
  signed_heads: SignedHeadTable;
  jobs: JobTable;
  audit_exports: AuditExportTable;
  blobs: BlobTable;
  tombstones: TombstoneTable;
  rate_limits: RateLimitTable;
  login_failure_tallies: LoginFailureTallyTable;
  console_sessions: ConsoleSessionTable;
  findings: FindingTable;
  finding_detector_state: FindingDetectorStateTable;
  finding_settings: FindingSettingsTable;
  saved_reports: SavedReportTable;
  report_runs: ReportRunTable;
  consumer_cursors: ConsumerCursorTable;
  alert_rules: AlertRuleTable;
  alert_deliveries: AlertDeliveryTable;
  alert_delivery_payloads: AlertDeliveryPayloadTable;
  alert_notifications: AlertNotificationTable;
  alert_quiet: AlertQuietTable;
  streams: StreamTable;
}

/** A saved activity report of one owner: its query, optional schedule and where runs go. */
export interface SavedReportTable {
  id: string;
  org_id: string;
  owner_id: string;
  name: string;
  /** JSON: the activity report's parameters (strings), with a relative range. */
  query: string;
  /** JSON Schedule, or null when the report is run by hand only. */
  schedule: string | null;
  /** When the schedule was last set: no period that fired before it runs. */
  schedule_set_at: number | null;
  /** JSON: { emails: string[], webhook_url: string | null }. */
  delivery: string;
  webhook_secret: string | null;
  created_at: number;
  updated_at: number;
}

/** One scheduled run of a saved report: one row per report and period, whatever the retries. */
export interface ReportRunTable {
  id: string;
  org_id: string;
  report_id: string;
  /** The schedule's firing time this run is for (UTC ms). */
  period_start: number;
  range_from: number;
  range_to: number;
  /** running | delivered | failed | skipped */
  status: string;
  row_count: number | null;
  /** JSON: the outcome per channel ({ email?: ..., webhook?: ... }). */
  delivery: string;
  error: string | null;
  started_at: number;
  finished_at: number | null;
}

/**
 * One fixed-window counter shared by every node on the database (token endpoint, API). Keys
 * name what is counted (`token:ip:203.0.113.7`, `api:<token hash>`); installation-wide, like kv.
 */
export interface RateLimitTable {
  key: string;
  window_start: number;
  count: number;
  /** Refuse everything under this key until then (a lockout), whatever the count. */
  locked_until: number | null;
}

/** Failed logins past the limit, counted per client and minute until one summary entry records them. */
export interface LoginFailureTallyTable {
  org_id: string;
  client_id: string;
  minute_start: number;
  attempts: number;
  last_ip: string | null;
}

/** What remains of a permanently deleted record: enough for `GET /{module}/deleted`. */
export interface TombstoneTable {
  id: string;
  org_id: string;
  module: string;
  deleted_at: number;
  /** The record's name when it went, who removed it for good, and who created it (null for tombstones before 0008). */
  name: string | null;
  deleted_by: string | null;
  created_by: string | null;
}

/** A durable background job; claimed by one worker at a time under a lease. */
export interface JobTable {
  id: string;
  org_id: string;
  kind: string;
  payload: string;
  /** queued | running | done | failed */
  status: string;
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_owner: string | null;
  lease_expires_at: number | null;
  progress_done: number;
  progress_total: number | null;
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export interface AuditExportTable {
  id: string;
  org_id: string;
  created_by: string;
  criteria: string | null;
  resolved: string;
  /** Scheduled | Progress | Finished | Failed */
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  expires_at: number | null;
  files: string | null;
  entry_count: number | null;
  truncated: number;
  removed_at: number | null;
}

export interface BlobTable {
  key: string;
  chunk: number;
  data: Buffer;
}

export interface IntegrityKeyTable {
  key_id: string;
  public_key: string;
  created_at: number;
}

/** A signed record of a retention purge: the chain continues from (seq, hash). */
export interface AuditCheckpointTable {
  id: string;
  org_id: string;
  seq: number;
  hash: string;
  cutoff: number;
  purged: number;
  prev_signature: string | null;
  created_at: number;
  key_id: string;
  signature: string;
}

/**
 * A chain head signed with the installation key (RFC 9162's signed tree head): the organisation's
 * last sequence number and hash at a moment. Append-only, and also written outside the database.
 */
export interface SignedHeadTable {
  id: string;
  org_id: string;
  seq: number;
  hash: string;
  signed_at: number;
  /** Why it was signed: interval, export, stop, verify. Not covered by the signature. */
  reason: string;
  key_id: string;
  signature: string;
}

export interface KvTable {
  key: string;
  value: string;
}

export interface OrgTable {
  id: string;
  name: string;
  time_zone: string;
  currency: string;
  country_code: string;
  zgid: string;
  settings: string;
  created_at: number;
}

export interface ProfileTable {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  is_admin: number;
  custom: number;
  permissions: string;
  created_at: number;
  modified_at: number;
  created_by: string | null;
  modified_by: string | null;
}

export interface RoleTable {
  id: string;
  org_id: string;
  name: string;
  description: string | null;
  reporting_to: string | null;
  share_with_peers: number;
  created_at: number;
  modified_at: number;
  created_by: string | null;
  modified_by: string | null;
}

export interface UserTable {
  id: string;
  org_id: string;
  first_name: string | null;
  last_name: string;
  email: string;
  status: string;
  role_id: string;
  profile_id: string;
  password_hash: string | null;
  time_zone: string;
  settings: string;
  created_at: number;
  modified_at: number;
  created_by: string | null;
  modified_by: string | null;
}

export interface RecordTable {
  id: string;
  org_id: string;
  module: string;
  name: string | null;
  owner_id: string;
  data: string;
  parent_module: string | null;
  parent_id: string | null;
  created_by: string;
  created_at: number;
  modified_by: string;
  modified_at: number;
  deleted_at: number | null;
  deleted_by: string | null;
  delete_batch: string | null;
  converted_at?: number | null;
  converted_by?: string | null;
}

export interface AuditEntryTable {
  id: string;
  org_id: string;
  seq: number;
  audited_at: number;
  actor_type: string;
  actor_id: string | null;
  actor_name: string;
  action: string;
  module: string | null;
  record_id: string | null;
  record_name: string | null;
  parent_module: string | null;
  parent_id: string | null;
  source: string;
  ip: string | null;
  user_agent: string | null;
  batch_id: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  org_id: string;
  last_seq: number;
  last_hash: string;
}

export interface AuditPurgePermitTable {
  org_id: string;
  granted_at: Generated<number>;
}

export interface OAuthClientTable {
  id: string;
  org_id: string;
  user_id: string;
  client_id: string;
  secret_hash: string;
  name: string;
  scopes: string;
  redirect_uri: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface OAuthTokenTable {
  token_hash: string;
  kind: string;
  org_id: string;
  client_id: string;
  user_id: string;
  scopes: string;
  refresh_hash: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

/** A console sign-in: the cookie's hash, whose it is, its CSRF token and when it ends. */
export interface ConsoleSessionTable {
  id_hash: string;
  org_id: string;
  user_id: string;
  csrf_token: string;
  ip: string | null;
  user_agent: string | null;
  created_at: number;
  /** The last request made with it: idle expiry counts from here. */
  last_seen_at: number;
  /** The absolute end, however active the session is. */
  expires_at: number;
  revoked_at: number | null;
}

/** An anomaly finding (domain/findings.ts); `entry_ids` is a JSON array of audit entry ids. */
export interface FindingTable {
  id: string;
  org_id: string;
  finding_key: string;
  kind: string;
  severity: string;
  user_id: string | null;
  user_name: string;
  started_at: number;
  ended_at: number;
  explanation: string;
  entry_ids: string;
  created_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  acknowledged_by_name: string | null;
  acknowledgement_note: string | null;
}

/** The detectors' state of one organisation (JSON) and the last sequence number they read. */
export interface FindingDetectorStateTable {
  org_id: string;
  state: string;
  finding_scan_cursor: number;
  updated_at: number;
}

/** The organisation's detector thresholds (JSON; defaults fill what is not stored). */
export interface FindingSettingsTable {
  org_id: string;
  settings: string;
  updated_at: number;
}

/** How far a consumer of the chain (`alerts`, ...) has processed an organisation's entries. */
export interface ConsumerCursorTable {
  consumer: string;
  org_id: string;
  last_seq: number;
  updated_at: number;
}

/** An alert rule: conditions (JSON array), actions (JSON array, at most five), the webhook signing secret. */
export interface AlertRuleTable {
  id: string;
  org_id: string;
  name: string;
  enabled: number;
  conditions: string;
  actions: string;
  quiet_minutes: number | null;
  /** Signs the rule's webhooks; never shown after it is first returned. */
  secret: string | null;
  /** Whose visibility the rule fires under; null for a rule made by the CLI (the system). */
  owner_id: string | null;
  /** The chain head when the rule was made: it fires on later entries only. */
  created_seq: number;
  created_at: number;
  modified_at: number;
  created_by: string | null;
  modified_by: string | null;
}

/** One email or webhook to send: pending (due at next_attempt_at), delivered, or dead. */
export interface AlertDeliveryTable {
  id: string;
  org_id: string;
  rule_id: string;
  entry_id: string | null;
  entry_seq: number | null;
  action_index: number;
  /** email | webhook */
  channel: string;
  /** The URL, or the recipients joined by commas. */
  target: string;
  idempotency_key: string;
  test: number;
  /** pending | delivered | dead */
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
}

/** A delivery's payload, apart from its often-updated row (migration 0014). */
export interface AlertDeliveryPayloadTable {
  delivery_id: string;
  /** JSON: the rule and the entry as they were when the delivery was made. */
  payload: string;
}

/** A delivery with its payload: what is made and what a sender claims. */
export type AlertDelivery = AlertDeliveryTable & { payload: string };

export interface AlertNotificationTable {
  id: string;
  org_id: string;
  rule_id: string;
  owner_id: string | null;
  entry_id: string | null;
  title: string;
  payload: string;
  created_at: number;
  read_at: number | null;
}

export interface AlertQuietTable {
  org_id: string;
  rule_id: string;
  /** The user id the quiet period is kept for ('' for entries without a user). */
  user_key: string;
  fired_at: number;
}

/**
 * A SIEM stream: where an organisation's entries go, as its owner may see them, and its own
 * durable cursor. `version` changes with every change of settings or cursor by a person, so a
 * delivery round that read the stream before moves nothing after it.
 */
export interface StreamTable {
  id: string;
  org_id: string;
  /** Whose visibility the stream carries (the user who created it). */
  owner_id: string;
  name: string;
  /** https | syslog | nats */
  type: string;
  /** JSON of the destination's settings (domain/stream.ts), without secrets. */
  config: string;
  /** JSON of the secrets (HMAC secret, NATS credentials): stored, never shown. */
  secrets: string;
  /** active | paused */
  status: string;
  version: number;
  /** The cursor: every entry up to this chain sequence has been delivered or was not the owner's to see. */
  cursor_seq: number;
  /** The last entry actually sent (null after a rewind): each record sent names it as `prev_seq`. */
  last_sent_seq: number | null;
  delivered_count: number;
  last_delivered_at: number | null;
  /** Consecutive failed attempts, the last one's error, and when the next attempt is due. */
  failures: number;
  last_error: string | null;
  last_error_at: number | null;
  next_attempt_at: number | null;
  /** The last gap: entries purged by retention before the stream delivered them. */
  gap_from: number | null;
  gap_to: number | null;
  gap_at: number | null;
  created_at: number;
  created_by: string;
  modified_at: number;
  modified_by: string;
}
