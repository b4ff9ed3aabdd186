import { AppError, type ErrorCode } from './errors.ts';
import { AUDIT_ACTIONS } from './audit.ts';
import { isId } from './ids.ts';
import { parseDateTime } from './time.ts';

/**
 * The Export Audit Log criteria grammar (Zoho, spec §2.2): a simple condition
 * `{field: {api_name}, comparator, value}` or a group `{group_operator: "and", group: [c, c]}`,
 * groups nesting. Fields: action (equal, in), module (equal, in), done_by (equal, in),
 * audited_time (between, at most 180 days). The error codes are those of Zoho's Export Audit Log
 * documentation, which wins over its OAS examples (spec §2.2).
 */
export interface ExportCriteria {
  actions?: string[];
  /** Module references as given: api names and/or metadata ids, resolved by the service. */
  modules?: { apiName?: string; id?: string; path: string }[][];
  doneBy?: { ids: string[]; path: string }[];
  from?: number;
  to?: number;
}

export const MAX_EXPORT_RANGE_DAYS = 180;
const DAY = 86_400_000;
const FIELDS = ['action', 'module', 'done_by', 'audited_time'];

/** A criteria error: about the one `audit_log_export[]` item, answered inside that array (Zoho's way). */
const err = (code: ErrorCode, message: string, details: Record<string, unknown>) => AppError.perItem(code, message, details);

function intersect<T>(a: T[] | undefined, b: T[]): T[] {
  return a === undefined ? b : a.filter((x) => b.includes(x));
}

/** Validates one criteria tree; throws a per-item AppError with Zoho's code and json_path. */
export function parseExportCriteria(criteria: unknown, path: string): ExportCriteria {
  const out: ExportCriteria = {};
  walk(criteria, path, out, 0);
  return out;
}

