import { MAX_WEBHOOK_BATCH, type AlertAction, type AlertCondition, type ConditionType } from '../../domain/alert-rules.ts';
import type { Runtime } from '../../services/runtime.ts';
import type { CliCommand } from '../command.ts';
import { actor, profileId, roleId, userByEmail } from '../directory-lookup.ts';
import { CliError, out, say } from '../output.ts';

/** `auditrail alert ...`: alert rules, their deliveries and dead letters, as the CLI (the system) sees them: all. */

export interface AlertCreateFlags {
  org?: string; name: string; action?: string[]; notAction?: string[]; module?: string[]; notModule?: string[];
  user?: string[]; notUser?: string[]; profile?: string[]; notProfile?: string[]; role?: string[]; notRole?: string[];
  source?: string[]; notSource?: string[]; field?: string[]; finding?: string[];
  email?: string[]; webhook?: string[]; webhookBatch?: string; notify?: boolean; webhookSecret?: string; quietMinutes?: string; disabled?: boolean; json?: boolean;
}

/** Repeatable options: each value may itself be a comma-separated list. */
const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];

/** The rule's conditions from the flags, with users named by email and profiles and roles by name (or id). */
async function conditionsOf(rt: Runtime, orgId: string, f: AlertCreateFlags): Promise<AlertCondition[]> {
  const out: AlertCondition[] = [];
  const add = async (type: ConditionType, operator: 'is' | 'is_not', values: string[] | undefined, resolve?: (v: string) => Promise<string>) => {
    if (!values?.length) return;
    out.push({ type, operator, values: resolve ? await Promise.all(values.map(resolve)) : values });
  };
  const user = async (email: string) => (await userByEmail(rt, orgId, email)).id;
  const profile = async (name: string) => (await profileId(rt, orgId, name))!.id;
  const role = async (name: string) => (await roleId(rt, orgId, name))!.id;
  await add('action', 'is', f.action);
  await add('action', 'is_not', f.notAction);
  await add('module', 'is', f.module);
  await add('module', 'is_not', f.notModule);
  await add('user', 'is', f.user, user);
  await add('user', 'is_not', f.notUser, user);
  await add('profile', 'is', f.profile, profile);
  await add('profile', 'is_not', f.notProfile, profile);
  await add('role', 'is', f.role, role);
  await add('role', 'is_not', f.notRole, role);
  await add('source', 'is', f.source);
  await add('source', 'is_not', f.notSource);
  await add('field', 'is', f.field);
  await add('finding', 'is', f.finding);
  return out;
}

export async function alertCreateCommand(rt: Runtime, f: AlertCreateFlags) {
  if (f.webhookBatch !== undefined && !/^\d+$/.test(f.webhookBatch)) throw new CliError(`--webhook-batch must be a whole number from 1 to ${MAX_WEBHOOK_BATCH}`);
  const batch = f.webhookBatch === undefined ? 1 : Number(f.webhookBatch);
  const { org, actor: a } = await actor(rt, f.org);
  const actions: AlertAction[] = [
    ...(f.email?.length ? [{ type: 'email' as const, to: f.email }] : []),
    ...(f.webhook ?? []).map((url) => ({ type: 'webhook' as const, url, ...(batch > 1 ? { batch_size: batch } : {}) })),
    ...(f.notify ? [{ type: 'notification' as const }] : []),
  ];
  if (f.quietMinutes !== undefined && !/^\d+$/.test(f.quietMinutes)) throw new CliError('--quiet-minutes must be a whole number');
  const r = await rt.services.alerts.createRule(a, {
    name: f.name, enabled: !f.disabled, conditions: await conditionsOf(rt, org.id, f), actions,
    ...(f.quietMinutes !== undefined ? { quiet_minutes: Number(f.quietMinutes) } : {}),
    ...(f.webhookSecret !== undefined ? { webhook_secret: f.webhookSecret } : {}),
  });
  if (f.json) {
    out(JSON.stringify({ alert_rule: r.rule, ...(r.secret ? { webhook_secret: r.secret } : {}) }));
    return 0;
  }
  out(`alert rule created: ${r.rule.id} (${r.rule.name})`);
  if (r.secret) {
    out(`webhook secret: ${r.secret}`);
    say('the webhook secret is shown only now: receivers check X-Auditrail-Signature with it.');
  }
  return 0;
}

