import { apiGet, apiSend } from './client.ts';

/** Alert rules, their deliveries and notifications (`/api/v1/alert-*`). */

export type ConditionType = 'action' | 'module' | 'user' | 'profile' | 'role' | 'source' | 'field' | 'finding';
export interface AlertCondition { type: ConditionType; operator: 'is' | 'is_not'; values: string[] }
export type AlertAction = { type: 'email'; to: string[] } | { type: 'webhook'; url: string; batch_size?: number } | { type: 'notification' };

/** The most entries one batched webhook POST carries (the server's MAX_WEBHOOK_BATCH). */
export const MAX_WEBHOOK_BATCH = 100;

export interface AlertRule {
  id: string;
  name: string;
  enabled: boolean;
  conditions: AlertCondition[];
  actions: AlertAction[];
  quiet_minutes: number | null;
  has_webhook_secret: boolean;
  owner: { id: string; name: string | null } | null;
  created_time: string;
  modified_time: string;
}

export interface RuleInput {
  name: string;
  enabled?: boolean;
  conditions: AlertCondition[];
  actions: AlertAction[];
  quiet_minutes?: number | null;
  webhook_secret?: string;
}

export interface AlertDelivery {
  id: string;
  rule: { id: string; name: string };
  channel: 'email' | 'webhook';
  target: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  last_error: string | null;
  entry_id: string | null;
  test: boolean;
  created_time: string;
  next_attempt_time: string | null;
  delivered_time: string | null;
}

export interface AlertNotification {
  id: string;
  rule: { id: string; name: string };
  title: string;
  link: string | null;
  entry: { id: string } | null;
  created_time: string;
  read: boolean;
}

/** Zoho allows five actions per rule; the server refuses a sixth. */
export const MAX_ACTIONS = 5;

export async function listRules(): Promise<AlertRule[]> {
  return (await apiGet<{ alert_rules: AlertRule[] }>('/api/v1/alert-rules'))?.alert_rules ?? [];
}

/** Answers the generated webhook secret, once, when the rule has a webhook and none was given. */
export const createRule = (rule: RuleInput) =>
  apiSend<{ alert_rule: AlertRule; webhook_secret?: string }>('POST', '/api/v1/alert-rules', rule);

export const updateRule = (id: string, patch: Partial<RuleInput>) =>
  apiSend<{ alert_rule: AlertRule; webhook_secret?: string }>('PATCH', `/api/v1/alert-rules/${encodeURIComponent(id)}`, patch);

export const deleteRule = (id: string) => apiSend<void>('DELETE', `/api/v1/alert-rules/${encodeURIComponent(id)}`);

export const testRule = (id: string) =>
  apiSend<{ sample_entry_id: string | null; alert_deliveries: AlertDelivery[] }>('POST', `/api/v1/alert-rules/${encodeURIComponent(id)}/test`, {});

export async function listDeliveries(status?: string): Promise<AlertDelivery[]> {
  return (await apiGet<{ alert_deliveries: AlertDelivery[] }>('/api/v1/alert-deliveries', { status, per_page: 100 }))?.alert_deliveries ?? [];
}

export const retryDelivery = (id: string) =>
  apiSend<{ alert_delivery: AlertDelivery }>('POST', `/api/v1/alert-deliveries/${encodeURIComponent(id)}/retry`, {});

export async function listNotifications(): Promise<{ unread: number; notifications: AlertNotification[] }> {
  return (await apiGet<{ unread: number; notifications: AlertNotification[] }>('/api/v1/alert-notifications')) ?? { unread: 0, notifications: [] };
}

export const markAllRead = () => apiSend<{ marked: number }>('POST', '/api/v1/alert-notifications/read', { all: true });
