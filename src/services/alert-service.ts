import { createHash, randomBytes } from 'node:crypto';
import {
  matchesConditions, parseRuleInput, type AlertAction, type AlertCondition, type AlertEvent,
} from '../domain/alert-rules.ts';
import type { FieldChange } from '../domain/audit.ts';
import { fullName } from '../domain/display.ts';
import { AppError } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import type { ProfilePermissions } from '../domain/permissions.ts';
import { formatDateTime } from '../domain/time.ts';
import { auditVisibility } from '../domain/visibility.ts';
import type { BoundStore, PoolStore } from '../store/bound-store.ts';
import type {
  AlertDelivery, AlertDeliveryTable, AlertNotificationTable, AlertRuleTable, AuditEntryTable, UserTable,
} from '../store/schema.ts';
import { hasSetting, isAdministrator, requireSetting } from './authorization.ts';
import { inTransaction, type Actor, type ServiceDeps } from './context.ts';
import type { EntryFeed, FeedBatch } from './entry-feed.ts';
import { auditEntryView } from './audit-entry-view.ts';
import type { Mailer } from './mailer.ts';
import { checkWebhookUrl, sendWebhook } from './webhook-sender.ts';

/** The feed consumer whose cursor alerts advance. */
export const ALERTS_CONSUMER = 'alerts';

export interface AlertOptions {
  mailer: Mailer;
  /** AUDITRAIL_WEBHOOK_ALLOW_HTTP: plain-http webhooks to any host. */
  webhookAllowHttp: boolean;
  /** Where the console is reached, for the links in emails. */
  consoleUrl: string;
  /** How long a sender's claim on a delivery lasts: a sender killed mid-delivery leaves it due again after this. */
  claimMs: number;
  /** Attempts before a delivery is dead (default 8: about 40 minutes of backoff). */
  maxAttempts?: number;
  /** Longest a webhook receiver may take to answer (default 10 s). */
  webhookTimeoutMs?: number;
}

const BATCH = 500;
/** Deliveries one sender claims at once: at least MAX_WEBHOOK_BATCH, so a batch can fill. */
const SEND_BATCH = 100;
/** Claims sent at once by one pump: up to SENDERS x SEND_BATCH requests in flight (http-post.ts allows as many connections). */
const SENDERS = 6;
const FIRST_RETRY_MS = 10_000;
const MAX_RETRY_MS = 3600_000;
const NOT_FOUND = () => new AppError('INVALID_URL_PATTERN', 'Please check if the URL trying to access is a correct one', {});

/** Emails sent at once by one process (each is an SMTP session). */
const MAIL_SESSIONS = 5;

/** Runs at most `n` of the given tasks at once; the others wait their turn, in order. */
function slots(n: number) {
  let busy = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (busy >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else busy++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else busy--;
    }
  };
}

/** When the next attempt is due after `attempts` failed ones: 10 s, 20 s, 40 s, ... at most an hour. */
export const retryDelay = (attempts: number) => Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1), MAX_RETRY_MS);

/** What a delivery carries: the rule and the entry as they were when the rule fired. */
export interface DeliveryPayload {
  rule: { id: string; name: string };
  org: { id: string; name: string; time_zone: string };
  entry: ReturnType<typeof auditEntryView> | null;
  /** The entry in the console. */
  link: string | null;
}

export interface RuleView {
  id: string; name: string; enabled: boolean; conditions: AlertCondition[]; actions: AlertAction[]; quiet_minutes: number | null;
  has_webhook_secret: boolean; owner: { id: string; name: string | null } | null; created_time: string; modified_time: string;
  created_by: { id: string; name: string | null } | null; modified_by: { id: string; name: string | null } | null;
}

export interface DeliveryView {
  id: string; rule: { id: string; name: string }; channel: string; target: string; status: string; attempts: number;
  last_error: string | null; entry_id: string | null; test: boolean; created_time: string; next_attempt_time: string | null;
  delivered_time: string | null; idempotency_key: string;
}

/**
 * Alert rules and their delivery (issue #15 part 1). A rule is matched against each new audit
 * entry its owner may see (the audit log's visibility rule), read from the durable entry feed;
 * a match writes pending deliveries (email, webhook) and notifications in the transaction that
 * moves the feed's cursor. Senders then claim due deliveries under a lease and send them, at
 * least once, retrying with exponential backoff until a delivery is delivered or dead.
 */
