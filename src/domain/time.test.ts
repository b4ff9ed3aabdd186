import { describe, expect, it } from 'vitest';
import { formatDateTime, parseDateTime } from './time.ts';

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
