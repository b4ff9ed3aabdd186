import { AppError } from '../domain/errors.ts';
import { isId, newId } from '../domain/ids.ts';
import { mergeSettingsJson } from '../domain/org-settings.ts';
import {
  applySharingDefaults, parseDataSharing, parseSharingRule, ruleView, sharingModules, sharingTypeOf, type DataSharing,
} from '../domain/sharing.ts';
import type { FieldChange } from '../domain/audit.ts';
import { inTransaction, type Actor, type ServiceDeps, type Tx } from './context.ts';
import { requireAdministrator } from './authorization.ts';

/** The most sharing rules an organisation keeps (Zoho allows a few hundred; every read evaluates them). */
export const MAX_SHARING_RULES = 300;

/**
 * Data sharing settings: the per-module organisation-wide defaults and the sharing rules
 * (domain/sharing.ts). Administrators read and change them; every change is audited as
 * `sharing_updated` with old and new values, in the transaction that makes it.
 */
export function createSharingService(deps: ServiceDeps) {
  const { store } = deps;

  const stored = (json: string | null | undefined): DataSharing =>
    parseDataSharing(json ? (JSON.parse(json) as { data_sharing?: unknown }).data_sharing : undefined);

  async function roleNames(orgId: string) {
    return new Map((await store.repos.directory.listRoles(orgId)).map((r) => [r.id, r.name]));
  }

  /** Every module with a setting of its own, with its default, in Zoho's `data_sharing` shape. Throws NO_PERMISSION. */
  async function defaults(actor: Actor) {
    requireAdministrator(actor);
    const ds = stored((await store.repos.directory.getOrg(actor.orgId))?.settings);
    return sharingModules().map((m) => ({ module: { api_name: m.apiName }, type: sharingTypeOf(ds, m.apiName),
      rule_computation_running: false, public_in_portals: false, share_to_territories: null }));
  }

  /** Sharing rules, of one module or all. Throws NO_PERMISSION, INVALID_MODULE. */
  async function rules(actor: Actor, module?: string) {
    requireAdministrator(actor);
    const ds = stored((await store.repos.directory.getOrg(actor.orgId))?.settings);
    const names = await roleNames(actor.orgId);
    return ds.rules.filter((r) => !module || r.module === module).map((r) => ruleView(r, names));
  }

  /** Reads, changes and writes the settings in one transaction, audited with the changes it made. */
  async function change(actor: Actor, work: (ds: DataSharing, tx: Tx) => Promise<{ next: DataSharing; changes: FieldChange[] }>) {
    requireAdministrator(actor);
    return inTransaction(deps, actor, async (tx) => {
      const org = await tx.store.directory.getOrg(actor.orgId);
      if (!org) throw new AppError('INVALID_DATA', 'no such organisation', {});
      const { next, changes } = await work(stored(org.settings), tx);
      if (changes.length === 0) return next;
      await tx.store.directory.updateOrg(actor.orgId, { settings: mergeSettingsJson(org.settings, { data_sharing: next }) });
      tx.audit({ action: 'sharing_updated', module: null, recordId: actor.orgId, recordName: org.name, parentModule: null,
        parentId: null, batchId: null, fieldHistory: changes, extra: null });
      return next;
    });
  }

  /** `PUT /settings/data_sharing`: new defaults for the modules named. Throws as applySharingDefaults. */
  async function updateDefaults(actor: Actor, items: unknown[]) {
    requireAdministrator(actor);
    if (!Array.isArray(items) || items.length === 0) {
      throw new AppError('MANDATORY_NOT_FOUND', 'required field not found', { api_name: 'data_sharing', json_path: '$.data_sharing' });
    }
    await change(actor, async (ds) => applySharingDefaults(ds, items));
    return defaults(actor);
  }

  async function roleIds(tx: Tx, orgId: string) {
    return new Set((await tx.store.directory.listRoles(orgId)).map((r) => r.id));
  }

  const ruleChange = (id: string, old: unknown, next: unknown): FieldChange => ({ api_name: `sharing_rule:${id}`, field_label: 'Sharing rule', old, new: next });

  /** Adds a sharing rule; returns it. Throws MANDATORY_NOT_FOUND, INVALID_DATA, LIMIT_EXCEEDED. */
  async function createRule(actor: Actor, raw: unknown) {
    requireAdministrator(actor);
    const id = newId();
    const ds = await change(actor, async (current, tx) => {
      if (current.rules.length >= MAX_SHARING_RULES) {
        throw new AppError('LIMIT_EXCEEDED', `an organisation keeps at most ${MAX_SHARING_RULES} sharing rules`, { limit: MAX_SHARING_RULES });
      }
      const rule = parseSharingRule(raw, await roleIds(tx, actor.orgId), '$.sharing_rules[0]', id);
      return { next: { ...current, rules: [...current.rules, rule] }, changes: [ruleChange(id, null, rule)] };
    });
    return ruleView(ds.rules.find((r) => r.id === id)!, await roleNames(actor.orgId));
  }

  const missingRule = () => new AppError('INVALID_DATA', 'the sharing rule id given seems to be invalid', { resource_path_index: 2 });

  /** Replaces a sharing rule's definition (the keys given; the rest is kept). Throws as createRule, INVALID_DATA for an unknown id. */
  async function updateRule(actor: Actor, id: string, raw: unknown) {
    requireAdministrator(actor);
    if (!isId(id)) throw missingRule();
    const ds = await change(actor, async (current, tx) => {
      const old = current.rules.find((r) => r.id === id);
      if (!old) throw missingRule();
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new AppError('INVALID_DATA', 'invalid data', { json_path: '$.sharing_rules[0]', expected_data_type: 'jsonobject' });
      }
      const rule = parseSharingRule({ ...ruleView(old, new Map()), ...raw }, await roleIds(tx, actor.orgId), '$.sharing_rules[0]', id);
      const same = JSON.stringify(rule) === JSON.stringify(old);
      return { next: { ...current, rules: current.rules.map((r) => (r.id === id ? rule : r)) }, changes: same ? [] : [ruleChange(id, old, rule)] };
    });
    return ruleView(ds.rules.find((r) => r.id === id)!, await roleNames(actor.orgId));
  }

  /** Removes a sharing rule. Throws INVALID_DATA for an unknown id. */
  async function deleteRule(actor: Actor, id: string) {
    requireAdministrator(actor);
    if (!isId(id)) throw missingRule();
    await change(actor, async (current) => {
      const old = current.rules.find((r) => r.id === id);
      if (!old) throw missingRule();
      return { next: { ...current, rules: current.rules.filter((r) => r.id !== id) }, changes: [ruleChange(id, old, null)] };
    });
    return { id };
  }

  return { defaults, updateDefaults, rules, createRule, updateRule, deleteRule };
}

export type SharingService = ReturnType<typeof createSharingService>;
