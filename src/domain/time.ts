/** Date-time rendering: stored as UTC milliseconds, shown as ISO 8601 with seconds and the zone's offset. */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** One zone formatter per time zone (createZoneFormatter): Intl's formatToParts is the dear part. */
const zoneFormatters = new Map<string, (ms: number) => string>();

/** `2025-03-10T10:12:47+05:30` for the given instant in the given IANA time zone. */
export function formatDateTime(ms: number, timeZone: string): string {
  let f = zoneFormatters.get(timeZone);
  if (!f) {
    f = createZoneFormatter(timeZone);
    zoneFormatters.set(timeZone, f);
  }
  return f(ms);
}

function formatSeconds(seconds: number, timeZone: string): string {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(seconds))) parts[p.type] = p.value;
  const local = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((local - seconds) / 60000);
  const sign = offsetMin < 0 ? '-' : '+';
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}` +
    `${sign}${pad(Math.trunc(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

/** Parses ISO 8601 with an explicit offset (or Z); returns UTC ms, or null when malformed. */
export function parseDateTime(value: string): number | null {
  const m = ISO_DATETIME.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +(s ?? 0) > 59) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return null;
  const check = new Date(Date.UTC(+y, +mo - 1, +d));
  if (check.getUTCDate() !== +d) return null;
  return ms;
}

export function isValidDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 && d.getUTCDate() === +m[3];
}

const DAY_MS = 86_400_000;
const QUARTER_MS = 900_000;
/** '00'..'59': hours, minutes and seconds without padStart per value. */
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
/** Local times of years 0000..9999 render as ISO's fixed-width 'YYYY-MM-DD'. */
const FIXED_WIDTH_MAX = Date.UTC(10000, 0, 1);
/** Days (and quarter hours of transition days) whose offsets a zone formatter keeps. */
const CACHED_DAYS = 4096;

/**
 * A formatter for many instants in one zone (exports, and behind formatDateTime). The zone's
 * offset is worked out with Intl once per UTC day: when the day starts and ends on the same offset it holds all day (no zone
 * changes its offset twice within a day); on a day with a transition, once per quarter hour of
 * UTC time (every zone's transitions fall on a quarter hour). The date part is built once per
 * local day; the rest is arithmetic, which keeps a million-row export cheap.
 */
export function createZoneFormatter(timeZone: string): (ms: number) => string {
  const offsetAt = (ms: number) => {
    const m = /([+-])(\d{2}):(\d{2})$/.exec(formatSeconds(Math.floor(ms / 1000) * 1000, timeZone))!;
    return (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]);
  };
  // UTC day -> its offset, or null on a day with a transition. Several days are kept: one
  // formatter serves every reader of the zone (formatDateTime), whose instants jump between days.
  const days = new Map<number, number | null>();
  const quarters = new Map<number, number>();
  const offsetOf = (ms: number) => {
    const day = Math.floor(ms / DAY_MS);
    let dayOffset = days.get(day);
    if (dayOffset === undefined) {
      const start = offsetAt(day * DAY_MS);
      dayOffset = start === offsetAt((day + 1) * DAY_MS) ? start : null;
      if (days.size >= CACHED_DAYS) days.clear();
      days.set(day, dayOffset);
    }
    if (dayOffset !== null) return dayOffset;
    const quarter = Math.floor(ms / QUARTER_MS);
    let offsetMin = quarters.get(quarter);
    if (offsetMin === undefined) {
      offsetMin = offsetAt(quarter * QUARTER_MS);
      if (quarters.size >= CACHED_DAYS) quarters.clear();
      quarters.set(quarter, offsetMin);
    }
    return offsetMin;
  };
  const suffixes = new Map<number, string>();
  const suffix = (offsetMin: number) => {
    let text = suffixes.get(offsetMin);
    if (text === undefined) {
      const abs = Math.abs(offsetMin);
      text = `${offsetMin < 0 ? '-' : '+'}${pad(Math.trunc(abs / 60))}:${pad(abs % 60)}`;
      suffixes.set(offsetMin, text);
    }
    return text;
  };
  let localDay = NaN;
  let datePart = '';
  return (ms: number) => {
    const offsetMin = offsetOf(ms);
    const local = Math.floor(ms / 1000) * 1000 + offsetMin * 60_000;
    if (local < 0 || local >= FIXED_WIDTH_MAX) return `${new Date(local).toISOString().slice(0, 19)}${suffix(offsetMin)}`;
    const day = Math.floor(local / DAY_MS);
    if (day !== localDay) {
      localDay = day;
      datePart = new Date(day * DAY_MS).toISOString().slice(0, 11);
    }
    const secs = (local - day * DAY_MS) / 1000;
    return `${datePart}${TWO_DIGITS[Math.floor(secs / 3600)]}:${TWO_DIGITS[Math.floor(secs / 60) % 60]}:${TWO_DIGITS[secs % 60]}${suffix(offsetMin)}`;
  };
}
