import { describe, expect, it } from 'vitest';
import { DEFAULT_THEME } from '@mantine/core';
import { AUDIT_ACTIONS } from '../../lib/audit-filters.ts';
import { ACTION_COLORS, seriesColor, FALLBACK_COLORS } from './actionColors.ts';
import { byDayAndAction } from './reportQuery.ts';

/** WCAG 2 contrast ratio of a #rrggbb colour against white. */
function contrastWithWhite(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}
const hexOf = (token: string) => {
  const [name, shade] = token.split('.');
  return DEFAULT_THEME.colors[name][Number(shade)];
};

describe('the colour of each action in the Reports charts', () => {
  it('is the same whatever order the actions come in, and whichever other actions are there', () => {
    const rows = [{ day: '2026-12-01', action: 'added', count: 5 }, { day: '2026-12-01', action: 'permanently_deleted', count: 1 },
      { day: '2026-12-02', action: 'stream_rewound', count: 3 }, { day: '2026-12-02', action: 'deleted', count: 3 }];
    const colours = (rs: typeof rows) => Object.fromEntries(byDayAndAction(rs).actions.map((a) => [a, seriesColor(a)]));
    const first = colours(rows);
    expect(colours([...rows].reverse())).toEqual(first);
    // Another load where permanent deletions are the busiest action: still red.
    expect(colours([{ day: '2026-12-03', action: 'permanently_deleted', count: 9 }, ...rows]).permanently_deleted).toBe('red.8');
    expect(first.permanently_deleted).toBe('red.8');
    expect(seriesColor('stream_rewound')).toBe(first.stream_rewound);
  });

  it('comes from the fixed map for common actions and from the fallback colours, by name, for any other', () => {
    expect(seriesColor('added')).toBe(ACTION_COLORS.added);
    for (const a of AUDIT_ACTIONS.filter((x) => !(x in ACTION_COLORS))) expect(FALLBACK_COLORS).toContain(seriesColor(a));
    expect(FALLBACK_COLORS).toContain(seriesColor('an_action_from_a_newer_server'));
    expect(FALLBACK_COLORS).toContain(seriesColor('constructor'));
    // Red and orange say "deleted": no other action borrows them by chance.
    expect(FALLBACK_COLORS.filter((c) => /^(red|orange)\./.test(c))).toEqual([]);
  });

  it('stands out from a white background at 3:1 or more (WCAG 1.4.11)', () => {
    for (const token of [...Object.values(ACTION_COLORS), ...FALLBACK_COLORS]) {
      expect(contrastWithWhite(hexOf(token)), token).toBeGreaterThanOrEqual(3);
    }
  });
});
