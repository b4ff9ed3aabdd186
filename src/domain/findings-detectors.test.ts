import { describe, expect, it } from 'vitest';
import { detectAll, runDetectors, type DetectorState } from './findings-detectors.ts';
import {
  applyFindingSettingsPatch, DEFAULT_FINDING_SETTINGS, eventFromApiEntry, parseFindingSettings, type DetectedFinding, type DetectorEvent,
} from './findings.ts';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 0, 5); // a Monday
const ctx = { timeZone: 'UTC', adminProfileIds: new Set(['900']) };
let n = 0;
const ev = (at: number, action: string, over: Partial<DetectorEvent> = {}): DetectorEvent => ({
  id: String(1_000_000 + n++), at, action, userId: '7', userName: 'Priya Patel', module: 'Leads', recordId: String(5_000_000 + n),
  recordName: 'Lead', ip: '10.0.0.7', batchId: null, fields: [], details: null, ...over,
});

/** Twenty working days, 9:00 to 17:00 UTC: a few updates an hour and a few deletions a day. */
function history(days = 20, userId = '7') {
  const out: DetectorEvent[] = [];
  for (let d = 0; d < days; d++) {
    for (let h = 9; h < 17; h++) {
      for (let k = 0; k < 3; k++) out.push(ev(T0 + d * DAY + h * 3600_000 + k * 7 * MIN, 'updated', { userId }));
    }
    for (let k = 0; k < 9; k++) out.push(ev(T0 + d * DAY + 15 * 3600_000 + k * MIN, 'deleted', { userId }));
  }
  return out;
}

const kinds = (fs: DetectedFinding[]) => fs.map((f) => f.kind);

