import { describe, expect, it } from 'vitest';
import { EMPTY_FORM, formOf, formProblems, inputOf, describeCondition } from './ruleForm.ts';

describe('the alert rule form', () => {
  it('turns into the API\'s rule and back', () => {
    const f = { ...EMPTY_FORM, name: ' Delete, Deals ', conditions: [{ type: 'action' as const, operator: 'is' as const, values: ['deleted'] }],
      emails: ['a@x.example'], webhooks: ['https://hooks.example/x'], webhookBatch: 25 as const, notify: true, quietMinutes: 10 as const,
      webhookSecret: 'sixteen-characters' };
    const input = inputOf(f, true);
    expect(input).toEqual({ name: 'Delete, Deals', enabled: true, conditions: [{ type: 'action', operator: 'is', values: ['deleted'] }],
      actions: [{ type: 'email', to: ['a@x.example'] }, { type: 'webhook', url: 'https://hooks.example/x', batch_size: 25 }, { type: 'notification' }],
      quiet_minutes: 10, webhook_secret: 'sixteen-characters' });
    expect(inputOf(f, false).webhook_secret).toBeUndefined();
    const back = formOf({ id: '1', ...input, quiet_minutes: 10, has_webhook_secret: true, owner: null, created_time: '', modified_time: '', enabled: true });
    expect(back).toEqual({ ...f, name: 'Delete, Deals', webhookSecret: '' });
  });

  it('keeps webhooks\' different batch sizes until one is set for all', () => {
    const rule = { id: '1', name: 'Mixed', enabled: true, conditions: [{ type: 'action' as const, operator: 'is' as const, values: ['added'] }],
      actions: [{ type: 'webhook' as const, url: 'https://a.example/', batch_size: 10 }, { type: 'webhook' as const, url: 'https://b.example/' }],
      quiet_minutes: null, has_webhook_secret: true, owner: null, created_time: '', modified_time: '' };
    const f = formOf(rule);
    expect(inputOf(f, false).actions).toEqual(rule.actions);
    expect(inputOf({ ...f, webhookBatch: 5, keptBatches: undefined }, false).actions)
      .toEqual([{ type: 'webhook', url: 'https://a.example/', batch_size: 5 }, { type: 'webhook', url: 'https://b.example/', batch_size: 5 }]);
  });

  it('says what is missing before asking the server', () => {
    const problems = formProblems({ ...EMPTY_FORM, notify: false, webhookSecret: 'short', webhookBatch: 101 }).map((p) => p.field);
    expect(problems).toEqual(['name', 'condition-0', 'actions', 'batch', 'secret']);
    // One entry a request is the default: no batch_size is sent.
    expect(inputOf({ ...EMPTY_FORM, webhooks: ['https://h.example/'], webhookBatch: 1, notify: false }, false).actions).toEqual([{ type: 'webhook', url: 'https://h.example/' }]);
  });

  it('reads a condition as words', () => {
    expect(describeCondition({ type: 'profile', operator: 'is_not', values: ['7'] }, () => 'Administrator')).toBe('User\'s profile is not Administrator');
  });
});
