import type { AlertAction, AlertCondition, AlertRule, ConditionType, RuleInput } from '../../api/alerts.ts';
import { MAX_ACTIONS, MAX_WEBHOOK_BATCH } from '../../api/alerts.ts';

/** The rule editor's state and its translation to and from the API's rule. Pure. */

export interface ConditionRow { type: ConditionType; operator: 'is' | 'is_not'; values: string[] }

export interface RuleForm {
  name: string;
  enabled: boolean;
  conditions: ConditionRow[];
  emails: string[];
  webhooks: string[];
  /** Entries a webhook POST carries at most (1: one a POST), for every webhook of the rule. */
  webhookBatch: number | '';
  /** A rule whose webhooks have different batch sizes keeps them, by URL, until the field is set. */
  keptBatches?: Record<string, number>;
  notify: boolean;
  quietMinutes: number | '';
  webhookSecret: string;
}

export const FINDING_KINDS = ['failed_login_burst', 'mass_deletion', 'data_leaving', 'permission_change', 'off_hours', 'activity_burst'] as const;

export const CONDITION_LABELS: Record<ConditionType, string> = {
  action: 'Action', module: 'Module', user: 'User', profile: 'User\'s profile', role: 'User\'s role', source: 'Source',
  field: 'Changed field', finding: 'Anomaly finding',
};

export const EMPTY_FORM: RuleForm = {
  name: '', enabled: true, conditions: [{ type: 'action', operator: 'is', values: [] }], emails: [], webhooks: [], webhookBatch: '', notify: true,
  quietMinutes: '', webhookSecret: '',
};

export function formOf(rule: AlertRule): RuleForm {
  return {
    name: rule.name, enabled: rule.enabled, conditions: rule.conditions.map((c) => ({ ...c, values: [...c.values] })),
    emails: rule.actions.flatMap((a) => (a.type === 'email' ? a.to : [])),
    webhooks: rule.actions.flatMap((a) => (a.type === 'webhook' ? [a.url] : [])),
    ...batchesOf(rule.actions),
    notify: rule.actions.some((a) => a.type === 'notification'), quietMinutes: rule.quiet_minutes ?? '', webhookSecret: '',
  };
}

/** One batch size for the form, or, when the webhooks differ, each one's kept by URL. */
function batchesOf(actions: AlertAction[]): Pick<RuleForm, 'webhookBatch' | 'keptBatches'> {
  const sizes = actions.flatMap((a) => (a.type === 'webhook' ? [[a.url, a.batch_size ?? 1] as const] : []));
  const distinct = new Set(sizes.map(([, n]) => n));
  if (distinct.size > 1) return { webhookBatch: '', keptBatches: Object.fromEntries(sizes) };
  const [n] = [...distinct];
  return { webhookBatch: n && n > 1 ? n : '' };
}

export function actionsOf(f: RuleForm): AlertAction[] {
  const sizeOf = (url: string) => f.keptBatches?.[url] ?? (typeof f.webhookBatch === 'number' ? f.webhookBatch : 1);
  return [
    ...(f.emails.length ? [{ type: 'email' as const, to: f.emails }] : []),
    ...f.webhooks.filter((u) => u.trim()).map((url) => ({ type: 'webhook' as const, url: url.trim(),
      ...(sizeOf(url.trim()) > 1 ? { batch_size: sizeOf(url.trim()) } : {}) })),
    ...(f.notify ? [{ type: 'notification' as const }] : []),
  ];
}

/** What is wrong with the form, by field, before the server is asked (it checks again). */
export function formProblems(f: RuleForm): { field: string; message: string }[] {
  const out: { field: string; message: string }[] = [];
  if (!f.name.trim()) out.push({ field: 'name', message: 'Give the rule a name.' });
  if (f.conditions.length === 0) out.push({ field: 'conditions', message: 'Add at least one condition.' });
  f.conditions.forEach((c, i) => {
    if (c.values.length === 0) out.push({ field: `condition-${i}`, message: 'Choose at least one value.' });
  });
  const actions = actionsOf(f);
  if (actions.length === 0) out.push({ field: 'actions', message: 'Choose at least one action: email, webhook or notification.' });
  if (actions.length > MAX_ACTIONS) out.push({ field: 'actions', message: `A rule has at most ${MAX_ACTIONS} actions.` });
  if (f.webhookBatch !== '' && !(Number.isInteger(f.webhookBatch) && f.webhookBatch >= 1 && f.webhookBatch <= MAX_WEBHOOK_BATCH)) {
    out.push({ field: 'batch', message: `Between 1 and ${MAX_WEBHOOK_BATCH} entries a request.` });
  }
  if (f.webhookSecret && f.webhookSecret.length < 16) out.push({ field: 'secret', message: 'The secret needs at least 16 characters.' });
  return out;
}

export function inputOf(f: RuleForm, creating: boolean): RuleInput {
  return {
    name: f.name.trim(), enabled: f.enabled, conditions: f.conditions.map((c): AlertCondition => ({ ...c })), actions: actionsOf(f),
    quiet_minutes: f.quietMinutes === '' ? null : f.quietMinutes,
    ...(creating && f.webhookSecret ? { webhook_secret: f.webhookSecret } : {}),
  };
}

/** A condition in words: "Action is Deleted", with the values' labels. */
export function describeCondition(c: AlertCondition, label: (type: ConditionType, value: string) => string): string {
  return `${CONDITION_LABELS[c.type]} ${c.operator === 'is' ? 'is' : 'is not'} ${c.values.map((v) => label(c.type, v)).join(' or ')}`;
}

export function describeAction(a: AlertAction): string {
  return a.type === 'email' ? `Email ${a.to.join(', ')}` : a.type === 'webhook' ? `Webhook ${a.url}${a.batch_size ? ` (up to ${a.batch_size} entries a request)` : ''}` : 'Notification';
}
