import { AUDIT_ACTIONS, AUDIT_SOURCES } from './audit.ts';
import { AppError } from './errors.ts';
import { isId } from './ids.ts';
import { isStorableText } from './text.ts';

/**
 * Alert rules: what a rule looks at (conditions over audit entries, or over anomaly findings) and
 * what it does (email, webhook, in-console notification). Pure: the service checks ids against
 * the directory and webhook URLs against the operator's settings.
 */

/** The anomaly findings' kinds, which a rule may watch for (findings arrive as entry-like events). */
export const FINDING_KINDS = ['failed_login_burst', 'mass_deletion', 'data_leaving', 'permission_change', 'off_hours', 'activity_burst'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export const CONDITION_TYPES = ['action', 'module', 'user', 'profile', 'role', 'source', 'field', 'finding'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];
export type ConditionOperator = 'is' | 'is_not';

export interface AlertCondition { type: ConditionType; operator: ConditionOperator; values: string[] }

export type AlertAction =
  | { type: 'email'; to: string[] }
  /**
   * `batch_size` (1 to MAX_WEBHOOK_BATCH, default 1): up to this many of the rule's due entries
   * go in one POST (`"event": "alert.batch"`, a `deliveries` array), as Salesforce's outbound
   * messages carry up to 100 notifications: for rules that fire on many entries.
   */
  | { type: 'webhook'; url: string; batch_size?: number }
  | { type: 'notification' };

/** The most entries one batched webhook POST carries. */
export const MAX_WEBHOOK_BATCH = 100;

/** Zoho allows five actions per rule; a sixth is refused with LIMIT_EXCEEDED. */
export const MAX_ACTIONS = 5;
export const MAX_CONDITIONS = 20;
export const MAX_VALUES = 50;
export const MAX_RECIPIENTS = 10;
/** A quiet period of at most a week. */
export const MAX_QUIET_MINUTES = 7 * 24 * 60;

/**
 * What a rule is matched against: an audit entry, or (later) an anomaly finding, with the user's
 * profile and role as they are now. Conditions on the user, profile or role match only events
 * that have a user (an entry done by the system is neither "by X" nor "not by X").
 */
export interface AlertEvent {
  kind: 'entry' | 'finding';
  action: string | null;
  module: string | null;
  userId: string | null;
  profileId: string | null;
  roleId: string | null;
  source: string | null;
  /** api_names of the record fields the entry changed. */
  changedFields: readonly string[];
  findingKind: string | null;
}

/** Whether the event meets every condition of the rule. */
export function matchesConditions(conditions: readonly AlertCondition[], e: AlertEvent): boolean {
  return conditions.every((c) => matchesCondition(c, e));
}

function matchesCondition(c: AlertCondition, e: AlertEvent): boolean {
  const is = c.operator === 'is';
  const one = (v: string | null) => (v === null ? !is : c.values.includes(v) === is);
  switch (c.type) {
    case 'action': return one(e.action);
    case 'module': return one(e.module);
    case 'source': return one(e.source);
    case 'user': return e.userId !== null && c.values.includes(e.userId) === is;
    case 'profile': return e.userId !== null && e.profileId !== null && c.values.includes(e.profileId) === is;
    case 'role': return e.userId !== null && e.roleId !== null && c.values.includes(e.roleId) === is;
    case 'field': return e.changedFields.some((f) => c.values.includes(f)) === is;
    case 'finding': return e.kind === 'finding' && e.findingKind !== null && c.values.includes(e.findingKind) === is;
  }
}

export interface RuleInput {
  name?: string;
  enabled?: boolean;
  conditions?: AlertCondition[];
  actions?: AlertAction[];
  quietMinutes?: number | null;
  webhookSecret?: string;
}

const invalid = (message: string, apiName: string, jsonPath: string, extra: Record<string, unknown> = {}) =>
  new AppError('INVALID_DATA', message, { api_name: apiName, json_path: jsonPath, ...extra });
const missing = (apiName: string, jsonPath: string) =>
  new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: apiName, json_path: jsonPath });

const EMAIL = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$/;

const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max && isStorableText(v);

/**
 * Checks a rule as the API or CLI sends it (`name`, `enabled`, `conditions`, `actions`,
 * `quiet_minutes`, `webhook_secret`). `partial` for an update: only what is given. Throws
 * MANDATORY_NOT_FOUND, INVALID_DATA or LIMIT_EXCEEDED (a sixth action, and other lists too
 * long) with the field's api_name and json_path.
 */
