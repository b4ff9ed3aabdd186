import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, withApp } from './helpers.ts';
import type { Actor } from '../src/services/context.ts';

/**
 * Findings trigger alert rules (issue #15 part 3): a new finding enters the chain as a
 * `finding_detected` entry in the transaction that stores it, so the alerts' durable cursor meets
 * it like any entry, under the rule owner's visibility of the user the finding is about.
 */
describe.each(BACKENDS)('findings trigger alert rules on %s', (backend) => {
  const t = withApp({ backend, token: false });
  const actors: Record<string, Actor> = {};
  const ids: Record<string, string> = {};

  async function deleteLeads(who: Actor, n: number) {
    const made = await t.env.rt.services.records.createRecords(who, 'Leads', Array.from({ length: n }, (_, i) => ({ Last_Name: `Lead ${i}` })));
    t.env.advance(60_000);
    await t.env.rt.services.records.deleteRecords(who, 'Leads', made.map((r) => (r.ok ? r.row.id : '')));
  }

  beforeAll(async () => {
    const dir = t.env.rt.services.directory;
    const team = (await dir.createRole(t.admin, { name: 'Team', reporting_to: { id: t.org.roles.manager.id } })).id;
    const other = (await dir.createRole(t.admin, { name: 'Other', reporting_to: { id: t.org.roles.ceo.id } })).id;
    for (const [key, role] of [['manager', t.org.roles.manager.id], ['trainee', team], ['peer', other]] as const) {
      ids[key] = (await dir.createUser(t.admin, { last_name: key, email: `${key}@acme.example`, role: { id: role },
        profile: { id: t.org.profiles.standard.id } })).id;
    }
    const deleters = await dir.cloneProfile(t.admin, t.org.profiles.standard.id, { name: 'Deleters', permissions: {
      modules: { '*': { view: true, create: true, edit: true, delete: true } }, settings: { audit_log: true, export_audit_log: true } } });
    for (const key of ['manager', 'trainee', 'peer']) await dir.updateUser(t.admin, ids[key], { profile: { id: deleters.id } });
    for (const key of ['manager', 'trainee', 'peer']) actors[key] = await dir.actorForUser(t.orgId, ids[key]);
  });

  it('a manager\'s rule on mass deletions is told about their trainee\'s, not their peer\'s; the administrator\'s about both', async () => {
    const alerts = t.env.rt.services.alerts;
    await alerts.createRule(actors.manager, { name: 'Team mass deletions', conditions: [{ type: 'finding', values: ['mass_deletion'] }],
      actions: [{ type: 'notification' }] });
    await alerts.createRule(t.admin, { name: 'Any mass deletion', conditions: [{ type: 'finding', values: ['mass_deletion'] }],
      actions: [{ type: 'notification' }] });
    t.env.advance(3600_000);
    await deleteLeads(actors.trainee, 60);
    t.env.advance(3600_000);
    await deleteLeads(actors.peer, 55);
    await t.env.rt.services.findings.scanOrganisation(t.orgId);

    const announced = await t.env.store.db.selectFrom('audit_entries').select(['action', 'actor_type', 'record_name', 'details'])
      .where('org_id', '=', t.orgId).where('action', '=', 'finding_detected').orderBy('seq').execute();
    // The profile change above is announced too (a permission_change finding about the Administrator).
    expect(announced.map((e) => e.record_name).filter((n) => n?.startsWith('mass_deletion'))).toEqual(['mass_deletion: trainee', 'mass_deletion: peer']);
    expect(announced.every((e) => e.actor_type === 'system')).toBe(true);

    await alerts.pump();
    const manager = (await alerts.listNotifications(actors.manager, {})).notifications.map((n) => n.title);
    expect(manager).toEqual(['Team mass deletions: medium mass_deletion: trainee deleted 60 Leads in 1 minute; no baseline yet, threshold: 50']);
    const admin = (await alerts.listNotifications(t.admin, {})).notifications.filter((n) => n.rule.name === 'Any mass deletion');
    expect(admin).toHaveLength(2);

    // More deletions in the same episode extend the finding: no second announcement, no second alert.
    t.env.advance(-3600_000 + 120_000);
    await deleteLeads(actors.trainee, 10);
    await t.env.rt.services.findings.scanOrganisation(t.orgId);
    await alerts.pump();
    expect((await t.env.store.db.selectFrom('audit_entries').select('id').where('org_id', '=', t.orgId)
      .where('action', '=', 'finding_detected').where('record_name', 'like', 'mass_deletion%').execute()).length).toBe(2);
    expect((await alerts.listNotifications(actors.manager, {})).notifications).toHaveLength(1);
  });

  it('leaves the chain intact: verify walks the findings\' entries like any other', async () => {
    const r = await t.env.rt.services.audit.verifyChain(t.orgId, { sign: false });
    expect(r.ok).toBe(true);
  });
});
