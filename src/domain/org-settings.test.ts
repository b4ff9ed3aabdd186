import { describe, expect, it } from 'vitest';
import { applyOrgSettingsPatch, DEFAULT_ORG_SETTINGS, parseOrgSettings } from './org-settings.ts';

describe('organisation settings', () => {
  it('fill in defaults for settings a stored organisation predates', () => {
    expect(parseOrgSettings('{"retention_years":6}')).toEqual({ ...DEFAULT_ORG_SETTINGS, retention_years: 6 });
    expect(parseOrgSettings(undefined)).toEqual(DEFAULT_ORG_SETTINGS);
  });

  it('apply a patch and list only what changed, old and new', () => {
    const { next, changes } = applyOrgSettingsPatch(DEFAULT_ORG_SETTINGS, { retention_years: 6, legal_hold: false, recycle_bin_days: undefined });
    expect(next.retention_years).toBe(6);
    expect(changes).toEqual([{ api_name: 'retention_years', field_label: 'retention_years', old: 3, new: 6 }]);
  });

  it('refuse values out of range, of the wrong type, and unknown settings, naming the setting', () => {
    for (const [patch, name] of [[{ retention_years: 11 }, 'retention_years'], [{ retention_years: 2.5 }, 'retention_years'],
      [{ legal_hold: 'yes' }, 'legal_hold'], [{ api_requests_per_minute: 0 }, 'api_requests_per_minute'],
      [{ colour: 'red' }, 'colour']] as const) {
      expect(() => applyOrgSettingsPatch(DEFAULT_ORG_SETTINGS, patch as never)).toThrow(expect.objectContaining({ code: 'INVALID_DATA',
        details: { api_name: name } }));
    }
  });
});