export function parseRuleInput(body: unknown, partial: boolean): RuleInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new AppError('INVALID_DATA', 'the request body must be a JSON object', { expected_data_type: 'jsonobject', json_path: '$' });
  }
  const b = body as Record<string, unknown>;
  const known = ['name', 'enabled', 'conditions', 'actions', 'quiet_minutes', 'webhook_secret'];
  const unknown = Object.keys(b).find((k) => !known.includes(k));
  if (unknown) throw invalid(`unknown field ${unknown}`, unknown, `$.${unknown}`);
  const out: RuleInput = {};
  if (b.name !== undefined) {
    if (!isText(b.name, 100)) throw invalid('name must be text of 1 to 100 characters', 'name', '$.name');
    out.name = b.name.trim();
  } else if (!partial) throw missing('name', '$.name');
  if (b.enabled !== undefined) {
    if (typeof b.enabled !== 'boolean') throw invalid('enabled must be true or false', 'enabled', '$.enabled', { expected_data_type: 'boolean' });
    out.enabled = b.enabled;
  }
  if (b.conditions !== undefined) out.conditions = parseConditions(b.conditions);
  else if (!partial) throw missing('conditions', '$.conditions');
  if (b.actions !== undefined) out.actions = parseActions(b.actions);
  else if (!partial) throw missing('actions', '$.actions');
  if (b.quiet_minutes !== undefined) {
    const q = b.quiet_minutes;
    if (q !== null && (typeof q !== 'number' || !Number.isInteger(q) || q < 1 || q > MAX_QUIET_MINUTES)) {
      throw invalid(`quiet_minutes must be null or a whole number from 1 to ${MAX_QUIET_MINUTES}`, 'quiet_minutes', '$.quiet_minutes');
    }
    out.quietMinutes = q as number | null;
  }
  if (b.webhook_secret !== undefined) {
    const s = b.webhook_secret;
    if (typeof s !== 'string' || s.length < 16 || s.length > 256 || !/^[\x21-\x7e]+$/.test(s)) {
      throw invalid('webhook_secret must be 16 to 256 printable ASCII characters without spaces', 'webhook_secret', '$.webhook_secret');
    }
    out.webhookSecret = s;
  }
  return out;
}

function parseConditions(raw: unknown): AlertCondition[] {
  if (!Array.isArray(raw)) throw invalid('conditions must be an array', 'conditions', '$.conditions', { expected_data_type: 'jsonarray' });
  if (raw.length === 0) throw missing('conditions', '$.conditions[0]');
  if (raw.length > MAX_CONDITIONS) {
    throw new AppError('LIMIT_EXCEEDED', `a rule has at most ${MAX_CONDITIONS} conditions`,
      { api_name: 'conditions', json_path: `$.conditions[${MAX_CONDITIONS}]`, limit: MAX_CONDITIONS });
  }
  return raw.map((c, i) => parseCondition(c, `$.conditions[${i}]`));
}

function parseCondition(raw: unknown, path: string): AlertCondition {
  if (!raw || typeof raw !== 'object') throw invalid('a condition must be an object', 'conditions', path, { expected_data_type: 'jsonobject' });
  const c = raw as Record<string, unknown>;
  if (c.type === undefined) throw missing('type', `${path}.type`);
  if (!(CONDITION_TYPES as readonly unknown[]).includes(c.type)) {
    throw invalid('unknown condition type', 'type', `${path}.type`, { supported_values: CONDITION_TYPES });
  }
  const type = c.type as ConditionType;
  const operator = c.operator ?? 'is';
  if (operator !== 'is' && operator !== 'is_not') throw invalid('operator must be is or is_not', 'operator', `${path}.operator`, { supported_values: ['is', 'is_not'] });
  if (type === 'finding' && operator !== 'is') throw invalid('a finding condition takes the operator is', 'operator', `${path}.operator`, { supported_values: ['is'] });
  if (c.values === undefined) throw missing('values', `${path}.values`);
  if (!Array.isArray(c.values) || c.values.length === 0) {
    throw invalid('values must be a non-empty array', 'values', `${path}.values`, { expected_data_type: 'jsonarray' });
  }
  if (c.values.length > MAX_VALUES) {
    throw new AppError('LIMIT_EXCEEDED', `a condition has at most ${MAX_VALUES} values`, { api_name: 'values', json_path: `${path}.values`, limit: MAX_VALUES });
  }
  const closed: Partial<Record<ConditionType, readonly string[]>> = { action: AUDIT_ACTIONS, source: AUDIT_SOURCES, finding: FINDING_KINDS };
  const values = c.values.map((v, j) => {
    const at = `${path}.values[${j}]`;
    if (!isText(v, 200)) throw invalid('a value must be text', 'values', at);
    const allowed = closed[type];
    if (allowed && !allowed.includes(v)) throw invalid(`${v} is not a known ${type}`, 'values', at, { supported_values: allowed });
    if ((type === 'user' || type === 'profile' || type === 'role') && !isId(v)) throw invalid(`a ${type} is named by its id`, 'values', at);
    return v;
  });
  if (Object.keys(c).some((k) => !['type', 'operator', 'values'].includes(k))) {
    const k = Object.keys(c).find((x) => !['type', 'operator', 'values'].includes(x))!;
    throw invalid(`unknown field ${k}`, k, `${path}.${k}`);
  }
  return { type, operator, values: [...new Set(values)] };
}