/** A condition in the table: users by email, profiles and roles by name (an id no longer known stays an id). */
const describeCondition = (c: AlertCondition, names: Map<string, string>) =>
  `${c.type} ${c.operator === 'is' ? '=' : '!='} ${c.values.map((v) => (['user', 'profile', 'role'].includes(c.type) ? names.get(v) ?? v : v)).join('|')}`;
const describeAction = (a: AlertAction) => (a.type === 'email' ? `email ${a.to.join(',')}` : a.type === 'webhook' ? `webhook ${a.url}${a.batch_size ? ` (up to ${a.batch_size} entries a POST)` : ''}` : 'notification');

export async function alertListCommand(rt: Runtime, f: { org?: string; json?: boolean }) {
  const { actor: a } = await actor(rt, f.org);
  const rules = await rt.services.alerts.listRules(a);
  if (f.json) {
    out(JSON.stringify({ alert_rules: rules }));
    return 0;
  }
  const orgId = a.orgId;
  const dir = rt.store.repos.directory;
  const [users, profiles, roles] = await Promise.all([dir.listUsers(orgId), dir.listProfiles(orgId), dir.listRoles(orgId)]);
  const names = new Map<string, string>([...users.map((u) => [u.id, u.email] as const), ...profiles.map((p) => [p.id, p.name] as const),
    ...roles.map((r) => [r.id, r.name] as const)]);
  out(['ID', 'NAME', 'ENABLED', 'CONDITIONS', 'ACTIONS'].join('\t'));
  for (const r of rules) {
    out([r.id, r.name, r.enabled ? 'yes' : 'no', r.conditions.map((c) => describeCondition(c, names)).join(' and '),
      r.actions.map(describeAction).join('; ')].join('\t'));
  }
  return 0;
}

export async function alertTestCommand(rt: Runtime, f: { org?: string; id: string; json?: boolean }) {
  const { actor: a } = await actor(rt, f.org);
  const r = await rt.services.alerts.testRule(a, f.id);
  if (f.json) {
    out(JSON.stringify({ sample_entry_id: r.sampleEntryId, alert_deliveries: r.deliveries }));
  } else {
    say(r.sampleEntryId ? `sent with entry ${r.sampleEntryId}` : 'sent without an entry (the rule\'s owner sees none yet)');
    for (const d of r.deliveries) out([d.id, d.channel, d.target, d.status, d.last_error ?? ''].join('\t'));
  }
  return r.deliveries.every((d) => d.status === 'delivered') ? 0 : 1;
}

export async function alertDeliveriesCommand(rt: Runtime, f: { org?: string; status?: string; rule?: string; limit?: string; json?: boolean }) {
  const { actor: a } = await actor(rt, f.org);
  if (f.limit !== undefined && !/^\d+$/.test(f.limit)) throw new CliError('--limit must be a whole number');
  const r = await rt.services.alerts.listDeliveries(a, { status: f.status, ruleId: f.rule, limit: f.limit ? Number(f.limit) : 50 });
  if (f.json) {
    out(JSON.stringify({ alert_deliveries: r.deliveries }));
    return 0;
  }
  out(['ID', 'RULE', 'CHANNEL', 'TARGET', 'STATUS', 'ATTEMPTS', 'CREATED', 'LAST ERROR'].join('\t'));
  for (const d of r.deliveries) {
    out([d.id, d.rule.name, d.channel, d.target, d.status, String(d.attempts), d.created_time, d.last_error ?? ''].join('\t'));
  }
  return 0;
}

export async function alertRetryCommand(rt: Runtime, f: { org?: string; id: string }) {
  const { actor: a } = await actor(rt, f.org);
  const d = await rt.services.alerts.retryDelivery(a, f.id);
  out(`${d.id}\t${d.status}${d.last_error ? `\t${d.last_error}` : ''}`);
  return d.status === 'delivered' ? 0 : 1;
}

export async function alertDeleteCommand(rt: Runtime, f: { org?: string; id: string }) {
  const { actor: a } = await actor(rt, f.org);
  await rt.services.alerts.deleteRule(a, f.id);
  say(`alert rule ${f.id} deleted`);
  return 0;
}

