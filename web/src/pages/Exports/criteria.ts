import { zonedIso } from '../../lib/time.ts';

/**
 * The Export Audit Log criteria (Zoho's grammar, src/domain/export-criteria.ts): simple
 * conditions on action, module, done_by and audited_time, combined two by two in `and` groups.
 * The console checks the same limits before asking, to say why at once; the server decides.
 */

// One list of actions and one way to name them for the whole console (lib/audit-filters.ts).
import { AUDIT_ACTIONS, actionLabel } from '../../lib/audit-filters.ts';

export { AUDIT_ACTIONS as EXPORT_ACTIONS, actionLabel };

export const MAX_RANGE_DAYS = 180;
export const MAX_VALUES = 500;
const DAY = 86_400_000;

export interface ExportForm {
  actions: string[];
  /** Module api names. */
  modules: string[];
  /** User ids, with names for the stored criteria. */
  users: { id: string; name: string }[];
  /** YYYY-MM-DD in the organisation's zone, both included. */
  from: string | null;
  to: string | null;
}

export type Criterion = Record<string, unknown>;

/** The time range as the API takes it: from the start of `from` to the last second of `to`, in the zone. */
export function rangeOf(form: Pick<ExportForm, 'from' | 'to'>, timeZone: string): [string, string] | null {
  if (!form.from || !form.to) return null;
  return [zonedIso(form.from, '00:00:00', timeZone), zonedIso(form.to, '23:59:59', timeZone)];
}

/** Why the form cannot be exported, by field (`form` for the whole); empty when it can. */
export function formProblems(form: ExportForm, timeZone: string): { field: 'actions' | 'modules' | 'users' | 'from' | 'to' | 'form'; message: string }[] {
  const out: ReturnType<typeof formProblems> = [];
  if (form.modules.length > MAX_VALUES) out.push({ field: 'modules', message: `At most ${MAX_VALUES} modules can be exported at once.` });
  if (form.users.length > MAX_VALUES) out.push({ field: 'users', message: `At most ${MAX_VALUES} users can be exported at once.` });
  if (form.from && !form.to) out.push({ field: 'to', message: 'Give an end date too, or clear From to export the last three years.' });
  if (form.to && !form.from) out.push({ field: 'from', message: 'Give a start date too, or clear To to export the last three years.' });
  const r = rangeOf(form, timeZone);
  if (r) {
    const [a, b] = r.map((x) => Date.parse(x));
    if (a > b) out.push({ field: 'to', message: 'The end date is before the start date.' });
    else if (b - a > MAX_RANGE_DAYS * DAY) {
      out.push({ field: 'to', message: `A filtered export covers at most ${MAX_RANGE_DAYS} days (about six months); this range is ${Math.round((b - a) / DAY)} days. Export it in parts.` });
    }
  }
  return out;
}

/** The conditions of the form, one per field that has a value. */
export function conditions(form: ExportForm, timeZone: string): Criterion[] {
  const c: Criterion[] = [];
  if (form.actions.length) {
    c.push(form.actions.length === 1 ? { field: { api_name: 'action' }, comparator: 'equal', value: form.actions[0] }
      : { field: { api_name: 'action' }, comparator: 'in', value: form.actions });
  }
  if (form.modules.length) {
    c.push({ field: { api_name: 'module' }, comparator: form.modules.length === 1 ? 'equal' : 'in', value: form.modules.map((m) => ({ api_name: m })) });
  }
  if (form.users.length) {
    c.push({ field: { api_name: 'done_by' }, comparator: form.users.length === 1 ? 'equal' : 'in', value: form.users.map((u) => ({ id: u.id, name: u.name })) });
  }
  const r = rangeOf(form, timeZone);
  if (r) c.push({ field: { api_name: 'audited_time' }, comparator: 'between', value: r });
  return c;
}

/** Conditions combined as Zoho allows: `and` groups of at most two, nested. */
export function combine(c: Criterion[]): Criterion | null {
  if (c.length === 0) return null;
  if (c.length === 1) return c[0];
  return { group_operator: 'and', group: [c[0], combine(c.slice(1))!] };
}

/** The criteria for the form, or null for an export of everything (the last three years). */
export const buildCriteria = (form: ExportForm, timeZone: string) => combine(conditions(form, timeZone));

/** A stored criteria tree in words, for the job list: "Action: Added, Updated · Module: Leads". */
export function describeCriteria(criteria: unknown, moduleLabel: (apiName: string) => string = (m) => m,
  formatTime: (iso: string) => string = (x) => x): string {
  if (!criteria) return 'Everything (the last three years)';
  const parts: string[] = [];
  const walk = (n: unknown) => {
    if (!n || typeof n !== 'object') return;
    const o = n as Record<string, unknown>;
    if (Array.isArray(o.group)) { o.group.forEach(walk); return; }
    const field = (o.field as { api_name?: string } | undefined)?.api_name;
    const values = Array.isArray(o.value) ? o.value : [o.value];
    switch (field) {
      case 'action': parts.push(`Action: ${values.map((v) => actionLabel(String(v))).join(', ')}`); break;
      case 'module': parts.push(`Module: ${values.map((v) => (v && typeof v === 'object' ? moduleLabel(String((v as { api_name?: string; id?: string }).api_name ?? (v as { id?: string }).id)) : moduleLabel(String(v)))).join(', ')}`); break;
      case 'done_by': parts.push(`Users: ${values.map((v) => (v && typeof v === 'object' ? String((v as { name?: string; id?: string }).name ?? (v as { id?: string }).id) : String(v))).join(', ')}`); break;
      case 'audited_time': parts.push(`From ${formatTime(String(values[0]))} to ${formatTime(String(values[1]))}`); break;
      default: if (field) parts.push(field);
    }
  };
  walk(criteria);
  return parts.join(' · ') || 'Everything (the last three years)';
}