function parseActions(raw: unknown): AlertAction[] {
  if (!Array.isArray(raw)) throw invalid('actions must be an array', 'actions', '$.actions', { expected_data_type: 'jsonarray' });
  if (raw.length === 0) throw missing('actions', '$.actions[0]');
  if (raw.length > MAX_ACTIONS) {
    throw new AppError('LIMIT_EXCEEDED', `a rule has at most ${MAX_ACTIONS} actions`,
      { api_name: 'actions', json_path: `$.actions[${MAX_ACTIONS}]`, limit: MAX_ACTIONS });
  }
  return raw.map((a, i) => parseAction(a, `$.actions[${i}]`));
}

function parseAction(raw: unknown, path: string): AlertAction {
  if (!raw || typeof raw !== 'object') throw invalid('an action must be an object', 'actions', path, { expected_data_type: 'jsonobject' });
  const a = raw as Record<string, unknown>;
  const keys = (allowed: string[]) => {
    const k = Object.keys(a).find((x) => !allowed.includes(x));
    if (k) throw invalid(`unknown field ${k}`, k, `${path}.${k}`);
  };
  switch (a.type) {
    case 'email': {
      keys(['type', 'to']);
      if (a.to === undefined) throw missing('to', `${path}.to`);
      if (!Array.isArray(a.to) || a.to.length === 0) throw invalid('to must be a non-empty array of addresses', 'to', `${path}.to`);
      if (a.to.length > MAX_RECIPIENTS) {
        throw new AppError('LIMIT_EXCEEDED', `an email action has at most ${MAX_RECIPIENTS} recipients`,
          { api_name: 'to', json_path: `${path}.to`, limit: MAX_RECIPIENTS });
      }
      const to = a.to.map((x, j) => {
        if (typeof x !== 'string' || x.length > 254 || !EMAIL.test(x.trim())) throw invalid('not an email address', 'to', `${path}.to[${j}]`);
        return x.trim().toLowerCase();
      });
      return { type: 'email', to: [...new Set(to)] };
    }
    case 'webhook':
      keys(['type', 'url', 'batch_size']);
      if (a.url === undefined) throw missing('url', `${path}.url`);
      if (!isText(a.url, 2000)) throw invalid('url must be text', 'url', `${path}.url`);
      if (a.batch_size !== undefined && a.batch_size !== null
        && !(Number.isInteger(a.batch_size) && (a.batch_size as number) >= 1 && (a.batch_size as number) <= MAX_WEBHOOK_BATCH)) {
        throw invalid(`batch_size must be a whole number from 1 to ${MAX_WEBHOOK_BATCH}`, 'batch_size', `${path}.batch_size`);
      }
      return typeof a.batch_size === 'number' && a.batch_size > 1
        ? { type: 'webhook', url: a.url.trim(), batch_size: a.batch_size } : { type: 'webhook', url: a.url.trim() };
    case 'notification':
      keys(['type']);
      return { type: 'notification' };
    case undefined:
      throw missing('type', `${path}.type`);
    default:
      throw invalid('unknown action type', 'type', `${path}.type`, { supported_values: ['email', 'webhook', 'notification'] });
  }
}
