import { describe, expect, it } from 'vitest';
import { draftOf, draftPatch, draftProblems } from './settingsForm.ts';

const saved = { audit_log_window_days: 60, retention_years: 3, legal_hold: false, recycle_bin_days: 60, api_requests_per_minute: 6000 };

describe('settings form', () => {
  it('sends only what changed', () => {
    expect(draftPatch(saved, draftOf(saved))).toEqual({});
    expect(draftPatch(saved, { ...draftOf(saved), retention_years: 7, legal_hold: true })).toEqual({ retention_years: 7, legal_hold: true });
  });

  it('says what is wrong with each field', () => {
    expect(draftProblems(draftOf(saved))).toEqual({});
    expect(draftProblems({ ...draftOf(saved), retention_years: 11, recycle_bin_days: '', audit_log_window_days: 1.5 })).toEqual({
      retention_years: 'Enter a number from 1 to 10.', recycle_bin_days: 'Enter a number.', audit_log_window_days: 'Enter a whole number.',
    });
  });
});
