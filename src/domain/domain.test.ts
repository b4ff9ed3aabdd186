import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids.ts';
import { scopeCovers } from './scopes.ts';
import { formatDateTime, parseDateTime } from './time.ts';
import { auditVisibility } from './visibility.ts';
import { validateFieldValue } from './field-values.ts';
import { findModule, moduleFields } from './modules.ts';

describe('ids', () => {
  it('are 19-digit, increasing, unique strings', () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    expect(ids.every((i) => /^\d{19}$/.test(i) && isId(i))).toBe(true);
    expect(new Set(ids).size).toBe(5000);
    expect([...ids].sort()).toEqual(ids);
  });
  it('rejects non-ids', () => {
    for (const v of ['', '0123', 'abc', '99999999999999999999', 12, null]) expect(isId(v)).toBe(false);
  });
});

describe('scopes', () => {
  it('covers by service, area, optional module and operation', () => {
    expect(scopeCovers(['ZohoCRM.modules.ALL'], 'ZohoCRM.modules.leads.READ')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.READ'], 'ZohoCRM.modules.leads.READ')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.Leads.ALL'], 'ZohoCRM.modules.leads.DELETE')).toBe(true);
    expect(scopeCovers(['ZohoCRM.modules.contacts.ALL'], 'ZohoCRM.modules.leads.READ')).toBe(false);
    expect(scopeCovers(['ZohoCRM.modules.READ'], 'ZohoCRM.modules.leads.CREATE')).toBe(false);
    expect(scopeCovers(['ZohoCRM.settings.ALL'], 'ZohoCRM.settings.audit_logs.CREATE')).toBe(true);
    expect(scopeCovers(['ZohoCRM.settings.roles.ALL'], 'ZohoCRM.settings.profiles.READ')).toBe(false);
    expect(scopeCovers(['ZohoCRM.users.ALL'], 'ZohoFiles.files.READ')).toBe(false);
  });
});

