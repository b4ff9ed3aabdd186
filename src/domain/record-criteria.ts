import { AppError, type ErrorCode } from './errors.ts';
import { isId } from './ids.ts';
import { moduleFields, type FieldDef, type FieldType, type ModuleDef } from './modules.ts';
import { isValidDate, parseDateTime } from './time.ts';

/**
 * Criteria over a module's records, in the grammar of Zoho's Bulk Read API (Zoho's own export of
 * a module's records): a condition `{"field": {"api_name"}, "comparator", "value"}`, or a group
 * `{"group_operator": "and" | "or", "group": [...]}`, groups nesting. Text compares without
 * regard to case; lookups and users compare by id; times by instant.
 */
export type RecordCriteria =
  | { op: 'and' | 'or'; group: RecordCriteria[] }
  | { field: FieldDef; comparator: string; values: Comparable[]; given: unknown };

type Comparable = string | number | boolean;

/** At most this many conditions in one criteria tree (Zoho's Bulk Read allows 25). */
export const MAX_RECORD_CONDITIONS = 25;
const MAX_DEPTH = 5;
const MAX_IN_VALUES = 100;

type Kind = 'text' | 'ordered' | 'boolean' | 'ref' | 'multi';
const KIND: Record<FieldType, Kind> = {
  text: 'text', textarea: 'text', email: 'text', phone: 'text', website: 'text', picklist: 'text',
  integer: 'ordered', bigint: 'ordered', double: 'ordered', currency: 'ordered', date: 'ordered', datetime: 'ordered',
  boolean: 'boolean', lookup: 'ref', ownerlookup: 'ref', userlookup: 'ref', multiselectpicklist: 'multi',
};
const COMPARATORS: Record<Kind, readonly string[]> = {
  text: ['equal', 'not_equal', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with'],
  ordered: ['equal', 'not_equal', 'in', 'not_in', 'greater_than', 'greater_equal', 'less_than', 'less_equal', 'between', 'not_between'],
  boolean: ['equal', 'not_equal'],
  ref: ['equal', 'not_equal', 'in', 'not_in'],
  multi: ['contains', 'not_contains', 'in', 'not_in'],
};
const LIST = new Set(['in', 'not_in']);
const RANGE = new Set(['between', 'not_between']);
const NEGATED = new Set(['not_equal', 'not_in', 'not_contains', 'not_between']);

const fail = (code: ErrorCode, message: string, details: Record<string, unknown>) =>
  new AppError(code, message, { param_name: 'criteria', ...details });

/**
 * Parses criteria given as JSON text (a query parameter, a command-line option) or an object.
 * Throws INVALID_DATA (not JSON, an unknown field, a comparator the field lacks, a bad value),
 * MANDATORY_NOT_FOUND (a condition without its field, comparator or value), LIMIT_EXCEEDED.
 */
export function parseRecordCriteria(module: ModuleDef, input: unknown): RecordCriteria {
  let node = input;
  if (typeof input === 'string') {
    try {
      node = JSON.parse(input);
    } catch {
      throw fail('INVALID_DATA', 'criteria must be JSON', {});
    }
  }
  const count = { n: 0 };
  return walk(module, node, '$', 0, count);
}

function walk(module: ModuleDef, node: unknown, path: string, depth: number, count: { n: number }): RecordCriteria {
  if (!node || typeof node !== 'object' || Array.isArray(node)) {
    throw fail('INVALID_DATA', 'a criterion must be a JSON object', { json_path: path, expected_data_type: 'jsonobject' });
  }
  if (depth > MAX_DEPTH) throw fail('LIMIT_EXCEEDED', `criteria nest at most ${MAX_DEPTH} deep`, { json_path: path, limit: MAX_DEPTH });
  const c = node as Record<string, unknown>;
  if (c.group !== undefined) {
    const op = typeof c.group_operator === 'string' ? c.group_operator.toLowerCase() : undefined;
    if (op !== 'and' && op !== 'or') {
      throw fail('INVALID_DATA', 'group_operator must be and or or', { api_name: 'group_operator', json_path: `${path}.group_operator`,
        supported_values: ['and', 'or'] });
    }
    if (!Array.isArray(c.group) || c.group.length === 0) {
      throw fail('INVALID_DATA', 'group must be a non-empty array', { api_name: 'group', json_path: `${path}.group`, expected_data_type: 'jsonarray' });
    }
    return { op, group: c.group.map((g, i) => walk(module, g, `${path}.group[${i}]`, depth + 1, count)) };
  }
  if (++count.n > MAX_RECORD_CONDITIONS) {
    throw fail('LIMIT_EXCEEDED', `at most ${MAX_RECORD_CONDITIONS} conditions`, { json_path: path, limit: MAX_RECORD_CONDITIONS });
  }
  const apiName = c.field && typeof c.field === 'object' ? (c.field as { api_name?: unknown }).api_name : undefined;
  if (typeof apiName !== 'string' || apiName === '') {
    throw fail('MANDATORY_NOT_FOUND', 'a condition needs field.api_name', { api_name: 'api_name', json_path: `${path}.field.api_name` });
  }
  const field = moduleFields(module).get(apiName);
  if (!field) throw fail('INVALID_DATA', `the field ${apiName} is not in ${module.apiName}`, { api_name: apiName, json_path: `${path}.field.api_name` });
  const kind = KIND[field.type];
  if (c.comparator === undefined) throw fail('MANDATORY_NOT_FOUND', 'a condition needs a comparator', { api_name: 'comparator', json_path: `${path}.comparator` });
  if (typeof c.comparator !== 'string' || !COMPARATORS[kind].includes(c.comparator)) {
    throw fail('INVALID_DATA', `Specify valid values to the comparator key: ${apiName} takes ${COMPARATORS[kind].join(', ')}`,
      { api_name: 'comparator', json_path: `${path}.comparator`, supported_values: COMPARATORS[kind] });
  }
  if (c.value === undefined) throw fail('MANDATORY_NOT_FOUND', 'a condition needs a value', { api_name: 'value', json_path: `${path}.value` });
  const valuePath = `${path}.value`;
  let raw: unknown[];
  if (LIST.has(c.comparator) || RANGE.has(c.comparator)) {
    const want = RANGE.has(c.comparator) ? 'two values' : `one to ${MAX_IN_VALUES} values`;
    if (!Array.isArray(c.value) || c.value.length === 0 || c.value.length > (RANGE.has(c.comparator) ? 2 : MAX_IN_VALUES)
      || (RANGE.has(c.comparator) && c.value.length !== 2)) {
      throw fail('INVALID_DATA', `${c.comparator} takes an array of ${want}`, { api_name: 'value', json_path: valuePath, expected_data_type: 'jsonarray' });
    }
    raw = c.value;
  } else {
    raw = [c.value];
  }
  const values = raw.map((v, i) => {
    const x = comparableInput(field, v);
    if (x === undefined) {
      throw fail('INVALID_DATA', `not a valid value for ${apiName} (${field.type})`,
        { api_name: 'value', json_path: raw === c.value ? `${valuePath}[${i}]` : valuePath, expected_data_type: field.type });
    }
    return x;
  });
  return { field, comparator: c.comparator, values, given: c.value };
}

/** A value given in the criteria, as it compares; undefined when the field cannot hold it. */
function comparableInput(f: FieldDef, v: unknown): Comparable | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v) && KIND[f.type] === 'ref') v = (v as { id?: unknown }).id;
  switch (KIND[f.type]) {
    case 'text': case 'multi':
      return typeof v === 'string' || typeof v === 'number' ? String(v).toLowerCase() : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
    case 'ref':
      return isId(v) ? v : undefined;
    case 'ordered':
      if (f.type === 'date') return typeof v === 'string' && isValidDate(v) ? v : undefined;
      if (f.type === 'datetime') return typeof v === 'string' ? parseDateTime(v) ?? undefined : undefined;
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
  }
}