function walk(node: unknown, path: string, out: ExportCriteria, depth: number): void {
  if (!node || typeof node !== 'object' || Array.isArray(node)) {
    throw err('INVALID_DATA', 'criteria must be a JSON object', { api_name: 'criteria', json_path: path, expected_data_type: 'jsonobject' });
  }
  if (depth > 8) throw err('LIMIT_EXCEEDED', 'criteria nest too deep', { api_name: 'group', json_path: path, limit: '8' });
  const c = node as Record<string, unknown>;
  const hasField = c.field !== undefined;
  const hasGroup = c.group !== undefined;
  if (hasField && hasGroup) {
    throw err('AMBIGUITY_DURING_PROCESSING', 'a criterion has either field or group, not both', {
      ambiguity_due_to: [{ api_name: 'field', json_path: `${path}.field` }, { api_name: 'group', json_path: `${path}.group` }] });
  }
  // A key that only means something beside another: Zoho names the one missing.
  if (c.group_operator !== undefined && !hasGroup) {
    throw err('DEPENDENT_FIELD_MISSING', 'group_operator is given without group', { api_name: 'group', json_path: `${path}.group`,
      dependee: { api_name: 'group_operator', json_path: `${path}.group_operator` } });
  }
  if (!hasField && !hasGroup && (c.comparator !== undefined || c.value !== undefined)) {
    const present = c.comparator !== undefined ? 'comparator' : 'value';
    throw err('DEPENDENT_FIELD_MISSING', `${present} is given without field`, { api_name: 'field', json_path: `${path}.field`,
      dependee: { api_name: present, json_path: `${path}.${present}` } });
  }
  if (!hasField && !hasGroup) {
    throw err('EXPECTED_FIELD_MISSING', 'a criterion needs field or group', {
      expected_fields: [{ api_name: 'group', json_path: `${path}.group` }, { api_name: 'field', json_path: `${path}.field` }] });
  }
  if (hasGroup) {
    if (c.group_operator === undefined) {
      throw err('DEPENDENT_FIELD_MISSING', 'group_operator is missing', { api_name: 'group_operator', json_path: `${path}.group_operator`,
        dependee: { api_name: 'group', json_path: `${path}.group` } });
    }
    if (typeof c.group_operator !== 'string' || c.group_operator.toLowerCase() !== 'and') {
      throw err('INVALID_DATA', 'group_operator must be and', { api_name: 'group_operator', json_path: `${path}.group_operator`, supported_values: ['and'] });
    }
    if (!Array.isArray(c.group)) {
      throw err('INVALID_DATA', 'group must be an array', { api_name: 'group', json_path: `${path}.group`, expected_data_type: 'jsonarray' });
    }
    if (c.group.length === 0) throw err('MANDATORY_NOT_FOUND', 'group is empty', { api_name: 'group', json_path: `${path}.group` });
    if (c.group.length > 2) throw err('LIMIT_EXCEEDED', 'a group holds at most 2 criteria', { api_name: 'group', json_path: `${path}.group`, limit: '2' });
    c.group.forEach((g, i) => walk(g, `${path}.group[${i}]`, out, depth + 1));
    return;
  }
  const field = c.field as Record<string, unknown> | null;
  if (!field || typeof field !== 'object' || Array.isArray(field)) {
    throw err('INVALID_DATA', 'field must be an object with api_name', { api_name: 'field', json_path: `${path}.field`, expected_data_type: 'jsonobject' });
  }
  if (field.api_name === undefined || field.api_name === null || field.api_name === '') {
    throw err('MANDATORY_NOT_FOUND', 'The required key api_name seems to be missing', { api_name: 'api_name', json_path: `${path}.field.api_name` });
  }
  if (typeof field.api_name !== 'string') {
    throw err('INVALID_DATA', 'field.api_name must be text', { api_name: 'api_name', json_path: `${path}.field.api_name`, expected_data_type: 'string' });
  }
  const name = field.api_name;
  if (!FIELDS.includes(name)) {
    throw err('NOT_SUPPORTED', `the field ${name} is not supported`, { api_name: 'api_name', json_path: `${path}.field.api_name`, supported_values: FIELDS });
  }
  if (c.comparator === undefined) {
    throw err('DEPENDENT_FIELD_MISSING', 'comparator is missing', { api_name: 'comparator', json_path: `${path}.comparator`,
      dependee: { api_name: 'field', json_path: `${path}.field` } });
  }
  if (c.value === undefined) {
    throw err('DEPENDENT_FIELD_MISSING', 'value is missing', { api_name: 'value', json_path: `${path}.value`,
      dependee: { api_name: 'comparator', json_path: `${path}.comparator` } });
  }
  const comparators: Record<string, string[]> = { action: ['equal', 'in'], module: ['equal', 'in'], done_by: ['equal', 'in'], audited_time: ['between'] };
  if (typeof c.comparator !== 'string' || !comparators[name].includes(c.comparator)) {
    throw err('INVALID_DATA', 'Specify valid values to the comparator key', {
      api_name: 'comparator', json_path: `${path}.comparator`, supported_values: comparators[name] });
  }
  const comparator = c.comparator;
  const value = c.value;
  const valuePath = `${path}.value`;
  const mismatch = (expected: string) => err('DEPENDENT_MISMATCH', `value does not fit the comparator ${comparator}`, {
    api_name: 'value', json_path: valuePath, dependee: { api_name: 'comparator', json_path: `${path}.comparator` }, expected_data_type: expected });
  const arrayOf = (min: number, max: number) => {
    if (!Array.isArray(value)) throw mismatch('jsonarray');
    if (value.length < min) throw err('MANDATORY_NOT_FOUND', 'value is empty', { api_name: 'value', json_path: valuePath });
    if (value.length > max) throw err('LIMIT_EXCEEDED', `at most ${max} values`, { api_name: 'value', json_path: valuePath, limit: String(max) });
    return value as unknown[];
  };
  switch (name) {
    case 'action': {
      const values = comparator === 'equal'
        ? (typeof value === 'string' ? [value] : Array.isArray(value) && value.length === 1 ? value : (() => { throw mismatch('string'); })())
        : arrayOf(1, AUDIT_ACTIONS.length);
      values.forEach((v, i) => {
        if (typeof v !== 'string' || !(AUDIT_ACTIONS as readonly string[]).includes(v)) {
          throw err('NOT_SUPPORTED', 'The value given in the value key is not supported', { api_name: 'value',
            json_path: comparator === 'equal' ? valuePath : `${valuePath}[${i}]`, supported_values: AUDIT_ACTIONS });
        }
      });
      out.actions = intersect(out.actions, values as string[]);
      return;
    }
    case 'module': {
      const values = arrayOf(1, comparator === 'equal' ? 1 : 500);
      const refs = values.map((v, i) => {
        const p = `${valuePath}[${i}]`;
        if (typeof v === 'string') return { apiName: v, path: p };
        if (!v || typeof v !== 'object' || Array.isArray(v)) throw err('INVALID_DATA', 'a module is an object or an api name', { api_name: 'value', json_path: p, expected_data_type: 'jsonobject' });
        const m = v as Record<string, unknown>;
        if (m.api_name === undefined && m.id === undefined) throw err('MANDATORY_NOT_FOUND', 'a module needs api_name or id', { api_name: 'api_name', json_path: `${p}.api_name` });
        if (m.api_name !== undefined && typeof m.api_name !== 'string') throw err('INVALID_DATA', 'invalid api_name', { api_name: 'api_name', json_path: `${p}.api_name`, expected_data_type: 'string' });
        if (m.id !== undefined && !isId(m.id)) throw err('INVALID_DATA', 'invalid module id', { api_name: 'id', json_path: `${p}.id`, expected_data_type: 'long' });
        return { apiName: m.api_name as string | undefined, id: m.id as string | undefined, path: p };
      });
      out.modules = [...(out.modules ?? []), refs];
      return;
    }
    case 'done_by': {
      const values = arrayOf(1, comparator === 'equal' ? 1 : 500);
      const ids = values.map((v, i) => {
        const isObject = !!v && typeof v === 'object' && !Array.isArray(v);
        if (isObject && (v as Record<string, unknown>).id === undefined) {
          throw err('MANDATORY_NOT_FOUND', 'The required key ID seems to be missing', { api_name: 'id', json_path: `${valuePath}[${i}].id` });
        }
        const id = isObject ? (v as Record<string, unknown>).id : v;
        if (!isId(id)) throw err('INVALID_DATA', 'done_by values need user ids', { api_name: 'id', json_path: `${valuePath}[${i}].id`, expected_data_type: 'long' });
        return id;
      });
      out.doneBy = [...(out.doneBy ?? []), { ids, path: valuePath }];
      return;
    }
    case 'audited_time': {
      if (!Array.isArray(value) || value.length !== 2) throw mismatch('jsonarray');
      const [from, to] = value.map((v, i) => {
        const ms = typeof v === 'string' ? parseDateTime(v) : null;
        if (ms === null) throw err('INVALID_DATA', 'audited_time takes ISO 8601 date-times', { api_name: 'value', json_path: `${valuePath}[${i}]`, expected_data_type: 'datetime' });
        return ms;
      });
      if (from > to) throw err('INVALID_DATA', 'the start of the range is after its end', { api_name: 'value', json_path: valuePath });
      if (to - from > MAX_EXPORT_RANGE_DAYS * DAY) {
        throw err('INVALID_DATA', `The audited time range exceeds the supported limit (${MAX_EXPORT_RANGE_DAYS} days)`, { api_name: 'value', json_path: valuePath });
      }
      out.from = Math.max(out.from ?? from, from);
      out.to = Math.min(out.to ?? to, to);
      return;
    }
  }
}
