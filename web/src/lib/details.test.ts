import { describe, expect, it } from 'vitest';
import { detailLabel, detailValue } from './details.ts';

const TZ = 'Europe/Berlin';

describe('an entry\'s other details in words', () => {
  it('labels keys as people write them', () => {
    expect(detailLabel('deleted_by')).toBe('Deleted by');
    expect(detailLabel('recordCount')).toBe('Record count');
    expect(detailLabel('count')).toBe('Count');
  });
  it('shows times in the organisation\'s zone, numbers grouped, yes/no, lists and objects without JSON', () => {
    expect(detailValue('2026-12-01T09:30:00Z', TZ)).toBe('01 Dec 2026, 10:30:00 CET');
    expect(detailValue('2026-12-01T09:30:00+05:30', TZ)).toBe('01 Dec 2026, 05:00:00 CET');
    expect(detailValue(25000, TZ)).toBe('25,000');
    expect(detailValue(true, TZ)).toBe('Yes');
    expect(detailValue(['Leads', 'Deals'], TZ)).toBe('Leads, Deals');
    expect(detailValue({ name: 'Ada Admin', id: '7' }, TZ)).toBe('Ada Admin');
    expect(detailValue({ reason: 'too_many_requests', attempts: 40 }, TZ)).toBe('Reason: too_many_requests; Attempts: 40');
    expect(detailValue(null, TZ)).toBe('—');
    expect(detailValue('not a time 2026', TZ)).toBe('not a time 2026');
  });
});

describe('a field value in a diff', () => {
  it('shows a date-time in the organisation\'s zone, as the record\'s fields are, and leaves other text alone', async () => {
    const { displayValue } = await import('../components/DiffView.tsx');
    expect(displayValue('2026-11-04T22:15:43Z', TZ)).toBe('04 Nov 2026, 23:15:43 CET');
    expect(displayValue(['2026-11-04T22:15:43Z'], TZ)).toBe('04 Nov 2026, 23:15:43 CET');
    expect(displayValue('2026-11-04', TZ)).toBe('2026-11-04');
    expect(displayValue('Acme', TZ)).toBe('Acme');
    expect(displayValue('', TZ)).toBeNull();
  });
});