/** A stored value as it compares: lookups by id, times as instants, text lower-cased; null when empty. */
function comparableStored(f: FieldDef, v: unknown): Comparable | Comparable[] | null {
  if (v === null || v === undefined || v === '') return null;
  switch (KIND[f.type]) {
    case 'text': return String(v).toLowerCase();
    case 'multi': return Array.isArray(v) ? v.map((x) => String(x).toLowerCase()) : [String(v).toLowerCase()];
    case 'boolean': return v === true;
    case 'ref': return typeof v === 'object' ? String((v as { id?: unknown }).id ?? '') || null : String(v);
    case 'ordered':
      if (f.type === 'date') return String(v);
      if (f.type === 'datetime') return typeof v === 'number' ? v : parseDateTime(String(v)) ?? Date.parse(String(v));
      return Number(v);
  }
}

function holds(comparator: string, have: Comparable, values: Comparable[]): boolean {
  const [a, b] = values;
  switch (comparator) {
    case 'equal': case 'not_equal': return have === a;
    case 'in': case 'not_in': return values.includes(have);
    case 'contains': case 'not_contains': return String(have).includes(String(a));
    case 'starts_with': return String(have).startsWith(String(a));
    case 'ends_with': return String(have).endsWith(String(a));
    case 'greater_than': return have > a;
    case 'greater_equal': return have >= a;
    case 'less_than': return have < a;
    case 'less_equal': return have <= a;
    case 'between': case 'not_between': return have >= a && have <= b;
  }
  return false;
}

/**
 * Whether a record meets the criteria; `get` gives a field's stored value (lookups as `{id}` or
 * an id, times as ISO text or instants). An empty field meets only the negated comparators.
 */
export function matchesRecordCriteria(c: RecordCriteria, get: (f: FieldDef) => unknown): boolean {
  if ('op' in c) return c.op === 'and' ? c.group.every((g) => matchesRecordCriteria(g, get)) : c.group.some((g) => matchesRecordCriteria(g, get));
  const have = comparableStored(c.field, get(c.field));
  const negated = NEGATED.has(c.comparator);
  if (have === null) return negated;
  // A multi-select value holds when any of its choices does ("contains" a choice, "in" a list).
  const positive = Array.isArray(have)
    ? have.some((h) => (c.comparator.endsWith('contains') ? h === c.values[0] : c.values.includes(h)))
    : holds(c.comparator, have, c.values);
  return negated ? !positive : positive;
}

/** The criteria as they are recorded in the `exported` entry: Zoho's shape, field names resolved. */
export function recordCriteriaJson(c: RecordCriteria): unknown {
  if ('op' in c) return { group_operator: c.op, group: c.group.map(recordCriteriaJson) };
  return { field: { api_name: c.field.apiName }, comparator: c.comparator, value: c.given };
}
