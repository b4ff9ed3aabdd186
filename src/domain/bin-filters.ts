import { AppError } from './errors.ts';
import { parseDateTime } from './time.ts';

/** The recycle bin's filter grammar (spec §4.4): one condition, or an AND group of up to 20. */
export interface BinCondition { field: 'display_name' | 'deleted_by' | 'module' | 'deleted_time'; comparator: string; value: string | number }

const TEXT = ['equal', 'not_equal', 'contains', 'not_contains', 'starts_with', 'ends_with'];
const COMPARATORS: Record<BinCondition['field'], string[]> = {
  display_name: TEXT, deleted_by: TEXT, module: ['equal', 'not_equal'], deleted_time: ['equal', 'not_equal', 'greater_than', 'less_than'],
};
export const MAX_BIN_CONDITIONS = 20;

const bad = (message: string, extra: Record<string, unknown> = {}) =>
  new AppError('INVALID_DATA', message, { param_name: 'filters', ...extra });

/** Parses filters given as JSON text (query string) or an object (restore body). */
export function parseBinFilters(input: unknown): BinCondition[] {
  let node = input;
  if (typeof input === 'string') {
    try {
      node = JSON.parse(input);
    } catch {
      throw bad('filters must be JSON');
    }
  }
  if (!node || typeof node !== 'object' || Array.isArray(node)) throw bad('filters must be a JSON object');
  const n = node as Record<string, unknown>;
  if (n.group !== undefined) {
    if (String(n.group_operator ?? '').toUpperCase() !== 'AND') {
      throw bad('group_operator must be AND', { api_name: 'group_operator', json_path: '$.group_operator', supported_values: ['AND'] });
    }
    if (!Array.isArray(n.group) || n.group.length === 0) throw bad('group must be a non-empty array', { api_name: 'group', json_path: '$.group' });
    if (n.group.length > MAX_BIN_CONDITIONS) {
      throw new AppError('LIMIT_EXCEEDED', `at most ${MAX_BIN_CONDITIONS} conditions`, { param_name: 'filters', limit: MAX_BIN_CONDITIONS });
    }
    return n.group.map((g, i) => condition(g, `$.group[${i}]`));
  }
  return [condition(n, '$')];
}

function condition(c: unknown, path: string): BinCondition {
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw bad('a condition must be an object', { json_path: path });
  const o = c as Record<string, unknown>;
  const field = (o.field as { api_name?: unknown } | undefined)?.api_name;
  if (typeof field !== 'string' || !(field in COMPARATORS)) {
    throw bad(`unsupported filter field ${String(field)}`, { api_name: 'field', json_path: `${path}.field`, supported_values: Object.keys(COMPARATORS) });
  }
  const f = field as BinCondition['field'];
  if (typeof o.comparator !== 'string' || !COMPARATORS[f].includes(o.comparator)) {
    throw bad(`unsupported comparator for ${f}`, { api_name: 'comparator', json_path: `${path}.comparator`, supported_values: COMPARATORS[f] });
  }
  if (typeof o.value !== 'string' || o.value === '') throw bad(`the value for ${f} must be a non-empty string`, { api_name: 'value', json_path: `${path}.value` });
  if (f === 'deleted_time') {
    const ms = parseDateTime(o.value);
    if (ms === null) throw bad('deleted_time takes an ISO 8601 date-time', { api_name: 'value', json_path: `${path}.value` });
    return { field: f, comparator: o.comparator, value: ms };
  }
  return { field: f, comparator: o.comparator, value: o.value };
}
