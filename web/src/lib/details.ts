/** An audit entry's other details (its `details` object) in words, for the entry's panel. */
import { formatTime, isIsoTime } from './time.ts';

/** "deleted_by" → "Deleted by": a detail's key as a label. */
export function detailLabel(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_.]+/g, ' ').trim().toLowerCase();
  return words ? words[0].toUpperCase() + words.slice(1) : key;
}

/**
 * A detail's value as people read it: times in the organisation's zone, numbers grouped, yes/no,
 * lists joined, a named object by its name, an object as "Label: value" pairs. Raw JSON only for
 * what nests deeper than that.
 */
export function detailValue(v: unknown, timeZone: string, depth = 0): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string') return isIsoTime(v) ? formatTime(v, timeZone) : v;
  if (typeof v === 'number') return v.toLocaleString('en-GB');
  if (typeof v === 'boolean') return v ? 'Yes' : 'No';
  if (Array.isArray(v)) return v.length ? v.map((x) => detailValue(x, timeZone, depth + 1)).join(', ') : '—';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string' && o.name) return o.name;
    if (depth > 1) return JSON.stringify(v);
    return Object.entries(o).map(([k, x]) => `${detailLabel(k)}: ${detailValue(x, timeZone, depth + 1)}`).join('; ');
  }
  return String(v);
}