describe('the detectors', () => {
  it('stay silent on ordinary work', () => {
    expect(detectAll(history(), ctx)).toEqual([]);
  });

  it('find a mass deletion against the user\'s own baseline, and say it with numbers', () => {
    const start = T0 + 21 * DAY + 10 * 3600_000;
    const burst = Array.from({ length: 312 }, (_, i) => ev(start + Math.floor(i * 4 * MIN / 312), 'deleted'));
    const found = detectAll([...history(), ...burst], ctx).filter((f) => f.kind === 'mass_deletion');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'high', userId: '7', userName: 'Priya Patel', startedAt: start });
    expect(found[0].explanation).toBe('deleted 312 Leads in 4 minutes; usual: at most 9 a day');
    expect(found[0].entryIds).toEqual(burst.map((e) => e.id));
  });

  it('leave a deletion under the threshold alone', () => {
    const start = T0 + 21 * DAY + 10 * 3600_000;
    const some = Array.from({ length: 27 }, (_, i) => ev(start + i * 1000, 'deleted'));
    expect(kinds(detectAll([...history(), ...some], ctx))).not.toContain('mass_deletion');
  });

  it('give the same findings however the entries are cut into batches', () => {
    const start = T0 + 21 * DAY + 10 * 3600_000;
    const all = [...history(), ...Array.from({ length: 120 }, (_, i) => ev(start + i * 1000, 'deleted')),
      ...Array.from({ length: 15 }, (_, i) => ev(start + 3600_000 + i * 2000, 'login_failed', { details: { client_id: '1000.X' } }))];
    const whole = detectAll(all, ctx);
    let state: DetectorState | null = null;
    const latest = new Map<string, DetectedFinding>();
    for (let i = 0; i < all.length; i += 37) {
      const r = runDetectors(state, all.slice(i, i + 37), ctx);
      // The state goes through JSON, as it does through the database.
      state = JSON.parse(JSON.stringify(r.state)) as DetectorState;
      for (const f of r.findings) latest.set(f.key, f);
    }
    expect([...latest.values()].sort((a, b) => a.startedAt - b.startedAt)).toEqual(whole);
    // 120 deletions one by one in two minutes are also a burst of actions.
    expect(kinds(whole).sort()).toEqual(['activity_burst', 'failed_login_burst', 'mass_deletion']);
  });

  it('find a burst of failed sign-ins, high when a sign-in succeeds after it', () => {
    const start = T0 + 3 * DAY;
    const fails = Array.from({ length: 12 }, (_, i) => ev(start + i * 20_000, 'login_failed', { ip: '203.0.113.9', details: { client_id: '1000.X' } }));
    const [f] = detectAll(fails, ctx);
    expect(f).toMatchObject({ kind: 'failed_login_burst', severity: 'medium', userId: '7' });
    expect(f.explanation).toBe('12 failed sign-ins in 4 minutes for Priya Patel from 203.0.113.9 (client 1000.X); threshold: 10 within 10 minutes');
    const [g] = detectAll([...fails, ev(start + 5 * MIN, 'login', { ip: '203.0.113.9' })], ctx);
    expect(g.severity).toBe('high');
    expect(g.explanation).toMatch(/then a successful sign-in$/);
    // A tally summary counts its attempts.
    const [h] = detectAll([ev(start, 'login_failed', { details: { attempts: 40, reason: 'too_many_requests' } })], ctx);
    expect(h.explanation).toMatch(/^40 failed sign-ins/);
    expect(detectAll(fails.slice(0, 9), ctx)).toEqual([]);
  });

  it('weigh permission changes: an Administrator grant is high, adding a role low', () => {
    const at = T0 + DAY;
    const grant = ev(at, 'user_updated', { userId: '1', userName: 'Ada Admin', module: 'users', recordName: 'Ravi Kumar',
      fields: [{ api_name: 'profile', field_label: 'Profile', old: '901', new: '900' }] });
    const role = ev(at + DAY, 'role_added', { userId: '1', userName: 'Ada Admin', module: 'roles', recordName: 'Ops' });
    const rename = ev(at + 2 * DAY, 'role_updated', { userId: '1', module: 'roles', fields: [{ api_name: 'name', field_label: 'Name', old: 'a', new: 'b' }] });
    const sharing = ev(at + 3 * DAY, 'sharing_updated', { userId: '1', module: null, fields: [
      { api_name: 'Leads', field_label: 'Leads default access', old: 'private', new: 'public_read_write_delete' }] });
    const found = detectAll([grant, role, rename, sharing], ctx);
    expect(found.map((f) => [f.severity, f.explanation])).toEqual([
      ['high', 'gave Ravi Kumar the Administrator profile'], ['low', 'added the role Ops'],
      ['medium', 'set the default access to Leads to public_read_write_delete']]);
  });

  it('learn which profile is the Administrator from the entries themselves', () => {
    const at = T0 + DAY;
    const named = ev(at, 'profile_updated', { module: 'profiles', recordId: '777', recordName: 'Administrator', userId: null });
    const grant = ev(at + MIN, 'user_updated', { module: 'users', recordName: 'Ravi', fields: [{ api_name: 'profile', field_label: 'Profile', old: '1', new: '777' }] });
    expect(detectAll([named, grant], { timeZone: 'UTC', adminProfileIds: new Set() })[0].severity).toBe('high');
  });

  it('find work at hours the user never works, in the organisation\'s zone', () => {
    const night = T0 + 21 * DAY + 3 * 3600_000;
    const late = [ev(night, 'login'), ...Array.from({ length: 4 }, (_, i) => ev(night + (i + 1) * MIN, 'exported', { details: { count: 20 } }))];
    const [f] = detectAll([...history(), ...late], ctx);
    expect(f).toMatchObject({ kind: 'off_hours', severity: 'medium' });
    expect(f.explanation).toBe('worked from 03:00 to 03:04 (5 actions, 4 of them deletions, exports or permission changes); '
      + 'usual: active between 02:00 and 05:00 on 0 of their last 20 active days');
    // 03:00 UTC is 08:30 in Kolkata: 14:30 to 22:30 there is the usual; 08:30 is not either.
    expect(detectAll([...history(), ...late], { ...ctx, timeZone: 'Asia/Kolkata' })[0].explanation).toMatch(/^worked from 08:30 to 08:34/);
    // Within the usual hours nothing is found.
    expect(detectAll([...history(), ...late.map((e) => ({ ...e, at: e.at + 8 * 3600_000 }))], ctx)).toEqual([]);
  });

  it('find a burst of actions against the user\'s busiest minutes, counting a mass action once', () => {
    const start = T0 + 21 * DAY + 11 * 3600_000;
    const script = Array.from({ length: 200 }, (_, i) => ev(start + i * 1500, 'updated'));
    const [f] = detectAll([...history(), ...script], ctx);
    expect(f).toMatchObject({ kind: 'activity_burst', severity: 'medium' });
    expect(f.explanation).toBe('made 200 changes in 5 minutes (at most 40 a minute); usual: at most 1 a minute');
    const mass = Array.from({ length: 200 }, (_, i) => ev(start + i * 10, 'updated', { batchId: '42' }));
    expect(detectAll([...history(), ...mass], ctx)).toEqual([]);
  });

  it('find data leaving far above the user\'s baseline', () => {
    const at = T0 + 21 * DAY + 11 * 3600_000;
    const usual = Array.from({ length: 20 }, (_, d) => ev(T0 + d * DAY + 12 * 3600_000, 'exported', { details: { count: 30 } }));
    const big = [ev(at, 'exported', { module: 'Contacts', details: { count: 25_000 } })];
    const found = detectAll([...history(), ...usual, ...big], ctx);
    expect(found.map((f) => [f.kind, f.severity, f.explanation])).toEqual([
      ['data_leaving', 'high', 'exported 25,000 Contacts in 1 export within 1 minute; usual: at most 30 records a day']]);
  });

  it('are switched off and tuned by the settings', () => {
    const start = T0 + 21 * DAY + 10 * 3600_000;
    const some = Array.from({ length: 30 }, (_, i) => ev(start + i * 1000, 'deleted'));
    const off = applyFindingSettingsPatch(DEFAULT_FINDING_SETTINGS, { mass_deletion: { enabled: false } }).next;
    const low = applyFindingSettingsPatch(DEFAULT_FINDING_SETTINGS, { mass_deletion: { min_records: 10, baseline_multiplier: 1 } }).next;
    expect(kinds(detectAll([...history(), ...some], ctx, low))).toContain('mass_deletion');
    expect(kinds(detectAll([...history(), ...some], ctx, off))).not.toContain('mass_deletion');
  });
});

