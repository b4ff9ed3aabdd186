/** A stored field value as people read it (timeline `_value`, export "Changes"): a string or null. */
export function displayValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(displayValue).join(', ');
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.name === 'string') return o.name;
    if (typeof o.id === 'string') return o.id;
  }
  return JSON.stringify(v);
}

/** A user's name as people read it: first and last name, whichever are set. */
export const fullName = (u: { first_name: string | null; last_name: string }) => [u.first_name, u.last_name].filter(Boolean).join(' ');
