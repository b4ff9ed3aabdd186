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

// Recently formatted instants: a write answers with the same Created_Time / Modified_Time for
// every record of the batch, and Intl's formatToParts is the dear part.
const recent = new Map<string, string>();
const RECENT_MAX = 512;

/** `2025-03-10T10:12:47+05:30` for the given instant in the given IANA time zone. */
export function formatDateTime(ms: number, timeZone: string): string {
  const seconds = Math.floor(ms / 1000) * 1000;
  const key = `${seconds} ${timeZone}`;
  const hit = recent.get(key);
  if (hit !== undefined) return hit;
  const text = formatSeconds(seconds, timeZone);
  if (recent.size >= RECENT_MAX) recent.clear();
  recent.set(key, text);
  return text;
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

/**
 * A formatter for many instants in one zone (exports): the zone's offset is computed once per
 * quarter hour of UTC time instead of once per value, which keeps a million-row export cheap.
 */
export function createZoneFormatter(timeZone: string): (ms: number) => string {
  const offsets = new Map<number, number>();
  return (ms: number) => {
    const hour = Math.floor(ms / 900_000);
    let offsetMin = offsets.get(hour);
    if (offsetMin === undefined) {
      const probe = formatDateTime(hour * 900_000, timeZone);
      const m = /([+-])(\d{2}):(\d{2})$/.exec(probe)!;
      offsetMin = (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + +m[3]);
      offsets.set(hour, offsetMin);
    }
    const local = new Date(Math.floor(ms / 1000) * 1000 + offsetMin * 60_000);
    const sign = offsetMin < 0 ? '-' : '+';
    const abs = Math.abs(offsetMin);
    return `${local.toISOString().slice(0, 19)}${sign}${pad(Math.trunc(abs / 60))}:${pad(abs % 60)}`;
  };
}
