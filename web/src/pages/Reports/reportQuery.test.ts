import { describe, expect, it } from 'vitest';
import {
  activityParams, byDayAndAction, daysInRange, filtersFromParams, filtersToParams, heatGrid, scheduleLabel, shortDay, truncateLabel,
} from './reportQuery.ts';

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

  it('lists every day of a range as the organisation\'s zone counts them, whatever offset the ends are written in', () => {
    // 28 November 00:00 to 4 December 15:00 in Kolkata, written in UTC.
    expect(daysInRange('2026-11-27T18:30:00Z', '2026-12-04T09:30:00Z', 'Asia/Kolkata'))
      .toEqual(['2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-03', '2026-12-04']);
    // The same instants in UTC start a day earlier.
    expect(daysInRange('2026-11-27T18:30:00Z', '2026-12-04T09:30:00Z', 'UTC')[0]).toBe('2026-11-27');
    expect(daysInRange('2026-12-04T00:00:00+05:30', '2026-12-04T15:00:00+05:30', 'Asia/Kolkata')).toEqual(['2026-12-04']);
    expect(daysInRange('2026-12-04T00:00:00+05:30', '2026-12-03T00:00:00+05:30', 'Asia/Kolkata')).toEqual([]);
  });

  it('counts the 25-hour and 23-hour days of a daylight saving change once each', () => {
    // Berlin leaves summer time on Sunday 25 October 2026: that day has 25 hours.
    expect(daysInRange('2026-10-22T00:00:00+02:00', '2026-10-28T23:59:59.999+01:00', 'Europe/Berlin'))
      .toEqual(['2026-10-22', '2026-10-23', '2026-10-24', '2026-10-25', '2026-10-26', '2026-10-27', '2026-10-28']);
    // New York starts summer time on Sunday 8 March 2026: 23 hours.
    expect(daysInRange('2026-03-05T00:00:00-05:00', '2026-03-11T12:00:00-04:00', 'America/New_York'))
      .toEqual(['2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08', '2026-03-09', '2026-03-10', '2026-03-11']);
  });

  it('gives every day of the range its bar, 0 on a quiet day, and an empty result a bar of 0 per day', () => {
    const days = daysInRange('2026-10-24T00:00:00+02:00', '2026-10-26T12:00:00+01:00', 'Europe/Berlin');
    expect(byDayAndAction([{ day: '2026-10-24', action: 'deleted', count: 2 }, { day: '2026-10-26', action: 'added', count: 1 }], days)).toEqual({
      actions: ['deleted', 'added'],
      data: [{ day: '2026-10-24', deleted: 2, added: 0 }, { day: '2026-10-25', deleted: 0, added: 0 }, { day: '2026-10-26', deleted: 0, added: 1 }],
    });
    expect(byDayAndAction([], days)).toEqual({ actions: [], data: [{ day: '2026-10-24' }, { day: '2026-10-25' }, { day: '2026-10-26' }] });
    expect(byDayAndAction([], [])).toEqual({ actions: [], data: [] });
  });

  it('labels days briefly and cuts long names with an ellipsis', () => {
    expect(['2026-11-29', '2026-12-04', '2027-01-01'].map(shortDay)).toEqual(['29 Nov', '4 Dec', '1 Jan']);
    expect(truncateLabel('Maximiliane Oberhauser-Wittgenstein', 16)).toBe('Maximiliane Obe…');
    expect([...truncateLabel('Maximiliane Oberhauser-Wittgenstein', 16)]).toHaveLength(16);
    expect(truncateLabel('Ada Admin', 16)).toBe('Ada Admin');
    expect(truncateLabel('Ada Admin', 9)).toBe('Ada Admin');
    // A cut that ends on a space does not leave it before the ellipsis.
    expect(truncateLabel('Audit log (setup)', 11)).toBe('Audit log…');
  });
});
