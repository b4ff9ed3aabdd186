import type { FieldDef } from './modules.ts';
import { isValidDate, parseDateTime } from './time.ts';
import { isId } from './ids.ts';

/** A per-field validation failure, shaped as Zoho's per-item error. */
export interface FieldError {
  code: 'INVALID_DATA' | 'MANDATORY_NOT_FOUND';
  message: string;
  details: Record<string, unknown>;
}

export type FieldResult = { ok: true; value: unknown } | { ok: false; error: FieldError };

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;

function invalid(field: FieldDef, jsonPath: string, message: string, extra: Record<string, unknown> = {}): FieldResult {
  return { ok: false, error: { code: 'INVALID_DATA', message, details: { api_name: field.apiName, json_path: jsonPath, ...extra } } };
}

// Module level, not a closure per call: this runs for every field of every record written.
const expected = (field: FieldDef, jsonPath: string, type: string) =>
  invalid(field, jsonPath, 'invalid data', { expected_data_type: type });

/**
 * Checks one incoming value against its field's type and returns the value to store:
 * datetimes normalised to UTC `...Z`, lookups to `{id}`, numbers from numeric strings.
 * Lookup and owner ids are checked for shape here and for existence by the records service.
 */
export function validateFieldValue(field: FieldDef, value: unknown, jsonPath: string): FieldResult {
  if (value === null) return { ok: true, value: null };
  switch (field.type) {
    case 'text': case 'textarea': case 'phone': case 'website': {
      if (typeof value !== 'string') return expected(field, jsonPath, field.type === 'textarea' ? 'textarea' : field.type === 'text' ? 'text' : field.type);
      if (field.maxLength && value.length > field.maxLength) {
        return invalid(field, jsonPath, 'invalid data', { maximum_length: field.maxLength });
      }
      return { ok: true, value };
    }
    case 'email':
      if (typeof value !== 'string') return expected(field, jsonPath, 'email');
      if (value !== '' && !EMAIL.test(value)) return expected(field, jsonPath, 'email');
      if (field.maxLength && value.length > field.maxLength) return invalid(field, jsonPath, 'invalid data', { maximum_length: field.maxLength });
      return { ok: true, value };
    case 'integer': case 'bigint': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) return expected(field, jsonPath, field.type);
      return { ok: true, value: n };
    }
    case 'double': case 'currency': {
      const n = typeof value === 'string' && NUMERIC.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) return expected(field, jsonPath, field.type);
      return { ok: true, value: n };
    }
    case 'boolean':
      if (typeof value !== 'boolean') return expected(field, jsonPath, 'boolean');
      return { ok: true, value };
    case 'date':
      if (typeof value !== 'string' || !isValidDate(value)) return expected(field, jsonPath, 'date');
      return { ok: true, value };
    case 'datetime': {
      const ms = typeof value === 'string' ? parseDateTime(value) : null;
      if (ms === null) return expected(field, jsonPath, 'datetime');
      return { ok: true, value: new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    }
    case 'picklist':
      if (typeof value !== 'string') return expected(field, jsonPath, 'picklist');
      if (field.picklist && !field.picklist.includes(value)) {
        return invalid(field, jsonPath, 'invalid data', { supported_values: field.picklist });
      }
      return { ok: true, value };
    case 'multiselectpicklist':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return expected(field, jsonPath, 'jsonarray');
      return { ok: true, value };
    case 'lookup': case 'ownerlookup': case 'userlookup': {
      const id = typeof value === 'object' && value !== null && !Array.isArray(value)
        ? (value as Record<string, unknown>).id : value;
      if (!isId(id)) return expected(field, jsonPath, field.type === 'lookup' ? 'lookup' : 'ownerlookup');
      return { ok: true, value: { id } };
    }
  }
}

/** Deep equality for stored field values (JSON data), used to skip no-op updates. */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