describe('finding settings', () => {
  it('fill defaults in and refuse unknown or out-of-range values, naming them', () => {
    expect(parseFindingSettings('{"off_hours":{"rare_percent":9}}').off_hours).toMatchObject({ rare_percent: 9, min_history_days: 14 });
    const { changes } = applyFindingSettingsPatch(DEFAULT_FINDING_SETTINGS, { activity_burst: { min_per_minute: 60 } });
    expect(changes).toEqual([{ api_name: 'activity_burst.min_per_minute', field_label: 'activity_burst.min_per_minute', old: 30, new: 60 }]);
    for (const [patch, message] of [
      [{ nope: {} }, 'unknown finding kind nope'], [{ off_hours: { nope: 1 } }, 'unknown setting off_hours.nope'],
      [{ off_hours: { rare_percent: 101 } }, 'off_hours.rare_percent must be an integer from 0 to 100'],
      [{ off_hours: { enabled: 'yes' } }, 'off_hours.enabled must be true or false'], [[1], 'the settings must be an object of kinds'],
    ] as const) {
      expect(() => applyFindingSettingsPatch(DEFAULT_FINDING_SETTINGS, patch)).toThrow(message);
    }
  });
});

describe('eventFromApiEntry', () => {
  it('reads the audit log API\'s shape and refuses what is not an entry', () => {
    const e = eventFromApiEntry({ id: '42', audited_time: '2026-01-05T10:00:00+05:30', action: 'exported', done_by: { id: '7', name: 'Priya' },
      module: { api_name: 'Leads', id: '1' }, record: null, source: 'api', ip_address: '10.0.0.1', details: { count: 5 },
      field_history: [{ api_name: 'profile', _value: { old: 'a', new: 'b' } }] });
    expect(e).toMatchObject({ id: '42', at: Date.UTC(2026, 0, 5, 4, 30), userId: '7', module: 'Leads', details: { count: 5 },
      fields: [{ api_name: 'profile', old: 'a', new: 'b' }] });
    expect(() => eventFromApiEntry({ id: '1', audited_time: 'yesterday', action: 'x' })).toThrow(/audited_time/);
    expect(() => eventFromApiEntry('x')).toThrow(/JSON object/);
  });
});