describe('time', () => {
  it('renders ISO 8601 with seconds and the zone offset', () => {
    const ms = Date.UTC(2025, 2, 10, 4, 42, 47, 512);
    expect(formatDateTime(ms, 'Asia/Kolkata')).toBe('2025-03-10T10:12:47+05:30');
    expect(formatDateTime(ms, 'UTC')).toBe('2025-03-10T04:42:47+00:00');
    expect(formatDateTime(Date.UTC(2025, 6, 1, 12), 'America/New_York')).toBe('2025-07-01T08:00:00-04:00');
  });
  it('agrees with Intl around daylight saving changes, in any order of instants', () => {
    // Reference: Intl's own wall clock for the instant, and the offset that wall clock implies.
    const reference = (ms: number, timeZone: string) => {
      const parts: Record<string, string> = {};
      for (const p of new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
        hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms))) parts[p.type] = p.value;
      const s = Math.floor(ms / 1000) * 1000;
      const off = Math.round((Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second) - s) / 60000);
      const hhmm = `${String(Math.trunc(Math.abs(off) / 60)).padStart(2, '0')}:${String(Math.abs(off) % 60).padStart(2, '0')}`;
      return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${off < 0 ? '-' : '+'}${hhmm}`;
    };
    // New York and London change at 02:00 / 01:00, Lord Howe by 30 minutes, Chatham at :45 offsets.
    const zones = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Kolkata'];
    const changes = [Date.UTC(2025, 2, 9, 7), Date.UTC(2025, 10, 2, 6), Date.UTC(2025, 2, 30, 1), Date.UTC(2025, 3, 5, 15),
      Date.UTC(2025, 9, 4, 15, 30), Date.UTC(2025, 8, 27, 14, 45)];
    const instants: number[] = [];
    for (const c of changes) for (let m = -120; m <= 120; m += 7) instants.push(c + m * 60_000 + 1234);
    // Shuffled, so the formatter's per-day cache is entered from every direction.
    for (let i = instants.length - 1; i > 0; i--) {
      const j = (i * 7919) % (i + 1);
      [instants[i], instants[j]] = [instants[j], instants[i]];
    }
    for (const tz of zones) for (const ms of instants) expect(formatDateTime(ms, tz)).toBe(reference(ms, tz));
  });
  it('parses offsets and Z, refuses the rest', () => {
    expect(parseDateTime('2025-03-10T10:12:47+05:30')).toBe(Date.UTC(2025, 2, 10, 4, 42, 47));
    expect(parseDateTime('2026-11-21T02:54:12Z')).toBe(Date.UTC(2026, 10, 21, 2, 54, 12));
    for (const bad of ['2025-03-10', '2025-02-30T00:00:00Z', '2025-03-10T10:12:47', 'yesterday']) expect(parseDateTime(bad)).toBeNull();
  });
});

describe('audit visibility', () => {
  // CEO > Director > {Manager N > Trainee N, Manager S > Trainee S}
  const roles = [
    { id: 'ceo', reportingTo: null }, { id: 'dir', reportingTo: 'ceo' },
    { id: 'mn', reportingTo: 'dir' }, { id: 'tn', reportingTo: 'mn' }, { id: 'ms', reportingTo: 'dir' }, { id: 'ts', reportingTo: 'ms' },
  ];
  const u = (id: string, roleId: string, isAdmin = false) => ({ id, roleId, isAdmin });
  const users = [u('boss', 'ceo'), u('d', 'dir'), u('m1', 'mn'), u('t1', 'tn'), u('t2', 'tn'), u('m2', 'ms'), u('t3', 'ts'), u('admin', 'ts', true)];
  const ids = (v: ReturnType<typeof auditVisibility>) => (v.all ? 'all' : [...v.userIds].sort());

  it('gives the CEO role and Administrators everything', () => {
    expect(ids(auditVisibility(users[0], roles, users))).toBe('all');
    expect(ids(auditVisibility(users[7], roles, users))).toBe('all');
  });
  it('gives everyone else themselves and everyone below, three levels deep', () => {
    expect(ids(auditVisibility(users[1], roles, users))).toEqual(['admin', 'd', 'm1', 'm2', 't1', 't2', 't3']);
    expect(ids(auditVisibility(users[2], roles, users))).toEqual(['m1', 't1', 't2']);
    expect(ids(auditVisibility(users[3], roles, users))).toEqual(['t1']);
  });
  it('follows users who move roles', () => {
    const moved = users.map((x) => (x.id === 't1' ? u('t1', 'ts') : x));
    expect(ids(auditVisibility(users[2], roles, moved))).toEqual(['m1', 't2']);
    expect(ids(auditVisibility(users[5], roles, moved))).toEqual(['admin', 'm2', 't1', 't3']);
  });
});

describe('field values', () => {
  const leads = moduleFields(findModule('leads')!);
  it('normalises datetimes to UTC and lookups to {id}', () => {
    const events = moduleFields(findModule('Events')!);
    expect(validateFieldValue(events.get('Start_DateTime')!, '2025-01-01T10:00:00+05:30', '$')).toEqual({ ok: true, value: '2025-01-01T04:30:00Z' });
    const contacts = moduleFields(findModule('Contacts')!);
    expect(validateFieldValue(contacts.get('Account_Name')!, '1234567890123456789', '$')).toEqual({ ok: true, value: { id: '1234567890123456789' } });
  });
  it('reports the expected type and length', () => {
    expect(validateFieldValue(leads.get('Annual_Revenue')!, 'lots', '$.data[0].Annual_Revenue'))
      .toMatchObject({ ok: false, error: { details: { expected_data_type: 'currency', json_path: '$.data[0].Annual_Revenue' } } });
    expect(validateFieldValue(leads.get('First_Name')!, 'x'.repeat(41), '$')).toMatchObject({ ok: false, error: { details: { maximum_length: 40 } } });
  });
});
