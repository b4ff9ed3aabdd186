import { describe, expect, it } from 'vitest';
import {
  actionLabel, addDays, apiQuery, criteriaProblems, dateInputToIso, detectPreset, exportPlan, filtersFromParams, filtersToParams,
  isoToDateInput, presetRange, urlTime, type AuditFilters, type Criterion,
} from './audit-filters.ts';
import { isCalendarDate } from './time.ts';

const none: AuditFilters = { doneBy: [], actions: [], modules: [], q: '' };
const TZ = 'Europe/Berlin';
const NOW = new Date('2026-03-10T12:00:00Z');

describe('filters in the URL', () => {
  it('round-trips every filter', () => {
    const qs = 'done_by=1,2&action=deleted&module=Leads&from=2026-03-01T00%3A00%3A00%2B01%3A00&to=2026-03-05T23%3A59%3A59%2B01%3A00&record_id=9&q=record%3A%22Acme%22&batch=7&entry=8';
    const f = filtersFromParams(new URLSearchParams(qs));
    expect(f).toEqual({ doneBy: ['1', '2'], actions: ['deleted'], modules: ['Leads'], from: '2026-03-01T00:00:00+01:00',
      to: '2026-03-05T23:59:59+01:00', q: 'record:"Acme"', recordId: '9', batch: '7', entry: '8' });
    expect(filtersFromParams(filtersToParams(f))).toEqual(f);
  });
  it('leaves empty filters out', () => {
    expect(filtersToParams(none).toString()).toBe('');
    expect(filtersFromParams(new URLSearchParams('action=&done_by=,'))).toEqual({ ...none, from: undefined, to: undefined,
      recordId: undefined, batch: undefined, entry: undefined });
  });
});

describe('apiQuery', () => {
  it('sends the controls, the batch and the search, the search winning for the same key; not the open entry', () => {
    const f: AuditFilters = { ...none, doneBy: ['1'], actions: ['added'], modules: ['Leads'], from: 'F', recordId: '5', batch: 'B', entry: 'E' };
    expect(apiQuery(f, { actions: ['deleted'], recordName: 'Acme', ip: '10.0.0.1', sources: ['api'] })).toEqual({
      done_by: '1', action: 'deleted', module: 'Leads', from: 'F', record_id: '5', batch_id: 'B', record_name: 'Acme', ip: '10.0.0.1', source: 'api',
    });
  });
  it('uses the resolved ids of user: emails', () => {
    expect(apiQuery({ ...none, doneBy: ['1'] }, { users: ['a@b.co'] }, ['42', '43'])).toEqual({ done_by: '42,43' });
  });
});

describe('time ranges', () => {
  it('starts presets at midnight in the org zone', () => {
    expect(presetRange('today', TZ, NOW)).toEqual({ from: '2026-03-10T00:00:00+01:00' });
    expect(presetRange('7d', TZ, NOW)).toEqual({ from: '2026-03-04T00:00:00+01:00' });
    expect(presetRange('30d', TZ, NOW)).toEqual({ from: '2026-02-09T00:00:00+01:00' });
  });
  it('recognises a preset from From and To', () => {
    expect(detectPreset(undefined, undefined, TZ, NOW)).toBe('any');
    expect(detectPreset('2026-03-04T00:00:00+01:00', undefined, TZ, NOW)).toBe('7d');
    expect(detectPreset('2026-03-03T23:00:00Z', undefined, TZ, NOW)).toBe('7d');
    expect(detectPreset('2026-03-04T00:00:00+01:00', '2026-03-05T00:00:00+01:00', TZ, NOW)).toBe('custom');
    expect(detectPreset('2026-01-01T00:00:00+01:00', undefined, TZ, NOW)).toBe('custom');
  });
  it('converts date fields in the org zone, across a DST change', () => {
    expect(dateInputToIso('2026-03-29', 'start', TZ)).toBe('2026-03-29T00:00:00+01:00');
    expect(dateInputToIso('2026-03-29', 'end', TZ)).toBe('2026-03-29T23:59:59+02:00');
    expect(dateInputToIso('', 'start', TZ)).toBeUndefined();
    expect(isoToDateInput('2026-03-28T23:30:00Z', TZ)).toBe('2026-03-29');
    expect(isoToDateInput(undefined, TZ)).toBe('');
  });
  it('adds days across months', () => {
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
  });
});