export function createAlertService(deps: ServiceDeps, feed: EntryFeed, opts: AlertOptions) {
  const { store } = deps;
  const maxAttempts = opts.maxAttempts ?? 8;
  // At most MAIL_SESSIONS emails in flight: mail relays refuse a client's 50th connection or sooner.
  const mailSlots = slots(MAIL_SESSIONS);

  /**
   * Changing rules needs the audit log (a rule sees entries) and exporting it (a rule copies them
   * out, to mailboxes and webhooks), as scheduling an export does. NO_PERMISSION otherwise.
   */
  function requireManage(actor: Actor) {
    requireSetting(actor, 'audit_log');
    requireSetting(actor, 'export_audit_log');
  }

  /** Whose rules the actor sees: every rule for administrators, else their own. */
  const ownsOrAdmin = (actor: Actor, rule: { owner_id: string | null }) =>
    isAdministrator(actor) || (actor.userId !== null && rule.owner_id === actor.userId);

  async function visibleRule(s: PoolStore | BoundStore, actor: Actor, id: string) {
    const rule = isId(id) ? await s.alerts.getRule(actor.orgId, id) : undefined;
    if (!rule || !ownsOrAdmin(actor, rule)) throw NOT_FOUND();
    return rule;
  }

  function checkActions(actions: AlertAction[]) {
    actions.forEach((a, i) => {
      if (a.type !== 'webhook') return;
      try {
        checkWebhookUrl(a.url, opts.webhookAllowHttp, 'url');
      } catch (e) {
        if (e instanceof AppError) throw new AppError(e.code, e.message, { ...e.details, json_path: `$.actions[${i}].url` });
        throw e;
      }
    });
  }

  /** INVALID_DATA unless every user, profile and role a condition names is the organisation's. */
  async function checkReferences(s: BoundStore, orgId: string, conditions: AlertCondition[]) {
    const [users, profiles, roles] = await Promise.all([s.directory.listUsers(orgId), s.directory.listProfiles(orgId), s.directory.listRoles(orgId)]);
    const known = { user: new Set(users.map((u) => u.id)), profile: new Set(profiles.map((p) => p.id)), role: new Set(roles.map((r) => r.id)) };
    conditions.forEach((c, i) => {
      if (c.type !== 'user' && c.type !== 'profile' && c.type !== 'role') return;
      const j = c.values.findIndex((v) => !known[c.type as 'user' | 'profile' | 'role'].has(v));
      if (j >= 0) throw new AppError('INVALID_DATA', `no ${c.type} with this id in the organisation`, { api_name: 'values', json_path: `$.conditions[${i}].values[${j}]` });
    });
  }

  const newSecret = () => randomBytes(32).toString('base64url');
  const hasWebhook = (actions: AlertAction[]) => actions.some((a) => a.type === 'webhook');

  async function names(s: PoolStore | BoundStore, orgId: string) {
    return new Map((await s.directory.listUsers(orgId)).map((u) => [u.id, fullName(u)]));
  }

  function ruleView(r: AlertRuleTable, users: Map<string, string>, tz: string): RuleView {
    const ref = (id: string | null) => (id ? { id, name: users.get(id) ?? null } : null);
    return {
      id: r.id, name: r.name, enabled: r.enabled === 1, conditions: JSON.parse(r.conditions) as AlertCondition[],
      actions: JSON.parse(r.actions) as AlertAction[], quiet_minutes: r.quiet_minutes === null ? null : Number(r.quiet_minutes),
      has_webhook_secret: r.secret !== null, owner: ref(r.owner_id),
      created_time: formatDateTime(Number(r.created_at), tz), modified_time: formatDateTime(Number(r.modified_at), tz),
      created_by: ref(r.created_by), modified_by: ref(r.modified_by),
    };
  }

  /** What an audit entry records of a rule: its settings, never its secret. */
  const ruleSummary = (r: { name: string; enabled: number; conditions: string; actions: string; quiet_minutes: number | null }) => ({
    name: r.name, enabled: r.enabled === 1, conditions: JSON.parse(r.conditions) as unknown, actions: JSON.parse(r.actions) as unknown,
    quiet_minutes: r.quiet_minutes,
  });

  /**
   * Creates a rule owned by the actor. Its webhook secret is the one given, or a new one that is
   * returned here and never again. Throws NO_PERMISSION, MANDATORY_NOT_FOUND, INVALID_DATA,
   * LIMIT_EXCEEDED (a sixth action), DUPLICATE_DATA (a rule of that name exists).
   */
  async function createRule(actor: Actor, body: unknown): Promise<{ rule: RuleView; secret: string | null }> {
    requireManage(actor);
    const input = parseRuleInput(body, false);
    checkActions(input.actions!);
    const generated = input.webhookSecret === undefined ? newSecret() : null;
    const row = await inTransaction(deps, actor, async (tx) => {
      await checkReferences(tx.store, actor.orgId, input.conditions!);
      if (await tx.store.alerts.ruleByName(actor.orgId, input.name!)) {
        throw new AppError('DUPLICATE_DATA', 'a rule of this name exists', { api_name: 'name', json_path: '$.name' });
      }
      // From the chain head on: a new rule watches what happens next, not the history.
      const head = Number((await tx.store.audit.head(actor.orgId))?.last_seq ?? 0);
      const r: AlertRuleTable = {
        id: newId(tx.now), org_id: actor.orgId, name: input.name!, enabled: input.enabled === false ? 0 : 1,
        conditions: JSON.stringify(input.conditions), actions: JSON.stringify(input.actions), quiet_minutes: input.quietMinutes ?? null,
        secret: input.webhookSecret ?? generated, owner_id: actor.type === 'user' ? actor.userId : null, created_seq: head,
        created_at: tx.now, modified_at: tx.now, created_by: actor.userId, modified_by: actor.userId,
      };
      await tx.store.alerts.insertRule(r);
      await feed.ensure(tx.store, ALERTS_CONSUMER, actor.orgId, head);
      tx.audit({ action: 'alert_rule_created', module: 'alert_rules', recordId: r.id, recordName: r.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { ...ruleSummary(r), webhook_secret: input.webhookSecret ? 'given' : 'generated' } });
      return r;
    });
    return { rule: ruleView(row, await names(store.repos, actor.orgId), actor.timeZone), secret: generated };
  }

  /** The rules the actor sees (administrators: all; others: their own). NO_PERMISSION without the audit log. */
  async function listRules(actor: Actor): Promise<RuleView[]> {
    requireSetting(actor, 'audit_log');
    const rows = await store.repos.alerts.listRules(actor.orgId, isAdministrator(actor) ? undefined : actor.userId ?? null);
    const users = await names(store.repos, actor.orgId);
    return rows.map((r) => ruleView(r, users, actor.timeZone));
  }

  /** One rule; INVALID_URL_PATTERN for a rule that is missing or not the actor's to see. */
  async function getRule(actor: Actor, id: string): Promise<RuleView> {
    requireSetting(actor, 'audit_log');
    const r = await visibleRule(store.repos, actor, id);
    return ruleView(r, await names(store.repos, actor.orgId), actor.timeZone);
  }

  /**
   * Changes what is given of a rule (as createRule checks it). A rule that gains a webhook and
   * has no secret gets one, returned once; `webhook_secret` replaces it.
   */
  async function updateRule(actor: Actor, id: string, body: unknown): Promise<{ rule: RuleView; secret: string | null }> {
    requireManage(actor);
    const input = parseRuleInput(body, true);
    if (input.actions) checkActions(input.actions);
    let generated: string | null = null;
    const row = await inTransaction(deps, actor, async (tx) => {
      const before = await visibleRule(tx.store, actor, id);
      if (input.conditions) await checkReferences(tx.store, actor.orgId, input.conditions);
      if (input.name && input.name !== before.name && await tx.store.alerts.ruleByName(actor.orgId, input.name)) {
        throw new AppError('DUPLICATE_DATA', 'a rule of this name exists', { api_name: 'name', json_path: '$.name' });
      }
      const actions = input.actions ?? (JSON.parse(before.actions) as AlertAction[]);
      let secret = input.webhookSecret ?? before.secret;
      if (secret === null && hasWebhook(actions)) secret = generated = newSecret();
      const patch = {
        name: input.name ?? before.name, enabled: input.enabled === undefined ? before.enabled : input.enabled ? 1 : 0,
        conditions: input.conditions ? JSON.stringify(input.conditions) : before.conditions,
        actions: JSON.stringify(actions), quiet_minutes: input.quietMinutes === undefined ? before.quiet_minutes : input.quietMinutes,
        secret, modified_at: tx.now, modified_by: actor.userId,
      };
      await tx.store.alerts.updateRule(actor.orgId, id, patch);
      const was = ruleSummary(before);
      const now = ruleSummary(patch);
      const changes: FieldChange[] = (Object.keys(now) as (keyof typeof now)[])
        .filter((k) => JSON.stringify(was[k]) !== JSON.stringify(now[k]))
        .map((k) => ({ api_name: k, field_label: k.replace(/_/g, ' '), old: was[k], new: now[k] }));
      if (input.webhookSecret !== undefined || generated) changes.push({ api_name: 'webhook_secret', field_label: 'webhook secret', old: '(hidden)', new: '(replaced)' });
      tx.audit({ action: 'alert_rule_updated', module: 'alert_rules', recordId: id, recordName: patch.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes.length ? changes : null, extra: null });
      return { ...before, ...patch };
    });
    return { rule: ruleView(row, await names(store.repos, actor.orgId), actor.timeZone), secret: generated };
  }

  /** Deletes a rule; its pending deliveries end as dead. */
  async function deleteRule(actor: Actor, id: string): Promise<void> {
    requireManage(actor);
    await inTransaction(deps, actor, async (tx) => {
      const rule = await visibleRule(tx.store, actor, id);
      await tx.store.alerts.deleteRule(actor.orgId, id, tx.now);
      tx.audit({ action: 'alert_rule_deleted', module: 'alert_rules', recordId: id, recordName: rule.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: ruleSummary(rule) });
    });
  }

  // ---- matching --------------------------------------------------------------------------------

  interface OrgContext {
    org: { id: string; name: string; time_zone: string };
    users: Map<string, UserTable>;
    profiles: Map<string, { is_admin: number; permissions: string }>;
    roles: { id: string; reportingTo: string | null }[];
  }

  async function orgContext(s: BoundStore | PoolStore, orgId: string): Promise<OrgContext | null> {
    const org = await s.directory.getOrg(orgId);
    if (!org) return null;
    const [users, profiles, roles] = await Promise.all([s.directory.listUsers(orgId), s.directory.listProfiles(orgId), s.directory.listRoles(orgId)]);
    return {
      org: { id: org.id, name: org.name, time_zone: org.time_zone },
      users: new Map(users.map((u) => [u.id, u])), profiles: new Map(profiles.map((p) => [p.id, p])),
      roles: roles.map((r) => ({ id: r.id, reportingTo: r.reporting_to })),
    };
  }

  /**
   * Whose entries a rule may fire on: its owner's view of the audit log (DESIGN invariant 4), as
   * the owner is now. An owner who left, was deactivated or lost the audit log sees nothing, and
   * the rule stays silent. A rule made by the CLI (no owner) sees the organisation.
   */
  function ruleSees(rule: AlertRuleTable, ctx: OrgContext): ((actorId: string | null) => boolean) {
    if (rule.owner_id === null) return () => true;
    const owner = ctx.users.get(rule.owner_id);
    const profile = owner ? ctx.profiles.get(owner.profile_id) : undefined;
    if (!owner || owner.status !== 'active' || !profile) return () => false;
    const isAdmin = profile.is_admin === 1;
    const permissions = JSON.parse(profile.permissions) as ProfilePermissions;
    if (!isAdmin && permissions.settings?.audit_log !== true) return () => false;
    const v = auditVisibility({ id: owner.id, roleId: owner.role_id, isAdmin }, ctx.roles,
      [...ctx.users.values()].map((u) => ({ id: u.id, roleId: u.role_id, isAdmin: false })));
    return v.all ? () => true : (id) => id !== null && v.userIds.has(id);
  }

  /** An anomaly finding's entry (`finding_detected`, written by the system): its kind and the user it is about. */
  function findingOf(row: AuditEntryTable): { kind: string; userId: string | null } | null {
    if (row.action !== 'finding_detected') return null;
    const extra = (JSON.parse(row.details) as { extra?: { kind?: string; user?: { id?: string | null } } | null }).extra;
    return extra?.kind ? { kind: extra.kind, userId: extra.user?.id ?? null } : null;
  }

  /** Whose entry it is for visibility and quiet periods: the actor, or for a finding the user it is about. */
  const subjectOf = (row: AuditEntryTable): string | null => (row.action === 'finding_detected' ? findingOf(row)?.userId ?? null : row.actor_id);

  function eventOf(row: AuditEntryTable, ctx: OrgContext): AlertEvent {
    const finding = findingOf(row);
    if (finding) {
      const about = finding.userId ? ctx.users.get(finding.userId) : undefined;
      return { kind: 'finding', action: row.action, module: null, userId: about?.id ?? null, profileId: about?.profile_id ?? null,
        roleId: about?.role_id ?? null, source: row.source, changedFields: [], findingKind: finding.kind };
    }
    const user = row.actor_type === 'user' && row.actor_id ? ctx.users.get(row.actor_id) : undefined;
    let changed: string[] = [];
    if (row.details.includes('"field_history":[')) {
      const d = JSON.parse(row.details) as { field_history: { api_name: string }[] | null };
      changed = d.field_history?.map((c) => c.api_name) ?? [];
    }
    return {
      kind: 'entry', action: row.action, module: row.module, userId: user ? user.id : null, profileId: user?.profile_id ?? null,
      roleId: user?.role_id ?? null, source: row.source, changedFields: changed, findingKind: null,
    };
  }

  /** The console's audit log, narrowed to the entry and with it open. */
  function consoleLink(row: AuditEntryTable): string {
    const p = new URLSearchParams();
    p.set('action', row.action);
    if (row.module) p.set('module', row.module);
    if (row.record_id) p.set('record_id', row.record_id);
    p.set('entry', row.id);
    return `${opts.consoleUrl.replace(/\/+$/, '')}/audit-log?${p.toString()}`;
  }

  async function payloadsOf(s: BoundStore | PoolStore, rows: AuditEntryTable[], ctx: OrgContext) {
    const parents = [...new Set(rows.map((r) => r.parent_id).filter((x): x is string => !!x))];
    const parentNames = new Map((await s.records.names(ctx.org.id, parents)).map((r) => [r.id, r.name]));
    return (row: AuditEntryTable) => ({ entry: auditEntryView(row, ctx.org.time_zone, parentNames), link: consoleLink(row) });
  }

  /** The deliveries and notifications of one rule firing on one entry (or a test). */
  function outputsOf(rule: AlertRuleTable, payload: DeliveryPayload, entry: AuditEntryTable | null, now: number, test: boolean) {
    const deliveries: AlertDelivery[] = [];
    const notifications: AlertNotificationTable[] = [];
    const actions = JSON.parse(rule.actions) as AlertAction[];
    actions.forEach((a, i) => {
      if (a.type === 'notification') {
        notifications.push({ id: newId(now), org_id: rule.org_id, rule_id: rule.id, owner_id: rule.owner_id, entry_id: entry?.id ?? null,
          title: `${test ? '[test] ' : ''}${rule.name}: ${headline(payload)}`, payload: JSON.stringify(payload), created_at: now, read_at: null });
        return;
      }
      const id = newId(now);
      deliveries.push({
        id, org_id: rule.org_id, rule_id: rule.id, entry_id: entry?.id ?? null, entry_seq: entry ? Number(entry.seq) : null,
        action_index: i, channel: a.type, target: a.type === 'email' ? a.to.join(',') : a.url,
        idempotency_key: test || !entry ? `test-${id}` : `${entry.id}-${rule.id}`, payload: JSON.stringify(payload), test: test ? 1 : 0,
        status: 'pending', attempts: 0, next_attempt_at: now, last_error: null, created_at: now, updated_at: now, delivered_at: null,
      });
    });
    return { deliveries, notifications };
  }

  /** The feed's consumer: matches a batch of entries against the enabled rules, in the cursor's transaction. */
  async function produce(batch: FeedBatch) {
    const { store: s, rows, orgId, now } = batch;
    const rules = await s.alerts.enabledRules(orgId);
    if (rules.length === 0) return;
    const ctx = await orgContext(s, orgId);
    if (!ctx) return;
    const sees = new Map(rules.map((r) => [r.id, ruleSees(r, ctx)]));
    const conditions = new Map(rules.map((r) => [r.id, JSON.parse(r.conditions) as AlertCondition[]]));
    const payloadOf = await payloadsOf(s, rows, ctx);
    const deliveries: AlertDelivery[] = [];
    const notifications: AlertNotificationTable[] = [];
    const quietUntil = new Map<string, number>();
    for (const row of rows) {
      const event = eventOf(row, ctx);
      for (const rule of rules) {
        const subject = subjectOf(row);
        if (Number(row.seq) <= Number(rule.created_seq) || !sees.get(rule.id)!(subject)) continue;
        if (!matchesConditions(conditions.get(rule.id)!, event)) continue;
        if (rule.quiet_minutes !== null) {
          // Quiet per user and rule, measured in the entries' own time, so a replay decides alike.
          const key = `${rule.id}:${subject ?? ''}`;
          const at = Number(row.audited_at);
          let until = quietUntil.get(key);
          if (until === undefined) {
            const last = await s.alerts.getQuiet(orgId, rule.id, subject ?? '');
            until = last ? Number(last.fired_at) + Number(rule.quiet_minutes) * 60_000 : -Infinity;
          }
          if (at < until) continue;
          quietUntil.set(key, at + Number(rule.quiet_minutes) * 60_000);
          await s.alerts.putQuiet(orgId, rule.id, subject ?? '', at);
        }
        const out = outputsOf(rule, { rule: { id: rule.id, name: rule.name }, org: ctx.org, ...payloadOf(row) }, row, now, false);
        deliveries.push(...out.deliveries);
        notifications.push(...out.notifications);
      }
    }
    await s.alerts.insertDeliveries(deliveries);
    await s.alerts.insertNotifications(notifications);
  }

  /** Matches every organisation's new entries (where alerts have a cursor) against its rules. Returns the entries read. */
  async function produceAll(): Promise<number> {
    let n = 0;
    for (const { orgId } of await feed.lagging(ALERTS_CONSUMER)) n += await feed.drain(ALERTS_CONSUMER, orgId, BATCH, produce);
    return n;
  }

  // ---- sending --------------------------------------------------------------------------------

  /** The batch size of a rule's webhook action (1: one entry a POST); 1 for a rule deleted meanwhile. */
  function batchSizeOf(rule: AlertRuleTable | undefined, actionIndex: number): number {
    if (!rule) return 1;
    const a = (JSON.parse(rule.actions) as AlertAction[])[Number(actionIndex)];
    return a?.type === 'webhook' && a.batch_size !== undefined && a.batch_size > 1 ? a.batch_size : 1;
  }

  /**
   * What a claim sends together: each delivery alone, except a batching webhook's (never a test),
   * whose due deliveries to one URL go up to its batch size a POST, in the claim's order.
   */
  async function unitsOf(claimed: AlertDelivery[], ruleOf: (d: AlertDelivery) => Promise<AlertRuleTable | undefined>) {
    const units: { batch: boolean; items: AlertDelivery[] }[] = [];
    const open = new Map<string, { batch: boolean; items: AlertDelivery[] }>();
    for (const d of claimed) {
      const size = d.channel === 'webhook' && d.test === 0 ? batchSizeOf(await ruleOf(d), d.action_index) : 1;
      if (size === 1) {
        units.push({ batch: false, items: [d] });
        continue;
      }
      const key = `${d.rule_id}\n${d.action_index}\n${d.target}`;
      let unit = open.get(key);
      if (!unit || unit.items.length >= size) {
        unit = { batch: true, items: [] };
        open.set(key, unit);
        units.push(unit);
      }
      unit.items.push(d);
    }
    return units;
  }

  /** Sends one unit of claimed deliveries (one, or a batch of one rule's webhook); the error in words when it failed. */
  async function send(unit: { batch: boolean; items: AlertDelivery[] },
    ruleOf: (d: AlertDelivery) => Promise<AlertRuleTable | undefined>): Promise<string | null> {
    const d = unit.items[0];
    if (unit.items.some((x) => x.payload === '')) return 'the delivery\'s stored payload is missing';
    if (d.channel === 'webhook') {
      const rule = await ruleOf(d);
      if (!rule || rule.secret === null) return 'the rule was deleted';
      const event = unit.batch ? 'alert.batch' : d.test ? 'alert.test' : 'alert.triggered';
      const raw = unit.batch ? batchWebhookBody(unit.items, deps.clock()) : webhookBody(d, event, deps.clock());
      const key = unit.batch ? batchIdempotencyKey(unit.items) : d.idempotency_key;
      const r = await sendWebhook({ url: d.target, secret: rule.secret, body: undefined, raw, idempotencyKey: key, event }, opts.webhookTimeoutMs);
      return r.ok ? null : r.error;
    }
    try {
      await mailSlots(() => opts.mailer.send({ to: d.target.split(','), ...emailOf(JSON.parse(d.payload) as DeliveryPayload, d.test === 1) }));
      return null;
    } catch (e) {
      return e instanceof AppError ? e.message : `the mail server refused or could not be reached (${(e as Error).message})`;
    }
  }

  /**
   * Claims due deliveries (or the given ones) and sends them. A delivery that fails is tried again
   * after retryDelay, and after `maxAttempts` is dead (the dead-letter list). Returns the outcomes.
   */
  async function deliverDue(limit = SEND_BATCH, ids?: readonly string[]): Promise<{ id: string; status: string; error: string | null }[]> {
    const claimed = await store.repos.alerts.claimDeliveries(deps.clock(), opts.claimMs, limit, ids);
    if (claimed.length === 0) return [];
    // In chain order (PostgreSQL's UPDATE ... RETURNING keeps none), so a batch lists its entries in order.
    claimed.sort((a, b) => Number(a.entry_seq ?? 0) - Number(b.entry_seq ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    // Each rule's secret is read once per claim, as it is now (a rule deleted meanwhile signs nothing).
    const rules = new Map<string, Promise<AlertRuleTable | undefined>>();
    const ruleOf = (d: AlertDeliveryTable) => {
      if (!rules.has(d.rule_id)) rules.set(d.rule_id, store.repos.alerts.getRule(d.org_id, d.rule_id));
      return rules.get(d.rule_id)!;
    };
    const units = await unitsOf(claimed, ruleOf);
    const outcomes = (await Promise.all(units.map(async (unit) => {
      const error = await send(unit, ruleOf).catch((e: unknown) => {
        deps.logger.error({ err: e, deliveries: unit.items.map((d) => d.id) }, 'alert delivery failed');
        return 'internal error (see the server log)';
      });
      return unit.items.map((d) => ({ d, error }));
    }))).flat();
    const now = deps.clock();
    // Every row of one claim carries the same claim time: the delivered ones settle in one statement.
    const until = Number(claimed[0].next_attempt_at);
    const delivered = outcomes.filter((o) => o.error === null).map((o) => o.d.id);
    if (await store.repos.alerts.settleDelivered(delivered, until, now) < delivered.length) {
      deps.logger.warn({ deliveries: delivered }, 'an alert delivery\'s claim lapsed while it was sent (another sender repeats it)');
    }
    for (const { d, error } of outcomes) {
      if (error === null) continue;
      const dead = d.attempts >= maxAttempts;
      await store.repos.alerts.settleDelivery({ id: d.id, claimedUntil: until }, {
        status: dead ? 'dead' : 'pending', last_error: error, delivered_at: null, updated_at: now,
        next_attempt_at: dead ? until : now + retryDelay(d.attempts),
      });
    }
    return outcomes.map(({ d, error }) => ({ id: d.id, status: error === null ? 'delivered' : d.attempts >= maxAttempts ? 'dead' : 'pending', error }));
  }

  /**
   * One round of the alert pipeline: new entries into deliveries, then due deliveries out. Safe
   * to run anywhere at any time, on any number of nodes at once: the cursor's transaction
   * produces each entry's deliveries once, and claims keep two senders off one delivery.
   */
  async function pump(): Promise<{ entries: number; sent: number }> {
    const entries = await produceAll();
    // Several senders claim in turn, so one slow claim's stragglers do not hold the next back, and
    // each await of one (its claim, its POSTs, its settling) overlaps the others' and the API's
    // work on this thread (bench:alerts: 2 senders deliver about half as fast as 6).
    let sent = 0;
    await Promise.all(Array.from({ length: SENDERS }, async () => {
      for (;;) {
        const out = await deliverDue();
        sent += out.length;
        if (out.length < SEND_BATCH) break;
      }
    }));
    return { entries, sent };
  }

  // ---- testing, deliveries, notifications ----------------------------------------------------------

  /**
   * Sends the rule's actions now, with the newest entry it matches that its owner may see (else
   * the newest such entry, else none), marked as a test; audited as alert_rule_tested. Returns
   * each delivery's outcome.
   */
  async function testRule(actor: Actor, id: string) {
    requireManage(actor);
    const rule = await visibleRule(store.repos, actor, id);
    const ctx = (await orgContext(store.repos, actor.orgId))!;
    const head = Number((await store.repos.audit.head(actor.orgId))?.last_seq ?? 0);
    const recent = (await store.repos.cursors.entriesAfter(actor.orgId, Math.max(0, head - 200), 200)).reverse();
    const sees = ruleSees(rule, ctx);
    const visible = recent.filter((r) => sees(subjectOf(r)));
    const conditions = JSON.parse(rule.conditions) as AlertCondition[];
    const sample = visible.find((r) => matchesConditions(conditions, eventOf(r, ctx))) ?? visible[0] ?? null;
    const payloadOf = await payloadsOf(store.repos, sample ? [sample] : [], ctx);
    const ids = await inTransaction(deps, actor, async (tx) => {
      const out = outputsOf(rule, { rule: { id: rule.id, name: rule.name }, org: ctx.org, ...(sample ? payloadOf(sample) : { entry: null, link: null }) },
        sample, tx.now, true);
      await tx.store.alerts.insertDeliveries(out.deliveries);
      await tx.store.alerts.insertNotifications(out.notifications);
      tx.audit({ action: 'alert_rule_tested', module: 'alert_rules', recordId: rule.id, recordName: rule.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null,
        extra: { sample_entry: sample?.id ?? null, deliveries: out.deliveries.length, notifications: out.notifications.length } });
      return out.deliveries.map((d) => d.id);
    });
    await deliverDue(ids.length, ids);
    const rows = await store.repos.alerts.deliveriesByIds(actor.orgId, ids);
    return { sampleEntryId: sample?.id ?? null, deliveries: rows.map((d) => deliveryView(d, new Map([[rule.id, rule.name]]), actor.timeZone)) };
  }

  function deliveryView(d: AlertDeliveryTable, rules: Map<string, string>, tz: string): DeliveryView {
    return {
      id: d.id, rule: { id: d.rule_id, name: rules.get(d.rule_id) ?? '(deleted rule)' }, channel: d.channel, target: d.target,
      status: d.status, attempts: Number(d.attempts), last_error: d.last_error, entry_id: d.entry_id, test: d.test === 1,
      created_time: formatDateTime(Number(d.created_at), tz),
      next_attempt_time: d.status === 'pending' ? formatDateTime(Number(d.next_attempt_at), tz) : null,
      delivered_time: d.delivered_at === null ? null : formatDateTime(Number(d.delivered_at), tz), idempotency_key: d.idempotency_key,
    };
  }

  /** Rules whose deliveries and notifications the actor sees: undefined for all (administrators). */
  async function ownRuleIds(actor: Actor): Promise<{ ids: string[] | undefined; names: Map<string, string> }> {
    const rules = await store.repos.alerts.listRules(actor.orgId, isAdministrator(actor) ? undefined : actor.userId ?? null);
    return { ids: isAdministrator(actor) ? undefined : rules.map((r) => r.id), names: new Map(rules.map((r) => [r.id, r.name])) };
  }

  /** Deliveries of the rules the actor sees, newest first; `status: 'dead'` is the dead-letter list. */
  async function listDeliveries(actor: Actor, q: { status?: string; ruleId?: string; limit?: number; beforeId?: string }) {
    requireSetting(actor, 'audit_log');
    if (q.status !== undefined && !['pending', 'delivered', 'dead'].includes(q.status)) {
      throw new AppError('INVALID_DATA', 'status must be pending, delivered or dead', { param_name: 'status', supported_values: ['pending', 'delivered', 'dead'] });
    }
    const own = await ownRuleIds(actor);
    let ruleIds = own.ids;
    if (q.ruleId !== undefined) {
      if (!own.names.has(q.ruleId)) throw new AppError('INVALID_DATA', 'no such rule', { param_name: 'rule_id' });
      ruleIds = [q.ruleId];
    }
    const limit = q.limit ?? 100;
    const rows = await store.repos.alerts.listDeliveries(actor.orgId, { status: q.status, ruleIds, limit: limit + 1, beforeId: q.beforeId });
    return { deliveries: rows.slice(0, limit).map((d) => deliveryView(d, own.names, actor.timeZone)), more: rows.length > limit };
  }

  /**
   * Sends a dead delivery again, now, with its attempts counted afresh; audited as
   * alert_delivery_retried. NOT_ALLOWED unless it is dead and its rule still exists.
   */
  async function retryDelivery(actor: Actor, id: string) {
    requireManage(actor);
    await inTransaction(deps, actor, async (tx) => {
      const d = isId(id) ? await tx.store.alerts.getDelivery(actor.orgId, id) : undefined;
      const rule = d ? await tx.store.alerts.getRule(actor.orgId, d.rule_id) : undefined;
      if (!d || (rule ? !ownsOrAdmin(actor, rule) : !isAdministrator(actor))) throw NOT_FOUND();
      if (d.status !== 'dead') throw new AppError('NOT_ALLOWED', 'only a dead delivery can be retried', { status: d.status });
      if (!rule) throw new AppError('NOT_ALLOWED', 'the delivery\'s rule was deleted', {});
      await tx.store.alerts.reviveDelivery(actor.orgId, id, tx.now);
      tx.audit({ action: 'alert_delivery_retried', module: 'alert_rules', recordId: rule.id, recordName: rule.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: null, extra: { delivery_id: id, channel: d.channel, target: d.target, entry_id: d.entry_id } });
    });
    await deliverDue(1, [id]);
    const own = await ownRuleIds(actor);
    const [row] = await store.repos.alerts.deliveriesByIds(actor.orgId, [id]);
    return deliveryView(row, own.names, actor.timeZone);
  }

  /** In-console notifications: administrators see the organisation's, others those of their own rules. */
  async function listNotifications(actor: Actor, q: { unread?: boolean; limit?: number }) {
    requireSetting(actor, 'audit_log');
    const ownerId = isAdministrator(actor) ? undefined : actor.userId ?? '';
    const rows = await store.repos.alerts.listNotifications(actor.orgId, { ownerId, unread: q.unread, limit: q.limit ?? 50 });
    const unread = await store.repos.alerts.countUnread(actor.orgId, ownerId);
    return {
      unread,
      notifications: rows.map((n) => {
        const p = JSON.parse(n.payload) as DeliveryPayload;
        return { id: n.id, rule: p.rule, title: n.title, entry: p.entry, link: p.link, created_time: formatDateTime(Number(n.created_at), actor.timeZone),
          read: n.read_at !== null };
      }),
    };
  }

  /**
   * Marks notifications read: `{"ids": [...]}` (at most 200) or `{"all": true}` for every one the
   * actor sees; the reader's own state, not audited. INVALID_DATA for another body.
   */
  async function markNotificationsRead(actor: Actor, body: unknown) {
    requireSetting(actor, 'audit_log');
    const b = (body ?? {}) as { ids?: unknown; all?: unknown };
    const list = Array.isArray(b.ids) && b.ids.length > 0 && b.ids.length <= 200 && b.ids.every(isId) ? b.ids as string[] : null;
    if (b.all !== true && !list) {
      throw new AppError('INVALID_DATA', 'send {"ids": [notification ids, at most 200]} or {"all": true}', { api_name: 'ids', json_path: '$.ids' });
    }
    const ids: string[] | 'all' = b.all === true ? 'all' : list!;
    const ownerId = isAdministrator(actor) ? undefined : actor.userId ?? '';
    return inTransaction(deps, actor, async (tx) => {
      tx.unaudited('marking alert notifications read: the reader\'s own inbox, no change to audited data');
      return tx.store.alerts.markNotificationsRead(actor.orgId, ids, ownerId, tx.now);
    });
  }

  /** Removes delivered deliveries older than `days` (the periodic task). */
  async function pruneDelivered(days = 30) {
    const r = await store.repos.alerts.pruneDelivered(deps.clock() - days * 86_400_000);
    return Number(r[0]?.numDeletedRows ?? 0);
  }

  return {
    createRule, listRules, getRule, updateRule, deleteRule, testRule, listDeliveries, retryDelivery, listNotifications,
    markNotificationsRead, produceAll, deliverDue, pump, pruneDelivered, matchable: { eventOf, ruleSees },
    canManage: (actor: Actor) => hasSetting(actor, 'audit_log') && hasSetting(actor, 'export_audit_log'),
  };
}

export type AlertService = ReturnType<typeof createAlertService>;

// ---- messages --------------------------------------------------------------------------------

/**
 * A webhook's body: the delivery's own keys, then the stored payload's (rule, org, entry, link),
 * as `JSON.stringify({ event, delivery_id, idempotency_key, delivered_at, attempt, ...payload })`
 * would write them. The payload is stored as JSON text, so it is spliced in rather than parsed
 * and serialised again for every delivery.
 */
export function webhookBody(d: Pick<AlertDelivery, 'id' | 'idempotency_key' | 'attempts' | 'payload'>, event: string, now: number): string {
  return `{"event":${JSON.stringify(event)},${deliveryKeys(d, `,"delivered_at":"${new Date(now).toISOString()}"`)}`;
}

/**
 * A batched webhook's body: `{"event": "alert.batch", "delivered_at", "deliveries": [...]}`, each
 * element what a single delivery's body holds but `event` and `delivered_at`, in the same order.
 */
export function batchWebhookBody(ds: Pick<AlertDelivery, 'id' | 'idempotency_key' | 'attempts' | 'payload'>[], now: number): string {
  return `{"event":"alert.batch","delivered_at":"${new Date(now).toISOString()}","deliveries":[${ds.map((d) => `{${deliveryKeys(d, '')}`).join(',')}]}`;
}

/** A batch's Idempotency-Key: the same for the same deliveries; receivers deduplicate each delivery on its own key. */
export const batchIdempotencyKey = (ds: Pick<AlertDeliveryTable, 'idempotency_key'>[]) =>
  `batch-${createHash('sha256').update(ds.map((d) => d.idempotency_key).join('\n')).digest('hex').slice(0, 32)}`;

/** `"delivery_id", "idempotency_key"[, inserted], "attempt"`, then the stored payload's keys, and the closing brace. */
function deliveryKeys(d: Pick<AlertDelivery, 'id' | 'idempotency_key' | 'attempts' | 'payload'>, inserted: string): string {
  const head = `"delivery_id":${JSON.stringify(d.id)},"idempotency_key":${JSON.stringify(d.idempotency_key)}${inserted},"attempt":${Number(d.attempts)}`;
  const rest = d.payload.trim();
  return rest === '{}' ? `${head}}` : `${head},${rest.slice(1)}`;
}

function headline(p: DeliveryPayload): string {
  const e = p.entry;
  if (!e) return 'a test of the rule (no entry to show)';
  if (e.action === 'finding_detected' && e.details && typeof e.details.explanation === 'string') {
    const d = e.details as { kind?: string; severity?: string; user?: { name?: string | null }; explanation: string };
    return `${d.severity ?? ''} ${d.kind ?? 'finding'}: ${d.user?.name ?? 'someone'} ${d.explanation}`.trim();
  }
  const who = e.done_by.name ?? 'someone';
  const what = [e.module?.api_name, e.record?.name ? `"${e.record.name}"` : null].filter(Boolean).join(' ');
  return `${who} ${e.action.replace(/_/g, ' ')}${what ? ` ${what}` : ''}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&#39;' })[c]!);

const shown = (v: unknown) => (v === null || v === undefined || v === '' ? '(empty)' : typeof v === 'string' ? v : JSON.stringify(v));

/** The email of one delivery: who did what, when, the field changes, and the link to the entry. */
export function emailOf(p: DeliveryPayload, test: boolean): { subject: string; text: string; html: string } {
  const e = p.entry;
  const subject = `[auditrail]${test ? ' [test]' : ''} ${p.rule.name}: ${headline(p)}`;
  const lines: [string, string][] = e ? [
    ['Who', e.done_by.name ?? '(unknown)'],
    ['Action', e.action],
    ['Module', e.module?.api_name ?? '-'],
    ['Record', e.record ? `${e.record.name ?? ''}${e.record.id ? ` (id ${e.record.id})` : ''}` : '-'],
    ['When', e.audited_time],
    ['Source', `${e.source}${e.ip_address ? `, IP ${e.ip_address}` : ''}`],
  ] : [];
  const changes = (e?.field_history ?? []).map((c) => ({ label: c.field_label, old: shown(c._value.old), new: shown(c._value.new) }));
  const intro = test ? `This is a test of the alert rule "${p.rule.name}" in ${p.org.name}.`
    : `The alert rule "${p.rule.name}" matched an audit entry in ${p.org.name}.`;
  const text = [
    intro, '',
    ...lines.map(([k, v]) => `${`${k}:`.padEnd(8)} ${v}`),
    ...(changes.length ? ['', 'Field changes:', ...changes.map((c) => `  ${c.label}: ${c.old} -> ${c.new}`)] : []),
    ...(p.link ? ['', `Open the entry in the console: ${p.link}`] : []),
    '', `Entry id: ${e?.id ?? '-'}`,
  ].join('\n');
  const html = `<p>${escapeHtml(intro)}</p>`
    + (lines.length ? `<table>${lines.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>` : '')
    + (changes.length ? `<h3>Field changes</h3><table><tr><th align="left">Field</th><th align="left">Old</th><th align="left">New</th></tr>${
      changes.map((c) => `<tr><td>${escapeHtml(c.label)}</td><td>${escapeHtml(c.old)}</td><td>${escapeHtml(c.new)}</td></tr>`).join('')}</table>` : '')
    + (p.link ? `<p><a href="${escapeHtml(p.link)}">Open the entry in the console</a></p>` : '');
  return { subject, text, html };
}