export async function alertEnableCommand(rt: Runtime, f: { org?: string; id: string }, enabled: boolean) {
  const { actor: a } = await actor(rt, f.org);
  const r = await rt.services.alerts.updateRule(a, f.id, { enabled });
  say(`alert rule ${r.rule.id} ${enabled ? 'enabled' : 'disabled'}`);
  return 0;
}

export const command: CliCommand = {
  define(cmd, ctx) {
    const create = cmd.command('create').description('create an alert rule; without --webhook-secret a secret is generated and printed once')
      .requiredOption('--name <name>', 'the rule\'s name (unique)')
      .option('--org <id>', 'organisation id (default: the first)');
    const list = (flag: string, help: string) => create.option(flag, `${help} (repeatable, or comma-separated)`, collect);
    list('--action <action>', 'entry action is, e.g. deleted');
    list('--not-action <action>', 'entry action is not');
    list('--module <module>', 'module is, e.g. Deals');
    list('--not-module <module>', 'module is not');
    list('--user <email>', 'done by the user');
    list('--not-user <email>', 'not done by the user');
    list('--profile <name>', 'the user\'s profile is');
    list('--not-profile <name>', 'the user\'s profile is not, e.g. Administrator');
    list('--role <name>', 'the user\'s role is');
    list('--not-role <name>', 'the user\'s role is not');
    list('--source <source>', 'source is (crm_ui, api, import, ...)');
    list('--not-source <source>', 'source is not');
    list('--field <api_name>', 'the entry changed this record field');
    list('--finding <kind>', 'an anomaly finding of this kind');
    list('--email <address>', 'email these addresses');
    list('--webhook <url>', 'POST a signed JSON body to this HTTPS URL');
    create.option('--notify', 'an in-console notification')
      .option('--webhook-secret <secret>', 'sign webhooks with this secret (16+ characters)')
      .option('--webhook-batch <n>', `up to n entries a webhook POST (1 to ${MAX_WEBHOOK_BATCH}; default 1), for rules that fire on many entries`)
      .option('--quiet-minutes <n>', 'do not fire again for the same user within n minutes')
      .option('--disabled', 'create the rule disabled')
      .option('--json', 'print one JSON object')
      .action(ctx.action((o: AlertCreateFlags) => ctx.withRuntime({ migrate: true }, (rt) => alertCreateCommand(rt, o))));
    cmd.command('list').description('list the alert rules').option('--org <id>').option('--json')
      .action(ctx.action((o: { org?: string; json?: boolean }) => ctx.withRuntime({ migrate: false }, (rt) => alertListCommand(rt, o))));
    cmd.command('test <id>').description('send the rule\'s actions now, marked as a test (audited); exit 1 unless all were delivered')
      .option('--org <id>').option('--json')
      .action(ctx.action((id: string, o: { org?: string; json?: boolean }) =>
        ctx.withRuntime({ migrate: true }, (rt) => alertTestCommand(rt, { ...o, id }))));
    cmd.command('deliveries').description('list deliveries, newest first; --status dead is the dead-letter list')
      .option('--org <id>').option('--status <status>', 'pending, delivered or dead').option('--rule <id>', 'one rule\'s')
      .option('--limit <n>', 'at most n (default 50)').option('--json')
      .action(ctx.action((o: { org?: string; status?: string; rule?: string; limit?: string; json?: boolean }) =>
        ctx.withRuntime({ migrate: false }, (rt) => alertDeliveriesCommand(rt, o))));
    cmd.command('retry <delivery-id>').description('send a dead delivery again now (audited); exit 1 unless delivered')
      .option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => alertRetryCommand(rt, { ...o, id }))));
    cmd.command('enable <id>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => alertEnableCommand(rt, { ...o, id }, true))));
    cmd.command('disable <id>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => alertEnableCommand(rt, { ...o, id }, false))));
    cmd.command('delete <id>').option('--org <id>')
      .action(ctx.action((id: string, o: { org?: string }) => ctx.withRuntime({ migrate: true }, (rt) => alertDeleteCommand(rt, { ...o, id }))));
  },
};