describe('exportPlan', () => {
  it('exports everything without criteria when nothing is filtered', () => {
    expect(exportPlan(none, {}, undefined, NOW)).toEqual({ ok: true, criteria: null, from: undefined, to: undefined });
  });

  it('makes a single condition for a single filter', () => {
    const plan = exportPlan({ ...none, actions: ['deleted'] }, {}, undefined, NOW);
    expect(plan).toEqual({ ok: true, criteria: { field: { api_name: 'action' }, comparator: 'equal', value: 'deleted' }, from: undefined, to: undefined });
  });

  it('nests four conditions in groups of two, within Zoho\'s limits', () => {
    const f: AuditFilters = { ...none, doneBy: ['1', '2'], actions: ['added', 'deleted'], modules: ['Leads'], from: '2026-03-01T00:00:00+01:00' };
    const plan = exportPlan(f, {}, undefined, NOW);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.criteria).toEqual({ group_operator: 'and', group: [
      { group_operator: 'and', group: [
        { field: { api_name: 'done_by' }, comparator: 'in', value: [{ id: '1' }, { id: '2' }] },
        { field: { api_name: 'action' }, comparator: 'in', value: ['added', 'deleted'] },
      ] },
      { group_operator: 'and', group: [
        { field: { api_name: 'module' }, comparator: 'equal', value: [{ api_name: 'Leads' }] },
        { field: { api_name: 'audited_time' }, comparator: 'between', value: ['2026-03-01T00:00:00+01:00', '2026-03-10T12:00:00Z'] },
      ] },
    ] });
    expect(criteriaProblems(plan.criteria!)).toEqual([]);
  });

  it('nests three conditions as one pair and one single', () => {
    const plan = exportPlan({ ...none, doneBy: ['1'], actions: ['added'], modules: ['Deals'] }, {}, undefined, NOW);
    expect(plan.ok && plan.criteria && 'group' in plan.criteria && plan.criteria.group.length).toBe(2);
  });

  it('says why a range over 180 days cannot be exported', () => {
    const plan = exportPlan({ ...none, from: '2025-01-01T00:00:00Z', to: '2025-12-31T00:00:00Z' }, {}, undefined, NOW);
    expect(plan).toEqual({ ok: false, reasons: ['The time range spans 364 days; an export covers at most 180 days (about 6 months). Narrow From and To.'] });
  });

  it('counts an open range up to now', () => {
    const plan = exportPlan({ ...none, from: '2025-06-01T00:00:00Z' }, {}, undefined, NOW);
    expect(plan.ok).toBe(false);
    const ok = exportPlan({ ...none, from: '2026-01-01T00:00:00Z' }, {}, undefined, NOW);
    expect(ok.ok).toBe(true);
  });

  it('wants a From when there is a To', () => {
    const plan = exportPlan({ ...none, to: '2026-03-01T00:00:00Z' }, {}, undefined, NOW);
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.reasons[0]).toContain('needs a start');
  });

  it('says which filters an export cannot carry', () => {
    const plan = exportPlan({ ...none, recordId: '5' }, { ip: '10.0.0.1', recordName: 'Acme' }, undefined, NOW);
    expect(plan.ok).toBe(false);
    if (!plan.ok) {
      expect(plan.reasons).toEqual(['An export can filter only by user, action, module and time; this view also filters by a record, '
        + 'record name (the search text) and IP address (ip:). Remove those filters to export.']);
    }
  });

  it('uses the search\'s qualifiers and resolved users', () => {
    const plan = exportPlan(none, { users: ['a@b.co'], modules: ['Deals'] }, ['42'], NOW);
    expect(plan.ok && plan.criteria).toEqual({ group_operator: 'and', group: [
      { field: { api_name: 'done_by' }, comparator: 'equal', value: [{ id: '42' }] },
      { field: { api_name: 'module' }, comparator: 'equal', value: [{ api_name: 'Deals' }] },
    ] });
  });
});

describe('criteriaProblems', () => {
  it('finds a group of three', () => {
    const c = { field: { api_name: 'action' }, comparator: 'equal', value: 'added' } as Criterion;
    expect(criteriaProblems({ group_operator: 'and', group: [c, c, c] })).toEqual(['An export criteria group holds at most 2 conditions; this one has 3.']);
  });
});

describe('actionLabel', () => {
  it('reads as words', () => {
    expect(actionLabel('permanently_deleted')).toBe('Permanently deleted');
    expect(actionLabel('oauth_client_created')).toBe('OAuth client created');
  });
});

describe('From and To from an address', () => {
  it('keeps an ISO time with its offset', () => {
    expect(urlTime('2026-03-01T00:00:00+01:00', 'start', TZ)).toEqual({ iso: '2026-03-01T00:00:00+01:00' });
    expect(urlTime('2026-03-01T10:30Z', 'end', TZ)).toEqual({ iso: '2026-03-01T10:30Z' });
  });
  it('reads a date alone as that day in the organisation\'s zone, not the day before', () => {
    expect(urlTime('2026-12-01', 'start', TZ)).toEqual({ iso: '2026-12-01T00:00:00+01:00' });
    expect(urlTime('2026-12-01', 'end', 'America/Los_Angeles')).toEqual({ iso: '2026-12-01T23:59:59-08:00' });
    expect(isoToDateInput(urlTime('2026-12-01', 'start', 'America/Los_Angeles').iso, 'America/Los_Angeles')).toBe('2026-12-01');
    // Where the clocks skip midnight (Santiago, 6 Sep 2026: 00:00 is 01:00), the day starts at its first moment, not the day before.
    const santiago = urlTime('2026-09-06', 'start', 'America/Santiago').iso!;
    expect(isoToDateInput(santiago, 'America/Santiago')).toBe('2026-09-06');
    expect(Date.parse(santiago)).toBe(Date.parse('2026-09-06T04:00:00Z'));
    expect(urlTime('2026-03-01T00:00:00+0100', 'start', TZ)).toEqual({ iso: '2026-03-01T00:00:00+0100' });
  });
  it('calls anything else bad, to be said in words rather than sent', () => {
    for (const v of ['2026-13-45', '2026-02-30', 'x', '0002-11-01', '2026-11-01T25:00', '2026-11-01T10:00:00', '2026-02-30T10:00:00Z',
      '2026-11-01T24:00Z', '2026-11-01T10:60Z']) {
      expect(urlTime(v, 'start', TZ), v).toEqual({ bad: v });
    }
    expect(urlTime(undefined, 'start', TZ)).toEqual({});
  });
});

describe('isCalendarDate', () => {
  it('takes whole dates from 1900 on, as a date field gives them', () => {
    expect(isCalendarDate('2026-11-01')).toBe(true);
    expect(isCalendarDate('2024-02-29')).toBe(true);
    // A year typed digit by digit passes through these on its way to 2026.
    for (const v of ['0002-11-01', '0020-11-01', '0202-11-01', '2025-02-29', '2026-13-01', '2026-11-31', '', null, '2026-1-1']) {
      expect(isCalendarDate(v), String(v)).toBe(false);
    }
  });
});
