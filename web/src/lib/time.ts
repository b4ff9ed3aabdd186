/** Times in the organisation's time zone, with the zone named (Intl, no library). */

/**
 * One Intl.DateTimeFormat per use and zone: making one costs far more than formatting with it, and
 * the pages format on every render (bench:console).
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

function cached(key: string, make: () => Intl.DateTimeFormat): Intl.DateTimeFormat {
  let f = formatters.get(key);
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

const formatter = (timeZone: string, withZone: boolean) => cached(`time|${timeZone}|${withZone}`, () => new Intl.DateTimeFormat('en-GB', {
  timeZone, year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  hour12: false, ...(withZone ? { timeZoneName: 'short' } : {}),
}));

/** "06 Dec 2026, 14:03:22 GMT+1" for an ISO time, in the zone given. */
export function formatTime(iso: string | number | null | undefined, timeZone: string, withZone = true): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return formatter(timeZone, withZone).format(d);
}

/** The zone's name as people read it: "Europe/Berlin (GMT+1)". */
export function zoneLabel(timeZone: string, at: Date = new Date()): string {
  const part = cached(`offset|${timeZone}`, () => new Intl.DateTimeFormat('en-GB', { timeZone, timeZoneName: 'shortOffset' })).formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  return part ? `${timeZone} (${part})` : timeZone;
}

/**
 * The ISO 8601 time with the zone's offset for a wall-clock date and time in that zone, as the
 * API expects (`2026-12-06T00:00:00+01:00`). `date` is YYYY-MM-DD, `time` HH:MM:SS.
 */
export function zonedIso(date: string, time: string, timeZone: string): string {
  const guess = new Date(`${date}T${time}Z`);
  const offsetMin = offsetMinutes(guess, timeZone);
  const adjusted = new Date(guess.getTime() - offsetMin * 60_000);
  const finalOffset = offsetMinutes(adjusted, timeZone);
  const iso = (offset: number) => {
    const abs = Math.abs(offset);
    return `${date}T${time}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  };
  // Where the clocks skip the wall time (Santiago's midnight in September), the offset after the
  // change names an instant of the day before; the one before it names the first moment of the day.
  return iso([finalOffset, offsetMin].find((o) => todayIn(timeZone, new Date(Date.parse(iso(o)))) === date) ?? finalOffset);
}

/** The zone's offset from UTC at an instant, in minutes. */
export function offsetMinutes(at: Date, timeZone: string): number {
  const parts = cached(`parts|${timeZone}`, () => new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  })).formatToParts(at);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** Today's date (YYYY-MM-DD) in the zone. */
export function todayIn(timeZone: string, at: Date = new Date()): string {
  return cached(`day|${timeZone}`, () => new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })).format(at);
}

/**
 * Whether a string is a day of the calendar as a date field gives it: YYYY-MM-DD, a real day
 * (not 2026-02-30), in the years 1900 to 9999. A date field typed digit by digit passes through
 * "0002-11-01" on its way to 2026: such a year is not yet a date anyone meant.
 */
export function isCalendarDate(s: string | null | undefined): s is string {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number);
  if (y < 1900) return false;
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * Whether a value is a time as the API sends and takes it: ISO 8601 with its offset (or Z), on a
 * real day from 1900 on (isCalendarDate), at a real time of day.
 */
export function isIsoTime(v: unknown): v is string {
  if (typeof v !== 'string') return false;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/.exec(v);
  return !!m && isCalendarDate(m[1]) && +m[2] <= 23 && +m[3] <= 59 && +(m[4] ?? 0) <= 59 && !Number.isNaN(Date.parse(v));
}
