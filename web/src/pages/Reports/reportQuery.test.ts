import { describe, expect, it } from 'vitest';
import { activityParams, byDayAndAction, filtersFromParams, filtersToParams, heatGrid, scheduleLabel } from './reportQuery.ts';

describe('the Reports page\'s URL and chart shapes', () => {
  it('reads and writes filters, dropping the default range and refusing an unknown one', () => {
    const f = filtersFromParams(new URLSearchParams('range=this_week&module=Deals&action=deleted'));
    expect(f).toEqual({ range: 'this_week', module: 'Deals', action: 'deleted', source: null });
    expect(filtersToParams(f).toString()).toBe('range=this_week&module=Deals&action=deleted');
    expect(filtersFromParams(new URLSearchParams('range=forever')).range).toBe('last_7_days');
    expect(filtersToParams({ ...f, range: 'last_7_days', module: null, action: null }).toString()).toBe('');
    expect(activityParams(f, 'done_by', 10)).toEqual({ group_by: 'done_by', range: 'this_week', module: 'Deals', action: 'deleted', limit: '10' });
  });

  it('pivots day,action rows into one bar per day, filling the actions a day lacks with 0', () => {
    expect(byDayAndAction([{ day: '2026-03-30', action: 'added', count: 2 }, { day: '2026-03-29', action: 'deleted', count: 5 },
      { day: '2026-03-29', action: 'added', count: 1 }])).toEqual({
      actions: ['deleted', 'added'],
      data: [{ day: '2026-03-29', deleted: 5, added: 1 }, { day: '2026-03-30', added: 2, deleted: 0 }],
    });
  });

  it('lays weekday,hour rows on a Monday-first 7 x 24 grid', () => {
    const { grid, max } = heatGrid([{ weekday: 1, hour: 9, count: 3 }, { weekday: 7, hour: 23, count: 7 }]);
    expect(grid[0][9]).toBe(3);
    expect(grid[6][23]).toBe(7);
    expect(grid.flat().reduce((a, b) => a + b, 0)).toBe(10);
    expect(max).toBe(7);
    expect(scheduleLabel({ frequency: 'weekly', time: '17:00', weekday: 5 })).toBe('Weekly on Friday at 17:00');
  });
});
