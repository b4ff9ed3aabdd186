import { AppError, type ErrorCode } from '../domain/errors.ts';

/** Input checks shared by the users, roles and profiles services. */

export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The id of a reference given as `"id"` or `{"id": "..."}`. */
export const refId = (v: unknown): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? (v as { id?: unknown }).id : v);

export const onlyAdmins = () => new AppError('NO_PERMISSION', 'only an Administrator can grant or change Administrator access', { permissions: ['administrator'] });

export function fieldError(code: ErrorCode, apiName: string, jsonPath: string, message: string,
  extra: Record<string, unknown> = {}) {
  return new AppError(code, message, { api_name: apiName, json_path: jsonPath, ...extra });
}

/** A text input: undefined (absent), null, or the trimmed string. Throws INVALID_DATA when not text or too long. */
export function checkText(v: unknown, api: string, path: string, max: number): string | null | undefined {
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > max) throw fieldError('INVALID_DATA', api, `${path}.${api}`, 'invalid data', { expected_data_type: 'text' });
  return v.trim();
}
